"""Atomic writes never leave partial or temporary files."""

import pytest

from chainorder.atomic import OutputPathError, write_atomic


def test_writes_and_replaces(tmp_path):
    target = tmp_path / "out.txt"
    write_atomic(target, "one")
    write_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_missing_folder_and_directory(tmp_path):
    with pytest.raises(OutputPathError, match="does not exist"):
        write_atomic(tmp_path / "missing" / "x", "a")
    with pytest.raises(OutputPathError, match="is a directory"):
        write_atomic(tmp_path, "a")
    assert list(tmp_path.iterdir()) == []


def test_failure_during_write_removes_the_temporary(tmp_path, monkeypatch):
    import os

    def boom(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OutputPathError, match="No space left"):
        write_atomic(tmp_path / "x.json", "data")
    assert list(tmp_path.iterdir()) == []


def test_permissions_follow_the_umask_like_open(tmp_path):
    import os

    old = os.umask(0o022)
    try:
        target = write_atomic(tmp_path / "shared.json", "{}")
        assert target.stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(old)

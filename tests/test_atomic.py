"""Atomic writes never leave partial or temporary files."""

import pytest

from chainorder.atomic import OutputPathError, check_writable, write_atomic


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


def test_parent_that_is_a_regular_file(tmp_path):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("keep")
    for target in (blocker / "x.json", blocker / "deeper" / "x.json"):
        with pytest.raises(OutputPathError, match=r"notes\.txt' is a file, not a folder"):
            write_atomic(target, "a")
        with pytest.raises(OutputPathError, match="is a file, not a folder"):
            check_writable(target)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    assert blocker.read_text() == "keep"


def test_folder_that_cannot_be_written(tmp_path, monkeypatch):
    # root ignores permission bits, so simulate the refusal where it happens: creating a file
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    for call in (check_writable, lambda p: write_atomic(p, "data")):
        with pytest.raises(OutputPathError, match=r"is not writable \(permission denied\)"):
            call(tmp_path / "x.json")
    assert list(tmp_path.iterdir()) == []


def test_folder_that_cannot_be_entered(tmp_path, monkeypatch):
    import os

    real_stat = os.stat
    locked = tmp_path / "locked"
    locked.mkdir()

    def stat(path, *args, **kwargs):
        if str(path).startswith(str(locked)):
            raise PermissionError(13, "Permission denied", str(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stat)
    for call in (check_writable, lambda p: write_atomic(p, "data")):
        with pytest.raises(OutputPathError, match=r"cannot be entered \(permission denied\)"):
            call(locked / "sub" / "x.json")
    monkeypatch.undo()
    assert list(locked.iterdir()) == []


def test_check_writable_leaves_nothing_and_rejects_non_paths(tmp_path):
    assert check_writable(tmp_path / "plan.json") == tmp_path / "plan.json"
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(OutputPathError, match="is a directory"):
        check_writable(tmp_path)
    with pytest.raises(OutputPathError, match="does not exist"):
        check_writable(tmp_path / "missing" / "x.json")
    for bad, fragment in ((None, "got NoneType"), (12, "got int"), ("", "empty path")):
        with pytest.raises(OutputPathError, match=fragment):
            check_writable(bad)
        with pytest.raises(OutputPathError, match=fragment):
            write_atomic(bad, "x")
    with pytest.raises(OutputPathError, match="NUL byte"):
        write_atomic(str(tmp_path / "a\x00b"), "x")
    assert list(tmp_path.iterdir()) == []


def test_refusals_are_os_errors_and_chainorder_errors(tmp_path):
    from chainorder.errors import ChainorderError

    with pytest.raises(OSError) as info:
        write_atomic(tmp_path / "missing" / "x", "a")
    assert isinstance(info.value, ChainorderError)
    assert "\n" not in str(info.value)

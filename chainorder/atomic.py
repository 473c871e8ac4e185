"""Atomic file output: write to a temporary file in the target folder, then rename.

Every way an output path can be unusable (a missing folder, a folder that cannot be entered
or written, a parent that is a regular file, a target that is a directory, a name the
filesystem refuses) is reported as one :class:`OutputPathError` line, and no file, partial
or temporary, is left behind.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from chainorder.errors import ChainorderError

__all__ = ["OutputPathError", "check_writable", "write_atomic"]


class OutputPathError(ChainorderError, OSError):
    """The output path cannot be written (missing folder, no permission, a directory)."""


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _as_path(path: object) -> Path:
    if isinstance(path, bytes | bytearray):
        path = os.fsdecode(bytes(path))
    if not isinstance(path, str | os.PathLike):
        raise OutputPathError(f"expected a file path, got {type(path).__name__}")
    target = Path(path)
    if str(target) in ("", "."):
        raise OutputPathError("expected a file path, got an empty path")
    if "\x00" in str(target):
        raise OutputPathError(f"cannot write {str(target)!r}: the path contains a NUL byte")
    return target


def _blocking_file(folder: Path) -> Path | None:
    """The first ancestor of ``folder`` (or ``folder`` itself) that exists but is no folder."""
    for part in (*reversed(folder.parents), folder):
        try:
            mode = os.stat(part).st_mode
        except OSError:
            return None
        if not stat.S_ISDIR(mode):
            return part
    return None


def _reason(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return exc.strerror or type(exc).__name__


def _stat_mode(path: Path, where: str, folder: Path) -> int | None:
    """``st_mode`` of ``path``; None when it does not exist; OutputPathError when unusable."""
    try:
        return os.stat(path).st_mode
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        blocker = _blocking_file(folder)
        what = repr(str(blocker)) if blocker is not None else "a part of the path"
        raise OutputPathError(f"{where}: {what} is a file, not a folder") from None
    except PermissionError:
        raise OutputPathError(
            f"{where}: folder {str(folder)!r} cannot be entered (permission denied)"
        ) from None
    except OSError as exc:
        raise OutputPathError(f"{where}: {_reason(exc)}") from None


def _check_target(target: Path) -> Path:
    """Everything about ``target`` that can be checked without writing; the folder it is in."""
    folder = target.parent
    where = f"cannot write {str(target)!r}"
    mode = _stat_mode(folder, where, folder)
    if mode is None:
        raise OutputPathError(f"{where}: folder {str(folder)!r} does not exist")
    if not stat.S_ISDIR(mode):
        raise OutputPathError(f"{where}: {str(folder)!r} is a file, not a folder")
    mode = _stat_mode(target, where, folder)
    if mode is not None and stat.S_ISDIR(mode):
        raise OutputPathError(f"{where}: it is a directory; expected a file path")
    return folder


def _temporary(target: Path, folder: Path) -> tuple[int, str]:
    try:
        return tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except PermissionError:
        raise OutputPathError(
            f"cannot write {str(target)!r}: folder {str(folder)!r} is not writable "
            "(permission denied)"
        ) from None
    except OSError as exc:
        raise OutputPathError(f"cannot write {str(target)!r}: {_reason(exc)}") from None


def check_writable(path: str | os.PathLike[str]) -> Path:
    """Check, before any work, that ``path`` can be written as a file; return it as a Path.

    The check is real, not ``os.access`` (which answers "yes" to root for every folder): a
    temporary file is created in the target folder and removed again.

    Parameters
    ----------
    path : str or PathLike
        Destination file. It need not exist; its folder must.

    Returns
    -------
    pathlib.Path
        ``path`` as a :class:`~pathlib.Path`.

    Raises
    ------
    OutputPathError
        One line naming the path and what is wrong: the folder does not exist, cannot be
        entered or written, a part of the path is a file, or ``path`` is a directory.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> check_writable(d / "plan.json") == d / "plan.json"
    True
    >>> (d / "notes.txt").write_text("x")
    1
    >>> check_writable(d / "notes.txt" / "plan.json")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    chainorder.atomic.OutputPathError: cannot write '...': '.../notes.txt' is a file, not a folder
    >>> sorted(p.name for p in d.iterdir())
    ['notes.txt']

    Notes
    -----
    O(depth of the path) system calls; nothing is left behind.
    """
    target = _as_path(path)
    folder = _check_target(target)
    fd, tmp = _temporary(target, folder)
    os.close(fd)
    Path(tmp).unlink(missing_ok=True)
    return target


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> Path:
    """Write ``data`` to ``path`` so that readers never see a half-written file.

    Parameters
    ----------
    path : str or PathLike
        Destination file. Its folder must exist and be writable.
    data : str or bytes
        Text (written as UTF-8) or raw bytes.

    Returns
    -------
    pathlib.Path
        The destination path.

    Raises
    ------
    OutputPathError
        If the folder does not exist, cannot be entered or written, a part of the path is a
        file, ``path`` is a directory, or the disk refuses the data. No file (partial or
        temporary) is left behind.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = tempfile.mkdtemp()
    >>> p = write_atomic(pathlib.Path(d) / "plan.json", '{"ok": true}')
    >>> p.read_text()
    '{"ok": true}'

    Notes
    -----
    O(len(data)) time. Uses ``os.replace``, atomic on POSIX and Windows within one filesystem.
    """
    target = _as_path(path)
    folder = _check_target(target)
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    fd, tmp = _temporary(target, folder)
    try:
        # mkstemp creates the file 0600; give it the permissions a plain open() would
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputPathError(f"cannot write {str(target)!r}: {_reason(exc)}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target

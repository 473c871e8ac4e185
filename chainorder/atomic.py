"""Atomic file output: write to a temporary file in the target folder, then rename."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from chainorder.errors import ChainorderError

__all__ = ["OutputPathError", "write_atomic"]


class OutputPathError(ChainorderError, OSError):
    """The output path cannot be written (missing folder, no permission, a directory)."""


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


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
        If the folder does not exist, is not writable, or ``path`` is a directory.
        No file (partial or temporary) is left behind.

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
    target = Path(path)
    if target.is_dir():
        raise OutputPathError(
            f"cannot write {str(target)!r}: it is a directory; expected a file path"
        )
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise OutputPathError(
            f"cannot write {str(target)!r}: folder {str(folder)!r} does not exist"
        )
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise OutputPathError(f"cannot write {str(target)!r}: {exc.strerror}") from None
    try:
        # mkstemp creates the file 0600; give it the permissions a plain open() would
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputPathError(f"cannot write {str(target)!r}: {exc.strerror}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target

"""``--dims @FILE``: chain widths (and elementwise words) read from a text file.

One command-line argument cannot hold 10⁵ widths, so ``--dims @widths.txt`` reads them from a
file: items separated by commas and/or any whitespace (newlines included), ``#`` starts a
comment that runs to the end of the line, and a comma may end a line. Every problem with the
file (missing, a folder, unreadable, not UTF-8 text, empty, an empty item between commas, a
bad width or word) is a :class:`~chainorder.errors.SpecError` naming the file, which the CLI
prints as one line.
"""

from __future__ import annotations

from pathlib import Path

from chainorder.chain import Chain
from chainorder.errors import SpecError

__all__ = ["MAX_DIMS_FILE_BYTES", "read_dims_file"]

#: Larger files are refused before reading (10⁷ widths of 8 digits fit easily).
MAX_DIMS_FILE_BYTES = 256 * 2**20


def read_dims_file(name: str) -> str:
    """The chain spec held in file ``name``, checked, as one comma-separated line.

    Parameters
    ----------
    name : str
        The path (what follows ``@`` in ``--dims @FILE``).

    Returns
    -------
    str
        The items joined by commas, ready for :meth:`Chain.parse`.

    Raises
    ------
    SpecError
        One line ``--dims @NAME: problem`` (see the module notes).

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "w.txt")
    >>> _ = open(path, "w").write("784 512  # input, hidden\\ntanh,\\n512, tanh 10\\n")
    >>> read_dims_file(path)
    '784,512,tanh,512,tanh,10'
    >>> read_dims_file(path + ".missing")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    chainorder.errors.SpecError: --dims @.../w.txt.missing: cannot read the file: No such file...

    Notes
    -----
    O(size of the file) time and memory; the spec is parsed once to check it.
    """
    where = f"--dims @{name}"
    if not name:
        raise SpecError("--dims @: expected a file name after '@', e.g. --dims @widths.txt")
    path = Path(name)
    try:
        size = path.stat().st_size
        if size > MAX_DIMS_FILE_BYTES:
            raise SpecError(f"{where}: the file has {size} bytes; at most 256 MiB are read")
        data = path.read_bytes()
    except OSError as exc:
        raise SpecError(f"{where}: cannot read the file: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError(f"{where}: not UTF-8 text (byte {exc.start + 1})") from None
    items: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split("#", 1)[0].split(",")
        if len(fields) > 1 and not fields[-1].strip():
            fields.pop()  # a comma may end a line
        for field in fields:
            words = field.split()
            if not words and len(fields) > 1:
                raise SpecError(f"{where}: line {number} has an empty item between commas")
            items.extend(words)
    if not items:
        raise SpecError(f"{where}: the file holds no widths (expected e.g. 784 512 tanh 10)")
    try:
        Chain.parse(items)
    except SpecError as exc:
        raise SpecError(f"{where}: {exc}") from None
    return ",".join(items)

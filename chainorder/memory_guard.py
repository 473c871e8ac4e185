"""Memory guard: refuse an allocation the machine cannot hold, before making it.

Every path that allocates arrays sized by the user (``validate``, ``bench``, ``MLP``,
``evaluate_streamed``, ``trace --arg SHAPE``) first computes the bytes it is about to allocate
from the plan's own prediction (exact Python integers) and calls :func:`check_memory`. The
default limit is :data:`DEFAULT_MEMORY_FRACTION` of the memory the operating system reports as
available; ``max_memory=`` (``--max-memory`` on the CLI) sets another.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from chainorder.errors import MemoryLimitError
from chainorder.units import format_bytes, parse_bytes

__all__ = [
    "DEFAULT_MEMORY_FRACTION",
    "available_memory",
    "check_memory",
    "memory_errors",
    "resolve_limit",
]

#: Fraction of the available memory a run may use when no limit is given.
DEFAULT_MEMORY_FRACTION = 0.5


def available_memory() -> int:
    """Bytes of memory the operating system reports as available now.

    ``MemAvailable`` from ``/proc/meminfo`` on Linux; the physical memory from ``sysconf``
    elsewhere.

    Examples
    --------
    >>> available_memory() > 0
    True

    Notes
    -----
    O(1): one small file read.
    """
    with contextlib.suppress(OSError, ValueError), open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    with contextlib.suppress(OSError, ValueError, AttributeError):
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    return 2**63 - 1  # unknown: no limit the guard could justify


def resolve_limit(max_memory: int | str | None = None) -> tuple[int, str]:
    """``(limit in bytes, how it was set)`` from a user value or the default.

    Examples
    --------
    >>> resolve_limit("64MiB")
    (67108864, 'the limit')
    >>> resolve_limit()[1].endswith("of available memory")
    True

    Notes
    -----
    O(1).
    """
    if max_memory is None:
        limit = int(available_memory() * DEFAULT_MEMORY_FRACTION)
        return limit, f"{DEFAULT_MEMORY_FRACTION:.0%} of available memory"
    return parse_bytes(max_memory), "the limit"


def check_memory(required: int, what: str, max_memory: int | str | None = None) -> int:
    """Raise :class:`MemoryLimitError` when ``required`` bytes exceed the limit.

    Parameters
    ----------
    required : int
        Bytes about to be allocated, from the plan's prediction (exact integer).
    what : str
        What needs them, for the message (e.g. ``"validate of 50000,50000,50000"``).
    max_memory : int, str or None
        A limit in bytes or with a binary prefix (``"2GiB"``); None for the default fraction
        of the available memory.

    Returns
    -------
    int
        The limit in bytes that was applied.

    Raises
    ------
    MemoryLimitError
        One line naming both figures and how to change the limit.

    Examples
    --------
    >>> check_memory(1024, "a test", "1MiB")
    1048576
    >>> try:
    ...     check_memory(2 * 1024**3, "a test", "1GiB")
    ... except MemoryError as exc:
    ...     print(str(exc).split(";")[0])
    a test needs 2 GiB but the limit is 1 GiB

    Notes
    -----
    O(1).
    """
    limit, source = resolve_limit(max_memory)
    if required > limit:
        raise MemoryLimitError(
            f"{what} needs {format_bytes(required)} but {source} is {format_bytes(limit)}; "
            "set a larger --max-memory (max_memory=) or use a smaller problem"
        )
    return limit


@contextlib.contextmanager
def memory_errors(what: str) -> Iterator[None]:
    """Turn a ``MemoryError`` that still happens into a one-line :class:`MemoryLimitError`.

    Examples
    --------
    >>> with memory_errors("a test"):
    ...     pass

    Notes
    -----
    O(1).
    """
    try:
        yield
    except MemoryLimitError:
        raise
    except MemoryError:
        raise MemoryLimitError(
            f"{what} ran out of memory although its predicted bytes fit the limit; "
            "lower --max-memory (max_memory=) or use a smaller problem"
        ) from None

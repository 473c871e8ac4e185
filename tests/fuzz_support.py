"""Shared pieces of the bad-input fuzz (tests/test_fuzz_cli.py, tests/test_fuzz_library.py).

The huge requests, the library's refusal check and an address-space cap under which a missing
memory guard shows up as a failure, never as a machine out of memory.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

import pytest

from chainorder.errors import ChainorderError

__all__ = [
    "BIG_WIDTH",
    "HUGE",
    "address_space_cap",
    "assert_library_refuses",
    "case_id",
    "skip_unless_beyond_default_limit",
]

HUGE = "100000,100000,100000"  # two 80 GB Jacobians: far beyond any test machine
BIG_WIDTH = "1" + "0" * 399  # a 400-digit width


def case_id(value: object) -> str:
    """A stable test id: no memory addresses, at most 60 characters."""
    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(value))[:60]


def assert_library_refuses(call, *args, **kwargs) -> ChainorderError:
    """``call(*args, **kwargs)`` raises a ChainorderError (any other exception fails the test)."""
    try:
        call(*args, **kwargs)
    except ChainorderError as exc:
        assert str(exc) and "\n" not in str(exc), repr(exc)
        return exc
    name = getattr(call, "__name__", type(call).__name__)
    raise AssertionError(f"accepted: {name}(*{args!r}, **{kwargs!r})"[:2000])


def _vm_size() -> int | None:
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return None


@contextlib.contextmanager
def address_space_cap(extra: int = 2 * 1024**3) -> Iterator[None]:
    """At most ``extra`` more bytes of address space (Linux): an unguarded huge allocation
    fails at once with MemoryError instead of filling the machine's memory."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not Linux
        yield
        return
    size = _vm_size()
    if size is None:  # pragma: no cover
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = size + extra
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def skip_unless_beyond_default_limit(nbytes: int) -> None:
    """The default guard refuses only what exceeds a fraction of the available memory."""
    from chainorder.memory_guard import DEFAULT_MEMORY_FRACTION, available_memory

    if nbytes <= available_memory() * DEFAULT_MEMORY_FRACTION:
        pytest.skip("this machine has memory enough to run it; the default limit allows it")

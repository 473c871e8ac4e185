"""Keep a compiled program's workspace in the process heap between replays (opt-in).

A compiled Jacobian program (:mod:`~chainorder.graph.program`) allocates its slots, seeds
and temporaries afresh at every run, and frees them as it goes. With glibc's default
malloc settings an array above the *mmap threshold* is mapped from the kernel and unmapped
when freed, and free memory at the top of the heap above the *trim threshold* is returned
to the kernel; the next run then touches fresh pages, and every 4 KiB page costs a page
fault in which the kernel zero-fills it. That work is no mult and no scalar the program
writes, and it depends on what ran before (attention's search order, timed between other
modes: about 2,000 faults and twice its own time per run).

:func:`keep_workspace` asks glibc (``mallopt``) for the state its own dynamic thresholds
reach after the first large free — arrays up to 32 MiB (its cap) come from the heap, and
freed heap memory is kept up to twice that — and raises the trim threshold to ``nbytes``
for a larger workspace (only ever raised). It changes the whole process's allocator, so
it is opt-in: a replay loop (``benchmarks/bench_graph.py --exec``) calls it; a library
call never does (the process then holds its freed memory, which other components that
watch the process's resident size — a Dask in-process worker's memory limit — would see).
Elsewhere (another C library, or ``CHAINORDER_KEEP_WORKSPACE=0``) it does nothing;
``tracemalloc`` figures do not change.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform

__all__ = ["keep_workspace"]

#: glibc's ``mallopt`` parameters (malloc.h) and its cap on the mmap threshold (64-bit).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_MAX = 32 * 2**20
#: At most this much freed memory is kept (larger peaks are mapped and unmapped as usual).
KEEP_LIMIT = 2**30

_state = {"kept": 0, "mallopt": None}


def _mallopt():
    if _state["mallopt"] is None:
        fn = False
        if os.environ.get("CHAINORDER_KEEP_WORKSPACE", "1") != "0":
            if platform.libc_ver()[0] == "glibc":
                try:
                    fn = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
                    fn.argtypes, fn.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
                except (OSError, AttributeError):  # pragma: no cover - unusual libc builds
                    fn = False
        _state["mallopt"] = fn
    return _state["mallopt"]


def keep_workspace(nbytes: int) -> int:
    """Keep up to ``nbytes`` of freed memory in the heap (see the module docstring).

    Returns the bytes now kept (0 where the C library offers no ``mallopt``);
    ``nbytes <= 0`` only asks, changing nothing.

    Examples
    --------
    >>> keep_workspace(0) >= 0  # a query: the process's allocator is left as it is
    True

    Notes
    -----
    O(1): two ``mallopt`` calls the first time a larger ``nbytes`` is asked for.
    """
    if int(nbytes) <= 0:
        return _state["kept"]
    nbytes = min(max(int(nbytes), 2 * _MMAP_MAX), KEEP_LIMIT)
    if nbytes <= _state["kept"]:
        return _state["kept"]
    fn = _mallopt()
    if not fn:
        return 0
    if fn(_M_TRIM_THRESHOLD, nbytes) and fn(_M_MMAP_THRESHOLD, _MMAP_MAX):
        _state["kept"] = nbytes
    return _state["kept"]

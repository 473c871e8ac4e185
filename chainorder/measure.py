"""Measuring what plans predict: wall time, peak memory, GFLOP/s, agreement, rank correlation.

Time
    :func:`time_call`: best (and median) of ``repeat`` runs after ``warmup`` runs, with the
    device synchronised before each clock reading on a GPU.
Memory
    :func:`peak_memory`: bytes newly allocated at the peak while a function runs. NumPy:
    ``tracemalloc`` (NumPy reports its data buffers to it; small Python objects are counted
    too, a few KiB). CuPy: a :class:`cupy.cuda.MemoryHook` on the memory pool, summing the
    pool's rounded block sizes (multiples of 512 bytes) of live allocations.
Agreement
    :func:`max_relative_difference` is normwise: ``max|A - B| / max|B|``, which does not blow
    up on entries near zero; :func:`tolerance` is the bound used for each dtype.
Ranks
    :func:`spearman` is Spearman's rank correlation with average ranks for ties (NumPy only:
    SciPy is not a dependency).
Conditions
    :func:`blas_info` and :func:`environment` record what the figures were measured on.
"""

from __future__ import annotations

import math
import os
import platform
import statistics
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from chainorder.backend import Backend, get_backend
from chainorder.errors import SpecError

__all__ = [
    "MemoryMeasurement",
    "Timing",
    "blas_info",
    "environment",
    "gflops",
    "max_relative_difference",
    "median_interval",
    "peak_memory",
    "rankdata",
    "spearman",
    "time_call",
    "tolerance",
]


@dataclass(frozen=True, slots=True)
class Timing:
    """Wall-clock times in seconds: ``best`` and ``median`` of ``times`` (after warm-up)."""

    best: float
    median: float
    times: tuple[float, ...]
    warmup: int

    @property
    def repeat(self) -> int:
        """Number of timed runs."""
        return len(self.times)


@dataclass(frozen=True, slots=True)
class MemoryMeasurement:
    """Peak bytes allocated by a call, its result, and how it was measured."""

    peak_bytes: int
    result: Any
    method: str


def time_call(
    fn: Callable[[], Any],
    *,
    repeat: int = 5,
    warmup: int = 1,
    backend: Backend | None = None,
) -> Timing:
    """Best-of-``repeat`` wall time of ``fn()`` after ``warmup`` untimed calls.

    Parameters
    ----------
    fn : callable
        Called with no arguments; its result is dropped before the next call.
    repeat : int
        Timed runs (at least 1).
    warmup : int
        Untimed runs first (caches, BLAS threads, GPU kernels).
    backend : Backend, optional
        Synchronised before each clock reading (needed for CuPy's asynchronous kernels).

    Returns
    -------
    Timing

    Examples
    --------
    >>> t = time_call(lambda: sum(range(100)), repeat=3)
    >>> t.repeat, t.best <= t.median
    (3, True)

    Notes
    -----
    ``warmup + repeat`` calls of ``fn``; ``time.perf_counter`` resolution.
    """
    if repeat < 1:
        raise SpecError(f"repeat must be at least 1, got {repeat}")
    sync = backend.synchronize if backend is not None else _no_sync
    for _ in range(max(warmup, 0)):
        fn()
    sync()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        sync()
        times.append(time.perf_counter() - start)
        del result
    return Timing(min(times), statistics.median(times), tuple(times), max(warmup, 0))


def _no_sync() -> None:
    return None


def peak_memory(fn: Callable[[], Any], backend: Backend | str = "numpy") -> MemoryMeasurement:
    """Peak bytes allocated while ``fn()`` runs (above what was allocated before).

    Parameters
    ----------
    fn : callable
        Called once with no arguments.
    backend : Backend or {"numpy", "cupy"}
        NumPy: host memory via ``tracemalloc``; CuPy: the default memory pool via a memory
        hook (GPU memory; host allocations are not counted).

    Returns
    -------
    MemoryMeasurement
        ``peak_bytes``, the call's ``result`` and the ``method`` used.

    Examples
    --------
    >>> import numpy as np
    >>> m = peak_memory(lambda: np.ones(125_000))  # 1 000 000 bytes of float64
    >>> 1_000_000 <= m.peak_bytes < 1_010_000
    True

    Notes
    -----
    One call of ``fn``. ``tracemalloc`` slows Python allocations down: never time and
    measure memory in the same call.
    """
    be = backend if isinstance(backend, Backend) else get_backend(backend)
    if be.is_gpu:
        return _peak_cupy(fn, be)
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if started:
            tracemalloc.stop()
    return MemoryMeasurement(max(peak - base, 0), result, "tracemalloc")


def _peak_cupy(fn: Callable[[], Any], backend: Backend) -> MemoryMeasurement:
    cupy = backend.xp

    class _PeakHook(cupy.cuda.MemoryHook):  # type: ignore[misc, name-defined]
        name = "chainorder-peak"

        def __init__(self) -> None:
            self.current = 0
            self.peak = 0

        def malloc_postprocess(self, **kw: Any) -> None:
            self.current += int(kw["mem_size"])
            self.peak = max(self.peak, self.current)

        def free_postprocess(self, **kw: Any) -> None:
            self.current -= int(kw["mem_size"])

    backend.synchronize()
    hook = _PeakHook()
    with hook:
        result = fn()
        backend.synchronize()
    return MemoryMeasurement(hook.peak, result, "cupy memory pool hook")


def gflops(flops: int, seconds: float) -> float:
    """Achieved GFLOP/s: ``flops / seconds / 1e9`` (``nan`` for a zero time).

    Examples
    --------
    >>> gflops(2_000_000_000, 0.5)
    4.0
    """
    return flops / seconds / 1e9 if seconds > 0 else float("nan")


def max_relative_difference(a: Any, b: Any) -> float:
    """Normwise relative difference ``max|a - b| / max|b|`` (NumPy or CuPy arrays).

    Returns 0 when both are zero, ``inf`` when only ``b`` is.

    Examples
    --------
    >>> import numpy as np
    >>> max_relative_difference(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-9])) < 1e-9
    True

    Notes
    -----
    O(size) time; computed in NumPy after a device-to-host copy for CuPy arrays.
    """
    a = _host(a)
    b = _host(b)
    scale = float(np.max(np.abs(b))) if b.size else 0.0
    diff = float(np.max(np.abs(a - b))) if a.size else 0.0
    if scale == 0.0:
        return 0.0 if diff == 0.0 else float("inf")
    return diff / scale


def _host(array: Any) -> np.ndarray:
    if type(array).__module__.partition(".")[0] == "cupy":
        return array.get()
    return np.asarray(array)


_TOLERANCE = {"f": {2: 5e-2, 4: 1e-4, 8: 1e-9, 16: 1e-12}, "c": {8: 1e-4, 16: 1e-9, 32: 1e-12}}


def tolerance(dtype: object) -> float:
    """The largest normwise relative difference accepted between plans, for ``dtype``.

    float16: 5e-2; float32 / complex64: 1e-4; float64 / complex128: 1e-9; longdouble: 1e-12.
    These leave room for the ``O(k·eps)`` rounding of products with inner widths ``k`` up to
    a few thousand.

    Examples
    --------
    >>> tolerance("float64"), tolerance("float32")
    (1e-09, 0.0001)
    """
    dt = np.dtype(dtype)  # type: ignore[call-overload]
    return _TOLERANCE.get(dt.kind, {}).get(dt.itemsize, float(np.finfo(dt).eps) ** 0.5)


def rankdata(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties given their average rank.

    Examples
    --------
    >>> rankdata([10, 20, 20, 5]).tolist()
    [2.0, 3.5, 3.5, 1.0]

    Notes
    -----
    O(n log n).
    """
    x = np.asarray(values, dtype=float)
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x), dtype=float)
    sorted_x = x[order]
    start = 0
    n = len(x)
    while start < n:
        stop = start + 1
        while stop < n and sorted_x[stop] == sorted_x[start]:
            stop += 1
        ranks[order[start:stop]] = (start + stop + 1) / 2.0  # average of ranks start+1..stop
        start = stop
    return ranks


def spearman(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> float:
    """Spearman's rank correlation (Pearson correlation of average ranks).

    Returns ``nan`` when either side is constant or has fewer than two values.

    Examples
    --------
    >>> spearman([1, 2, 3, 4], [10, 20, 30, 40])
    1.0
    >>> spearman([1, 2, 3, 4], [4, 3, 2, 1])
    -1.0

    Notes
    -----
    O(n log n).
    """
    rx, ry = rankdata(x), rankdata(y)
    if len(rx) != len(ry):
        raise ValueError(
            f"spearman needs two sequences of equal length, got {len(rx)} and {len(ry)}"
        )
    if len(rx) < 2:
        return float("nan")
    rx -= rx.mean()
    ry -= ry.mean()
    den = float(np.sqrt((rx * rx).sum() * (ry * ry).sum()))
    return float((rx * ry).sum() / den) if den > 0 else float("nan")


def median_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float]:
    """A distribution-free confidence interval for the median of ``values``.

    The interval between the order statistics ``x_(j)`` and ``x_(n+1-j)`` (ranks from 1) covers
    the population median with probability ``1 - 2 P(B < j)``, ``B ~ Binomial(n, 1/2)``; ``j``
    is the largest rank whose coverage is still at least ``level``. With too few values for
    that level (fewer than 6 at 95 %) the interval is the whole range.

    Examples
    --------
    >>> median_interval([0.9, 1.0, 1.1, 1.0, 0.95, 1.05, 1.2, 0.8, 1.0, 1.02, 0.99])
    (0.9, 1.1)
    >>> median_interval([1.0, 2.0, 3.0])  # too few for 95 %: the range
    (1.0, 3.0)

    Notes
    -----
    O(n log n) (a sort and the binomial tail).
    """
    xs = sorted(float(v) for v in values)
    n = len(xs)
    if n == 0:
        raise ValueError("median_interval needs at least one value")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    j, below = 1, 1.0 / 2.0**n  # rank j and P(B <= j - 1)
    while j < (n + 1) // 2:
        wider = below + math.comb(n, j) / 2.0**n  # P(B <= j): the next rank's tail
        if 1 - 2 * wider < level:
            break
        j, below = j + 1, wider
    return xs[j - 1], xs[n - j]


def blas_info() -> str:
    """The BLAS NumPy runs on (library, version, kernel, threads) via threadpoolctl if installed.

    Examples
    --------
    >>> isinstance(blas_info(), str)
    True

    Notes
    -----
    O(number of loaded libraries).
    """
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (install threadpoolctl to record the BLAS kernel)"
    parts = [
        f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture', '?')} kernel, "
        f"{p.get('num_threads')} threads)"
        for p in threadpool_info()
        if p.get("user_api") == "blas"
    ]
    return "; ".join(parts) or "no BLAS found by threadpoolctl"


def environment(blas_threads: int | None = None) -> dict[str, str]:
    """Machine, library versions and the BLAS kernel, for the record.

    Examples
    --------
    >>> "numpy" in environment()
    True

    Notes
    -----
    O(1) plus :func:`blas_info`.
    """
    env = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "blas": blas_info(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
        "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE", "(unset)"),
    }
    if blas_threads is not None:
        env["blas_threads_limit"] = str(blas_threads)
    return env

"""Measured peak memory of a PyTorch call: what the allocator held above its level at the start.

On CUDA, ``torch.cuda.max_memory_allocated`` after ``torch.cuda.reset_peak_memory_stats``,
less the bytes allocated before the call; on CPU, the allocator events of the torch profiler
(``profile_memory=True``): the highest ``Total Allocated`` above the level before the first
event. Used by :mod:`chainorder.torch.jacobian` to break timing ties on the measured peak
rather than the chain model's (which leaves out PyTorch's temporaries), and by the frameworks
suite for its peak column.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["MEMORY_SOURCES", "measured_peak_bytes", "torch_peak_bytes"]

#: How :func:`torch_peak_bytes` measures, by device kind.
MEMORY_SOURCES: dict[str, str] = {
    "cuda": "torch.cuda.max_memory_allocated",
    "cpu": "torch.profiler CPU allocator",
}


def torch_peak_bytes(fn: Callable[[], Any], device: str) -> tuple[int, str]:
    """Peak bytes allocated by PyTorch while ``fn()`` runs, and how it was measured.

    0 on CPU when the profiler recorded no allocation.

    Examples
    --------
    >>> import torch
    >>> peak, how = torch_peak_bytes(lambda: torch.ones(1000, dtype=torch.float64), "cpu")
    >>> peak >= 8000, how
    (True, 'torch.profiler CPU allocator')

    Notes
    -----
    One run of ``fn`` under the profiler (CPU) or with CUDA's peak statistics reset (for the
    whole process, on that device). Raises what the profiler raises; started while another
    torch profiler runs, it ends that one (PyTorch does not nest them), which
    :func:`measured_peak_bytes` declines to do.
    """
    peak = _peak(fn, device)
    return (peak or 0), MEMORY_SOURCES["cuda" if device.startswith("cuda") else "cpu"]


def measured_peak_bytes(fn: Callable[[], Any], device: str) -> tuple[int | None, str]:
    """:func:`torch_peak_bytes`, or ``None`` and one line saying why it could not measure.

    Never raises for a failing measurement: on CPU while another torch profiler runs (a
    second one would silently end it), when the profiler fails or when it records no
    allocation, the peak is ``None`` (``fn`` does not run while another profiler runs);
    errors of ``fn`` itself propagate.

    Examples
    --------
    >>> import torch
    >>> peak, why = measured_peak_bytes(lambda: torch.zeros(500, dtype=torch.float64), "cpu")
    >>> peak >= 4000, why
    (True, 'torch.profiler CPU allocator')
    >>> from torch.profiler import profile
    >>> with profile():  # a profiler already runs: the CPU measurement is unavailable
    ...     peak, why = measured_peak_bytes(lambda: torch.zeros(500), "cpu")
    >>> peak, why.startswith("unavailable")
    (None, True)

    Notes
    -----
    One run of ``fn`` (see :func:`torch_peak_bytes`).
    """
    source = MEMORY_SOURCES["cuda" if device.startswith("cuda") else "cpu"]
    if not device.startswith("cuda") and _profiler_running():
        # a second profiler would end the running one (the caller's) without an error
        return None, f"unavailable ({source}: another torch profiler is running)"
    try:
        peak = _peak(fn, device, strict=True)
    except _FnError as err:
        raise err.__cause__ from None  # type: ignore[misc]
    except Exception as err:  # the profiler's own failures (RuntimeError, OSError, ...)
        line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return None, f"unavailable ({source}: {line})"
    if peak is None:
        return None, f"unavailable ({source} recorded no allocation)"
    return peak, source


def _profiler_running() -> bool:
    import torch

    return bool(torch.autograd.profiler._is_profiler_enabled)


class _FnError(Exception):
    """Wraps an exception raised by the measured function itself (not by the profiler)."""


def _call(fn: Callable[[], Any], strict: bool) -> None:
    if not strict:
        result = fn()
        del result
        return
    try:
        result = fn()
    except Exception as err:
        raise _FnError from err
    del result


def _peak(fn: Callable[[], Any], device: str, strict: bool = False) -> int | None:
    """Peak bytes above the start while ``fn()`` runs; None when the CPU profiler saw none."""
    import torch

    if device.startswith("cuda"):  # "cuda": the current device, "cuda:1": that one
        torch.cuda.synchronize(device)
        base = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        _call(fn, strict)
        torch.cuda.synchronize(device)
        return int(torch.cuda.max_memory_allocated(device) - base)
    from torch.profiler import ProfilerActivity, profile

    fd, path = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    try:
        with _quiet_stderr():  # the profiler's C++ side prints start/stop lines
            with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
                _call(fn, strict)
            prof.export_chrome_trace(path)
        with open(path, encoding="utf-8") as fh:
            events = json.load(fh)["traceEvents"]
    finally:
        os.unlink(path)
    memory = [e["args"] for e in events if e.get("name") == "[memory]"]
    if not memory:
        return None
    start = memory[0]["Total Allocated"] - memory[0]["Bytes"]
    return int(max(m["Total Allocated"] for m in memory) - start)


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    import sys

    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)

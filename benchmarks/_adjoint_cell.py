"""bench_checkpoint's adjoint column: chainorder's checkpointed VJP sweep at a PyTorch level."""

from __future__ import annotations

import math
import time

import numpy as np

from chainorder.errors import InfeasibleMemoryLimitError
from chainorder.measure import peak_memory
from chainorder.units import format_bytes

__all__ = ["ADJOINT_KEYS", "adjoint_cell"]

ADJOINT_KEYS = (
    "adjoint_feasible",
    "adjoint_no_more_recompute",
    "adjoint_no_slower",
    "adjoint_data_no_more_recompute",
)


class CountingSource:
    """An MLP whose ``activation`` calls are counted."""

    def __init__(self, net: object) -> None:
        self.net, self.calls = net, 0
        self.weights, self.backend = net.weights, net.backend

    def activation(self, k: int, x: object) -> object:
        self.calls += 1
        return self.net.activation(k, x)

    def jacobian(self, l: int, x: object) -> object:
        return self.net.jacobian(l, x)


def best_time(fn, repeat: int) -> float:
    """Best wall time of ``repeat`` calls."""
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def adjoint_cell(
    net, x, result, peak, t_mults, k, seq, repeat, jacobian=False
) -> tuple[str, int, int, int, int]:
    """The adjoint (VJP) plan at PyTorch's level ``peak``: its four cells, then whether it
    fits, recomputes no more mults than PyTorch's ``t_mults``, is no slower, and whether the
    arrays-only plan recomputes no more (0/1 each)."""
    from chainorder.checkpoint.adjoint import plan_adjoint_with_memory_limit
    from chainorder.checkpoint.adjoint_run import run_adjoint
    from chainorder.checkpoint.torch_baseline import torch_checkpointed

    try:
        ap = plan_adjoint_with_memory_limit(net.chain, peak)
    except InfeasibleMemoryLimitError as exc:
        need = format_bytes(int(exc.smallest_peak_bytes))
        return f" infeasible: needs {need} | - | - | - |", 0, 0, 0, 0
    counting = CountingSource(net)
    got = run_adjoint(ap, counting, x.copy())
    want = result if jacobian else result[None, :]
    assert np.allclose(got, want, rtol=1e-10, atol=1e-12), "adjoint disagrees"
    assert counting.calls == net.chain.n_links - 1 + ap.recomputations
    measured = peak_memory(lambda: run_adjoint(ap, net, x.copy)).peak_bytes
    assert measured <= peak, "the adjoint plan's measured peak exceeds the level"
    t_torch = t_ours = math.inf
    for _ in range(repeat):  # interleaved, best of each
        t_torch = min(
            t_torch, best_time(lambda: torch_checkpointed(seq, x, k, jacobian=jacobian), 1)
        )
        t_ours = min(t_ours, best_time(lambda: run_adjoint(ap, net, x.copy()), 1))
    data = plan_adjoint_with_memory_limit(net.chain, peak, reserve=0)  # arrays only, as PyTorch
    cell = (
        f" {format_bytes(ap.footprint_bytes)} / {format_bytes(measured)} | "
        f"{ap.recomputations} ({ap.recompute_mults:,}) | {t_ours * 1e3:.2f} ms "
        f"(PyTorch {t_torch * 1e3:.2f} ms) | {format_bytes(data.peak_bytes)}: "
        f"{data.recomputations} ({data.recompute_mults:,}) |"
    )
    fewer = int(ap.recompute_mults <= t_mults)
    return cell, 1, fewer, int(t_ours <= t_torch), int(data.recompute_mults <= t_mults)

"""Run a memory-limited plan on a seeded network and measure it against its predictions.

``validate --memory-limit`` and ``bench --memory-limit`` call :func:`run_checkpointed`: the
plan's Jacobian against the unconstrained optimal plan's, the tracemalloc peak against the
predicted peak and the limit, the calls of ``source.activation`` against the predicted
recomputations, and the time of both runs. (Not imported by :mod:`chainorder.checkpoint`, so
planning never loads the executor.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chainorder.chain import Chain, as_chain
from chainorder.checkpoint.plan import CheckpointPlan, plan_with_memory_limit
from chainorder.execute import compile_plan
from chainorder.measure import max_relative_difference, peak_memory, time_call, tolerance
from chainorder.memory_guard import resolve_limit
from chainorder.nets import MLP
from chainorder.plan import plan

__all__ = ["CheckpointRun", "run_checkpointed"]

#: Largest allowed gap between measured and predicted peak (issue 11: 5 %).
PEAK_TOLERANCE = 0.05


class _Counting:
    """A network whose ``activation`` calls are counted."""

    def __init__(self, net: MLP) -> None:
        self.net, self.chain, self.calls = net, net.chain, 0

    def activation(self, k: int, x: Any) -> Any:
        self.calls += 1
        return self.net.activation(k, x)

    def jacobian(self, l: int, x: Any) -> Any:
        return self.net.jacobian(l, x)


@dataclass(frozen=True)
class CheckpointRun:
    """Predicted and measured figures of one memory-limited plan on a seeded MLP."""

    plan: CheckpointPlan
    measured_peak_bytes: int
    measured_recomputations: int
    seconds: float
    unconstrained_seconds: float
    unconstrained_peak_bytes: int
    max_relative_difference: float
    rtol: float

    @property
    def agrees(self) -> bool:
        """The Jacobian equals the unconstrained plan's within ``rtol``."""
        return self.max_relative_difference <= self.rtol

    @property
    def under_limit(self) -> bool:
        """Measured peak ≤ the memory limit."""
        return self.plan.memory_limit is None or self.measured_peak_bytes <= self.plan.memory_limit

    @property
    def peak_close(self) -> bool:
        """Measured peak within :data:`PEAK_TOLERANCE` of the prediction, or above it by no
        more than the executor's bookkeeping reserve (what decides on tiny chains)."""
        predicted = self.plan.peak_bytes
        gap = self.measured_peak_bytes - predicted
        return abs(gap) <= PEAK_TOLERANCE * predicted or 0 <= gap <= self.plan.reserve_bytes

    @property
    def ok(self) -> bool:
        """Every check holds (agreement, limit, peak within 5 %, recomputation count)."""
        return (
            self.agrees
            and self.under_limit
            and self.peak_close
            and self.measured_recomputations == self.plan.recomputations
        )


def run_checkpointed(
    chain: Chain | str | Sequence[int | str],
    memory_limit: int | str,
    *,
    dtype: object = "float64",
    seed: int = 0,
    repeat: int = 3,
    max_memory: int | str | None = None,
) -> CheckpointRun:
    """Plan under ``memory_limit``, run it on ``MLP(chain, seed)`` and measure it.

    Raises
    ------
    InfeasibleMemoryLimitError
        Nothing fits the limit.
    MemoryLimitError
        The network or the unconstrained reference run would not fit ``max_memory``.

    Examples
    --------
    >>> run = run_checkpointed("40,60,tanh,50,tanh,1", "32KiB", repeat=1)
    >>> run.agrees, run.measured_recomputations == run.plan.recomputations
    (True, True)

    Notes
    -----
    Two runs of each plan (timed best of ``repeat``, after a warm-up) and one traced run.
    """
    resolved = as_chain(chain)
    cp = plan_with_memory_limit(resolved, memory_limit, dtype)
    net = MLP(resolved, seed=seed, dtype=dtype, max_memory=max_memory)
    x = net.random_input(seed + 1)
    free = compile_plan(plan(resolved, "optimal", dtype), "streamed")
    limited = compile_plan(cp)
    reference = free(net, x, max_memory=max_memory)
    guard, _ = resolve_limit(max_memory)  # read once: the guard's own /proc read is not traced
    counting = _Counting(net)
    measured = peak_memory(lambda: limited(counting, x.copy, max_memory=guard))
    unconstrained_peak = peak_memory(lambda: free(net, x.copy, max_memory=guard)).peak_bytes
    recomputed = counting.calls - (resolved.n_links - 1)
    t_limited = time_call(lambda: limited(net, x), repeat=repeat).best
    t_free = time_call(lambda: free(net, x), repeat=repeat).best
    return CheckpointRun(
        cp,
        measured.peak_bytes,
        recomputed,
        t_limited,
        t_free,
        unconstrained_peak,
        max_relative_difference(measured.result, reference),
        tolerance(cp.plan.dtype),
    )

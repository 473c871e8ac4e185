"""Predicted against measured: run matrix-free plans on real elementals and time them.

:func:`measure_matrix_free` builds a seeded :class:`~chainorder.matfree.elementals.ElementalChain`
from the links, runs the optimal plan, pure tangent (what ``jacfwd`` does), pure adjoint
(``jacrev``) and the given-matrix plan (every link preaccumulated, then the cheapest dense
products) — or every plan of a short chain — and reports, per plan, predicted mults and
peak bytes next to measured best-of-N time and ``tracemalloc`` peak, the agreement of the
Jacobians, and Spearman's rank correlation of predicted mults with measured time.

Timing is round-robin (one call of every plan per round, best of the rounds), as in
``benchmarks/bench_execution.py``, so a slow spell of a shared machine is spread over all
plans. Memory is measured in a separate call of each plan (tracemalloc slows allocation).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from chainorder.errors import JacobianMismatchError
from chainorder.matfree.elementals import ElementalChain
from chainorder.matfree.execute import form_given, replay
from chainorder.matfree.memory import predict_memory
from chainorder.matfree.plan import MatrixFreePlan
from chainorder.matfree.plan_io import plan_expression
from chainorder.matfree.planning import (
    as_links,
    given_matrix_plan,
    plan_matrix_free,
    pure_adjoint_plan,
    pure_tangent_plan,
)
from chainorder.matfree.schedule import schedule
from chainorder.measure import max_relative_difference, peak_memory, spearman, tolerance
from chainorder.memory import Setting, as_setting
from chainorder.memory_guard import check_memory, memory_errors

__all__ = [
    "MatrixFreeMeasurement",
    "MatrixFreeReport",
    "candidate_plans",
    "measure_matrix_free",
    "required_bytes",
    "round_robin",
]


@dataclass(frozen=True, slots=True)
class MatrixFreeMeasurement:
    """One plan: predicted mults / FLOPs / peak bytes and measured time / peak bytes."""

    name: str
    expression: str
    mode: str
    mults: int
    flops: int
    predicted_bytes: int
    measured_bytes: int
    seconds: float
    difference: float
    cpu_seconds: float = float("nan")  # best CPU time of the measuring thread

    @property
    def memory_ratio(self) -> float:
        """``measured_bytes / predicted_bytes``."""
        return self.measured_bytes / self.predicted_bytes if self.predicted_bytes else 1.0

    @property
    def gflops(self) -> float:
        """Achieved GFLOP/s of the plan's predicted FLOPs."""
        return self.flops / self.seconds / 1e9 if self.seconds > 0 else float("nan")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (exact integers)."""
        return {
            "name": self.name,
            "expression": self.expression,
            "mode": self.mode,
            "mults": self.mults,
            "flops": self.flops,
            "predicted_bytes": self.predicted_bytes,
            "measured_bytes": self.measured_bytes,
            "memory_ratio": self.memory_ratio,
            "seconds": self.seconds,
            "cpu_seconds": self.cpu_seconds,
            "difference": self.difference,
        }


@dataclass(frozen=True)
class MatrixFreeReport:
    """Every measured plan of one chain, and the figures the issue asks for."""

    setting: Setting
    dtype: str
    rows: tuple[MatrixFreeMeasurement, ...]
    reference: str
    tolerance: float
    plans: tuple[MatrixFreePlan, ...] = field(repr=False, default=())

    @property
    def spearman(self) -> float:
        """Spearman(predicted mults, measured time) over the rows (``nan`` below 2 rows)."""
        return spearman([r.mults for r in self.rows], [r.seconds for r in self.rows])

    @property
    def spearman_cpu(self) -> float:
        """Spearman(predicted mults, measured CPU time of the measuring thread)."""
        return spearman([r.mults for r in self.rows], [r.cpu_seconds for r in self.rows])

    @property
    def worst_memory_ratio(self) -> float:
        """The measured/predicted peak ratio farthest from 1."""
        return max((r.memory_ratio for r in self.rows), key=lambda v: abs(v - 1))

    @property
    def max_difference(self) -> float:
        """Largest normwise relative difference from the reference Jacobian."""
        return max(r.difference for r in self.rows)

    @property
    def memory_ok(self) -> bool:
        """Every measured peak within 10 % of its prediction."""
        return all(abs(r.memory_ratio - 1) <= 0.10 for r in self.rows)

    @property
    def ok(self) -> bool:
        """Jacobians agree within tolerance and every peak within 10 %."""
        return self.max_difference <= self.tolerance and self.memory_ok

    def row(self, name: str) -> MatrixFreeMeasurement:
        """The row called ``name`` (``optimum``, ``pure tangent``, ...)."""
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary and rows."""
        return {
            "setting": self.setting.value,
            "dtype": self.dtype,
            "reference": self.reference,
            "tolerance": self.tolerance,
            "spearman": self.spearman,
            "spearman_cpu": self.spearman_cpu,
            "worst_memory_ratio": self.worst_memory_ratio,
            "max_difference": self.max_difference,
            "ok": self.ok,
            "rows": [r.to_dict() for r in self.rows],
        }

    def raise_if_disagree(self) -> None:
        """:class:`JacobianMismatchError` when a plan's Jacobian is off beyond tolerance."""
        if self.max_difference > self.tolerance:
            bad = max(self.rows, key=lambda r: r.difference)
            raise JacobianMismatchError(
                f"plan {bad.name} ({bad.expression}) differs from the {self.reference} by "
                f"{bad.difference:.3g} > {self.tolerance:.3g}"
            )


def round_robin(
    calls: Sequence[Callable[[], Any]], repeat: int, warmup: int = 1, cpu: list | None = None
) -> list[float]:
    """Best wall time of each call over ``repeat`` rounds, one call of each per round.

    With a list ``cpu``, the best CPU time of the calling thread (``time.thread_time``) of
    each call is appended to it too: on a machine shared with other work, the time the
    thread was not running (descheduled) is left out. Meaningful with one BLAS thread.

    Examples
    --------
    >>> cpu = []
    >>> ts = round_robin([lambda: sum(range(10)), lambda: sum(range(10_000))], 3, cpu=cpu)
    >>> len(ts), ts[0] < ts[1], len(cpu)
    (2, True, 2)

    Notes
    -----
    ``(warmup + repeat)·len(calls)`` calls.
    """
    for _ in range(warmup):
        for call in calls:
            call()
    best = [float("inf")] * len(calls)
    best_cpu = [float("inf")] * len(calls)
    for _ in range(repeat):
        for i, call in enumerate(calls):
            c0 = time.thread_time()
            t0 = time.perf_counter()
            result = call()
            best[i] = min(best[i], time.perf_counter() - t0)
            best_cpu[i] = min(best_cpu[i], time.thread_time() - c0)
            del result
    if cpu is not None:
        cpu.extend(best_cpu)
    return best


def candidate_plans(links: tuple, dtype: str, every_plan: bool) -> list[tuple[str, MatrixFreePlan]]:
    """``[(name, plan)]``: the optimum, pure tangent, pure adjoint, given-matrix (and with
    ``every_plan`` every other plan of the DP's family, named ``plan k``).

    Examples
    --------
    >>> from chainorder.matfree.links import custom
    >>> [n for n, _ in candidate_plans((custom(3, 3, 29), custom(1, 3, 14)), "float64", False)]
    ['optimum', 'pure tangent', 'pure adjoint', 'given-matrix']

    Notes
    -----
    O(L³), or the number of plans with ``every_plan``.
    """
    out = [
        ("optimum", plan_matrix_free(links, dtype)),
        ("pure tangent", pure_tangent_plan(links, dtype)),
        ("pure adjoint", pure_adjoint_plan(links, dtype)),
        ("given-matrix", given_matrix_plan(links, dtype)),
    ]
    if every_plan:
        from chainorder.matfree.reference import all_plans

        seen = {p.nodes for _, p in out}
        for k, p in enumerate(all_plans(links, dtype)):
            if p.nodes not in seen:
                seen.add(p.nodes)
                out.append((f"plan {k}", p))
    return out


def required_bytes(
    links: Sequence[Any], plans: Sequence[MatrixFreePlan], setting: Setting, dtype: str
) -> int:
    """Bytes a measurement needs: the largest predicted peak plus the reference Jacobian
    (the largest link formed densely and two ``d_L × d_0`` products).

    Examples
    --------
    >>> from chainorder.matfree.planning import as_links, pure_tangent_plan
    >>> links = as_links("4,3")
    >>> required_bytes(links, [pure_tangent_plan(links)], Setting.GIVEN, "float64")  # 8·(28 + 36)
    512

    Notes
    -----
    O(number of plans · events).
    """
    itemsize = np.dtype(dtype).itemsize
    d0, dL = links[0].cols, links[-1].rows
    reference = itemsize * (max(link.rows * link.cols for link in links) + 2 * dL * d0)
    return max(predict_memory(p, setting).peak_bytes for p in plans) + reference


def measure_matrix_free(
    spec_or_links: Any,
    *,
    setting: Setting | str = "streamed",
    plans: Sequence[MatrixFreePlan] | None = None,
    every_plan: bool = False,
    repeat: int = 5,
    warmup: int = 1,
    seed: int = 0,
    dtype: str = "float64",
    max_memory: int | str | None = None,
    measure_memory: bool = True,
) -> MatrixFreeReport:
    """Run matrix-free plans on a seeded network and compare with their predictions.

    Parameters
    ----------
    spec_or_links : str, Chain or sequence of LinkCost
        As :func:`chainorder.matfree.plan_matrix_free` takes.
    setting : {"streamed", "given"}
        ``streamed``: each run starts from ``x_0`` and includes the forward pass; ``given``:
        tapes are computed once beforehand and the time and peak are the plan's own.
    plans : sequence of MatrixFreePlan, optional
        Plans to run instead of the default four (named ``plan 0``, ``plan 1``, ...).
    every_plan : bool
        Also run every other plan of the chain (:func:`chainorder.matfree.all_plans`; short
        chains only).
    repeat, warmup : int
        Rounds of the round-robin timing and untimed rounds first.
    seed : int
        Seeds the network's parameters and the point ``x_0``.
    dtype : str
    max_memory : int or str, optional
        Memory guard limit (default: half the available memory), checked against the largest
        predicted peak plus the reference before anything is allocated.
    measure_memory : bool
        Measure each plan's peak with ``tracemalloc`` (one extra run each).

    Returns
    -------
    MatrixFreeReport

    Examples
    --------
    >>> r = measure_matrix_free("30,20,tanh,25,tanh,5", repeat=2)
    >>> [row.name for row in r.rows]
    ['optimum', 'pure tangent', 'pure adjoint', 'given-matrix']
    >>> r.max_difference < 1e-12
    True

    Notes
    -----
    Each plan runs ``warmup + repeat`` times (plus once under tracemalloc); the reference is
    the explicit product of the dense Jacobians (:meth:`ElementalChain.jacobian`).
    """
    st = as_setting(setting)
    links = as_links(spec_or_links)
    if plans is not None:
        candidates = [(f"plan {k}", p) for k, p in enumerate(plans)]
    else:
        candidates = candidate_plans(links, dtype, every_plan)
    need = required_bytes(links, [p for _, p in candidates], st, dtype)
    check_memory(need, f"measuring matrix-free plans of {len(links)} links", max_memory)
    with memory_errors("measuring matrix-free plans"):
        net = ElementalChain(links, seed=seed, dtype=dtype)
        x = net.random_input(seed + 1)
        reference = net.jacobian(x)
        if st is Setting.STREAMED:
            tapes = None
            calls = [partial(replay, schedule(p, st), net, x.copy) for _, p in candidates]
        else:
            tapes = net.tapes(x)
            given = {  # inputs of the given setting, made before the measured runs
                l: form_given(net.layers[l - 1], tapes[l - 1])
                for l, link in enumerate(links, start=1)
                if link.given
            }
            calls = [
                partial(replay, schedule(p, st), net, tapes=tapes, given=given)
                for _, p in candidates
            ]
        diffs = [max_relative_difference(call(), reference) for call in calls]
        measured = [peak_memory(call).peak_bytes if measure_memory else 0 for call in calls]
        cpu_times: list[float] = []
        times = round_robin(calls, repeat, warmup, cpu=cpu_times)
    rows = []
    for (name, p), diff, mem, t, cpu in zip(
        candidates, diffs, measured, times, cpu_times, strict=True
    ):
        rows.append(
            MatrixFreeMeasurement(
                name,
                plan_expression(p),
                p.mode_label,
                p.mults,
                p.flops,
                predict_memory(p, st).allocated_bytes,
                mem,
                t,
                diff,
                cpu,
            )
        )
    return MatrixFreeReport(
        st,
        np.dtype(dtype).name,
        tuple(rows),
        "explicit product of the dense Jacobians",
        tolerance(dtype),
        tuple(p for _, p in candidates),
    )

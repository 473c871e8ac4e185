"""``validate --backend dask``: plans run on a Dask cluster, predicted next to measured figures.

:func:`validate_dask` plans forward, reverse and optimal for the chain, checks the memory
each worker must hold at once against its limit (:mod:`chainorder.memory_guard`; for Dask the
limit is *per worker*), creates seeded Jacobians on the cluster (persisted before any clock
starts) and runs each plan's lazy product there (:mod:`chainorder.dask_run`). Per plan the
report sets the predicted time and per-worker bytes (:mod:`chainorder.dask_backend`) next to
the measured time and each worker's peak process memory (Dask's own sampling), and the
Jacobian's difference from a NumPy reference (exact for small results, a blockwise probe
for large ones).

Examples
--------
>>> r = validate_dask("30,20,tanh,10", workers=1, memory_per_worker="1GiB", processes=False)
>>> [row.label for row in r.rows], r.ok
(['forward', 'reverse', 'optimal'], True)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from chainorder.chain import Chain, as_chain
from chainorder.dask_backend import DaskMemoryEstimate, predict_memory
from chainorder.dask_run import (
    DaskMeasurement,
    dask_client,
    evaluate_plan,
    measure_product,
    random_dask_jacobians,
    worker_flop_rate,
    worker_memory_limits,
)
from chainorder.dtypes import as_dtype
from chainorder.errors import SpecError
from chainorder.measure import tolerance
from chainorder.memory_guard import check_memory
from chainorder.plan import Plan, plan
from chainorder.report.validate_tables import wrap_words
from chainorder.runner import check_count, check_rtol
from chainorder.units import format_bytes, format_count, parse_bytes

__all__ = ["DaskPlanRow", "DaskValidationReport", "render_dask_validation", "validate_dask"]


@dataclass(frozen=True)
class DaskPlanRow:
    """One plan on the cluster: its predictions and its measurement."""

    label: str
    plan: Plan
    predicted_seconds: float
    memory: DaskMemoryEstimate
    measured: DaskMeasurement

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures (seconds, bytes of the plan's dtype)."""
        return {
            "label": self.label,
            "expression": self.plan.expression(),
            "predicted_mults": self.plan.mults,
            "predicted_flops": self.plan.flops,
            "predicted_time_s": self.predicted_seconds,
            "predicted_memory": self.memory.to_dict(),
            "measured": self.measured.to_dict(),
        }


@dataclass(frozen=True)
class DaskValidationReport:
    """What :func:`validate_dask` measured on the cluster."""

    chain: Chain
    dtype: np.dtype
    workers: int
    threads_per_worker: int
    memory_limits: tuple[int, ...]
    flop_rate: float
    tolerance: float
    rows: tuple[DaskPlanRow, ...]

    @property
    def max_difference(self) -> float:
        """Largest relative difference of any plan's Jacobian from its NumPy reference."""
        return max((r.measured.rel_diff for r in self.rows), default=0.0)

    @property
    def ok(self) -> bool:
        """Every Jacobian within tolerance of its reference."""
        return bool(self.max_difference <= self.tolerance)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready report."""
        return {
            "chain": self.chain.spec(),
            "backend": "dask",
            "dtype": self.dtype.name,
            "workers": self.workers,
            "threads_per_worker": self.threads_per_worker,
            "memory_limit_bytes_per_worker": list(self.memory_limits),
            "flop_rate_per_thread": self.flop_rate,
            "tolerance": self.tolerance,
            "max_rel_diff": self.max_difference,
            "ok": self.ok,
            "units": {
                "time": "seconds to persist the product (best of repeat)",
                "bytes": "process memory per worker (RSS) measured; predicted bytes of "
                f"{self.dtype.name}",
            },
            "plans": [r.to_dict() for r in self.rows],
        }

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), indent=indent)


def render_dask_validation(report: DaskValidationReport, width: int | None = 80) -> str:
    """The text of ``chainorder validate --backend dask``: one block per plan, lines wrapped
    between words at ``width`` columns (None: no limit).

    Examples
    --------
    >>> r = validate_dask("30,20,10", workers=1, memory_per_worker="1GiB", processes=False)
    >>> text = render_dask_validation(r, width=80)
    >>> "per-worker peak" in text and max(map(len, text.splitlines())) <= 80
    True

    Notes
    -----
    O(plans · L).
    """
    limits = sorted(set(report.memory_limits))
    limit_text = (
        "no memory limit"
        if not limits
        else f"memory limit {format_bytes(limits[0])} per worker"
        if len(limits) == 1
        else f"memory limits {', '.join(format_bytes(x) for x in limits)}"
    )
    workers = f"{report.workers} worker{'s' if report.workers != 1 else ''}"
    threads = f"{report.threads_per_worker} thread{'s' if report.threads_per_worker != 1 else ''}"
    out = [
        f"{report.chain.spec()} on Dask: {workers} × {threads}, {limit_text}; "
        f"{report.flop_rate / 1e9:.1f} GFLOP/s per thread measured on a worker",
    ]
    for row in report.rows:
        m = row.measured
        peaks = ", ".join(format_bytes(x) for x in m.worker_peak_bytes)
        base = ", ".join(format_bytes(x) for x in m.worker_baseline_bytes)
        out += [
            "",
            f"{row.label}: {row.plan.expression()}  ({format_count(row.plan.mults)} mults)",
            f"  time: predicted {row.predicted_seconds:.3g} s, measured {m.seconds:.3g} s",
            *(f"  predicted {line}" for line in row.memory.lines()),
            f"  measured per-worker peak: {peaks} (before the run: {base}); cluster peak "
            f"{format_bytes(m.cluster_peak_bytes)}",
            f"  check: {m.check}, relative difference {m.rel_diff:.2e}",
        ]
    out += [
        "",
        f"largest relative difference {report.max_difference:.2e}; tolerance "
        f"{report.tolerance:.0e} for {report.dtype.name}: {'OK' if report.ok else 'FAILED'}",
    ]
    return "\n".join(wrap_words(line, width) for line in out) + "\n"


def validate_dask(
    spec: Chain | str | Sequence[int | str],
    *,
    workers: int = 2,
    memory_per_worker: int | str = "2GiB",
    threads_per_worker: int = 1,
    scheduler: str | None = None,
    processes: bool = True,
    dtype: object = "float64",
    repeat: int = 1,
    seed: int = 0,
    rtol: float | None = None,
    chunk_bytes: int | str | None = None,
) -> DaskValidationReport:
    """Run forward, reverse and optimal of ``spec`` on a Dask cluster (module notes).

    Parameters
    ----------
    spec : Chain, str or sequence
    workers, memory_per_worker, threads_per_worker, scheduler, processes
        The cluster (:func:`chainorder.dask_run.dask_client`); with ``scheduler`` the
        cluster's own workers and limits are used.
    dtype : float32 or float64
    repeat : int
        Timed runs per plan (best shown); no warm-up.
    seed : int
    rtol : float, optional
        Agreement tolerance (default by dtype).
    chunk_bytes : int or str, optional
        Block size of the chunking rule (64 MiB).

    Raises
    ------
    SpecError
        Bad chain, count or dtype.
    MemoryLimitError
        A worker's predicted working set (threads × largest task) exceeds its memory limit;
        raised before any array is created.

    Examples
    --------
    >>> r = validate_dask("50,10,50", workers=2, memory_per_worker="1GiB", processes=False)
    >>> [row.plan.mults for row in r.rows], r.ok, len(r.memory_limits)
    ([25000, 25000, 25000], True, 2)

    Notes
    -----
    ``3·repeat`` distributed runs plus a check each.
    """
    chain = as_chain(spec)
    dt = as_dtype(dtype)
    if dt.kind != "f":
        raise SpecError(f"the dask backend runs real floating dtypes, got {dt.name}")
    repeat = check_count("repeat", repeat, 1)
    threads = check_count("threads per worker", threads_per_worker, 1, 256)
    tol = check_rtol(rtol)
    if scheduler is None:
        workers = check_count("workers", workers, 1, 1024)
        parse_bytes(memory_per_worker)
    plans = [(mode, plan(chain, mode, dt)) for mode in ("forward", "reverse", "optimal")]
    what = f"the Dask run of {chain.spec()} (working set per worker)"

    def estimates_for(n: int, threads: int) -> list[DaskMemoryEstimate]:
        return [
            predict_memory(p, workers=n, threads_per_worker=threads, chunk_bytes=chunk_bytes)
            for _, p in plans
        ]

    if scheduler is None:  # the limit is known: check before any cluster or array exists
        check_memory(
            max(e.working_bytes for e in estimates_for(workers, threads)),
            what,
            memory_per_worker,
        )
    with dask_client(
        workers,
        memory_per_worker,
        threads_per_worker=threads,
        scheduler=scheduler,
        processes=processes,
    ) as client:
        limits = worker_memory_limits(client)
        n = max(1, len(limits))
        threads = max(client.nthreads().values(), default=threads)
        estimates = estimates_for(n, threads)
        limit = min((x for x in limits.values() if x), default=0)
        if limit:
            check_memory(max(e.working_bytes for e in estimates), what, limit)
        rate = worker_flop_rate(client, max(estimates[0].chunk_lengths), dt)
        Js = client.persist(random_dask_jacobians(chain, seed, dt, chunk_bytes))
        rows = []
        for (label, p), est in zip(plans, estimates, strict=True):
            m = measure_product(
                client,
                label,
                lambda p=p, Js=Js: evaluate_plan(p, Js, chunk_bytes),
                Js,
                repeat=repeat,
                seed=seed,
            )
            rows.append(DaskPlanRow(label, p, p.flops / (rate * n * threads), est, m))
    return DaskValidationReport(
        chain,
        dt,
        n,
        threads,
        tuple(limits.values()),
        rate,
        tolerance(dt) if tol is None else tol,
        tuple(rows),
    )

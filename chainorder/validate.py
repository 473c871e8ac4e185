"""Check every prediction of a plan on real numbers.

:func:`validate` runs forward, reverse and the optimal plan (or every bracketing of a short
chain) on seeded data and records, per plan, the predicted multiplications, FLOPs and peak
memory next to the measured best wall time, peak memory and GFLOP/s, and how far its
Jacobian is from the forward-mode one.

What is compared (bytes of the plan's dtype)
    ``given``: the predicted peak counts the input Jacobians plus live intermediates; the
    measured peak is the bytes the evaluation allocated at its peak (``tracemalloc`` or the
    CuPy pool) **plus** the bytes of the input Jacobians, which exist before measuring.
    ``streamed``: a seeded :class:`chainorder.nets.MLP` of the chain is run at a seeded
    input; the measured peak is everything the evaluation allocated (the input ``x_0`` is
    created inside the measured region; weights before it, as the model does not count them).
Agreement
    Each plan's Jacobian against the forward-mode Jacobian
    (:func:`chainorder.measure.max_relative_difference`); the report passes when the largest
    is at most :func:`chainorder.measure.tolerance` of the dtype (or the ``rtol``
    given). Any two plans then differ by at most twice that. A Jacobian with inf or nan
    entries (the dtype overflowed) fails, named in :attr:`ValidationReport.non_finite`.
Running
    :class:`chainorder.runner.ValidationRun` does the work (also for ``bench``): arguments
    and the memory the run needs are checked before any array is created
    (:mod:`chainorder.memory_guard`; ``max_memory=``).
Dask
    ``chainorder validate --backend dask`` runs on a Dask cluster instead:
    :func:`chainorder.dask_report.validate_dask` (lazy plan-ordered graphs, memory predicted
    and measured per worker, the limit per worker).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from chainorder.backend import Backend
from chainorder.chain import Chain
from chainorder.errors import JacobianMismatchError
from chainorder.measure import blas_info, tolerance
from chainorder.memory import Setting
from chainorder.nets import random_jacobians
from chainorder.runner import (
    MAX_ALL_TREES_LINKS,
    MAX_REPEAT,
    PlanMeasurement,
    ValidationRun,
    candidate_plans,
    check_rtol,
    finite_or_none,
    run_plan,
)

__all__ = [
    "MAX_ALL_TREES_LINKS",
    "MAX_REPEAT",
    "PlanMeasurement",
    "ValidationReport",
    "ValidationRun",
    "blas_info",
    "candidate_plans",
    "random_jacobians",
    "run_plan",
    "validate",
]


@dataclass(frozen=True)
class ValidationReport:
    """Everything :func:`validate` measured, and whether the Jacobians agree."""

    chain: Chain
    setting: Setting
    backend: str
    dtype: np.dtype
    seed: int
    repeat: int
    tolerance: float
    rows: tuple[PlanMeasurement, ...]
    blas: str

    @property
    def max_difference(self) -> float:
        """Largest normwise relative difference of any plan's Jacobian from forward mode's."""
        diffs = [r.rel_diff for r in self.rows]
        return float("nan") if any(np.isnan(diffs)) else max(diffs, default=0.0)

    @property
    def non_finite(self) -> tuple[str, ...]:
        """Labels of the plans whose Jacobian has inf or nan entries (the dtype overflowed)."""
        return tuple(r.label for r in self.rows if not r.finite)

    @property
    def ok(self) -> bool:
        """True when every Jacobian is finite and agrees with forward mode's within tolerance."""
        return not self.non_finite and bool(self.max_difference <= self.tolerance)

    @property
    def verdict(self) -> str:
        """One sentence: how far the Jacobians are apart, against what, and the outcome."""
        dt = self.dtype.name
        if self.non_finite:
            which = (
                f"the Jacobians of {', '.join(self.non_finite)} have"
                if len(self.non_finite) > 1
                else f"the Jacobian of {self.non_finite[0]} has"
            )
            return (
                f"cannot be judged: {which} inf or nan entries (the values overflow {dt}): FAILED"
            )
        return (
            f"largest relative difference {self.max_difference:.2e} (normwise, vs forward "
            f"mode); tolerance {self.tolerance:.0e} for {dt}: {'OK' if self.ok else 'FAILED'}"
        )

    def raise_if_disagree(self) -> None:
        """Raise :class:`~chainorder.errors.JacobianMismatchError` unless :attr:`ok`.

        The message names the worst plan, its difference and the tolerance.
        """
        if self.ok:
            return
        if self.non_finite:
            raise JacobianMismatchError(f"agreement {self.verdict}")
        worst = max(self.rows, key=lambda r: r.rel_diff)
        raise JacobianMismatchError(
            f"the Jacobian of {worst.label} ({worst.plan.expression()}) differs from forward "
            f"mode's by {worst.rel_diff:.2e} (normwise relative), beyond the tolerance "
            f"{self.tolerance:.0e} for {self.dtype.name}"
        )

    @property
    def memory_compared(self) -> str:
        """One sentence saying what the measured peak memory includes."""
        if self.setting is Setting.GIVEN:
            return (
                "measured peak = bytes allocated during evaluation + bytes of the input "
                "Jacobians (created before measuring); predicted = inputs + live intermediates"
            )
        return (
            "measured peak = bytes allocated during the streamed evaluation (x_0, activations, "
            "formed Jacobians, products); network weights are created before and not counted"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready report."""
        return {
            "chain": self.chain.spec(),
            "dims": list(self.chain.dims),
            "setting": self.setting.value,
            "backend": self.backend,
            "dtype": self.dtype.name,
            "seed": self.seed,
            "repeat": self.repeat,
            "tolerance": self.tolerance,
            "max_rel_diff": finite_or_none(self.max_difference),
            "ok": self.ok,
            "non_finite": list(self.non_finite),
            "memory_compared": self.memory_compared,
            "blas": self.blas,
            "units": {
                "mults": "scalar multiplications",
                "flops": "floating-point operations, 2 per multiply-add",
                "bytes": f"{self.dtype.name}, {self.dtype.itemsize} bytes per element",
                "time": "seconds, best of repeat after one warm-up run",
                "gflop_per_s": "predicted FLOPs / best time / 1e9",
            },
            "plans": [r.to_dict() for r in self.rows],
        }

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), indent=indent)


def validate(
    spec: Chain | str | Sequence[int | str],
    *,
    setting: Setting | str = Setting.GIVEN,
    backend: str | Backend = "numpy",
    dtype: object = "float64",
    repeat: int = 5,
    warmup: int = 1,
    seed: int = 0,
    all_trees: bool = False,
    rtol: float | None = None,
    measure_memory: bool = True,
    max_memory: int | str | None = None,
) -> ValidationReport:
    """Run plans of ``spec`` on real Jacobians and set measurements next to predictions.

    Parameters
    ----------
    spec : Chain, str or sequence
        The chain, e.g. ``"784,512,tanh,512,tanh,10"``.
    setting : {"given", "streamed"}
        ``given``: seeded random Jacobians (:func:`random_jacobians`); ``streamed``: a
        seeded :class:`~chainorder.nets.MLP` at a seeded input.
    backend : {"numpy", "cupy"}
    dtype : str or numpy.dtype
    repeat, warmup : int
        Timed (1 to :data:`MAX_REPEAT`) and untimed runs per plan; the best time is reported.
    seed : int
        Non-negative; seeds the data (weights, Jacobians, input).
    all_trees : bool
        Every bracketing instead of forward, reverse and optimal (at most
        :data:`MAX_ALL_TREES_LINKS` links).
    rtol : float, optional
        Agreement tolerance, positive and finite; :func:`chainorder.measure.tolerance` of
        the dtype by default.
    measure_memory : bool
        Skip the (slower, traced) memory run when false; peaks are then reported as -1.
    max_memory : int or str, optional
        Limit for the bytes the run will allocate (``"2GiB"``), checked against
        :attr:`ValidationRun.required_bytes` before anything is allocated; by default a
        fraction of the available memory (:mod:`chainorder.memory_guard`).

    Returns
    -------
    ValidationReport

    Raises
    ------
    SpecError, DtypeError, UnknownSettingError, ExecutionError
        Bad chain, dtype, setting, backend (e.g. ``cupy`` without CuPy), seed, repeat or
        rtol, or ``all_trees`` on a chain that is too long.
    MemoryLimitError
        The run would not fit the memory limit (nothing was allocated), or ran out of
        memory all the same.

    Examples
    --------
    >>> r = validate("30,35,15,5,10,20,25", repeat=1)
    >>> [row.label for row in r.rows], r.ok
    (['forward', 'reverse', 'optimal'], True)
    >>> [row.plan.mults for row in r.rows]
    [40500, 47500, 15125]

    Notes
    -----
    ``(repeat + warmup + 1)`` evaluations per plan; memory of one result per plan at a time
    plus the forward-mode reference.
    """
    tol = check_rtol(rtol)
    run = ValidationRun(
        spec,
        setting=setting,
        backend=backend,
        dtype=dtype,
        repeat=repeat,
        warmup=warmup,
        seed=seed,
        all_trees=all_trees,
        measure_memory=measure_memory,
        max_memory=max_memory,
    )
    rows = tuple(run.measurements())
    be = run.backend
    return ValidationReport(
        run.chain,
        run.setting,
        be.name,
        run.dtype,
        run.seed,
        run.repeat,
        tolerance(run.dtype) if tol is None else tol,
        rows,
        blas_info() if not be.is_gpu else f"CuPy {be.xp.__version__}",
    )

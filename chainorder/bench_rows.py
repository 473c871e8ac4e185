"""Benchmark rows and results: plain data that benchmark runs produce and reports render.

Kept apart from :mod:`chainorder.bench` (which runs plans) so that :mod:`chainorder.report`
can render results without importing anything that executes or measures.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only the row builders' annotations
    from chainorder.baselines import Baseline
    from chainorder.runner import PlanMeasurement, ValidationRun

__all__ = ["BenchResult", "BenchRow"]


@dataclass(frozen=True, slots=True)
class BenchRow:
    """One measured method on one case. ``None`` where a figure does not apply.

    Units: mults (scalar multiplications), FLOPs (2 per multiply-add), bytes of the dtype,
    seconds (best of repeat), GFLOP/s (predicted FLOPs / best time).
    """

    suite: str
    case: str
    chain: str
    setting: str
    method: str
    expression: str
    mode: str
    predicted_mults: int | None
    predicted_flops: int | None
    predicted_peak_bytes: int | None
    measured_peak_bytes: int | None
    time_s: float | None
    gflop_per_s: float | None
    rel_diff: float | None
    status: str

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for JSON/CSV)."""
        return asdict(self)

    @classmethod
    def of_plan(cls, suite: str, case: str, m: PlanMeasurement, tol: float) -> BenchRow:
        """The row of one plan measured by the runner."""
        p = m.plan
        return cls(
            suite,
            case,
            p.chain.spec(),
            m.setting.value,
            f"chainorder {m.label}",
            p.expression(),
            p.mode.value,
            p.mults,
            p.flops,
            m.predicted_peak_bytes,
            m.measured_peak_bytes if m.measured_peak_bytes >= 0 else None,
            m.time.best,
            m.gflops if math.isfinite(m.gflops) else None,
            m.rel_diff,
            "non-finite (overflow)" if not m.finite else "ok" if m.rel_diff <= tol else "mismatch",
        )

    @classmethod
    def of_baseline(cls, suite: str, case: str, run: ValidationRun, b: Baseline) -> BenchRow:
        """The row of one baseline run on the runner's data."""
        p = b.plan
        rate = p.flops / b.time_s / 1e9 if p is not None and b.time_s else None
        return cls(
            suite,
            case,
            run.chain.spec(),
            run.setting.value,
            b.method,
            p.expression() if p is not None else "",
            b.mode,
            p.mults if p is not None else None,
            p.flops if p is not None else None,
            b.predicted_peak_bytes,
            None,
            b.time_s,
            rate,
            b.rel_diff,
            b.status,
        )


@dataclass(frozen=True)
class BenchResult:
    """All rows of one suite run and the conditions they were measured under."""

    suite: str
    rows: tuple[BenchRow, ...]
    repeat: int
    seed: int
    dtype: str
    environment: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with units."""
        return {
            "suite": self.suite,
            "repeat": self.repeat,
            "seed": self.seed,
            "dtype": self.dtype,
            "environment": dict(self.environment),
            "units": {
                "predicted_mults": "scalar multiplications",
                "predicted_flops": "floating-point operations, 2 per multiply-add",
                "bytes": f"{self.dtype} bytes",
                "time_s": f"seconds, best of {self.repeat} after one warm-up run",
                "gflop_per_s": "predicted FLOPs / best time / 1e9",
                "rel_diff": "normwise max|J - J_forward| / max|J_forward|",
            },
            "rows": [r.to_dict() for r in self.rows],
        }

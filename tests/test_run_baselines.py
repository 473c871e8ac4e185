"""One runner: bench rows come from the runner's measurements; baselines are checked first."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pytest

import chainorder.runner as runner_module
from chainorder.baselines import (
    FRAMEWORK_METHODS,
    checked_time,
    framework_baselines,
    multi_dot_baselines,
)
from chainorder.bench import BenchRow, iter_suite
from chainorder.plan import Plan
from chainorder.runner import ValidationRun
from chainorder.solvers.multi_dot import multi_dot_tree
from chainorder.validate import validate


def test_bench_rows_are_the_runners_measurements(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = runner_module.run_plan

    def counting(p: Plan, *args: Any, **kwargs: Any) -> Any:
        calls.append(p.expression())
        return real(p, *args, **kwargs)

    monkeypatch.setattr(runner_module, "run_plan", counting)
    rows = list(iter_suite("smoke", repeat=1, frameworks=False, measure_memory=False))
    plan_rows = [
        r for r in rows if r.method.startswith("chainorder ") and "multi_dot" not in r.method
    ]
    assert [r.expression for r in plan_rows] == calls  # every plan row is one runner call


def test_plan_row_maps_a_measurement_field_by_field() -> None:
    run = ValidationRun("8,16,4,12", repeat=1)
    m = next(run.measurements())
    row = BenchRow.of_plan("s", "c", m, 1e-9)
    assert (row.method, row.expression, row.predicted_mults) == (
        f"chainorder {m.label}",
        m.plan.expression(),
        m.plan.mults,
    )
    assert row.predicted_peak_bytes == m.predicted_peak_bytes
    assert row.measured_peak_bytes == m.measured_peak_bytes and row.time_s == m.time.best
    assert row.status == "ok" and row.rel_diff == m.rel_diff == 0.0


def test_validate_and_bench_measure_the_same_plans() -> None:
    report = validate("8,16,4,12", all_trees=True, repeat=1, measure_memory=False)
    rows = [
        r
        for r in iter_suite("smoke", repeat=1, frameworks=False, measure_memory=False)
        if r.case == "smoke-dense" and "multi_dot" not in r.method
    ]
    assert [f"chainorder {m.label}" for m in report.rows] == [r.method for r in rows]
    assert [m.plan.mults for m in report.rows] == [r.predicted_mults for r in rows]


def test_multi_dot_baselines_match_and_follow_numpys_order() -> None:
    dims = [30, 35, 15, 5, 10, 20, 25]
    run = ValidationRun(",".join(map(str, dims)), repeat=1, measure_memory=False)
    list(run.measurements())
    ours, numpy_row = multi_dot_baselines(run, 1e-9)
    assert ours.status == numpy_row.status == "ok" and ours.time_s > 0 and numpy_row.time_s > 0
    assert ours.plan is not None and ours.plan.tree == multi_dot_tree(dims)
    assert ours.plan.mults == 15125 and ours.predicted_peak_bytes == ours.plan.peak_bytes()
    expected = np.linalg.multi_dot(run.data[::-1])
    np.testing.assert_allclose(run.reference, expected, rtol=1e-12)


def test_a_baseline_that_disagrees_gets_no_time() -> None:
    run = ValidationRun("6,7,8,9", repeat=1, measure_memory=False)
    list(run.measurements())
    run.reference = 2 * run.reference  # as if the baseline computed something else
    for b in multi_dot_baselines(run, 1e-9):
        assert b.status == "mismatch: time not reported" and b.time_s is None
        assert b.rel_diff == pytest.approx(0.5)
    t, diff, status = checked_time(lambda: np.ones(3), np.ones(3), repeat=2, tol=0.0)
    assert t is not None and t > 0 and diff == 0.0 and status == "ok"


def test_frameworks_skip_cleanly(monkeypatch: pytest.MonkeyPatch) -> None:
    run = ValidationRun("5,4,tanh,3", setting="streamed", repeat=1, measure_memory=False)
    list(run.measurements())
    skipped = list(framework_baselines(run, 1e-9, enabled=False))
    assert len(skipped) == len(FRAMEWORK_METHODS)
    assert {b.status for b in skipped} == {"skipped (--no-frameworks)"}
    monkeypatch.setitem(sys.modules, "jax", None)
    monkeypatch.setitem(sys.modules, "torch", None)
    missing = list(framework_baselines(run, 1e-9))
    assert [b.method for b in missing] == [
        "jax jax.jacfwd",
        "jax jax.jacrev",
        "torch torch.func.jacfwd",
        "torch torch.func.jacrev",
    ]
    assert {(b.status, b.time_s, b.rel_diff) for b in missing} == {("not installed", None, None)}


def test_suite_releases_each_cases_data(monkeypatch: pytest.MonkeyPatch) -> None:
    released: list[int] = []
    real = ValidationRun.release

    def spy(self: ValidationRun) -> None:
        real(self)
        released.append(self.chain.n_links)
        assert self.data is None and self.reference is None

    monkeypatch.setattr(ValidationRun, "release", spy)
    list(iter_suite("smoke", repeat=1, frameworks=False, measure_memory=False))
    assert released == [5, 5, 3]

"""validate(): predictions next to measurements on real Jacobians; agreement; tree enumeration."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from chainorder.chain import Chain
from chainorder.errors import ExecutionError, JacobianMismatchError, SpecError, TreeError
from chainorder.tree import all_trees, flatten
from chainorder.validate import (
    MAX_ALL_TREES_LINKS,
    blas_info,
    candidate_plans,
    random_jacobians,
    run_plan,
    validate,
)


@pytest.mark.parametrize("n", range(1, 8))
def test_all_bracketings_are_catalan_many_distinct_valid_trees(n: int) -> None:
    trees = all_trees(n)
    assert len(trees) == math.comb(2 * (n - 1), n - 1) // n
    assert len(set(trees)) == len(trees)
    for t in trees:
        flatten(t, n)


def test_all_bracketings_rejects_bad_counts() -> None:
    with pytest.raises(TreeError):
        all_trees(0)


def test_candidate_labels_name_coinciding_plans() -> None:
    labels = [
        label
        for label, _ in candidate_plans(Chain.parse("784,512,tanh,512,tanh,10"), all_trees=True)
    ]
    assert labels[0] == "forward"
    assert "reverse = optimal" in labels and len(labels) == 14


def test_random_jacobians_are_seeded_and_structured() -> None:
    a = random_jacobians("4,3,tanh,2", seed=5)
    b = random_jacobians("4,3,tanh,2", seed=5)
    assert [j.shape for j in a] == [(3, 4), (3,), (2, 3)]
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert random_jacobians("3,2", dtype="complex128")[0].dtype == np.complex128


def test_validate_given_reports_lecture_costs_and_agreement() -> None:
    r = validate("30,35,15,5,10,20,25", repeat=1)
    assert [row.label for row in r.rows] == ["forward", "reverse", "optimal"]
    assert [row.plan.mults for row in r.rows] == [40500, 47500, 15125]
    assert r.ok and r.max_difference < 1e-13 and r.tolerance == 1e-9
    for row in r.rows:
        assert row.time.best > 0 and row.gflops > 0
        # measured = allocations + inputs; the prediction counts the same things
        assert (
            row.predicted_peak_bytes <= row.measured_peak_bytes <= row.predicted_peak_bytes + 80_000
        )


def test_validate_streamed_memory_within_one_percent() -> None:
    r = validate("300,200,tanh,200,tanh,10", setting="streamed", repeat=1)
    assert r.ok
    for row in r.rows:
        assert row.memory_ratio == pytest.approx(1.0, abs=0.01)
    assert "weights" in r.memory_compared


def test_validate_all_trees() -> None:
    r = validate("8,6,tanh,5,4", all_trees=True, repeat=1, measure_memory=False)
    assert len(r.rows) == 5 and r.ok
    assert all(row.measured_peak_bytes == -1 for row in r.rows)
    with pytest.raises(SpecError, match=f"limited to {MAX_ALL_TREES_LINKS} links"):
        validate(",".join(["3"] * (MAX_ALL_TREES_LINKS + 2)), all_trees=True)


def test_validate_fails_beyond_tolerance() -> None:
    r = validate("40,50,30,60", dtype="float32", rtol=1e-12, repeat=1)
    assert not r.ok and r.max_difference > 1e-12
    with pytest.raises(JacobianMismatchError, match=r"differs from forward mode's by .* 1e-12"):
        r.raise_if_disagree()
    ok = validate("40,50,30,60", dtype="float32", repeat=1)
    assert ok.ok
    ok.raise_if_disagree()


def test_validate_bad_inputs() -> None:
    with pytest.raises(SpecError):
        validate("10", repeat=1)
    with pytest.raises(SpecError, match="repeat"):
        validate("3,4", repeat=0)
    with pytest.raises(ExecutionError, match="unknown backend"):
        validate("3,4", backend="tpu")


def test_report_json_round_trip_has_units() -> None:
    data = json.loads(validate("6,5,tanh,4", setting="streamed", repeat=1).to_json())
    assert data["ok"] is True and data["setting"] == "streamed"
    assert set(data["units"]) >= {"mults", "flops", "bytes", "time"}
    assert data["plans"][0]["label"] == "forward" and data["plans"][0]["predicted_mults"] > 0


def test_run_plan_streamed() -> None:
    from chainorder.nets import MLP
    from chainorder.plan import plan

    net = MLP("5,4,tanh,3", seed=0)
    p = plan(net.chain)
    timing, peak, jac = run_plan(p, "streamed", (net, net.random_input(0)), repeat=1)
    assert jac.shape == (3, 5) and peak >= p.peak_bytes("streamed") and timing.repeat == 1


def test_blas_info_is_text() -> None:
    assert isinstance(blas_info(), str) and blas_info()

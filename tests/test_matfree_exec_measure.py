"""measure_matrix_free: predicted against measured on real elementals (timing-free checks)."""

from __future__ import annotations

import pytest

from chainorder.errors import MemoryLimitError
from chainorder.matfree.links import conv2d, dense, elementwise
from chainorder.matfree.measure import measure_matrix_free
from chainorder.matfree.planning import pure_adjoint_plan, pure_tangent_plan
from chainorder.matfree.reference import all_plans

MLP = "300,200,tanh,200,tanh,20"


@pytest.mark.parametrize("setting", ["streamed", "given"])
def test_default_plans_agree_and_memory_within_ten_percent(setting):
    r = measure_matrix_free(MLP, setting=setting, repeat=1, warmup=0)
    assert [row.name for row in r.rows] == [
        "optimum",
        "pure tangent",
        "pure adjoint",
        "given-matrix",
    ]
    assert r.max_difference <= r.tolerance
    assert r.memory_ok, [row.memory_ratio for row in r.rows]
    assert r.ok
    r.raise_if_disagree()
    # the optimum is never predicted dearer than the baselines
    assert r.row("optimum").mults <= min(row.mults for row in r.rows)
    assert r.to_dict()["rows"][0]["name"] == "optimum"


def test_every_plan_of_a_short_cnn_chain():
    links = [conv2d(1, (8, 8), 3, 3), elementwise(108, "relu"), dense(12, 108)]
    r = measure_matrix_free(links, every_plan=True, repeat=1, warmup=0)
    every = {p.nodes for p in all_plans(links)}
    assert {p.nodes for p in r.plans} == every  # each plan once, beside the four named ones
    assert len(r.rows) <= len(every) + 4
    assert r.max_difference <= r.tolerance
    assert r.memory_ok, r.worst_memory_ratio


def test_explicit_plans_and_the_memory_guard():
    links = [dense(40, 30), elementwise(40, "sin"), dense(8, 40)]
    plans = [pure_tangent_plan(links), pure_adjoint_plan(links)]
    r = measure_matrix_free(links, plans=plans, repeat=1, warmup=0, measure_memory=False)
    assert [row.name for row in r.rows] == ["plan 0", "plan 1"]
    assert r.rows[0].mults == 30 * (40 * 30 + 40 + 8 * 40)
    with pytest.raises(MemoryLimitError, match="needs"):
        measure_matrix_free("20000,20000,10", max_memory="64MiB")


def test_given_links_are_inputs_of_the_given_setting():
    links = [dense(60, 40, given=True), elementwise(60, "tanh", given=True), dense(30, 60)]
    r = measure_matrix_free(links, setting="given", every_plan=True, repeat=1, warmup=0)
    assert any(p.actions & {"given"} for p in r.plans)
    assert r.max_difference <= r.tolerance
    assert r.memory_ok, r.worst_memory_ratio

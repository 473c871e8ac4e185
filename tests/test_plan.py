"""Plan: derived figures, schedule, JSON round trip and its checks."""

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chainorder
from chainorder.errors import DtypeError, PlanFormatError, SpecError, UnknownSolverError
from chainorder.memory import Setting
from chainorder.plan import Plan, compare_modes, plan
from chainorder.testing import random_chain, random_tree
from chainorder.tree import Mode


def test_lecture_chain_figures():
    p = plan("30,35,15,5,10,20,25")
    assert (p.mults, p.forward_mults, p.reverse_mults) == (15_125, 40_500, 47_500)
    assert p.flops == 2 * p.mults
    assert p.tree == ((6, (5, 4)), ((3, 2), 1))
    assert p.mode is Mode.MIXED
    assert p.speedup_vs_forward == pytest.approx(40_500 / 15_125)
    assert p.speedup_vs_reverse == pytest.approx(47_500 / 15_125)
    assert p.expression() == "(J6·(J5·J4))·((J3·J2)·J1)"


def test_modes_and_dtype_bytes():
    p = plan([784, 512, 512, 10], mode="forward", dtype="float32")
    assert p.tree == (3, (2, 1)) and p.mode is Mode.FORWARD and p.is_forward
    assert p.peak_bytes("given") == 4 * p.peak_elements("given")
    assert p.peak_bytes(Setting.STREAMED) == 4 * p.streamed.peak_elements
    assert p.largest_intermediate == 512 * 784
    r = plan([784, 512, 512, 10], mode="reverse")
    assert r.is_reverse and r.largest_intermediate == 10 * 784  # the result J itself


def test_schedule_steps_sum_to_plan_cost():
    p = plan("784,512,tanh,512,tanh,10")
    for setting in ("given", "streamed"):
        steps = p.schedule(setting)
        assert len(steps) == p.n_links - 1
        assert sum(s.mults for s in steps) == p.mults
        assert sum(s.flops for s in steps) == p.flops
        for s in steps:
            assert s.left_shape[1] == s.right_shape[0]
            assert s.out_shape == (s.left_shape[0], s.right_shape[1])


@given(
    n=st.integers(1, 9),
    seed=st.integers(0, 10**6),
    dtype=st.sampled_from(["float32", "complex128"]),
)
def test_json_round_trip(n, seed, dtype):
    chain = random_chain(seed, n, 1, 500, 0.3)
    p = Plan.from_tree(chain, random_tree(seed, n), "custom", dtype)
    q = Plan.from_json(p.to_json())
    assert q == p and q.to_dict() == p.to_dict()


def test_json_round_trip_of_ten_thousand_links():
    p = plan([3] * 10_001, mode="reverse")
    text = p.to_json()
    assert len(text) < 2_000_000  # O(L), not O(L²)
    assert Plan.from_json(text) == p


def test_json_is_checked_when_read():
    data = plan("30,35,15,5").to_dict()
    with pytest.raises(PlanFormatError, match="inconsistent"):
        Plan.from_dict({**data, "mults": data["mults"] + 1})
    with pytest.raises(PlanFormatError, match="version"):
        Plan.from_dict({**data, "version": 99})
    with pytest.raises(PlanFormatError, match="not a chainorder plan"):
        Plan.from_dict({"format": "other"})
    with pytest.raises(PlanFormatError, match="missing the field"):
        Plan.from_dict({k: v for k, v in data.items() if k not in ("tree", "postfix")})
    with pytest.raises(PlanFormatError, match="invalid tree"):
        Plan.from_dict({**data, "tree": [[3, 1], 2]})
    with pytest.raises(PlanFormatError, match="invalid tree"):
        Plan.from_dict({**data, "tree": "[[3,1],2]", "postfix": [3, 1, 0, 2, 0]})
    with pytest.raises(PlanFormatError, match="different bracketings"):
        Plan.from_dict({**data, "tree": "[3,[2,1]]"})
    with pytest.raises(PlanFormatError, match="not valid JSON"):
        Plan.from_json("{")


def test_errors_are_specific():
    with pytest.raises(UnknownSolverError):
        plan("3,4", mode="fastest")
    with pytest.raises(DtypeError):
        plan("3,4", dtype="int32")
    with pytest.raises(DtypeError):
        plan("3,4", dtype="nope")
    with pytest.raises(SpecError):
        plan("")


def test_compare_modes_and_public_api():
    plans = compare_modes("784,512,512,10")
    assert set(plans) == {"optimal", "forward", "reverse"}
    assert plans["optimal"].mults == min(p.mults for p in plans.values())
    assert chainorder.plan is plan
    assert json.loads(plans["forward"].to_json())["units"]["mults"] == "scalar multiplications"


def test_dtype_accepts_numpy_dtype():
    assert plan("3,4", dtype=np.float16).itemsize == 2

"""Bad input to the library, fuzzed: every call raises a ChainorderError of one line.

Each bad input must raise a :class:`~chainorder.errors.ChainorderError` subclass, never a bare
``TypeError``, ``ValueError``, ``MemoryError``, ``OverflowError`` or ``AttributeError``: plans,
plan documents, executors, ``validate``, ``MLP``, ``evaluate_streamed``, the tracer and the
traced-graph functions. Requests for huge arrays run under an address-space cap (Linux). The
CLI's side is tests/test_fuzz_cli.py.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from fuzz_support import (
    BIG_WIDTH,
    HUGE,
    address_space_cap,
    assert_library_refuses,
    case_id,
)
from hypothesis import given, settings
from hypothesis import strategies as st

import chainorder
from chainorder import MLP, Plan, compile_plan, evaluate, evaluate_streamed, plan, validate
from chainorder.errors import MemoryLimitError


def _bad(*args, **kwargs):
    return pytest.param(args, kwargs, id=case_id((args, kwargs)))


LIBRARY_PLAN = [
    _bad(None),
    _bad(12),
    _bad(3.5),
    _bad(b"3,4"),
    _bad(object()),
    _bad({"dims": [3, 4]}),
    _bad([]),
    _bad([3]),
    _bad([3, 0]),
    _bad([3, -1]),
    _bad([3, 2.5]),
    _bad([3, True]),
    _bad([True, False]),
    _bad([3, None]),
    _bad([3, "x"]),
    _bad([3, float("nan")]),
    _bad([3, float("inf")]),
    _bad([3, np.float64(4.0)]),
    _bad([3, [4]]),
    _bad(np.array([[3, 4]])),
    _bad("3,,4"),
    _bad(",3,4"),
    _bad("3,4,"),
    _bad(""),
    _bad("tanh,3"),
    _bad("3,abc"),
    _bad("3,4", "fastest"),
    _bad("3,4", None),
    _bad("3,4", 12),
    _bad("3,4", dtype="int8"),
    _bad("3,4", dtype="float99"),
    _bad("3,4", dtype=12),
    _bad("3,4", dtype=object),
]


@pytest.mark.parametrize(("args", "kwargs"), LIBRARY_PLAN)
def test_library_plan_refuses(args, kwargs) -> None:
    assert_library_refuses(plan, *args, **kwargs)


def test_library_plan_of_a_400_digit_width() -> None:
    p = plan([int(BIG_WIDTH), 3, 2])
    assert p.mults == int(BIG_WIDTH) * 3 * 2
    assert str(int(BIG_WIDTH) * 6) in p.to_json() or int(BIG_WIDTH) * 6 == p.mults
    assert Plan.from_json(p.to_json()) == p


def _tampered(change) -> str:
    data = plan("3,4,5,6").to_dict()
    change(data)
    return json.dumps(data)


BAD_JSON = [
    None,  # issue 7: was a plain TypeError
    12,
    12.5,
    [],
    {},
    object(),
    "",
    "{",
    "null",
    "12",
    '"text"',
    "[]",
    "{}",
    '{"format": "chainorder-plan"}',
    "\x00",
    "{" * 5000 + "}" * 5000,
    _tampered(lambda d: d.update(format="something-else")),
    _tampered(lambda d: d.update(version=999)),
    _tampered(lambda d: d.update(version="1")),
    _tampered(lambda d: d.update(dtype="int8")),
    _tampered(lambda d: d.update(dtype=None)),
    _tampered(lambda d: d.update(solver=12)),
    _tampered(lambda d: d.update(solver="")),
    _tampered(lambda d: d.update(solver=None)),
    _tampered(lambda d: d.update(solver=["optimal"])),
    _tampered(lambda d: d.update(dtype=8)),
    _tampered(lambda d: d.update(dtype="")),
    _tampered(lambda d: d.update(dtype=["float64"])),
    _tampered(lambda d: d.update(tree="junk")),
    _tampered(lambda d: d.update(tree=None)),
    _tampered(lambda d: d.update(chain=None)),
    _tampered(lambda d: d.update(chain={"dims": [3, 0, 5, 6]})),
    _tampered(lambda d: d["chain"].update(dims=[3, -4, 5, 6])),
    _tampered(lambda d: d["chain"].update(dims="3,4,5,6")),
    _tampered(lambda d: d["chain"].update(dims=[3, 4.5, 5, 6])),
    _tampered(lambda d: d["chain"].update(dims=[3, 4])),
    _tampered(lambda d: d.update(mults=-1)),
    _tampered(lambda d: d.update(mults=1)),
    _tampered(lambda d: d.pop("chain")),
]


@pytest.mark.parametrize("text", BAD_JSON, ids=case_id)
def test_plan_from_json_refuses(text) -> None:
    assert_library_refuses(Plan.from_json, text)


@pytest.mark.parametrize("data", [None, 12, "{}", [], {}, {"tree": [2, 1]}, {"format": 1}])
def test_plan_from_dict_refuses(data) -> None:
    assert_library_refuses(Plan.from_dict, data)


P345 = plan("3,4,5")
J1, J2 = np.ones((4, 3)), np.ones((5, 4))
with warnings.catch_warnings():  # np.matrix is deprecated, which is why users still pass it
    warnings.simplefilter("ignore", PendingDeprecationWarning)
    M1, M2 = np.matrix(J1), np.matrix(J2)
BAD_JACOBIANS = [
    None,
    12,
    "J1,J2",
    [],
    [J1],
    [J1, J2, J2],
    [J2, J1],
    [J1.T, J2.T],
    [M1, M2],  # issue 7: was a plain ValueError
    [M1, J2],
    [J1, None],
    [J1, "J2"],
    [J1, np.ones(4)],
    [J1, np.ones((5, 4, 1))],
    [np.ones((4, 3), dtype=object), J2],
    [np.array([["a"] * 3] * 4), J2],
    [J1, np.ones((5, 4), dtype=complex)],
    [J1.astype(np.float32), J2],
]


@pytest.mark.parametrize("jacobians", BAD_JACOBIANS, ids=case_id)
def test_evaluate_refuses(jacobians) -> None:
    assert_library_refuses(evaluate, P345, jacobians)


@pytest.mark.parametrize("jacobians", BAD_JACOBIANS[:10], ids=case_id)
def test_compiled_plan_refuses(jacobians) -> None:
    assert_library_refuses(compile_plan(P345), jacobians)


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        _bad(None),
        _bad(12),
        _bad("3,4,5"),
        _bad([3, 4, 5]),
        _bad(P345, "cached"),
        _bad(P345, None),
        _bad(P345, 12),
    ],
)
def test_compile_plan_refuses(args, kwargs) -> None:
    assert_library_refuses(compile_plan, *args, **kwargs)


@pytest.mark.parametrize("bad_plan", [None, 12, "3,4,5", [J1, J2]], ids=repr)
def test_evaluate_refuses_non_plans(bad_plan) -> None:
    assert_library_refuses(evaluate, bad_plan, [J1, J2])


LIBRARY_VALIDATE = [
    _bad("3,4", rtol=-1),  # issue 7: was accepted and reported disagreement
    _bad("3,4", rtol=0),
    _bad("3,4", rtol=float("nan")),
    _bad("3,4", rtol=float("inf")),
    _bad("3,4", rtol="tight"),
    _bad("3,4", seed=-1),
    _bad("3,4", seed=1.5),
    _bad("3,4", seed="x"),
    _bad("3,4", seed=None),
    _bad("3,4", repeat=0),
    _bad("3,4", repeat=-1),
    _bad("3,4", repeat=1.5),
    _bad("3,4", repeat="5"),
    _bad("3,4", backend="nope"),
    _bad("3,4", backend=None),
    _bad("3,4", setting="cached"),
    _bad("3,4", dtype="int8"),
    _bad("3,,4"),
    _bad(None),
    _bad(12),
    _bad([2] * 12, all_trees=True),
    _bad(HUGE),  # issue 7: bare MemoryError before; the guard must refuse first
    _bad(HUGE, setting="streamed"),
    _bad("2000,2000,2000", max_memory="1KiB"),
    _bad("3,4", max_memory="lots"),
]


@pytest.mark.parametrize(("args", "kwargs"), LIBRARY_VALIDATE)
def test_library_validate_refuses(args, kwargs) -> None:
    with address_space_cap():
        assert_library_refuses(validate, *args, **{"repeat": 1, **kwargs})


def test_library_validate_huge_chain_is_a_memory_limit_error() -> None:
    with address_space_cap():
        exc = assert_library_refuses(validate, HUGE, repeat=1)
    assert isinstance(exc, MemoryLimitError), repr(exc)


LIBRARY_MLP = [
    _bad(None),
    _bad(12),
    _bad("3,,4"),
    _bad("3,4", seed=-1),
    _bad("3,4", seed=1.5),
    _bad("3,4", dtype="int8"),
    _bad("3,4", backend="nope"),
    _bad(HUGE),  # issue 7: bare MemoryError before
    _bad("65536,65536,65536,65536"),
    _bad("3000,3000", max_memory="1KiB"),
]


@pytest.mark.parametrize(("args", "kwargs"), LIBRARY_MLP)
def test_library_mlp_refuses(args, kwargs) -> None:
    with address_space_cap():
        assert_library_refuses(MLP, *args, **kwargs)


def test_evaluate_streamed_refuses_mismatched_sources() -> None:
    net = MLP("3,4,tanh,2", seed=0)
    p = plan("3,4,tanh,2")
    assert_library_refuses(evaluate_streamed, p, net, np.ones(5))
    assert_library_refuses(evaluate_streamed, p, None, np.ones(3))
    assert_library_refuses(evaluate_streamed, plan("3,5,2"), net, np.ones(3))


def _sin(x):
    return np.sin(x)


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        _bad(None, 1.0),
        _bad(12, 1.0),
        _bad(_sin),
        _bad(lambda x: "text", np.ones(3)),
        _bad(lambda x: None, np.ones(3)),
        _bad(lambda x: {"a": x}, np.ones(3)),
        _bad(_sin, np.array(["a", "b"])),
        _bad(_sin, object()),
        _bad(_sin, None),
        _bad(_sin, np.ones(3), wrt=[5]),
        _bad(_sin, np.ones(3), wrt=["nope"]),
        _bad(lambda x, y: x * y, np.ones(3)),
        _bad(lambda: 1.0, 1.0),  # more example arguments than parameters
        _bad(lambda x, *, k: x * k, np.ones(3)),  # a required keyword-only argument
        _bad(np.ones(3), 1.0),  # an array is not a function
        _bad(_sin, np.ones(3), wrt=5),
        _bad(_sin, np.ones(3), wrt="x"),
        _bad(_sin, np.ones(3), wrt=[True]),
        _bad(_sin, np.ones(3), wrt=[1.5]),
        _bad(_sin, np.ones(3), wrt=[None]),
        _bad(_sin, np.array([1.0, np.nan])),
        _bad(_sin, np.array([1 + 2j])),
    ],
)
def test_library_trace_refuses(args, kwargs) -> None:
    assert_library_refuses(chainorder.trace, *args, **kwargs)


GRAPH = chainorder.trace(lambda x: np.sin(x) * x, np.ones(3))


@pytest.mark.parametrize(
    ("call", "args", "kwargs"),
    [
        (chainorder.plan_graph, (None,), {}),
        (chainorder.plan_graph, (12,), {}),
        (chainorder.plan_graph, (GRAPH,), {"seed": -1}),
        (chainorder.validate_graph, (None,), {}),
        (chainorder.validate_graph, (GRAPH, "no such order"), {}),
        (chainorder.validate_graph, (GRAPH, ["nope", "nodes"]), {}),
        (chainorder.validate_graph, (GRAPH,), {"rtol": -1}),
        (chainorder.validate_graph, (GRAPH,), {"rtol": float("nan")}),
        (chainorder.graph.graph_jacobian, (GRAPH, "sideways"), {}),
        (chainorder.graph.graph_jacobian, (None,), {}),
        (chainorder.graph.jvp, (GRAPH, [np.ones(4)]), {}),
        (chainorder.graph.jvp, (GRAPH, []), {}),
        (chainorder.graph.vjp, (GRAPH, [np.ones(4)]), {}),
        (chainorder.graph.vjp, (GRAPH, None), {}),
        (chainorder.check_grads, (None, 1.0), {}),
        (chainorder.check_grads, (_sin, np.ones(3)), {"modes": ("sideways",)}),
        (chainorder.check_grads, (_sin, np.ones(3)), {"rtol": -1}),
        (chainorder.plan_graph, (GRAPH,), {"seed": 1.5}),
        (chainorder.plan_graph, (GRAPH,), {"seed": True}),
        (chainorder.plan_graph, (GRAPH,), {"seed": "0"}),
        (chainorder.plan_graph, (GRAPH,), {"restarts": -3}),
        (chainorder.plan_graph, (GRAPH,), {"exact_limit": None}),
        (chainorder.plan_graph, (chainorder.plan("3,4"),), {}),
        (chainorder.validate_graph, (12,), {}),
        (chainorder.validate_graph, (GRAPH, 12), {}),
        (chainorder.validate_graph, (GRAPH,), {"rtol": 0}),
        (chainorder.validate_graph, (GRAPH,), {"rtol": "tight"}),
        (chainorder.validate_graph, (GRAPH,), {"fd_rtol": float("inf")}),
        (chainorder.validate_graph, (GRAPH,), {"eps": 0}),
        (chainorder.validate_graph, (GRAPH,), {"eps": -1e-6}),
        (chainorder.graph.graph_jacobian, (GRAPH, 12), {}),
        (chainorder.graph.graph_jacobian, (GRAPH, None), {}),
        (chainorder.graph.graph_jacobian, (GRAPH, [1, 2]), {}),
        (chainorder.graph.graph_jacobian, (GRAPH, "reverse", -1), {}),
        (chainorder.graph.graph_fd_jacobian, (None,), {}),
        (chainorder.graph.graph_fd_jacobian, (GRAPH, float("nan")), {}),
        (chainorder.graph.jvp, (None, [np.ones((1, 3))]), {}),
        (chainorder.graph.jvp, (GRAPH, "tangent"), {}),
        (chainorder.graph.jvp, (GRAPH, 12), {}),
        (chainorder.graph.jvp, (GRAPH, [np.ones(3)]), {}),  # no batch axis
        (chainorder.graph.jvp, (GRAPH, [1.0]), {}),
        (chainorder.graph.jvp, (GRAPH, [["a", "b", "c"]]), {}),
        (chainorder.graph.jvp, (GRAPH, [np.ones((1, 3)), np.ones((1, 3))]), {}),
        (chainorder.graph.vjp, (GRAPH, [object()]), {}),
        (chainorder.graph.sweep_cost, (None, "forward"), {}),
        (chainorder.graph.sweep_cost, (GRAPH, "sideways"), {}),
        (chainorder.check_grads, (_sin, np.ones(3)), {"modes": []}),
        (chainorder.check_grads, (_sin, np.ones(3)), {"modes": None}),
        (chainorder.check_grads, (_sin, np.ones(3)), {"modes": [1]}),
        (chainorder.check_grads, (_sin, np.ones(3)), {"eps": 0}),
        (chainorder.check_grads, (_sin, np.ones(3)), {"atol": float("nan")}),
        (chainorder.check_grads, (_sin, np.ones(3)), {"seed": -1}),
        (chainorder.check_grads, (lambda x, y: x * y, np.ones(3)), {}),
        (GRAPH.call, (), {}),
        (GRAPH.call, (np.ones(4),), {}),
        (GRAPH.call, ("abc",), {}),
        (GRAPH.replay, (np.ones(3), np.ones(3)), {}),
        (GRAPH.replay, (np.ones((2, 2)),), {}),
        (GRAPH.replay, ([None, None, None],), {}),
    ],
    ids=lambda v: getattr(v, "__name__", case_id(v)[:30]),
)
def test_graph_library_refuses(call, args, kwargs) -> None:
    assert_library_refuses(call, *args, **kwargs)


@settings(max_examples=60, deadline=None)
@given(
    st.one_of(
        st.none(),
        st.integers(),
        st.floats(allow_nan=True),
        st.binary(max_size=8),
        st.lists(
            st.one_of(st.integers(max_value=0), st.floats(), st.none(), st.text(max_size=3)),
            min_size=1,
            max_size=5,
        ),
        st.text(alphabet=",;:. -x", max_size=8),
    )
)
def test_library_plan_fuzz(spec) -> None:
    assert_library_refuses(plan, spec)


@settings(max_examples=60, deadline=None)
@given(
    st.one_of(
        st.none(),
        st.integers(),
        st.floats(),
        st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
        st.text(max_size=30),
    )
)
def test_plan_from_json_fuzz(text) -> None:
    assert_library_refuses(Plan.from_json, text)


BAD_TOLERANCES = st.one_of(
    st.floats(max_value=0.0),
    st.floats(allow_nan=True, allow_infinity=True).filter(lambda v: v != v or abs(v) == np.inf),
    st.integers(max_value=0),
    st.integers(min_value=10**400),
    st.booleans(),
    st.none(),
    st.text(max_size=5),
)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["rtol", "fd_rtol", "eps"]), BAD_TOLERANCES)
def test_validate_graph_refuses_any_bad_tolerance(name: str, value) -> None:
    assert_library_refuses(chainorder.validate_graph, GRAPH, **{name: value})


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["seed", "restarts", "exact_limit"]),
    st.one_of(
        st.integers(max_value=-1), st.floats(), st.booleans(), st.none(), st.text(max_size=3)
    ),
)
def test_plan_graph_refuses_any_bad_count(name: str, value) -> None:
    assert_library_refuses(chainorder.plan_graph, GRAPH, **{name: value})

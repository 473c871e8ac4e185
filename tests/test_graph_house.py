"""Issue 7, traced-graph side: registry-built errors, work done once, the chosen method as a
field, one finite-difference helper, and the trace result as data."""

from __future__ import annotations

import dataclasses
import importlib

import networkx as nx
import numpy as np
import pytest

import chainorder.graph as graph_pkg
from chainorder.errors import TraceError, UnknownSolverError, UnsupportedOperationError
from chainorder.graph import (
    GraphMethod,
    GraphValidationReport,
    graph_fd_jacobian,
    graph_jacobian,
    jacobian_reverse,
    plan_graph,
    trace,
    validate_graph,
)
from chainorder.graph.boxed import TRACED_UFUNCS
from chainorder.graph.ops import REGISTRY, get_rule
from chainorder.graph.unsupported import nearest_supported, supported_summary
from chainorder.report import trace_json
from chainorder.report.trace_json import array_data, derivative_parts, trace_document

# ``chainorder.graph.linearize`` is also the name of a function in ``chainorder.graph``
linearize_module = importlib.import_module("chainorder.graph.linearize")

# --------------------------------------------------------------------------------------
# 2. unsupported operations: from the registry, with the user's line and nearest ops


@pytest.mark.parametrize(
    ("fn", "what", "near"),
    [
        (lambda x: x.tolist(), "x.tolist()", None),
        (lambda x: x.conj(), "x.conj()", None),
        (lambda x: x.item() * 2, "x.item()", None),
        (lambda x: x.fill(0.0), "x.fill()", "np.where"),
        (lambda x: x.real, "x.real", None),
        (lambda x: np.nanmax(x), "np.nanmax", "np.max / np.amax / x.max()"),
        (lambda x: np.ptp(x), "np.ptp", "np.max / np.amax / x.max()"),
        (lambda x: np.median(x), "np.median", "np.sort"),
        (lambda x: np.arctanh(x), "np.arctanh", "np.log1p"),
    ],
)
def test_every_missing_ndarray_method_is_an_unsupported_operation(fn, what, near) -> None:
    with pytest.raises(UnsupportedOperationError) as info:
        trace(fn, np.ones(3))
    msg = str(info.value)
    assert f"unsupported operation {what}" in msg
    assert "test_graph_house.py:" in msg  # the user's line
    assert "nearest supported: " in msg and "\n" not in msg
    if near is not None:
        assert near in msg.split("nearest supported: ")[1].split(";")[0]


def test_a_name_that_ndarray_lacks_stays_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'frobnicate'"):
        trace(lambda x: x.frobnicate(), np.ones(3))


def test_the_message_and_the_traced_ufuncs_come_from_the_registry(monkeypatch) -> None:
    assert TRACED_UFUNCS == {n for n in REGISTRY if isinstance(getattr(np, n, None), np.ufunc)}
    assert {"add", "tanh", "maximum", "matmul"} <= TRACED_UFUNCS
    for rule in REGISTRY.values():
        assert rule.api in supported_summary()
    extra = dataclasses.replace(get_rule("exp"), name="frobnicate", spelling="np.frobnicate")
    monkeypatch.setitem(REGISTRY, "frobnicate", extra)
    assert "np.frobnicate" in supported_summary()
    assert nearest_supported("frobnicat")[0] == "np.frobnicate"
    with pytest.raises(UnsupportedOperationError, match=r"np\.frobnicate"):
        trace(lambda x: np.median(x), np.ones(2))


def test_non_finite_arguments_are_refused() -> None:
    for bad in (np.array([1.0, np.nan]), np.inf, -np.inf):
        with pytest.raises(TraceError, match="non-finite"):
            trace(lambda x: x * 2, bad)
    # a non-differentiated argument may hold anything
    g = trace(lambda x, m: x * m, np.ones(2), np.array([np.inf, 1.0]), wrt=[0])
    assert g.n_in == 2


# --------------------------------------------------------------------------------------
# 1. the graph container sorts once; the plan linearises once and validation reuses it


def _kernel():
    def f(ell, X):
        d = X[:, None, 0] - X[None, :, 0]
        K = np.exp(-(d**2) / (2 * ell[0] ** 2)) + np.exp(-(d**2) / (2 * ell[1] ** 2))
        y = X[:, 1]
        return y @ np.linalg.solve(K + 0.1 * np.eye(len(y)), y)

    return f, (np.array([0.5, 0.7]), np.random.default_rng(1).standard_normal((6, 2)))


def test_topological_sort_runs_once_and_linearize_once(monkeypatch) -> None:
    counts = {"sort": 0, "lin": 0}
    sort = nx.lexicographical_topological_sort
    init = linearize_module.LinearizedGraph.__init__

    def counting_sort(*a, **k):
        counts["sort"] += 1
        return sort(*a, **k)

    def counting_init(self, *a, **k):
        counts["lin"] += 1
        init(self, *a, **k)

    monkeypatch.setattr(nx, "lexicographical_topological_sort", counting_sort)
    monkeypatch.setattr(linearize_module.LinearizedGraph, "__init__", counting_init)
    f, args = _kernel()
    g = trace(f, *args)
    p = plan_graph(g)
    report = validate_graph(p)
    assert report.ok
    assert g.order == g.order and g.active() == g.active()
    assert counts == {"sort": 1, "lin": 1}


# --------------------------------------------------------------------------------------
# 3. the chosen method is a field; every row's key computes that row's Jacobian


@pytest.mark.parametrize(
    "fn_args",
    [
        (lambda x: np.sin(x) * x, (np.array([0.3, 1.2, -0.4]),)),
        (lambda x: np.tanh(np.ones((2, 5)) @ x).sum(), (np.linspace(-1, 1, 5),)),
        _kernel(),
    ],
)
def test_every_row_key_reproduces_the_jacobian(fn_args) -> None:
    fn, args = fn_args
    g = trace(fn, *args)
    p = plan_graph(g)
    assert p.method is p.chosen.method and isinstance(p.method, GraphMethod)
    assert p.to_dict()["chosen_method"] == str(p.method)
    want = jacobian_reverse(g)
    keys = {r.method for r in p.rows}
    assert {GraphMethod.FORWARD, GraphMethod.REVERSE, GraphMethod.SEARCH} <= keys
    for r in p.rows:
        assert r.method.is_sweep == (r.model == "sweep")
        got = graph_jacobian(g, str(r.method), lin=p.lin)
        assert np.allclose(got, want, atol=1e-9), r.name
    assert np.allclose(graph_fd_jacobian(g), want, atol=1e-5)


def test_chain_order_needs_a_cut_vertex() -> None:
    g = trace(lambda x: np.sin(x) * x, np.array([0.3, 1.2]))
    with pytest.raises(UnknownSolverError, match="cut vertex"):
        graph_jacobian(g, "elimination:chain")
    with pytest.raises(UnknownSolverError, match="markowitz"):
        graph_jacobian(g, "elimination:nope")


# --------------------------------------------------------------------------------------
# 4. one finite-difference helper; distinct names


def test_graph_fd_jacobian_uses_gradcheck_central_difference(monkeypatch) -> None:
    import chainorder.graph.validate as gv

    calls = []
    real = gv.central_difference

    def spy(fn, x, v, eps=1e-6):
        calls.append(eps)
        return real(fn, x, v, eps)

    monkeypatch.setattr(gv, "central_difference", spy)
    x, y = np.array([0.5, -1.0]), np.array(2.0)
    g = trace(lambda x, y: (x * y, np.exp(x).sum() * y), x, y)
    jac = graph_fd_jacobian(g, eps=1e-5)
    assert len(calls) == 3 and set(calls) == {1e-5}  # one call per input scalar
    expect = np.array(
        [[2.0, 0.0, 0.5], [0.0, 2.0, -1.0], [2 * np.exp(0.5), 2 * np.exp(-1.0), np.exp(x).sum()]]
    )
    assert np.allclose(jac, expect, atol=1e-6)


def test_validation_report_names_are_distinct() -> None:
    import chainorder

    assert not hasattr(graph_pkg, "ValidationReport")
    assert not hasattr(graph_pkg, "finite_difference_jacobian")
    assert chainorder.ValidationReport is not GraphValidationReport
    report = validate_graph(trace(lambda x: np.exp(x).sum(), np.zeros(3)))
    assert isinstance(report, GraphValidationReport) and report.ok


# --------------------------------------------------------------------------------------
# 5./6. the trace result as data


def test_trace_document_holds_value_and_gradient() -> None:
    x, y = 4.0, 2.0
    p = plan_graph(trace(lambda x, y: (x + x * y) * 2, x, y))
    report = validate_graph(p)
    doc = trace_document("f", p, report.jacobian, report)
    assert doc["value"] == [{"shape": [], "size": 1, "values": 24.0}]
    assert doc["gradient"]["x"]["values"] == pytest.approx(2 * (1 + y))
    assert doc["gradient"]["y"]["values"] == pytest.approx(2 * x)
    assert doc["check"]["ok"] is True and "jacobian" not in doc


def test_large_jacobians_are_summarised(monkeypatch) -> None:
    x = np.linspace(-2, 2, 12)
    g = trace(lambda x: np.sin(x) * 3, x)
    jac = graph_jacobian(g)
    expect = np.diag(3 * np.cos(x))
    kind, parts = derivative_parts(g, jac)
    assert kind == "jacobian" and np.allclose(parts[0][1], expect)
    monkeypatch.setattr(trace_json, "FULL_ARRAY_LIMIT", 100)
    doc = trace_document("f", plan_graph(g), jac)
    summary = doc["jacobian"]
    assert summary["shape"] == [12, 12] and summary["size"] == 144 and "values" not in summary
    assert summary["first"] == pytest.approx(expect.ravel()[:5].tolist())
    assert summary["min"] == pytest.approx(expect.min())
    assert summary["max"] == pytest.approx(expect.max())
    assert summary["norm"] == pytest.approx(np.linalg.norm(expect))
    assert doc["value"][0]["values"] == pytest.approx((3 * np.sin(x)).tolist())


def test_array_data_keeps_json_strict() -> None:
    data = array_data(np.array([1.0, np.nan, np.inf, -np.inf]))
    assert data["values"] == [1.0, "NaN", "Infinity", "-Infinity"]
    big = array_data(np.full(30, np.nan), full_limit=10)
    assert big["min"] == "NaN" and big["norm"] == "NaN"

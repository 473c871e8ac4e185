"""Vertex elimination: every order gives the same Jacobian; costs against brute force and
the chain solver; the chain through cut vertices; plan_graph and validation."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainorder.chain import Chain, Structure
from chainorder.errors import TraceError
from chainorder.graph.chaincut import chain_reduction, cut_vertices
from chainorder.graph.eliminate import (
    eliminate,
    forward_order,
    markowitz_order,
    reverse_order,
    search_order,
)
from chainorder.graph.linearize import linearize
from chainorder.graph.planning import plan_graph
from chainorder.graph.sweep import jacobian_forward, jacobian_reverse, sweep_cost
from chainorder.graph.trace import trace
from chainorder.graph.validate import graph_fd_jacobian, graph_jacobian, validate_graph
from chainorder.plan import plan


def small_dag(x, y):
    """Two inputs, two outputs, shared subexpressions."""
    a = x * y
    b = np.sin(a) + x
    c = np.exp(b[:2]) * a[1:]
    return c, (b * a).sum()


ARGS = (np.array([0.3, -0.7, 1.1]), np.array([1.5, 0.2, -0.4]))


def test_every_elimination_order_gives_the_same_jacobian() -> None:
    g = trace(small_dag, *ARGS)
    lin = linearize(g)
    ref = jacobian_forward(g)
    assert np.allclose(ref, graph_fd_jacobian(g), atol=1e-7)
    orders = list(itertools.permutations(lin.intermediates))
    assert len(orders) == 5040
    costs = set()
    for order in orders:
        r = eliminate(lin, order, numeric=True)
        assert np.allclose(r.jacobian, ref, rtol=1e-12, atol=1e-12)
        costs.add(r.mults)
    assert len(costs) > 1  # orders do differ in cost
    best = search_order(lin)  # exact for 7 intermediates
    assert eliminate(lin, best).mults == min(costs)


def test_bad_orders_are_refused() -> None:
    lin = linearize(trace(small_dag, *ARGS))
    with pytest.raises(TraceError, match="missing"):
        eliminate(lin, lin.intermediates[1:])
    with pytest.raises(TraceError, match="not intermediates"):
        eliminate(lin, (*lin.intermediates, "x"))


def make_chain(dims: list[int], seed: int):
    """x ↦ W_k tanh(… tanh(W_1 x)): links dense, diagonal, dense, …"""
    rng = np.random.default_rng(seed)
    Ws = [rng.standard_normal((dims[i + 1], dims[i])) for i in range(len(dims) - 1)]

    def f(x):
        h = Ws[0] @ x
        for W in Ws[1:]:
            h = W @ np.tanh(h)
        return h

    chain_dims, structs = [dims[0], dims[1]], [Structure.DENSE]
    for d in dims[2:]:
        chain_dims += [chain_dims[-1], d]
        structs += [Structure.DIAGONAL, Structure.DENSE]
    return trace(f, rng.standard_normal(dims[0])), Chain.from_dims(chain_dims, structs)


@settings(max_examples=15, deadline=None)
@given(dims=st.lists(st.integers(1, 7), min_size=3, max_size=4), seed=st.integers(0, 99))
def test_elimination_on_a_chain_equals_the_chain_solver(dims: list[int], seed: int) -> None:
    g, chain = make_chain(dims, seed)
    lin = linearize(g)
    assert eliminate(lin, forward_order(lin)).mults == plan(chain, "forward").mults
    assert eliminate(lin, reverse_order(lin)).mults == plan(chain, "reverse").mults
    brute = min(eliminate(lin, o).mults for o in itertools.permutations(lin.intermediates))
    assert brute == plan(chain, "optimal").mults
    red = chain_reduction(lin)
    assert red.solver == "chainorder.plan" and red.cuts == lin.intermediates
    assert red.chain_mults == brute == eliminate(lin, red.order).mults
    r = eliminate(lin, red.order, numeric=True)
    assert np.allclose(r.jacobian, jacobian_reverse(g))


def test_cut_vertices_and_blocks() -> None:
    # two branches between v1 and the join: v1 and the join are cuts, the branches are not
    def f(x):
        a = np.sin(x)
        return (np.exp(a) * np.cos(a)).sum()

    lin = linearize(trace(f, np.ones(4)))
    assert cut_vertices(lin) == ("v1", "v4")
    red = chain_reduction(lin)
    assert set(red.blocks[1]) == {"v2", "v3"}
    assert red.block_mults + red.chain_mults == eliminate(lin, red.order).mults


def test_markowitz_on_scalar_vertices_takes_the_cheapest_vertex() -> None:
    """Each step costs at least the classical degree (one mult per product of non-unit
    partials; forming an original partial may cost more) and Markowitz takes the cheapest."""
    def f(x, y):
        a = x * y
        b = np.sin(a)
        c = np.cos(a)
        return b * c + a, b - c

    lin = linearize(trace(f, 0.5, 1.5))
    order = markowitz_order(lin)
    from chainorder.graph.eliminate import _State

    state = _State(lin)
    for v in order:
        degree = len(state.pred[v]) * len(state.succ[v])
        unit = sum(
            1
            for i in state.pred[v]
            for k in state.succ[v]
            if state.E[(i, v)].unit or state.E[(v, k)].unit
        )
        assert state.cost(v)[0] >= degree - unit
        assert (
            min(state.cost(w)[0] for w in state.pred if w in lin.intermediates) == state.cost(v)[0]
        )
        state.eliminate(v)


def test_sweep_costs_follow_the_closed_forms() -> None:
    g, _ = make_chain([5, 4, 3], 0)  # W1 (4×5), tanh(4), W2 (3×4)
    fwd, rev = sweep_cost(g, "forward"), sweep_cost(g, "reverse")
    assert fwd.mults_per_direction == 4 * 5 + 4 + 3 * 4
    assert fwd.mults == 5 * fwd.mults_per_direction
    assert rev.mults == 3 * rev.mults_per_direction == 3 * (20 + 4 + 12)
    # reverse keeps the tape: every active value; forward keeps n tangents of live nodes
    assert rev.peak_elements >= 5 + 4 + 4 + 3
    assert fwd.peak_elements >= (4 + 1) * 5 * 2  # W1 x and its tangents, with the next op's


def test_plan_graph_and_validation() -> None:
    g = trace(small_dag, *ARGS)
    p = plan_graph(g)
    names = [r.name for r in p.rows]
    assert names[:2] == ["forward mode", "reverse mode"]
    assert p.chosen.mults == min(r.mults for r in p.rows if r.model == "elimination")
    report = validate_graph(g, p.chosen.order)
    assert report.ok
    assert np.allclose(report.jacobian, graph_jacobian(g, "fd"), atol=1e-6)
    for method in ("elimination:forward", "elimination:reverse", "elimination:search"):
        assert np.allclose(graph_jacobian(g, method), report.jacobian)
    d = p.to_dict()
    assert d["units"]["mults"] == "scalar multiplications"

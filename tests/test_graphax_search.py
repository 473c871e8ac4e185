"""Simulated annealing over elimination orders and the graphax counting convention:
the integer evaluators against eliminate(), graphax counts against an independent
|pred|·|succ| count, annealing against the exact search, determinism and bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainorder.errors import TraceError
from chainorder.graph.eliminate import (
    CONVENTIONS,
    eliminate,
    forward_order,
    markowitz_order,
    search_order,
)
from chainorder.graph.linearize import linearize
from chainorder.graph.search import anneal_order, scalar_order_cost
from chainorder.graph.trace import trace


def scalar_fn(x, y, z):
    a = x * y
    b = np.sin(a) + z
    c = b * b - a
    return np.exp(c) * x, c / z + b


ARGS = (0.3, -0.7, 1.1)


def pred_succ_count(lin, order) -> int:
    """Independent graphax count on a scalar graph: Σ |pred(j)|·|succ(j)|."""
    pred = {v: set() for v in lin.vertices}
    succ = {v: set() for v in lin.vertices}
    for u, v in lin.edges:
        pred[v].add(u)
        succ[u].add(v)
    total = 0
    for j in order:
        total += len(pred[j]) * len(succ[j])
        for i in pred[j]:
            succ[i] |= succ[j]
            succ[i].discard(j)
        for k in succ[j]:
            pred[k] |= pred[j]
            pred[k].discard(j)
    return total


@pytest.fixture(scope="module")
def lin():
    return linearize(trace(scalar_fn, *ARGS))


@settings(max_examples=40, deadline=None)
@given(st.randoms(use_true_random=False))
def test_scalar_evaluator_equals_eliminate(rnd) -> None:
    lin = linearize(trace(scalar_fn, *ARGS))
    order = list(lin.intermediates)
    rnd.shuffle(order)
    for conv in CONVENTIONS:
        assert (
            scalar_order_cost(lin, order, convention=conv)
            == eliminate(lin, order, convention=conv).mults
        )
    assert eliminate(lin, order, convention="graphax").mults == pred_succ_count(lin, order)


def test_convention_changes_counts_not_numbers(lin) -> None:
    order = forward_order(lin)
    a = eliminate(lin, order, numeric=True)
    b = eliminate(lin, order, numeric=True, convention="graphax")
    np.testing.assert_allclose(a.jacobian, b.jacobian)
    assert b.mults > a.mults  # the sums and differences cost under graphax's convention


def test_annealing_finds_the_exact_optimum_on_a_small_graph(lin) -> None:
    for conv in CONVENTIONS:
        exact = min(
            eliminate(lin, o, convention=conv).mults
            for o in itertools.permutations(lin.intermediates)
        )
        r = anneal_order(lin, seed=1, iterations=3000, time_budget=None, convention=conv)
        assert r.mults == exact
        assert sorted(r.order) == sorted(lin.intermediates)
        assert r.mults <= r.start_mults
        assert 0 <= r.best_step <= r.steps


def test_annealing_is_reproducible_for_a_seed(lin) -> None:
    a = anneal_order(lin, seed=3, iterations=500, time_budget=None)
    b = anneal_order(lin, seed=3, iterations=500, time_budget=None)
    assert (a.order, a.mults, a.steps) == (b.order, b.mults, b.steps)


def test_annealing_respects_its_time_budget() -> None:
    W = np.ones((3, 3))
    lin = linearize(trace(lambda x: np.tanh(W @ np.sin(W @ x)).sum(), np.ones(3)))
    r = anneal_order(lin, iterations=10**9, time_budget=0.3)
    assert r.seconds < 3.0  # tensor vertices: the general evaluator
    assert r.mults == eliminate(lin, r.order).mults
    assert r.mults <= min(eliminate(lin, o).mults for o in (forward_order(lin),))


def test_search_order_anneal_method(lin) -> None:
    order = search_order(lin, method="anneal", time_budget=0.2, convention="graphax")
    found = eliminate(lin, order, convention="graphax").mults
    assert (
        found
        <= eliminate(lin, markowitz_order(lin, convention="graphax"), convention="graphax").mults
    )


def test_bad_input_is_one_clear_error(lin) -> None:
    with pytest.raises(TraceError, match="convention"):
        eliminate(lin, forward_order(lin), convention="adol-c")
    with pytest.raises(TraceError, match="method"):
        search_order(lin, method="genetic")
    with pytest.raises(TraceError, match="non-negative"):
        anneal_order(lin, iterations=-1)
    with pytest.raises(TraceError, match="permutation"):
        anneal_order(lin, start=lin.intermediates[:-1])
    W = np.ones((2, 2))
    tensor = linearize(trace(lambda x: np.sin(W @ x), np.ones(2)))
    with pytest.raises(TraceError, match="scalars"):
        scalar_order_cost(tensor, tensor.intermediates)

"""The pruned exact order search returns what the plain depth-first search over vertex
sets returns (same order, same mults) and what brute force over all orders finds."""

from __future__ import annotations

import numpy as np
import pytest

from chainorder.graph import trace
from chainorder.graph.eliminate import brute_force_orders, eliminate, search_order
from chainorder.graph.elimstate import _State
from chainorder.graph.exactsearch import exact_order, forget_steps
from chainorder.graph.linearize import linearize


def _plain(lin, subset, state):
    """The search before pruning: copy and eliminate every child, prune on entry."""
    best: dict = {}
    result: list = [None, ()]

    def dfs(st, done, cost, order):
        if result[0] is not None and cost >= result[0]:
            return
        if best.get(done, cost + 1) <= cost:
            return
        best[done] = cost
        if len(done) == len(subset):
            result[0], result[1] = cost, order
            return
        cands = [v for v in subset if v not in done]
        cands.sort(key=lambda v: st.cost(v))
        for v in cands:
            child = st.copy()
            m, _, _ = child.eliminate(v)
            dfs(child, done | {v}, cost + m, (*order, v))

    dfs(state.copy(), frozenset(), 0, ())
    return result[0], result[1]


def _layer_norm(x):
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return 1.5 * (x - mu) / np.sqrt(var + 1e-5) + 0.5


def _softmax_ce(z):
    s = z - z.max(axis=-1, keepdims=True)
    logp = s - np.log(np.exp(s).sum(axis=-1, keepdims=True))
    return -(np.eye(5)[:3] * logp).sum(axis=-1).mean()


def _mixed(x):
    a = np.sin(x) * x
    b = np.exp(a).sum() * np.tanh(x)
    return (b * a + np.cos(b)) @ np.arange(4.0)


CASES = [(_layer_norm, (3, 4)), (_softmax_ce, (3, 5)), (_mixed, (4,))]


@pytest.mark.parametrize(("f", "shape"), CASES)
def test_same_order_as_the_plain_search_and_brute_force(f, shape) -> None:
    lin = linearize(trace(f, np.random.default_rng(0).standard_normal(shape)))
    subset = tuple(lin.intermediates)
    plain = _plain(lin, subset, _State(lin))
    assert exact_order(lin, subset) == plain
    # a bound just above a known order's mults changes nothing; one at the optimum finds none
    st = _State(lin)
    fwd = sum(st.eliminate(v)[0] for v in subset)
    assert exact_order(lin, subset, bound=fwd + 1) == plain
    assert exact_order(lin, subset, bound=plain[0]) == (None, ())


def test_optimal_against_brute_force() -> None:
    lin = linearize(trace(lambda x: np.exp(np.sin(x) * x).sum() * np.tanh(x), np.ones(3)))
    assert len(lin.intermediates) <= 7
    brute = min(eliminate(lin, o).mults for o in brute_force_orders(lin))
    assert eliminate(lin, exact_order(lin, lin.intermediates)[1]).mults == brute
    assert eliminate(lin, search_order(lin)).mults == brute


def test_blocks_from_a_later_state_and_a_shared_cache() -> None:
    lin = linearize(trace(_mixed, np.linspace(0.1, 0.4, 4)))
    subset = tuple(lin.intermediates)
    head, tail = subset[:2], subset[2:]
    st = _State(lin)
    for v in head:
        st.eliminate(v)
    expected = _plain(lin, tail, st)
    exact_order(lin, subset)  # fills the cache of this graph's steps
    assert exact_order(lin, tail, st) == expected


def test_jacobian_keeps_no_search_state_after_planning() -> None:
    from chainorder import jacobian
    from chainorder.graph import exactsearch

    jf = jacobian(_layer_norm)
    jac = jf(np.random.default_rng(1).standard_normal((3, 4)))
    lin = jf.last.plan.lin
    assert jac.shape == (3, 4, 3, 4)
    assert exactsearch._CACHE[0] is None and forget_steps(lin) == 0
    exact_order(lin, lin.intermediates)
    assert exactsearch._CACHE[0]() is lin and len(exactsearch._CACHE[2]) > 0
    other = linearize(trace(_mixed, np.ones(4)))
    exact_order(other, other.intermediates)  # one graph's caches at a time
    assert exactsearch._CACHE[0]() is other and forget_steps(lin) == 0
    assert forget_steps(other) > 0 and exactsearch._CACHE[0] is None

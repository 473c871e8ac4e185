"""Issue 13: the automatic exact solver for long dense chains, and the bounded solver."""

from __future__ import annotations

import random

import pytest

from chainorder.chain import Chain
from chainorder.cost import tree_cost
from chainorder.errors import ChainTooLongError, PlanFormatError, SpecError
from chainorder.plan import Plan, plan
from chainorder.solvers import HU_SHING_FROM, bounded_solution, solve_dp
from chainorder.solvers import optimal as optimal_module
from chainorder.tree import all_trees


def _random_chain(rng: random.Random, n_links: int, p_diag: float, top: int = 60) -> Chain:
    dims, kinds = [rng.randint(1, top)], []
    for _ in range(n_links):
        if rng.random() < p_diag:
            kinds.append("diagonal")
            dims.append(dims[-1])
        else:
            kinds.append("dense")
            dims.append(rng.choice([1, rng.randint(1, top), dims[-1]]))  # widths 1 and ties
    return Chain.from_dims(dims, kinds)


def test_optimal_uses_the_dp_up_to_the_threshold_then_hu_shing():
    rng = random.Random(5)
    short = Chain.from_dims([rng.randint(1, 100) for _ in range(HU_SHING_FROM + 1)])
    long = Chain.from_dims([rng.randint(1, 100) for _ in range(HU_SHING_FROM + 2)])
    p_short, p_long = plan(short), plan(long)
    assert (p_short.method, p_long.method) == ("dp", "hu-shing")
    assert p_short.solver == p_long.solver == "optimal"
    assert p_long.mults == solve_dp(long).mults  # the DP's optimum, independently
    assert p_long.lower_bound == p_long.mults and p_long.gap == 0.0


def test_a_long_dense_chain_is_planned_not_refused():
    dims = [random.Random(1).randint(1, 1000) for _ in range(20_001)]
    p = plan(dims)
    assert p.method == "hu-shing" and p.n_links == 20_000
    assert p.mults == tree_cost(p.chain, p.tree).mults
    assert p.mults <= min(p.forward_mults, p.reverse_mults)


def test_bounded_bound_brackets_the_exact_optimum_on_random_chains():
    rng = random.Random(13)
    gaps = []
    for trial in range(300):
        n = rng.randint(1, 300) if trial % 30 == 0 else rng.randint(1, 40)
        chain = _random_chain(rng, n, rng.choice([0.1, 0.3, 0.6, 0.9]))
        s = bounded_solution(chain)
        cost = tree_cost(chain, s.tree).mults
        best = solve_dp(chain).mults
        assert s.lower_bound <= best <= cost, chain.spec()
        gaps.append(cost - s.lower_bound)
    assert sum(g == 0 for g in gaps) > len(gaps) // 2  # usually the bound is attained


def test_bounded_against_brute_force_on_tiny_chains():
    rng = random.Random(2)
    for _ in range(60):
        chain = _random_chain(rng, rng.randint(1, 6), 0.5, top=9)
        s = bounded_solution(chain)
        costs = [tree_cost(chain, t).mults for t in all_trees(chain.n_links)]
        assert s.lower_bound <= min(costs) <= tree_cost(chain, s.tree).mults


def test_bounded_is_exact_on_dense_and_on_all_diagonal_chains():
    dense = Chain.from_dims([30, 35, 15, 5, 10, 20, 25])
    assert bounded_solution(dense).lower_bound == 15125
    diag = Chain.parse("7,tanh,relu,tanh")
    s = bounded_solution(diag)
    assert s.lower_bound == tree_cost(diag, s.tree).mults == 2 * 7


def test_plan_reports_the_gap_of_the_bounded_solver():
    p = plan("20,28,48,diag,25", mode="bounded")
    assert (p.method, p.lower_bound, p.mults) == ("bounded", 48560, 48800)
    assert p.gap == pytest.approx(48800 / 48560 - 1)
    back = Plan.from_json(p.to_json())
    assert (back.method, back.lower_bound) == ("bounded", 48560)


def test_a_stored_lower_bound_above_the_cost_is_rejected():
    d = plan("20,28,48,diag,25", mode="bounded").to_dict()
    with pytest.raises(PlanFormatError, match="lower bound"):
        Plan.from_dict({**d, "lower_bound": d["mults"] + 1})
    with pytest.raises(PlanFormatError, match="method"):
        Plan.from_dict({**d, "method": 3})
    old = {k: v for k, v in d.items() if k not in ("method", "lower_bound", "gap")}
    assert Plan.from_dict(old).method == "bounded"  # the solver's name


def test_optimal_beyond_the_dp_uses_a_proven_bounded_tree_or_refuses(monkeypatch):
    monkeypatch.setattr(optimal_module, "MAX_EXACT_LINKS", 3)
    certified = plan("1000,1000,tanh,1000,10,relu,10,1000")
    assert certified.method == "bounded" and certified.gap == 0.0
    assert certified.mults == solve_dp(certified.chain).mults
    with pytest.raises(ChainTooLongError, match="--mode bounded"):
        plan("20,28,48,diag,25")


def test_hu_shing_mode_refuses_diagonal_links():
    with pytest.raises(SpecError, match="dense chains only"):
        plan("4,tanh,4,3", mode="hu-shing")
    assert plan([30, 35, 15, 5], mode="hu-shing").mults == plan([30, 35, 15, 5]).mults


def test_dp_narrow_peak_tables_give_the_same_tie_breaks_at_every_width():
    """Peak tables are int32, uint32 or int64 by the widths: scaling a dense chain's widths by
    k keeps every comparison (mults scale by k³, peaks by k²), so the trees must not change."""
    from math import isqrt

    from chainorder.solvers import optimal_tree

    rng = random.Random(8)
    paths = set()
    for _ in range(25):
        chain = _random_chain(rng, rng.randint(3, 14), 0.0, top=4)  # small widths: many ties
        base = optimal_tree(chain)
        n, top = chain.n_links, max(chain.dims)
        k_uint32 = isqrt(2**31 // (n + 3)) // top + 1  # (n+3)·(k·top)² just over 2^31
        for k in (k_uint32, 2 * k_uint32, 10**6):  # uint32 peaks, int64, object costs
            bound = (n + 3) * (k * top) ** 2
            paths.add("uint32" if 2**31 <= bound < 2**32 else "wider")
            scaled = Chain.from_dims([d * k for d in chain.dims])
            assert optimal_tree(scaled) == base, (chain.spec(), k)
    assert paths == {"uint32", "wider"}

"""The generalised (matrix-free) DP against brute force, GDJCPB, and the plain DP."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainorder.chain import Chain
from chainorder.errors import ChainTooLongError, SpecError
from chainorder.matfree import (
    all_plans,
    brute_force,
    custom,
    dense,
    elementwise,
    given_matrix_plan,
    links_from_chain,
    plan_matrix_free,
    pure_adjoint_plan,
    pure_tangent_plan,
    solve_matrix_free,
)
from chainorder.matfree.solver import solve_table
from chainorder.solvers.dp import solve_dp

GDJCPB = [custom(3, 3, 29), custom(1, 3, 14), custom(2, 1, 7)]


def test_gdjcpb_example_numbers() -> None:
    plan = plan_matrix_free(GDJCPB)
    assert plan.mults == 56
    assert plan.comparison is not None
    c = plan.comparison
    assert (c.optimum, c.pure_tangent, c.pure_adjoint, c.given_matrix) == (56, 150, 100, 123)
    # the optimum: adjoint sweep with 1 seed row through factors 2 and 1, factor 3 by one
    # tangent, then the dense product 2·1·3
    assert [(n.lo, n.hi, n.split, n.action, n.seeds, n.mults) for n in plan.nodes] == [
        (1, 2, 3, "adjoint", 1, 43),
        (3, 3, 3, "tangent", 1, 7),
        (1, 3, 3, "dense", 0, 6),
    ]
    assert plan.mode == "mixed"
    assert brute_force(GDJCPB) == (56, 66)


def test_baselines_are_plans_with_the_closed_forms() -> None:
    links = [custom(5, 4, 11, 13), custom(7, 5, 3, 2), custom(2, 7, 9, 20)]
    assert pure_tangent_plan(links).mults == 4 * (11 + 3 + 9)
    assert pure_adjoint_plan(links).mults == 2 * (13 + 2 + 20)
    assert pure_tangent_plan(links).mode == "forward"
    assert pure_adjoint_plan(links).mode == "reverse"
    g = given_matrix_plan(links)
    assert g.actions <= {"tangent", "adjoint", "dense"}
    assert all(n.lo == n.hi for n in g.nodes if n.action != "dense")


def _random_links(rng: random.Random, L: int, given_p: float = 0.0) -> list:
    widths = [rng.randint(1, 6)]
    links = []
    for _ in range(L):
        n = widths[-1]
        kind = rng.random()
        g = rng.random() < given_p
        if kind < 0.25:
            links.append(elementwise(n, "tanh", given=g))
        elif kind < 0.5:
            links.append(dense(rng.randint(1, 6), n, given=g))
        else:
            m = rng.randint(1, 6)
            t = rng.randint(0, 40)
            links.append(custom(m, n, t, rng.randint(0, 40), given=g))
        widths.append(links[-1].rows)
    return links


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 7), st.integers(0, 2**32 - 1), st.sampled_from([0.0, 0.3]))
def test_dp_equals_brute_force(L: int, seed: int, given_p: float) -> None:
    links = _random_links(random.Random(seed), L, given_p)
    best, _count = brute_force(links)
    plan = solve_matrix_free(links)
    assert plan.mults == best
    assert plan.mults <= min(pure_tangent_plan(links).mults, pure_adjoint_plan(links).mults)
    assert plan.mults <= given_matrix_plan(links).mults


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_dp_equals_minimum_over_every_plan_object(L: int, seed: int) -> None:
    links = _random_links(random.Random(seed), L, 0.2)
    plans = list(all_plans(links))
    assert len(plans) == brute_force(links)[1]
    assert solve_matrix_free(links).mults == min(p.mults for p in plans)
    assert given_matrix_plan(links).mults == min(
        p.mults for p in plans if p.actions <= {"dense", "given", "diagonal"} | (
            {"tangent", "adjoint"} if all(n.lo == n.hi or n.action == "dense" for n in p.nodes)
            else set()
        )
    )


def test_given_dense_and_diagonal_chains_keep_todays_answers() -> None:
    rng = random.Random(7)
    for _ in range(40):
        L = rng.randint(1, 8)
        dims = [rng.randint(1, 30) for _ in range(L + 1)]
        chain = Chain.from_dims(dims)
        assert solve_matrix_free(links_from_chain(chain, given=True)).mults == solve_dp(chain).mults
    for spec in ("784,512,tanh,512,tanh,10", "30,tanh,20,relu,5,sigmoid", "7,tanh,relu,3,4"):
        chain = Chain.parse(spec)
        got = solve_matrix_free(links_from_chain(chain, given=True)).mults
        assert got == solve_dp(chain).mults, spec


def test_object_integers_for_huge_costs() -> None:
    big = 10**7
    links = [custom(big, big, 10**20), custom(3, big, 10**20), custom(big, 3, 10**20)]
    best, _, _ = solve_table(links)
    assert isinstance(best, int)
    assert best == brute_force(links)[0]
    assert best > 2**63


def test_bad_links_and_too_long() -> None:
    with pytest.raises(SpecError, match="link 2 has 5 inputs"):
        solve_matrix_free([dense(3, 2), dense(4, 5)])
    with pytest.raises(SpecError):
        solve_matrix_free([])
    with pytest.raises(ChainTooLongError):
        brute_force([dense(2, 2)] * 9)


def test_tie_break_prefers_the_pure_sweep() -> None:
    # equal widths, equal costs: every option ties with pure tangent's cost pattern
    links = [custom(2, 2, 1)] * 4
    plan = solve_matrix_free(links)
    assert plan.mults == brute_force(links)[0]
    again = solve_matrix_free(links)
    assert plan.nodes == again.nodes  # deterministic


def test_split_table_is_int_and_actions_valid() -> None:
    links = _random_links(random.Random(3), 12)
    _, action, split = solve_table(links)
    assert set(np.unique(action)) <= {0, 1, 2}
    assert split.dtype == np.int32


def test_registry_adapter_tree_costs_todays_optimum() -> None:
    from chainorder.cost import tree_cost
    from chainorder.matfree.planning import matrix_free_tree

    rng = random.Random(11)
    for _ in range(25):
        L = rng.randint(1, 9)
        dims = [rng.randint(1, 20) for _ in range(L + 1)]
        structs = ["dense"] + [rng.choice(["dense", "diagonal"]) for _ in range(L - 1)]
        for l in range(1, L):
            if structs[l] == "diagonal":
                dims[l + 1] = dims[l]
        chain = Chain.from_dims(dims, structs)
        assert tree_cost(chain, matrix_free_tree(chain)).mults == solve_dp(chain).mults

"""The segmented matrix-free solver with its certified bound: bound <= exact optimum <= plan
(the exact DP and brute force as references), executed plans give the explicit product, long
chains plan beyond the DP's limit, the JSON round trip and the CLI show the gap."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from chainorder.errors import PlanFormatError, SpecError
from chainorder.matfree.bounded import matfree_lower_bound, solve_matrix_free_bounded
from chainorder.matfree.elementals import ElementalChain
from chainorder.matfree.execute import execute
from chainorder.matfree.links import custom, dense, elementwise
from chainorder.matfree.plan import MatrixFreePlan
from chainorder.matfree.planning import plan_matrix_free
from chainorder.matfree.reference import brute_force
from chainorder.matfree.solver import MAX_MATFREE_LINKS, solve_matrix_free

GDJCPB = [custom(3, 3, 29), custom(1, 3, 14), custom(2, 1, 7)]


def random_chain(rng: np.random.Generator, n_links: int) -> list:
    """Custom, dense, elementwise and given links with widths 1..30 and random per-seed costs."""
    links: list = []
    width = int(rng.integers(1, 31))
    for _ in range(n_links):
        r = rng.random()
        if r < 0.2:
            link = elementwise(width, "tanh")
        elif r < 0.35:
            link = dense(int(rng.integers(1, 31)), width)
        else:
            link = custom(int(rng.integers(1, 31)), width, int(rng.integers(0, 400)),
                          int(rng.integers(0, 400)))
        if rng.random() < 0.1:
            link = link.with_given()
        links.append(link)
        width = link.rows
    return links


def test_gdjcpb_example_bound_50_below_optimum_56():
    assert matfree_lower_bound(GDJCPB) == 50
    assert solve_matrix_free(GDJCPB).mults == 56
    p = solve_matrix_free_bounded(GDJCPB, width=2)
    assert p.lower_bound == 50 and p.mults >= 56
    assert p.gap == pytest.approx(p.mults / 50 - 1)


@settings(max_examples=120, deadline=None)
@given(seed=st.integers(0, 10**6), n_links=st.integers(1, 60), width=st.integers(2, 10))
def test_bound_below_exact_optimum_below_segmented_plan(seed, n_links, width):
    links = random_chain(np.random.default_rng(seed), n_links)
    opt = solve_matrix_free(links).mults
    plan = solve_matrix_free_bounded(links, width=width)
    assert plan.lower_bound <= opt <= plan.mults
    # the plan is re-priced from its own nodes: rebuilding it gives the same mults
    again = MatrixFreePlan.from_nodes(links, [(n.lo, n.hi, n.split, n.action) for n in plan.nodes])
    assert again.mults == plan.mults


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), n_links=st.integers(1, 5))
def test_bound_below_brute_force_optimum(seed, n_links):
    links = random_chain(np.random.default_rng(seed), n_links)
    best, _count = brute_force(links)
    assert matfree_lower_bound(links) <= best <= solve_matrix_free_bounded(links, width=2).mults


def test_wide_segments_are_the_exact_optimum():
    links = random_chain(np.random.default_rng(3), 40)
    assert solve_matrix_free_bounded(links, width=64).mults == solve_matrix_free(links).mults


def test_given_matrix_family_bound():
    links = random_chain(np.random.default_rng(4), 30)
    exact = solve_matrix_free(links, sweeps=False).mults
    plan = solve_matrix_free_bounded(links, width=4, sweeps=False)
    assert plan.lower_bound <= exact <= plan.mults
    assert plan.actions <= {"given", "diagonal", "tangent", "adjoint", "dense"}


@pytest.mark.parametrize("seed", range(6))
def test_expanded_plan_executes_to_the_explicit_jacobian(seed):
    rng = np.random.default_rng(seed)
    links, width = [], int(rng.integers(2, 6))
    for _ in range(12):
        if rng.random() < 0.3 and (not links or links[-1].kind != "elementwise"):
            link = elementwise(width, "tanh")
        else:
            link = dense(int(rng.integers(1, 6)), width)
        links.append(link)
        width = link.rows
    plan = solve_matrix_free_bounded(links, width=3)
    net = ElementalChain(links, seed=seed)
    x = net.random_input(seed)
    reference = net.jacobian(x)
    for setting in ("streamed", "given"):
        np.testing.assert_allclose(execute(plan, net, x, setting=setting), reference,
                                   rtol=1e-11, atol=1e-12)


def test_long_chain_plans_beyond_the_dp_limit():
    rng = np.random.default_rng(7)
    dims = rng.integers(2, 40, size=MAX_MATFREE_LINKS + 501)
    links = [dense(int(dims[l + 1]), int(dims[l])) for l in range(len(dims) - 1)]
    plan = plan_matrix_free(links)
    assert plan.n_links == len(links)
    assert plan.lower_bound is not None and 0 <= plan.lower_bound <= plan.mults
    assert plan.mults <= min(plan.comparison.pure_tangent, plan.comparison.pure_adjoint)
    back = MatrixFreePlan.from_json(plan.to_json())
    assert back.lower_bound == plan.lower_bound and back.mults == plan.mults
    assert any("proven lower bound" in line for line in plan.describe())


def test_exact_plans_carry_no_bound():
    assert plan_matrix_free(GDJCPB).lower_bound is None


def test_json_rejects_a_false_bound():
    data = json.loads(solve_matrix_free_bounded(GDJCPB, width=2).to_json())
    data["lower_bound"] = 56
    with pytest.raises(PlanFormatError, match="lower bound"):
        MatrixFreePlan.from_json(json.dumps(data))


def test_bad_width():
    with pytest.raises(SpecError, match="width"):
        solve_matrix_free_bounded(GDJCPB, width=1)


def test_cli_prints_the_gap_for_a_long_chain(tmp_path):
    from chainorder.cli import app

    rng = np.random.default_rng(11)
    path = tmp_path / "dims.txt"
    dims = rng.integers(2, 30, size=MAX_MATFREE_LINKS + 201)
    path.write_text(" ".join(str(int(d)) for d in dims))
    result = CliRunner().invoke(app, ["plan", "--matrix-free", "--dims", f"@{path}"])
    assert result.exit_code == 0, result.output
    assert "proven lower bound on the optimum" in result.output
    assert "above optimal" in result.output

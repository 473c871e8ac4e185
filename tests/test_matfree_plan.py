"""MatrixFreePlan: pricing against the independent cost list, JSON, expression, validation."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from chainorder.errors import ChainorderError, PlanFormatError
from chainorder.matfree import (
    MatrixFreePlan,
    all_plans,
    custom,
    dense,
    elementwise,
    given_matrix_plan,
    plan_matrix_free,
    pure_adjoint_plan,
    pure_tangent_plan,
    solve_matrix_free,
)
from chainorder.matfree.reference import all_costs
from chainorder.tree import flatten

GDJCPB = [custom(3, 3, 29), custom(1, 3, 14), custom(2, 1, 7)]


def _chain(seed: int, L: int) -> list:
    rng = random.Random(seed)
    n = rng.randint(1, 5)
    out = []
    for _ in range(L):
        r = rng.random()
        if r < 0.3 and n > 1:
            out.append(elementwise(n, "tanh", given=rng.random() < 0.3))
        elif r < 0.6:
            out.append(dense(rng.randint(1, 5), n, given=rng.random() < 0.3))
        else:
            out.append(custom(rng.randint(1, 5), n, rng.randint(0, 30), rng.randint(0, 30)))
        n = out[-1].rows
    return out


@pytest.mark.parametrize("seed", range(8))
def test_every_plan_priced_like_the_independent_cost_list(seed: int) -> None:
    links = _chain(seed, 1 + seed % 4)
    plans = list(all_plans(links))
    assert sorted(p.mults for p in plans) == sorted(all_costs(links).tolist())
    for plan in plans:
        # every link is used exactly once: as a leaf or swept by exactly one node
        used = []
        for node in plan.nodes:
            if node.action in ("given", "diagonal") or node.action in ("tangent", "adjoint"):
                used.extend(node.swept() if node.action != "given" else [node.lo])
        assert sorted(used) == list(range(1, len(links) + 1))
        flat = flatten(plan.tree, len(links))  # a valid bracketing of 1..L
        assert flat.n_links == len(links)
        assert MatrixFreePlan.from_json(plan.to_json()) == plan


def test_gdjcpb_text_and_json() -> None:
    plan = plan_matrix_free(GDJCPB)
    assert plan.expression() == "(T[3]·I)·(I·A[2..1])"
    assert plan.tree == (3, (2, 1))
    lines = plan.describe()
    assert lines[0].endswith("56 mults, 112 FLOPs")
    assert "1 seed row" in lines[2]
    back = MatrixFreePlan.from_json(plan.to_json())
    assert back == plan and back.comparison == plan.comparison
    data = json.loads(plan.to_json())
    assert data["format"] == "chainorder-matfree-plan" and data["version"] == 1
    assert isinstance(data["nodes"], list) and all(isinstance(n, dict) for n in data["nodes"])


def test_pure_plans_labels_and_trees() -> None:
    links = [dense(4, 3), elementwise(4, "tanh"), dense(2, 4)]
    t, a = pure_tangent_plan(links), pure_adjoint_plan(links)
    assert (t.mode, a.mode) == ("forward", "reverse")
    assert t.tree == (3, (2, 1)) and a.tree == ((3, 2), 1)
    assert t.expression() == "T[3..1]·I" and a.expression() == "I·A[3..1]"
    assert t.mode_label == "forward, matrix-free"
    g = given_matrix_plan([link.with_given() for link in links])
    assert not g.matrix_free and g.mults == solve_matrix_free(g.links).mults


def test_flops_count_two_per_multiply_add() -> None:
    links = [dense(4, 3), elementwise(4, "tanh"), dense(2, 4)]
    t = pure_tangent_plan(links)
    assert t.flops == 3 * (2 * 12 + 4 + 2 * 8)
    assert t.mults == 3 * (12 + 4 + 8)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["nodes"][0].update(mults=44), "states 1 seeds and 44 mults"),
        (lambda d: d.update(mults=55), "states 55 mults"),
        (lambda d: d.update(version=2), "version 2"),
        (lambda d: d.update(format="x"), "not a matrix-free plan"),
        (lambda d: d["nodes"].pop(), "unused nodes"),
        (lambda d: d["nodes"][2].update(action="sideways"), "unknown action"),
        (lambda d: d["comparison"].update(pure_tangent=1), "stored comparison"),
        (lambda d: d["links"][0].update(tangent=30), "stored comparison"),  # custom: re-priced
        (lambda d: d["links"][0].update(kind="dense"), "stated tangent 29"),
        (lambda d: d.pop("links"), "malformed"),
        (lambda d: d.update(dtype="int32"), "int32"),
        (lambda d: d.update(mode="forward"), "states mode 'forward'"),
        (lambda d: d["nodes"][1].update(split=9), "tangent sweep needs"),
    ],
)
def test_tampered_json_is_refused(mutate, message) -> None:
    data = json.loads(plan_matrix_free(GDJCPB).to_json())
    mutate(data)
    with pytest.raises(ChainorderError, match=message):
        MatrixFreePlan.from_dict(data)


def test_from_nodes_validation() -> None:
    with pytest.raises(PlanFormatError, match="not given"):
        MatrixFreePlan.from_nodes(GDJCPB, [(1, 1, 0, "given")])
    with pytest.raises(PlanFormatError, match="needs an elementwise"):
        MatrixFreePlan.from_nodes(GDJCPB, [(1, 1, 0, "diagonal")])
    with pytest.raises(PlanFormatError, match=r"right child over 1\.\.1"):
        MatrixFreePlan.from_nodes(GDJCPB[:2], [(1, 2, 2, "tangent")])
    with pytest.raises(PlanFormatError, match="invalid JSON"):
        MatrixFreePlan.from_json("{")


def test_long_chains_plan_without_recursion() -> None:
    links = [dense(3, 3)] * 1500
    plan = pure_tangent_plan(links)
    assert plan.mults == 3 * 9 * 1500
    assert plan.expression() == "T[1500..1]·I"
    assert MatrixFreePlan.from_json(plan.to_json(indent=None)) == plan  # flat, no deep nesting
    mixed = solve_matrix_free([dense(2, 2), dense(40, 2), dense(2, 40)] * 100)
    assert MatrixFreePlan.from_json(mixed.to_json()) == mixed
    p = solve_matrix_free([custom(2, 2, 1)] * 300)
    assert p.mults == min(pure_tangent_plan(p.links).mults, p.mults)
    assert np.isfinite(plan_matrix_free([dense(5, 5)] * 50).comparison.speedup_vs_tangent)


def test_matrix_free_label_only_for_links_not_given() -> None:
    given = [dense(4, 3, given=True), elementwise(4, "tanh", given=True), dense(2, 4, given=True)]
    plan = plan_matrix_free(given)
    assert not plan.matrix_free and "matrix-free" not in plan.mode_label
    assert pure_tangent_plan(given).mode_label == "forward"
    assert plan_matrix_free([dense(4, 3), dense(2, 4)]).matrix_free


def _evaluate(plan: MatrixFreePlan, mats: list[np.ndarray]) -> np.ndarray:
    """Interpret the nodes with explicit matrices: JVP = J @ X, VJP = X @ J."""
    values: list[np.ndarray] = []
    for node in plan.nodes:
        m_hi, n_lo = plan.links[node.hi - 1].rows, plan.links[node.lo - 1].cols
        if node.action == "given":
            out = mats[node.lo - 1]
        elif node.action == "diagonal":
            out = mats[node.lo - 1] @ np.ones(n_lo)  # one JVP of ones: the diagonal
            assert node.seeds == 1
            out = np.diag(out)
        elif node.action == "tangent":
            block = values[node.right] if node.right >= 0 else np.eye(n_lo)
            assert block.shape[1] == node.seeds == n_lo
            for l in node.swept():
                block = mats[l - 1] @ block
            out = block
        elif node.action == "adjoint":
            block = values[node.left] if node.left >= 0 else np.eye(m_hi)
            assert block.shape[0] == node.seeds == m_hi
            for l in node.swept():
                block = block @ mats[l - 1]
            out = block
        else:
            out = values[node.left] @ values[node.right]
        assert out.shape == (m_hi, n_lo)
        values.append(out)
    return values[-1]


@pytest.mark.parametrize("seed", range(6))
def test_every_plan_computes_the_explicit_product(seed: int) -> None:
    links = _chain(100 + seed, 1 + seed % 4)
    rng = np.random.default_rng(seed)
    mats = [
        np.diag(rng.standard_normal(link.rows)) if link.diagonal
        else rng.standard_normal(link.shape)
        for link in links
    ]
    expected = mats[0]
    for m in mats[1:]:
        expected = m @ expected
    for plan in all_plans(links):
        np.testing.assert_allclose(_evaluate(plan, mats), expected, rtol=1e-10, atol=1e-12)

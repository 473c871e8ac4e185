"""README's op table is the registry's (item 2 of issue 9) and the executor uses every rule."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from chainorder.graph.ops import REGISTRY
from chainorder.graph.optable import END, START, op_table, replace_table

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_op_table_is_generated_from_the_registry() -> None:
    text = README.read_text(encoding="utf-8")
    assert replace_table(text) == text, (
        "README's op table is stale: python -m chainorder.graph.optable --write"
    )
    table = text.split(START)[1].split(END)[0]
    for rule in REGISTRY.values():
        assert f"| `{rule.api.replace('|', chr(92) + '|')}` |" in table


def test_a_new_rule_makes_the_table_stale(monkeypatch) -> None:
    import dataclasses

    text = README.read_text(encoding="utf-8")
    extra = dataclasses.replace(REGISTRY["exp"], name="zzz", spelling="np.zzz")
    monkeypatch.setitem(REGISTRY, "zzz", extra)
    assert "np.zzz" in op_table()
    assert replace_table(text) != text


def test_replace_table_needs_markers() -> None:
    with pytest.raises(ValueError, match="markers"):
        replace_table("no markers")


@pytest.mark.parametrize(
    "name",
    [
        "softmax_xent",
        "where",
        "batched_matmul",
        "cholesky",
        "sort",
        "einsum_diagonal",
        "getitem",
        "cumprod",
        "max",
        "norm",
    ],
)
def test_planned_orders_agree_with_sweeps_and_finite_differences(name: str) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from test_ops_cases import MORE_CASES

    from chainorder.graph import plan_graph, trace, validate_graph

    fn, args = MORE_CASES[name]
    g = trace(fn, *args)
    assert plan_graph(g).chosen is not None
    report = validate_graph(g)
    assert report.ok, report


def test_gp_likelihood_plans_and_validates() -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from test_ops_cases import gp_nll

    from chainorder.graph import trace, validate_graph

    x = np.linspace(0, 2, 6)
    assert validate_graph(trace(gp_nll, x, np.cos(x))).ok


def test_gather_partials_have_the_kind_the_table_states() -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from test_ops_cases import MORE_CASES

    from chainorder.graph import trace

    seen = set()
    for fn, args in MORE_CASES.values():
        g = trace(fn, *args)
        for _u, v, d in g.nx.edges(data=True):
            rule = REGISTRY.get(g.nx.nodes[v]["op"])
            if rule is None or rule.jvp.__module__ != "chainorder.graph.ops.gather":
                continue
            if d["structure"] is not None and len(d["argnums"]) == 1:
                # a permutation is a special selection, a selection a special broadcast
                rank = ["permutation", "select", "broadcast"]
                stated = max(rank.index(k) for k in rank if k in rule.partial)
                assert rank.index(d["structure"].kind) <= stated, (rule.name, d["structure"])
                assert d["structure"].unit
                seen.add(rule.name)
    assert {"getitem", "flip", "tile", "sort", "concatenate", "pad"} <= seen

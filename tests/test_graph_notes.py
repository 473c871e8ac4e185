"""The graph plan's notes read as English: singular for one, thousands separators for many."""

from __future__ import annotations

import re

import numpy as np

import chainorder
from chainorder.graph import sweep_cost


def _notes(fn, *args, **options) -> dict[str, str]:
    p = chainorder.plan_graph(chainorder.trace(fn, *args), **options)
    return {row.name: row.note for row in p.rows}


def test_one_of_each_is_singular() -> None:
    g = chainorder.trace(np.sin, 1.0)
    per = sweep_cost(g, "forward").mults_per_direction
    assert per == 1  # one scalar sine: one multiplication per tangent
    notes = _notes(np.sin, 1.0)
    assert notes["forward mode"] == "n=1 tangent × 1 mult per sweep"
    assert notes["reverse mode"] == "m=1 adjoint × 1 mult per sweep; tape kept"


def test_one_cut_and_one_restart() -> None:
    notes = _notes(lambda x: np.tanh(x).sum(), np.ones(3))
    assert notes["chain through cut vertices"].startswith("1 cut, ")
    notes = _notes(lambda x: np.sin(np.exp(x)).sum(), np.ones(3), restarts=1, exact_limit=0)
    assert notes["chain through cut vertices"].startswith("2 cuts, ")
    # (an order the search ties with a structured one is reported as that one: "; from ...")
    assert notes["best found (search)"].startswith("randomised search (1 restart, seed 0)")


def test_many_are_plural_with_separators() -> None:
    W = np.ones((40, 1200))
    g = chainorder.trace(lambda x: np.tanh(W @ x), np.ones(1200))
    fwd = sweep_cost(g, "forward")
    notes = _notes(lambda x: np.tanh(W @ x), np.ones(1200))
    assert notes["forward mode"] == (
        f"n=1,200 tangents × {fwd.mults_per_direction:,} mults per sweep"
    )
    assert fwd.mults_per_direction >= 1000  # so the separator is exercised
    assert re.fullmatch(r"m=40 adjoints × [\d,]+ mults per sweep; tape kept", notes["reverse mode"])

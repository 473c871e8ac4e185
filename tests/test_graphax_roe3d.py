"""RoeFlux_3d with 3-vectors under ``convention="graphax"``: graphax's published forward
and reverse counts, and graphax's own per-vertex mults (measured by running graphax, see
examples/graphax/roeflux_3d_graphax_steps.py), vertex by vertex."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from chainorder.graph.eliminate import eliminate, forward_order, reverse_order
from chainorder.graph.elimstate import _graphax_product
from chainorder.graph.structure import EdgeStructure

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples" / "graphax"))
from graphax_tasks import linearized, load_task
from roeflux_3d_graphax_steps import GRAPHAX_RUN_TOTALS, GRAPHAX_STEPS

NAME = "RoeFlux_3d (vectors)"
#: Vertices where graphax stores ∂(x/s)/∂x = I/s (s of size 1) as one scalar times the
#: identity, so its product with another such partial costs 1 instead of 3.
SCALAR_KRONECKER = {"v7": 2, "v8": 2}


@pytest.fixture(scope="module")
def lin():
    return linearized(NAME)


def steps(lin, order):
    return {s.vertex: s.mults for s in eliminate(lin, order, convention="graphax").steps}


def test_published_forward_and_reverse_reproduced(lin) -> None:
    fwd, rev, _, _ = load_task(NAME).GRAPHAX
    assert eliminate(lin, forward_order(lin), convention="graphax").mults == fwd == 1556
    assert eliminate(lin, reverse_order(lin), convention="graphax").mults == rev == 979


def test_reverse_equals_graphax_vertex_by_vertex(lin) -> None:
    ours = steps(lin, reverse_order(lin))
    assert set(ours) == set(GRAPHAX_STEPS)
    assert {v: ours[v] for v in ours} == {v: s[3] for v, s in GRAPHAX_STEPS.items()}
    assert sum(ours.values()) == GRAPHAX_RUN_TOTALS[1]


def test_forward_differs_from_graphax_only_by_its_scalar_identity_rule(lin) -> None:
    ours = steps(lin, forward_order(lin))
    diff = {v: ours[v] - s[2] for v, s in GRAPHAX_STEPS.items() if ours[v] != s[2]}
    assert diff == SCALAR_KRONECKER
    assert sum(ours.values()) - sum(diff.values()) == GRAPHAX_RUN_TOTALS[0]


def test_graphax_select_pricing() -> None:
    sel = EdgeStructure.sparse("select", 1, 3, 1, unit=True)
    eye = EdgeStructure.diagonal(3, unit=True)
    one = EdgeStructure.diagonal(1, unit=True)
    # a slice between two stored partials: free, but the sliced block is held dense
    m, s = _graphax_product(sel, eye)
    assert (m, s.kind, s.nnz) == (0, "dense", 3)
    assert _graphax_product(EdgeStructure.diagonal(1), s)[0] == 3
    # a slice of a graph input stays a pending transform: the block keeps its sparsity
    m, s = _graphax_product(one, sel, lazy=True)
    assert (m, s.nnz, s.unit) == (0, 1, False)
    assert _graphax_product(EdgeStructure.diagonal(1), s)[0] == 1
    # ±1 partials are charged in the graphax convention
    assert _graphax_product(eye, eye)[0] == 3

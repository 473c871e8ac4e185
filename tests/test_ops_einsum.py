"""n-operand einsum on traced values: value, derivatives, and the planned pairwise order."""

from __future__ import annotations

import numpy as np
import pytest

from chainorder.errors import UnsupportedOperationError
from chainorder.gradcheck import check_grads
from chainorder.graph.einsum import parse_einsum
from chainorder.graph.trace import trace

R = np.random.default_rng(5)
SHAPES = {"i": 2, "j": 3, "k": 4, "l": 2, "b": 2}

FORMS = [
    "ij->",
    "ij->ji",
    "ii->i",
    "ii",
    "ij,jk->ik",
    "ij,jk",
    "ijk,ik->j",
    "ij,jk,kl->il",
    "bij,bjk,bkl->bil",
    "i,i,i->",
    "ij,ij,ij->i",
    "ij,kl->ijkl",
    "...j,jk->...k",
    "ij,j...->i...",
]


def _operands(form: str) -> list[np.ndarray]:
    ins = form.split("->")[0].split(",")
    out = []
    for sub in ins:
        sub = sub.replace("...", "b")
        if sub == "ii":
            out.append(R.standard_normal((3, 3)))
        else:
            out.append(R.standard_normal(tuple(SHAPES[c] for c in sub)))
    return out


@pytest.mark.parametrize("form", FORMS)
def test_einsum_matches_numpy_and_finite_differences(form: str) -> None:
    ops = _operands(form)
    fn = lambda *xs: np.einsum(form, *xs)  # noqa: E731
    g = trace(fn, *ops)
    np.testing.assert_allclose(g.value(g.outputs[0]), np.einsum(form, *ops), atol=1e-12)
    check_grads(fn, *ops, modes=("fwd", "rev"), rtol=1e-6)


def test_three_operands_contract_in_two_pairwise_ops_in_greedy_order() -> None:
    a, b, v = R.standard_normal((4, 50)), R.standard_normal((50, 50)), R.standard_normal(50)
    g = trace(lambda a, b, v: np.einsum("ij,jk,k->i", a, b, v), a, b, v)
    ops = [g.nx.nodes[n] for n in g.nx if g.nx.nodes[n]["kind"] == "intermediate"]
    assert [d["op"] for d in ops] == ["einsum", "einsum"]
    # greedy contracts the matrix-vector pair first (no 4x50x50 product)
    assert ops[0]["params"]["spec"] == ("jk", "k", "j")


def test_parse_errors_are_unsupported_operations() -> None:
    with pytest.raises(ValueError, match="does not match"):
        parse_einsum("ijk", [(2, 3)])
    with pytest.raises(UnsupportedOperationError, match=r"np\.einsum"):
        trace(lambda x: np.einsum("ij,jk", x), np.ones((2, 2)))

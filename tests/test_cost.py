"""Cost model: products by structure, tree costs, the lecture closed forms."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainorder.chain import Chain, Structure
from chainorder.cost import (
    forward_mults_closed_form,
    product_flops,
    product_mults,
    reverse_mults_closed_form,
    tree_cost,
)
from chainorder.testing import all_trees
from chainorder.tree import forward_tree, reverse_tree

D, G = Structure.DENSE, Structure.DIAGONAL


@pytest.mark.parametrize(
    ("left", "right", "mults", "flops"),
    [(D, D, 2 * 3 * 4, 2 * 2 * 3 * 4), (G, D, 3 * 4, 3 * 4), (D, G, 2 * 3, 2 * 3), (G, G, 3, 3)],
)
def test_product_table(left, right, mults, flops):
    p, q, r = 2, 3, 4
    assert product_mults(p, q, r, left, right) == mults
    assert product_flops(p, q, r, left, right) == flops


def test_lecture_example():
    dims = [30, 35, 15, 5, 10, 20, 25]
    chain = Chain.from_dims(dims)
    assert forward_mults_closed_form(dims) == 40_500
    assert reverse_mults_closed_form(dims) == 47_500
    assert tree_cost(chain, forward_tree(6)).mults == 40_500
    assert tree_cost(chain, reverse_tree(6)).mults == 47_500
    assert tree_cost(chain, ((6, (5, 4)), ((3, 2), 1))).mults == 15_125


dims_strategy = st.lists(st.integers(1, 10**9), min_size=2, max_size=40)


@given(dims_strategy)
def test_closed_forms_equal_pure_tree_costs(dims):
    chain = Chain.from_dims(dims)
    n = chain.n_links
    fwd = tree_cost(chain, forward_tree(n))
    rev = tree_cost(chain, reverse_tree(n))
    assert fwd.mults == forward_mults_closed_form(dims)
    assert rev.mults == reverse_mults_closed_form(dims)
    assert fwd.flops == 2 * fwd.mults and rev.flops == 2 * rev.mults


def test_python_ints_never_overflow():
    n = 10_000
    dims = [10**9] * (n + 1)
    chain = Chain.from_dims(dims)
    cost = tree_cost(chain, forward_tree(n))
    assert cost.mults == (n - 1) * 10**27 == forward_mults_closed_form(dims)
    assert isinstance(cost.mults, int)


def test_tree_cost_is_sum_of_step_costs_by_hand():
    # J3 (2×4 dense) · [J2 (4×4 diag) · J1 (4×3 dense)]: 4·3 + 2·4·3
    chain = Chain.from_dims([3, 4, 4, 2], [D, G, D])
    assert tree_cost(chain, (3, (2, 1))).mults == 12 + 24
    # (J3·J2)·J1: 2·4 + 2·4·3
    assert tree_cost(chain, ((3, 2), 1)).mults == 8 + 24


@given(st.integers(1, 6), st.integers(1, 9), st.randoms(use_true_random=False))
def test_all_diagonal_chain_costs_q_per_product(n, width, rnd):
    chain = Chain.from_dims([width] * (n + 1), [G] * n)
    costs = {tree_cost(chain, t).mults for t in all_trees(n)}
    assert costs == {(n - 1) * width}

"""Trees: validation, pure modes, expressions, deep trees without recursion limits."""

import pytest

from chainorder.errors import TreeError
from chainorder.testing import all_trees, catalan
from chainorder.tree import (
    Mode,
    flatten,
    forward_tree,
    from_lists,
    reverse_tree,
    to_lists,
    tree_expression,
    tree_mode,
)


def test_pure_trees_for_three_links():
    assert forward_tree(3) == (3, (2, 1))
    assert reverse_tree(3) == ((3, 2), 1)
    assert tree_expression(forward_tree(4)) == "J4·(J3·(J2·J1))"
    assert tree_expression(reverse_tree(4)) == "((J4·J3)·J2)·J1"


def test_modes():
    assert tree_mode(forward_tree(5)) is Mode.FORWARD
    assert tree_mode(reverse_tree(5)) is Mode.REVERSE
    assert tree_mode(((4, 3), (2, 1))) is Mode.MIXED
    assert tree_mode((2, 1)) is Mode.FORWARD  # L <= 2: both; reported as forward
    assert tree_mode(1) is Mode.FORWARD


@pytest.mark.parametrize("n", range(1, 8))
def test_enumeration_counts_catalan_and_every_tree_is_valid(n):
    trees = list(all_trees(n))
    assert len(trees) == catalan(n - 1)
    assert len({tree_expression(t) for t in trees}) == len(trees)
    for t in trees:
        assert flatten(t, n).n_links == n
        assert from_lists(to_lists(t), n) == t


@pytest.mark.parametrize(
    ("tree", "fragment"),
    [
        ((1, 2), "adjacent"),
        ((3, 1), "adjacent"),
        ((2, (1,)), "pair"),
        ((2, 1, 0), "pair"),
        (0, "start at 1"),
        ("x", "link number"),
        (True, "link number"),
        ((3, (2, 2)), "adjacent"),
    ],
)
def test_invalid_trees(tree, fragment):
    with pytest.raises(TreeError, match=fragment):
        flatten(tree)


def test_cover_is_checked():
    with pytest.raises(TreeError, match=r"expected 1\.\.3"):
        flatten((2, 1), 3)


def test_ten_thousand_deep_trees_need_no_recursion():
    n = 10_000
    for tree in (forward_tree(n), reverse_tree(n)):
        flat = flatten(tree, n)
        assert len(flat.lo) == 2 * n - 1
        assert tree_expression(flat).count("J") == n
        assert isinstance(to_lists(tree), list)

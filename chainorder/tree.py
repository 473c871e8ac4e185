"""Bracketings (trees) of a chain, their validation and their flattened form.

A tree over links ``1..L`` is an ``int`` (a single link) or a pair ``(a, b)`` meaning
``product(a) @ product(b)``, where ``a`` covers the *later* links. For ``L = 3`` forward mode
is ``(3, (2, 1))`` and reverse mode is ``((3, 2), 1)``.

Chains can be 10^4 links long and pure-mode trees are then 10^4 levels deep, beyond Python's
recursion limit, so everything here walks trees iteratively. Analyses use the flattened
:class:`FlatTree` (children before parents, root last).
"""

from __future__ import annotations

import enum
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

from chainorder.errors import TreeError

__all__ = [
    "FlatTree",
    "Mode",
    "Tree",
    "all_trees",
    "append_product",
    "flatten",
    "forward_tree",
    "from_lists",
    "reverse_tree",
    "to_lists",
    "tree_expression",
    "tree_from_splits",
    "tree_mode",
    "unflatten",
]

Tree: TypeAlias = int | tuple["Tree", "Tree"]


class Mode(str, enum.Enum):
    """Accumulation mode of a tree.

    ``FORWARD``: every product's left factor is a single link (tangent / JVP accumulation
    from the input). ``REVERSE``: every product's right factor is a single link (adjoint / VJP
    accumulation from the output, backprop). ``MIXED``: anything else.
    """

    FORWARD = "forward"
    REVERSE = "reverse"
    MIXED = "mixed"


@dataclass(frozen=True, slots=True)
class FlatTree:
    """A tree as parallel tuples, children before parents, the root last.

    ``lo[i]..hi[i]`` are the links node ``i`` covers; ``left[i]`` (later links) and
    ``right[i]`` are child node indices, ``-1`` for a leaf.
    """

    lo: tuple[int, ...]
    hi: tuple[int, ...]
    left: tuple[int, ...]
    right: tuple[int, ...]

    @property
    def root(self) -> int:
        """Index of the root node (the last one)."""
        return len(self.lo) - 1

    @property
    def n_links(self) -> int:
        """Number of links (leaves)."""
        return self.hi[-1] - self.lo[-1] + 1

    def is_leaf(self, i: int) -> bool:
        """True when node ``i`` is a single link."""
        return self.left[i] < 0

    def internal(self) -> list[int]:
        """Indices of the product nodes, children before parents."""
        return [i for i in range(len(self.lo)) if self.left[i] >= 0]



def append_product(
    lo: list[int], hi: list[int], left: list[int], right: list[int], l: int, r: int
) -> int:
    """Append the product ``node l @ node r`` to flat-tree lists; its index.

    The one place that checks a product joins adjacent links (``l`` must cover the links
    right after ``r``'s); nested and postfix readers both build through it.

    Raises
    ------
    TreeError
        The two nodes are not adjacent.

    Examples
    --------
    >>> lo, hi, left, right = [1, 2], [1, 2], [-1, -1], [-1, -1]
    >>> append_product(lo, hi, left, right, 1, 0), lo, hi
    (2, [1, 2, 1], [1, 2, 2])

    Notes
    -----
    O(1).
    """
    if hi[r] + 1 != lo[l]:
        raise TreeError(
            f"node (J{hi[l]}..J{lo[l]}, J{hi[r]}..J{lo[r]}) is not a product of "
            "adjacent links: the left factor must cover the links right after the "
            "right factor's"
        )
    lo.append(lo[r])
    hi.append(hi[l])
    left.append(l)
    right.append(r)
    return len(lo) - 1

def flatten(tree: Tree, n_links: int | None = None) -> FlatTree:
    """Validate ``tree`` and return its :class:`FlatTree`.

    Parameters
    ----------
    tree : int or nested 2-tuples (or 2-lists) of int
        The bracketing.
    n_links : int, optional
        When given, the tree must cover exactly links ``1..n_links``.

    Returns
    -------
    FlatTree

    Raises
    ------
    TreeError
        A node that is not an int or a pair, links out of order, gaps or repeats, or the
        wrong cover.

    Examples
    --------
    >>> ft = flatten((3, (2, 1)), 3)
    >>> ft.lo, ft.hi
    ((3, 2, 1, 1, 1), (3, 2, 1, 2, 3))

    Notes
    -----
    O(L) time and memory, iterative (no recursion limit).
    """
    lo: list[int] = []
    hi: list[int] = []
    left: list[int] = []
    right: list[int] = []
    done: list[int] = []
    stack: list[tuple[object, bool]] = [(tree, False)]
    while stack:
        node, expanded = stack.pop()
        if isinstance(node, tuple | list):
            if len(node) != 2:
                raise TreeError(
                    f"a tree node must be a pair (later, earlier); got {len(node)} items"
                )
            if expanded:
                r = done.pop()
                l = done.pop()
                done.append(append_product(lo, hi, left, right, l, r))
            else:
                stack.append((node, True))
                stack.append((node[1], False))
                stack.append((node[0], False))
        else:
            if isinstance(node, bool):
                raise TreeError(f"a tree leaf must be a link number, got {node!r}")
            try:
                link = operator.index(node)  # type: ignore[arg-type]
            except TypeError:
                raise TreeError(f"a tree leaf must be a link number, got {node!r}") from None
            if link < 1:
                raise TreeError(f"link numbers start at 1, got {link}")
            lo.append(link)
            hi.append(link)
            left.append(-1)
            right.append(-1)
            done.append(len(lo) - 1)
    flat = FlatTree(tuple(lo), tuple(hi), tuple(left), tuple(right))
    if n_links is not None and (flat.lo[-1] != 1 or flat.hi[-1] != n_links):
        raise TreeError(
            f"the tree covers links {flat.lo[-1]}..{flat.hi[-1]}; expected 1..{n_links}"
        )
    return flat


def _build(flat: FlatTree, leaf: object, pair: object) -> object:
    built: list[object] = [None] * len(flat.lo)
    for i in range(len(flat.lo)):
        if flat.left[i] < 0:
            built[i] = leaf(flat.lo[i])  # type: ignore[operator]
        else:
            built[i] = pair(built[flat.left[i]], built[flat.right[i]])  # type: ignore[operator]
            built[flat.left[i]] = built[flat.right[i]] = None
    return built[-1]


def unflatten(flat: FlatTree) -> Tree:
    """The nested-tuple tree of a :class:`FlatTree` (inverse of :func:`flatten`).

    Examples
    --------
    >>> unflatten(flatten(((3, 2), 1)))
    ((3, 2), 1)

    Notes
    -----
    O(L) time, iterative.
    """
    return _build(flat, int, lambda a, b: (a, b))  # type: ignore[return-value]


def to_lists(tree: Tree) -> int | list[object]:
    """Nested lists (for JSON) of a tree.

    Examples
    --------
    >>> to_lists((3, (2, 1)))
    [3, [2, 1]]

    Notes
    -----
    O(L) time, iterative.
    """
    return _build(flatten(tree), int, lambda a, b: [a, b])  # type: ignore[return-value]


def from_lists(data: object, n_links: int | None = None) -> Tree:
    """Tree of nested tuples from nested lists; validated.

    Examples
    --------
    >>> from_lists([[3, 2], 1], 3)
    ((3, 2), 1)

    Notes
    -----
    O(L) time, iterative.
    """
    return _build(flatten(data, n_links), int, lambda a, b: (a, b))  # type: ignore[arg-type, return-value]


def forward_tree(n_links: int) -> Tree:
    """The forward-mode tree ``(L, (L-1, (… (2, 1))))``.

    Examples
    --------
    >>> forward_tree(3)
    (3, (2, 1))

    Notes
    -----
    O(L) time.
    """
    _check_n(n_links)
    tree: Tree = 1
    for l in range(2, n_links + 1):
        tree = (l, tree)
    return tree


def reverse_tree(n_links: int) -> Tree:
    """The reverse-mode tree ``((((L, L-1), L-2) …), 1)``.

    Examples
    --------
    >>> reverse_tree(3)
    ((3, 2), 1)

    Notes
    -----
    O(L) time.
    """
    _check_n(n_links)
    tree: Tree = n_links
    for l in range(n_links - 1, 0, -1):
        tree = (tree, l)
    return tree


def tree_from_splits(split_of: Callable[[int, int], int], n_links: int) -> Tree:
    """Rebuild a tree from a split function.

    ``split_of(i, j)`` (``1 <= i < j <= L``) is the last link ``k`` of the right factor of
    the product over links ``i..j``: that node is ``(tree(k+1..j), tree(i..k))``.

    Examples
    --------
    >>> tree_from_splits(lambda i, j: i, 3)  # right factor always a single link
    ((3, 2), 1)

    Notes
    -----
    O(L) time, iterative.
    """
    _check_n(n_links)
    out: dict[tuple[int, int], Tree] = {}
    stack: list[tuple[int, int, int]] = [(1, n_links, 0)]  # k = 0: not yet split
    while stack:
        i, j, k = stack.pop()
        if i == j:
            out[(i, j)] = i
        elif k:
            out[(i, j)] = (out.pop((k + 1, j)), out.pop((i, k)))
        else:
            k = int(split_of(i, j))
            if not i <= k < j:
                raise TreeError(f"split of links {i}..{j} at {k} is outside {i}..{j - 1}")
            stack.append((i, j, k))
            stack.append((i, k, 0))
            stack.append((k + 1, j, 0))
    return out[(1, n_links)]


def tree_mode(tree: Tree | FlatTree) -> Mode:
    """Classify a tree as forward, reverse or mixed.

    For ``L <= 2`` the single tree is both forward and reverse; it is reported as forward.

    Examples
    --------
    >>> [tree_mode(t).value for t in [(3, (2, 1)), ((3, 2), 1), ((4, 3), (2, 1))]]
    ['forward', 'reverse', 'mixed']

    Notes
    -----
    O(L) time.
    """
    flat = tree if isinstance(tree, FlatTree) else flatten(tree)
    inner = flat.internal()
    if all(flat.is_leaf(flat.left[i]) for i in inner):
        return Mode.FORWARD
    if all(flat.is_leaf(flat.right[i]) for i in inner):
        return Mode.REVERSE
    return Mode.MIXED


def tree_expression(tree: Tree | FlatTree, symbol: str = "J", dot: str = "·") -> str:
    """The bracketing written out, outermost parentheses dropped.

    Examples
    --------
    >>> tree_expression((4, (3, (2, 1))))
    'J4·(J3·(J2·J1))'
    >>> tree_expression(((4, 3), (2, 1)), dot="*")
    '(J4*J3)*(J2*J1)'

    Notes
    -----
    O(L) time and memory (each node written once), iterative.
    """
    flat = tree if isinstance(tree, FlatTree) else flatten(tree)
    parts: list[str] = []
    left, right, lo = flat.left, flat.right, flat.lo
    stack: list[int | str] = [flat.root]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            parts.append(item)
        elif left[item] < 0:
            parts.append(f"{symbol}{lo[item]}")
        else:
            a, b = left[item], right[item]
            stack.extend((")", b, "(") if left[b] >= 0 else (b,))  # pushed in reverse order
            stack.append(dot)
            stack.extend((")", a, "(") if left[a] >= 0 else (a,))
    return "".join(parts)


def _check_n(n_links: int) -> None:
    if isinstance(n_links, bool) or not isinstance(n_links, int) or n_links < 1:
        raise TreeError(f"the number of links must be a positive integer, got {n_links!r}")


def all_trees(first: int, last: int | None = None) -> list[Tree]:
    """Every bracketing of links ``first..last`` (or ``1..first`` when ``last`` is omitted).

    The one enumerator of bracketings: brute-force references, ``validate --all-trees`` and
    the benchmarks all use it.

    Examples
    --------
    >>> all_trees(3)
    [((3, 2), 1), (3, (2, 1))]
    >>> len(all_trees(6))
    42

    Raises
    ------
    TreeError
        When the range is empty or its ends are not positive integers.

    Notes
    -----
    ``C_{L-1}`` trees (≈ 4^L / L^1.5), built bottom-up over intervals; meant for ``L <= 10``.
    """
    lo, hi = (1, first) if last is None else (first, last)
    for end in (lo, hi):
        if isinstance(end, bool) or not isinstance(end, int) or end < 1:
            raise TreeError(f"link numbers must be positive integers, got {end!r}")
    if hi < lo:
        raise TreeError(f"empty range of links {lo}..{hi}")
    table: dict[tuple[int, int], list[Tree]] = {}
    for length in range(1, hi - lo + 2):
        for a in range(lo, hi - length + 2):
            b = a + length - 1
            if a == b:
                table[(a, b)] = [a]
                continue
            table[(a, b)] = [
                (left, right)
                for k in range(a, b)  # k = last link of the right factor
                for left in table[(k + 1, b)]
                for right in table[(a, k)]
            ]
    return table[(lo, hi)]

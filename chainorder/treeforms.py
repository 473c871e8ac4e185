"""Flat, JSON-safe forms of a bracketing: the postfix sequence and the compact tree text.

A pure-mode tree of ``L`` links is ``L`` levels deep. Nested JSON lists that deep defeat
ordinary JSON readers (``jq`` stops at a few hundred levels, Python's ``json`` at about a
thousand), so a saved plan carries its tree in two forms that any reader parses at any length:

``postfix``
    A flat list of ``2L − 1`` ints in post-order (left factor, right factor, product):
    a positive number is the link ``J_l``; ``0`` multiplies the two entries below it on the
    stack, the deeper one being the left (later-links) factor. Forward mode for ``L = 3``,
    ``(3, (2, 1))``, is ``[3, 2, 1, 0, 0]``; reverse mode ``((3, 2), 1)`` is ``[3, 2, 0, 1, 0]``.
``tree`` text
    The nested pairs written as one JSON-*string*, e.g. ``"[[6,[5,4]],[[3,2],1]]"``: compact
    and readable, but a string, so its depth never reaches a JSON parser.

Everything here is iterative (no recursion limit) and O(L).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Sequence

from chainorder.errors import TreeError
from chainorder.tree import FlatTree, Tree, append_product, flatten, unflatten

__all__ = [
    "flat_from_postfix",
    "from_postfix",
    "parse_tree_text",
    "postfix_from_text",
    "to_postfix",
    "tree_text",
]


def to_postfix(tree: Tree | FlatTree) -> list[int]:
    """The postfix sequence of a tree (see the module notes).

    Examples
    --------
    >>> to_postfix((3, (2, 1))), to_postfix(((3, 2), 1)), to_postfix(1)
    ([3, 2, 1, 0, 0], [3, 2, 0, 1, 0], [1])

    Notes
    -----
    O(L): a :class:`~chainorder.tree.FlatTree` already lists its nodes in post-order.
    """
    flat = tree if isinstance(tree, FlatTree) else flatten(tree)
    return [lo if left < 0 else 0 for lo, left in zip(flat.lo, flat.left, strict=True)]


def from_postfix(seq: Sequence[int], n_links: int | None = None) -> Tree:
    """The tree of a postfix sequence, validated (see :func:`flat_from_postfix`).

    Raises
    ------
    TreeError
        Not a list of non-negative ints, a ``0`` without two operands, operands left over,
        or links that do not form a bracketing of ``1..n_links``.

    Examples
    --------
    >>> from_postfix([3, 2, 0, 1, 0], 3)
    ((3, 2), 1)

    Notes
    -----
    O(L) time and memory.
    """
    return unflatten(flat_from_postfix(seq, n_links))


def flat_from_postfix(seq: Sequence[int], n_links: int | None = None) -> FlatTree:
    """The :class:`~chainorder.tree.FlatTree` of a postfix sequence, validated, in one pass.

    The postfix order is the flat tree's node order, so no nested tree is built.

    Raises
    ------
    TreeError
        As :func:`from_postfix`.

    Examples
    --------
    >>> flat_from_postfix([3, 2, 0, 1, 0], 3).lo
    (3, 2, 2, 1, 1)

    Notes
    -----
    O(L) time and memory.
    """
    if isinstance(seq, str | bytes) or not isinstance(seq, Sequence):
        raise TreeError(f"a postfix tree must be a list of ints, got {type(seq).__name__}")
    lo: list[int] = []
    hi: list[int] = []
    left: list[int] = []
    right: list[int] = []
    stack: list[int] = []
    for pos, item in enumerate(seq, start=1):
        if type(item) is not int:
            if isinstance(item, bool):
                raise TreeError(f"postfix item {pos} is {item!r}; expected an int")
            try:
                item = operator.index(item)
            except TypeError:
                raise TreeError(f"postfix item {pos} is {item!r}; expected an int") from None
        if item > 0:
            stack.append(len(lo))
            lo.append(item)
            hi.append(item)
            left.append(-1)
            right.append(-1)
        elif item == 0:
            if len(stack) < 2:
                raise TreeError(f"postfix item {pos} (0, a product) has fewer than two operands")
            r = stack.pop()
            l = stack.pop()
            stack.append(append_product(lo, hi, left, right, l, r))
        else:
            raise TreeError(f"postfix item {pos} is {item}; expected a link number or 0")
    if len(stack) != 1:
        raise TreeError(
            f"a postfix tree must reduce to one product; {len(stack)} operands are left"
        )
    if lo[-1] != 1 or (n_links is not None and hi[-1] != n_links):
        expected = f"1..{n_links}" if n_links is not None else "links from 1"
        raise TreeError(f"the tree covers links {lo[-1]}..{hi[-1]}; expected {expected}")
    return FlatTree(tuple(lo), tuple(hi), tuple(left), tuple(right))


def tree_text(tree: Tree | FlatTree) -> str:
    """Nested pairs as compact text, e.g. ``"[[3,2],1]"``.

    Examples
    --------
    >>> tree_text(((6, (5, 4)), ((3, 2), 1)))
    '[[6,[5,4]],[[3,2],1]]'

    Notes
    -----
    O(L), iterative.
    """
    flat = tree if isinstance(tree, FlatTree) else flatten(tree)
    parts: list[str] = []
    stack: list[int | str] = [flat.root]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            parts.append(item)
        elif flat.left[item] < 0:
            parts.append(str(flat.lo[item]))
        else:
            stack.extend(("]", flat.right[item], ",", flat.left[item]))
            parts.append("[")
    return "".join(parts)


_TOKEN = re.compile(r"\s*(\[|\]|,|\d+)")


def parse_tree_text(text: str, n_links: int | None = None) -> Tree:
    """Inverse of :func:`tree_text` (whitespace allowed), validated.

    Raises
    ------
    TreeError
        Text that is not nested pairs of link numbers, or not a bracketing of ``1..n_links``.

    Examples
    --------
    >>> parse_tree_text("[[3, 2], 1]", 3)
    ((3, 2), 1)

    Notes
    -----
    O(len(text)), iterative.
    """
    return from_postfix(postfix_from_text(text), n_links)


def postfix_from_text(text: str) -> list[int]:
    """The postfix sequence of tree text such as ``"[[3,2],1]"``; checks the pair syntax.

    Raises
    ------
    TreeError
        Anything but nested pairs ``[later, earlier]`` of numbers (e.g. ``"[3,2,1]"``).

    Examples
    --------
    >>> postfix_from_text("[[3, 2], 1]")
    [3, 2, 0, 1, 0]

    Notes
    -----
    O(len(text)), iterative; whether the links form a bracketing is checked by
    :func:`flat_from_postfix`.
    """
    if not isinstance(text, str):
        raise TreeError(f"tree text must be a string, got {type(text).__name__}")
    postfix: list[int] = []
    seen: list[int] = []  # per open "[": 0 wants the first item, 1 ",", 2 the second, 3 "]"
    done = False  # a whole top-level item has been read
    pos = 0
    bad = "tree text must nest pairs [later, earlier] of link numbers"
    for match in _TOKEN.finditer(text):
        if match.start() != pos:
            break
        pos = match.end()
        token = match.group(1)
        if done:
            raise TreeError(f"{bad}: text after the tree at character {match.start() + 1}")
        if token == "[":
            if seen and seen[-1] not in (0, 2):
                raise TreeError(f"{bad}: expected ',' at character {match.start() + 1}")
            seen.append(0)
        elif token == ",":
            if not seen or seen[-1] != 1:
                raise TreeError(f"{bad}: unexpected ',' at character {match.start() + 1}")
            seen[-1] = 2
        elif token == "]":
            if not seen or seen[-1] != 3:
                raise TreeError(f"{bad}: unexpected ']' at character {match.start() + 1}")
            seen.pop()
            postfix.append(0)
            done = _completed(seen)
        else:
            if seen and seen[-1] not in (0, 2):
                raise TreeError(f"{bad}: expected ',' at character {match.start() + 1}")
            if len(token) > 9:
                raise TreeError(f"link number {token[:12]}... in the tree text is too large")
            postfix.append(int(token))
            done = _completed(seen)
    if text[pos:].strip() or seen or not postfix:
        raise TreeError(f"cannot read tree text at character {pos + 1}: expected nested pairs")
    return postfix


def _completed(seen: list[int]) -> bool:
    """Count one finished item in the innermost open pair; True at the top level."""
    if not seen:
        return True
    seen[-1] += 1  # 0 -> 1 (first item read), 2 -> 3 (second item read)
    return False

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
from chainorder.tree import FlatTree, Tree, flatten

__all__ = ["from_postfix", "parse_tree_text", "to_postfix", "tree_text"]


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
    """The tree of a postfix sequence, validated.

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
    if isinstance(seq, str | bytes) or not isinstance(seq, Sequence):
        raise TreeError(f"a postfix tree must be a list of ints, got {type(seq).__name__}")
    stack: list[Tree] = []
    for pos, item in enumerate(seq, start=1):
        if isinstance(item, bool):
            raise TreeError(f"postfix item {pos} is {item!r}; expected an int")
        try:
            value = operator.index(item)
        except TypeError:
            raise TreeError(f"postfix item {pos} is {item!r}; expected an int") from None
        if value < 0:
            raise TreeError(f"postfix item {pos} is {value}; expected a link number or 0")
        if value == 0:
            if len(stack) < 2:
                raise TreeError(f"postfix item {pos} (0, a product) has fewer than two operands")
            right = stack.pop()
            stack.append((stack.pop(), right))
        else:
            stack.append(value)
    if len(stack) != 1:
        raise TreeError(
            f"a postfix tree must reduce to one product; {len(stack)} operands are left"
        )
    tree = stack[0]
    flatten(tree, n_links)  # validates the cover and the order of the links
    return tree


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
    if not isinstance(text, str):
        raise TreeError(f"tree text must be a string, got {type(text).__name__}")
    postfix: list[int] = []
    opened = 0
    pos = 0
    for match in _TOKEN.finditer(text):
        if match.start() != pos:
            break
        pos = match.end()
        token = match.group(1)
        if token == "[":
            opened += 1
        elif token == "]":
            opened -= 1
            postfix.append(0)
        elif token != ",":
            if len(token) > 9:
                raise TreeError(f"link number {token[:12]}... in the tree text is too large")
            postfix.append(int(token))
    if text[pos:].strip() or opened != 0:
        raise TreeError(f"cannot read tree text at character {pos + 1}: expected nested pairs")
    tree = from_postfix(postfix, n_links)
    if tree_text(tree) != re.sub(r"\s+", "", text):  # e.g. "[3,2,1]" or "[[3],2]"
        raise TreeError("tree text must nest pairs [later, earlier] of link numbers")
    return tree

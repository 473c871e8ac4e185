"""A checkpointed evaluation written down: which child goes first and what is kept.

A :class:`Decision` covers links ``lo..hi`` in a *context*:

``F`` (fresh)
    The forward pass stands at ``x_{lo-1}`` (alive, owned by this subtree); on exit the
    product and ``x_hi`` (when ``hi < L``) are alive and nothing else of the subtree.
``K`` (from a checkpoint)
    ``x_{lo-1}`` is alive (owned); nothing else of the subtree is; everything it computes is a
    recomputation. On exit only the product is alive.
``A`` (all cached)
    ``x_{lo-1}..x_{hi-1}`` are alive (owned); on exit only the product is.

and an *order*: ``RF`` (right, i.e. earlier links, first), ``LFA`` (later links first; the
earlier links' activations are cached on the way: the right child runs in ``A``), ``LFK``
(later links first, keeping only ``x_{lo-1}``: the right child runs in ``K`` and recomputes
its activations). In ``A`` only ``RF`` and ``LFA`` exist. The children's contexts follow:

====  =====================  =====================
ctx   RF: first, second      LFA / LFK: first, second
====  =====================  =====================
F     right F, left F        left F, right A / K
K     right F, left K        left K, right A / K
A     right A, left A        left A, right A
====  =====================  =====================

A ``REV`` decision is a reverse sweep over links ``lo..hi = 1..L`` with nested checkpoints
(:mod:`chainorder.checkpoint.reverse`): ``cut`` is the checkpoint ``s'`` taken while
reversing ``s+1..t`` from ``x_s`` (``None`` for one step).
"""

from __future__ import annotations

from dataclasses import dataclass

from chainorder.tree import Tree

__all__ = ["CHILD_CONTEXTS", "Decision", "decision_tree"]

#: (context, order) -> (first child is the left one, first child's context, second's)
CHILD_CONTEXTS: dict[tuple[str, str], tuple[bool, str, str]] = {
    ("F", "RF"): (False, "F", "F"),
    ("F", "LFA"): (True, "F", "A"),
    ("F", "LFK"): (True, "F", "K"),
    ("K", "RF"): (False, "F", "K"),
    ("K", "LFA"): (True, "K", "A"),
    ("K", "LFK"): (True, "K", "K"),
    ("A", "RF"): (False, "A", "A"),
    ("A", "LFA"): (True, "A", "A"),
}


@dataclass(frozen=True, slots=True)
class Decision:
    """One node of a checkpointed evaluation (see the module notes).

    Examples
    --------
    >>> leaf = Decision(1, 1, "A", "leaf")
    >>> node = Decision(1, 2, "F", "LFA", Decision(2, 2, "F", "leaf"), leaf)
    >>> decision_tree(node)
    (2, 1)
    """

    lo: int
    hi: int
    ctx: str
    order: str
    left: Decision | None = None
    right: Decision | None = None

    @property
    def is_leaf(self) -> bool:
        """A single link."""
        return self.left is None


def decision_tree(node: Decision) -> Tree:
    """The bracketing (nested tuples) that a decision evaluates.

    Examples
    --------
    >>> left = Decision(3, 3, "F", "leaf")
    >>> right = Decision(1, 2, "A", "RF", Decision(2, 2, "A", "leaf"), Decision(1, 1, "A", "leaf"))
    >>> decision_tree(Decision(1, 3, "F", "LFA", left, right))
    (3, (2, 1))

    Notes
    -----
    O(L), iterative.
    """
    out: dict[int, Tree] = {}
    stack: list[tuple[Decision, bool]] = [(node, False)]
    while stack:
        cur, done = stack.pop()
        if cur.is_leaf:
            out[id(cur)] = cur.lo
            continue
        assert cur.left is not None and cur.right is not None
        if done:
            out[id(cur)] = (out.pop(id(cur.left)), out.pop(id(cur.right)))
            continue
        stack.extend([(cur, True), (cur.left, False), (cur.right, False)])
    return out[id(node)]

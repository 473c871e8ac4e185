"""The pure modes: forward (tangent, JVP) and reverse (adjoint, VJP) accumulation."""

from __future__ import annotations

from chainorder.chain import Chain
from chainorder.tree import Tree, forward_tree, reverse_tree

__all__ = ["solve_forward", "solve_reverse"]


def solve_forward(chain: Chain) -> Tree:
    """Forward mode ``J_L·(… (J_2·J_1))``: accumulate from the input.

    Examples
    --------
    >>> solve_forward(Chain.from_dims([4, 3, 2, 1]))
    (3, (2, 1))

    Notes
    -----
    O(L) time; no search.
    """
    return forward_tree(chain.n_links)


def solve_reverse(chain: Chain) -> Tree:
    """Reverse mode ``((J_L·J_{L-1}) …)·J_1``: accumulate from the output (backprop).

    Examples
    --------
    >>> solve_reverse(Chain.from_dims([4, 3, 2, 1]))
    ((3, 2), 1)

    Notes
    -----
    O(L) time; no search.
    """
    return reverse_tree(chain.n_links)

"""The bracketing NumPy's ``multi_dot`` chooses, as a baseline to run and compare against."""

from __future__ import annotations

import numpy as np

from chainorder.solvers.interval import Block, sliding, solve_intervals
from chainorder.tree import Tree, tree_from_splits

__all__ = ["multi_dot_tree"]


def multi_dot_tree(dims: tuple[int, ...] | list[int]) -> Tree:
    """The bracketing ``numpy.linalg.multi_dot([J_L, ..., J_1])`` uses, as a chainorder tree.

    multi_dot runs the textbook matrix-chain DP over its arguments ``A_0 = J_L, …,
    A_{L-1} = J_1`` with float64 costs, keeping the first split on a tie. This runs the same
    recurrence on :mod:`chainorder.solvers.interval`'s engine — items in NumPy's order,
    float64 sums in NumPy's order (``m[i,k] + m[k+1,j] + p_i·p_{k+1}·p_{j+1}``, the product
    exact and then rounded once), first split wins — so chainorder runs exactly that order.

    Examples
    --------
    >>> multi_dot_tree([30, 35, 15, 5, 10, 20, 25])
    ((6, (5, 4)), ((3, 2), 1))

    Notes
    -----
    O(L³) time in O(L) vectorised steps, O(L²) memory.
    """
    n = len(dims) - 1
    if n == 1:
        return 1
    big = max(dims)
    exact = np.int64 if big**3 < 2**62 else object
    p = np.array([int(x) for x in dims[::-1]], dtype=exact)  # A_t has shape (p_t, p_{t+1})
    windows = sliding(p)

    def price(b: Block) -> np.ndarray:
        product = (p[b.ends] * p[: b.count])[:, None] * windows[b.starts, : b.width]
        total = np.add(b.right, b.left, out=b.out)
        return np.add(total, product.astype(np.float64), out=total)

    engine = solve_intervals(n, price, dtype=np.float64)
    # items i..j are links n+1-j..n+1-i; the engine's right part (items i..i+s-1, NumPy's
    # prefix A_i..A_k) is the left factor (the later links)
    return tree_from_splits(lambda lo, hi: hi - int(engine.split[n + 1 - hi, hi - lo + 1]), n)

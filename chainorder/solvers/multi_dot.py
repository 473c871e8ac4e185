"""The bracketing NumPy's ``multi_dot`` chooses, as a baseline to run and compare against."""

from __future__ import annotations

from chainorder.tree import Tree

__all__ = ["multi_dot_tree"]


def multi_dot_tree(dims: tuple[int, ...] | list[int]) -> Tree:
    """The bracketing ``numpy.linalg.multi_dot([J_L, ..., J_1])`` uses, as a chainorder tree.

    multi_dot runs the textbook matrix-chain dynamic programme over its arguments (first
    split wins ties); this reproduces it so chainorder can run exactly the same order.

    Examples
    --------
    >>> multi_dot_tree([30, 35, 15, 5, 10, 20, 25])
    ((6, (5, 4)), ((3, 2), 1))

    Notes
    -----
    O(L³) time, O(L²) memory.
    """
    d = list(dims)
    n = len(d) - 1
    if n == 1:
        return 1
    # matrices A_0..A_{n-1} = J_L..J_1; A_i has shape (p[i], p[i+1])
    p = d[::-1]
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = -1
            for k in range(i, j):
                q = cost[i][k] + cost[k + 1][j] + p[i] * p[k + 1] * p[j + 1]
                if cost[i][j] < 0 or q < cost[i][j]:
                    cost[i][j] = q
                    split[i][j] = k

    def build(i: int, j: int) -> Tree:  # depth ≤ n: fine for the short chains multi_dot takes
        if i == j:
            return n - i
        k = split[i][j]
        return (build(i, k), build(k + 1, j))

    return build(0, n - 1)

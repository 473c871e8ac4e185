"""The one interval-DP engine: vectorised per interval length, product costs from the caller.

Every interval problem in chainorder (the matrix chain, the chain of blocks through a graph's
cut vertices, NumPy's ``multi_dot`` order) is the recurrence

    C(i..j) = min over splits s = 1..j−i of  price(i, j, s),   C(i..i) = 0,

over items ``1..N``, where split ``s`` cuts ``i..j`` into a *right* part ``i..i+s−1`` and a
*left* part ``i+s..j`` (for a chain: the right factor covers the earlier links). The engine
owns the tables, the loop over lengths, the choice of the minimum, the tie rule and the
splits; the caller owns the prices.

Caller interface
----------------
``price(block) -> totals``
    Called once per interval length ``2..N`` with a :class:`Block`. ``block.right[r, s−1]``
    is ``C(i..i+s−1)`` and ``block.left[r, s−1]`` is ``C(i+s..j)`` for the ``r``-th interval
    (start ``i = r + 1``, end ``j = i + length − 1``); both are read-only *views* of the
    engine's tables (no copies). The caller returns the ``(count, width)`` array of totals,
    usually ``block.right + block.left + product cost``, written into ``block.out`` (a
    scratch buffer reused for every length) to avoid temporaries. Any combination is allowed:
    a generalised matrix-free chain DP with several options per split, e.g.
    ``min(right + left + n_i·q·p, C(i..k−1) + n_i·S(k..j), …)`` with ``S`` prefix sums of link
    costs, returns the element-wise minimum of its options (and may record which option won
    in its own table, read back in ``on_length``). Per-split values such as ``d_k`` come from
    :func:`sliding` views: ``sliding(values)[block.starts, :block.width]``.
``tie_break(block, totals, best, rows) -> cols`` (optional)
    Rows whose minimum is attained by more than one split; returns the split column
    (``s − 1``) chosen for each. Without it the first minimal split wins (smallest ``s``).
``on_length(length, cols)`` (optional)
    Called after each length with the chosen columns, so the caller can keep per-interval
    state that later prices depend on (structures of products, peaks, chosen options).
``progress(done, total)`` (optional)
    Called after each length with the work done so far and in all (split evaluations).

Costs are whatever ``dtype`` the caller picks: ``int64`` (fast, exact while no total exceeds
2^63), ``object`` (Python ints, exact at any size) or ``float64`` (as NumPy's own
``multi_dot`` prices). The engine never converts them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from chainorder.tree import Tree, tree_from_splits

__all__ = ["Block", "IntervalDP", "ProgressFn", "sliding", "solve_intervals"]

ProgressFn = Callable[[int, int], Any]


class Block(NamedTuple):
    """All intervals of one length, as handed to the caller's ``price``."""

    length: int  # items per interval
    count: int  # intervals of this length: starts 1..count
    width: int  # splits per interval: s = 1..width
    starts: slice  # rows of start-indexed arrays: i = 1..count
    ends: slice  # rows of end-indexed arrays: j = length..N
    right: np.ndarray  # (count, width) view: C(i .. i+s-1)
    left: np.ndarray  # (count, width) view: C(i+s .. j)
    out: np.ndarray  # (count, width) scratch for the totals


def sliding(values: np.ndarray) -> np.ndarray:
    """A read-only ``(n, n)`` view with ``out[t, :w] == values[t : t + w]`` (no copy).

    Examples
    --------
    >>> sliding(np.arange(4))[1, :3]
    array([1, 2, 3])

    Notes
    -----
    O(n) memory (one padded copy of ``values``), O(1) per view.
    """
    n = len(values)
    padded = np.concatenate([values, np.zeros(n, dtype=values.dtype)])
    step = padded.strides[0]
    return as_strided(padded, shape=(n, n), strides=(step, step), writeable=False)


class IntervalDP:
    """Tables of the interval DP over items ``1..n_items``; see the module notes.

    Attributes
    ----------
    cost_a : ndarray
        ``cost_a[i, length] = C(i .. i+length−1)`` (start-major).
    cost_b : ndarray
        ``cost_b[j, N+1−length] = C(j−length+1 .. j)`` (end-major, so left parts are views).
    split : ndarray
        ``split[i, length]`` = the chosen right-part length ``s`` (int16 below 32767 items,
        else int32).
    """

    def __init__(self, n_items: int, dtype: Any = np.int64) -> None:
        self.n_items = n = n_items
        self.dtype = np.dtype(dtype)
        self.cost_a = np.zeros((n + 2, n + 2), dtype=self.dtype)
        self.cost_b = np.zeros((n + 2, n + 2), dtype=self.dtype)
        # a split is at most n: 2 bytes per entry up to 32766 items
        self.split = np.zeros((n + 2, n + 2), dtype=np.int16 if n < 2**15 - 1 else np.int32)

    def run(
        self,
        price: Callable[[Block], np.ndarray],
        *,
        tie_break: Callable[[Block, np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None = None,
        on_length: Callable[[int, np.ndarray], Any] | None = None,
        progress: ProgressFn | None = None,
    ) -> IntervalDP:
        """Fill the tables for lengths ``2..N`` (see the module notes); returns ``self``."""
        n_items, cost_a, cost_b = self.n_items, self.cost_a, self.cost_b
        native = self.dtype != object
        buffer = np.empty((n_items // 2 + 1) * (n_items - n_items // 2), self.dtype)
        total_work = (n_items**3 - n_items) // 6
        done = 0
        for length in range(2, n_items + 1):
            count, width = n_items - length + 1, length - 1
            block = Block(
                length,
                count,
                width,
                slice(1, count + 1),
                slice(length, n_items + 1),
                cost_a[1 : count + 1, 1:length],
                cost_b[length : n_items + 1, n_items + 1 - width : n_items + 1],
                buffer[: count * width].reshape(count, width)
                if native
                else np.empty((count, width), object),
            )
            total = price(block)
            cols = total.argmin(axis=1)
            rows = np.arange(count)
            best = total[rows, cols]
            if tie_break is not None and width > 1:
                ties = _ties(total, rows, cols, best)
                if ties.size:
                    cols[ties] = tie_break(block, total, best, ties)
            cost_a[1 : count + 1, length] = best
            cost_b[length : n_items + 1, n_items + 1 - length] = best
            self.split[1 : count + 1, length] = cols + 1
            if on_length is not None:
                on_length(length, cols)
            if progress is not None:
                done += count * width
                progress(done, total_work)
        return self

    def cost(self, first: int = 1, last: int | None = None) -> Any:
        """``C(first..last)`` (default: all items), as the table's scalar type."""
        last = self.n_items if last is None else last
        value = self.cost_a[first, last - first + 1]
        return int(value) if self.dtype.kind in "iuO" else value

    def split_of(self, first: int, last: int) -> int:
        """The last item of the right part of ``first..last``."""
        return first + int(self.split[first, last - first + 1]) - 1

    def tree(self) -> Tree:
        """The optimal bracketing, ``(left, right)`` pairs of 1-based item numbers."""
        if self.n_items == 1:
            return 1
        return tree_from_splits(self.split_of, self.n_items)


def _ties(total: np.ndarray, rows: np.ndarray, cols: np.ndarray, best: np.ndarray) -> np.ndarray:
    """Rows where a second split attains the minimum (the minimum masked, then compared)."""
    if total.dtype == object:
        sentinel: Any = total.max() + 1
    elif total.dtype.kind == "f":
        sentinel = np.inf
    else:
        sentinel = np.iinfo(total.dtype).max
    total[rows, cols] = sentinel
    ties = np.flatnonzero(total.min(axis=1) == best)
    total[rows, cols] = best
    return ties


def solve_intervals(
    n_items: int,
    price: Callable[[Block], np.ndarray],
    dtype: Any = np.int64,
    **hooks: Any,
) -> IntervalDP:
    """Run the engine over items ``1..n_items`` (see the module notes for ``price`` and hooks).

    Examples
    --------
    Matrix chain with dims ``d`` (link ``l`` is ``d_l × d_{l-1}``):

    >>> d = np.array([30, 35, 15, 5, 10, 20, 25])
    >>> q = sliding(d)
    >>> def price(b):
    ...     np.multiply((d[b.ends] * d[: b.count])[:, None], q[b.starts, : b.width], out=b.out)
    ...     return np.add(np.add(b.out, b.right, out=b.out), b.left, out=b.out)
    >>> dp = solve_intervals(6, price)
    >>> dp.cost(), dp.tree()
    (15125, ((6, (5, 4)), ((3, 2), 1)))

    Notes
    -----
    O(N³) price evaluations in O(N) calls to ``price``; O(N²) memory.
    """
    return IntervalDP(n_items, dtype).run(price, **hooks)

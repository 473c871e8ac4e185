"""Exact optimal bracketing by dynamic programming over the matrix chain, vectorised.

The classic recurrence ``cost(i..j) = min_k cost(i..k) + cost(k+1..j) + product(k)`` is solved
by the interval engine (:mod:`chainorder.solvers.interval`) one interval length at a time;
this module supplies the prices. Each length is a handful of whole-array NumPy operations
over an ``(intervals × splits)`` block whose two cost operands are *views* (no gathers), and
the shared widths ``d_k`` come from a sliding window over the dims.

Products are priced by structure (:mod:`chainorder.cost`), so diagonal (elementwise) links
are exploited. Ties in multiplications are broken by the lower ``given``-setting peak memory
(exact: both keys are monotone in the sub-solutions), then in favour of a pure mode
(forward, then reverse), then by the smallest right factor.

Integers are exact: int64 when the largest possible cost fits, Python ints (object arrays)
otherwise.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from chainorder.chain import Chain, Structure
from chainorder.cost import pure_mode_mults
from chainorder.errors import ChainTooLongError
from chainorder.memory import given_memory
from chainorder.solvers.interval import Block, IntervalDP, ProgressFn, sliding
from chainorder.tree import Tree, flatten, forward_tree, reverse_tree, tree_from_splits
from chainorder.units import format_bytes

__all__ = ["MAX_EXACT_LINKS", "DPResult", "optimal_tree", "solve_dp"]

#: The exact solver's (L+2)×(L+2) tables: two of int64 costs, an int16 split table and an
#: L²/4 scratch block (20 bytes per entry), plus two peak tables (int32 or int64) only once
#: a tie in mults needs them: at most 36 bytes per entry, about 0.9 GB at 5000 links (and
#: minutes of time). Longer chains are refused (dense ones go to Hu–Shing before that).
MAX_EXACT_LINKS = 5000

_INT64_SAFE = 2**62


class DPResult:
    """A solved chain: ``mults`` of the optimum, the split table and the optimal tree."""

    __slots__ = ("chain", "mults", "n_links", "split")

    def __init__(self, chain: Chain, mults: int, split: np.ndarray) -> None:
        self.chain = chain
        self.mults = mults
        self.split = split
        self.n_links = chain.n_links

    @property
    def peak_elements(self) -> int:
        """``given``-setting peak of the optimal tree (inputs + intermediates)."""
        return given_memory(self.chain, flatten(self.tree(), self.n_links)).peak_elements

    def tree(self) -> Tree:
        """The optimal tree (before the pure-mode tie-break)."""
        if self.n_links == 1:
            return 1
        split = self.split
        return tree_from_splits(lambda i, j: i + int(split[i, j - i + 1]) - 1, self.n_links)


def _table_bytes(n_links: int) -> int:
    return 36 * (n_links + 2) ** 2  # the worst case: peak tables of int64


def solve_dp(chain: Chain, progress: ProgressFn | None = None) -> DPResult:
    """Solve the chain exactly; see the module notes.

    Parameters
    ----------
    chain : Chain
    progress : callable, optional
        ``progress(done, total)`` after each interval length (split evaluations so far and
        in all), e.g. to drive a progress bar.

    Returns
    -------
    DPResult
        ``mults`` of the optimum and the split table (``.tree()``, ``.peak_elements``).

    Raises
    ------
    ChainTooLongError
        ``L > MAX_EXACT_LINKS``.

    Examples
    --------
    >>> solve_dp(Chain.from_dims([30, 35, 15, 5, 10, 20, 25])).mults
    15125

    Notes
    -----
    O(L³) arithmetic in O(L) NumPy calls per interval length (O(L) lengths), O(L²) memory;
    the loop is :mod:`chainorder.solvers.interval`'s engine, the prices are set here.
    """
    L = chain.n_links
    if L > MAX_EXACT_LINKS:
        raise ChainTooLongError(
            f"chain has {L} links; the exact solver handles at most {MAX_EXACT_LINKS} "
            f"(its O(L²) tables would need about {format_bytes(_table_bytes(L))} and O(L³) "
            "time); use --mode forward or --mode reverse, which need no search"
        )
    dims = chain.dims
    big = max(dims)
    dtype: type | np.dtype = np.int64 if (L + 3) * big**3 < _INT64_SAFE else object
    d = np.array(dims, dtype=dtype)
    dense_prefix = np.zeros(L + 1, dtype=np.int64)
    dense_prefix[1:] = np.cumsum([s is Structure.DENSE for s in chain.structures])
    all_dense = chain.is_dense

    engine = IntervalDP(L, dtype)
    # windows[t, :w] = d[t : t + w] for every t and w, as one strided view (no copies)
    windows = sliding(d)
    prefix_windows = sliding(dense_prefix)
    # the two peak tables are allocated at the first tie in mults (never, for most chains),
    # int32 or uint32 when every peak fits
    # (at most one live intermediate per level of the tree: (L + 3)·max(d)² elements);
    # peaks are never negative, so uint32 holds them up to 2^32
    peak_bound = (L + 3) * big**2
    peak_dtype: Any = dtype
    if dtype is not object and peak_bound < 2**32:
        peak_dtype = np.int32 if peak_bound < 2**31 else np.uint32
    state: dict[str, Any] = {"upto": 1, "tables": None}  # peaks valid for lengths 1..upto

    def tables_now() -> _Tables:
        if state["tables"] is None:
            peak_a = np.zeros((L + 2, L + 2), dtype=peak_dtype)
            peak_b = np.zeros((L + 2, L + 2), dtype=peak_dtype)
            state["tables"] = _Tables(
                d, dense_prefix, windows, prefix_windows, peak_a, peak_b, all_dense, L
            )
        return state["tables"]  # type: ignore[no-any-return]

    def price(b: Block) -> np.ndarray:
        """right + left + the product (i..k) by (k+1..j): d_j · d_k · d_{i-1} when dense."""
        n = b.count
        q = windows[b.starts, : b.width]  # d_k, k = i+s-1
        p = d[b.ends]  # d_j
        r = d[0:n]  # d_{i-1}
        pr = p * r
        total = b.out
        if all_dense:
            np.multiply(pr[:, None], q, out=total)
        else:
            pk = prefix_windows[b.starts, : b.width]
            right_diag = pk == dense_prefix[0:n, None]
            left_diag = dense_prefix[b.ends, None] == pk
            np.copyto(total, np.where(left_diag | right_diag, pr[:, None], pr[:, None] * q))
            row_diag = dense_prefix[b.ends] == dense_prefix[0:n]
            if row_diag.any():
                total[row_diag] = p[row_diag, None]
        total += b.right
        total += b.left
        return total

    def tie_break(b: Block, total: np.ndarray, best: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Among splits tied in mults, the lowest given-setting peak (first on a tie)."""
        # peak tables are filled lazily: only a tie in mults ever reads them
        tables = tables_now()
        state["upto"] = _fill_peaks(tables, engine.split, state["upto"], b.length - 1)
        sel: np.ndarray | slice = slice(None) if rows.size == b.count else rows  # views
        pk_t = _split_peaks(tables, b.length, sel, None)
        pk_t[total[sel] != best[sel, None]] = pk_t.max() + 1  # untied splits
        return pk_t.argmin(axis=1)

    def on_length(length: int, cols: np.ndarray) -> None:
        if state["tables"] is not None:
            state["upto"] = _fill_peaks(state["tables"], engine.split, state["upto"], length)

    engine.run(price, tie_break=tie_break, on_length=on_length, progress=progress)
    return DPResult(chain, engine.cost(), engine.split)


def _fill_peaks(t: _Tables, split: np.ndarray, done: int, target: int) -> int:
    """Fill the peak tables for interval lengths ``done + 1 .. target`` from the splits."""
    L = t.n_links
    for length in range(done + 1, target + 1):
        n = L - length + 1
        chosen = _split_peaks(t, length, np.arange(n), split[1 : n + 1, length] - 1)
        t.peak_a[1 : n + 1, length] = chosen
        t.peak_b[length : L + 1, L + 1 - length] = chosen
    return max(done, target)


class _Tables(NamedTuple):
    d: np.ndarray
    dense_prefix: np.ndarray
    windows: np.ndarray
    prefix_windows: np.ndarray
    peak_a: np.ndarray
    peak_b: np.ndarray
    all_dense: bool
    n_links: int


def _split_peaks(
    t: _Tables, length: int, sel: np.ndarray | slice, cols: np.ndarray | None
) -> np.ndarray:
    """Given-setting extra peak of intervals of ``length`` starting at ``sel + 1``.

    ``cols`` picks one split per row (right factor length ``cols + 1``); ``None`` means
    every split, giving a 2-D block built from strided views like the cost block.
    """
    d, prefix, L = t.d, t.dense_prefix, t.n_links
    n, w = L - length + 1, length - 1
    if cols is None:
        q = t.windows[1 : n + 1, :w][sel]  # d_k
        di = d[0:n][sel][:, None]
        dj = d[length : L + 1][sel][:, None]
        p_r = t.peak_a[1 : n + 1, 1:length][sel]
        p_l = t.peak_b[length : L + 1, L + 1 - w : L + 1][sel]
        if not t.all_dense:
            pk = t.prefix_windows[1 : n + 1, :w][sel]
            rdiag = pk == prefix[0:n][sel][:, None]
            ldiag = prefix[length : L + 1][sel][:, None] == pk
        first, last = (slice(None), 0), (slice(None), -1)
    else:
        i = sel + 1
        j = i + w
        s = cols + 1
        k = i + s - 1
        q, di, dj = d[k], d[i - 1], d[j]
        p_r = t.peak_a[i, s]
        p_l = t.peak_b[j, L + 1 - length + s]
        if not t.all_dense:
            rdiag = prefix[k] == prefix[i - 1]
            ldiag = prefix[j] == prefix[k]
        first, last = s == 1, s == w
    if t.all_dense:
        size_r, size_l, size_n = q * di, dj * q, dj * di
        size_r[first] = 0  # a single link is an input, not an intermediate
        size_l[last] = 0
        # in place, the fewest passes: max(both, min(max(p_r, s_r + p_l), max(p_l, s_l + p_r)))
        both = size_r + size_l
        both += size_n
        right_first = np.add(size_r, p_l, out=size_r)
        np.maximum(right_first, p_r, out=right_first)
        left_first = np.add(size_l, p_r, out=size_l)
        np.maximum(left_first, p_l, out=left_first)
        np.minimum(right_first, left_first, out=right_first)
        return np.maximum(right_first, both, out=right_first)
    else:
        size_r = np.where(rdiag, q, q * di)
        size_l = np.where(ldiag, dj, dj * q)
        size_n = np.where(rdiag & ldiag, dj, dj * di)
    size_r[first] = 0  # a single link is an input, not an intermediate
    size_l[last] = 0
    both = size_r + size_l + size_n
    right_first = np.maximum(np.maximum(p_r, size_r + p_l), both)
    left_first = np.maximum(np.maximum(p_l, size_l + p_r), both)
    return np.minimum(right_first, left_first)


def optimal_tree(chain: Chain, progress: ProgressFn | None = None) -> Tree:
    """The tree of fewest multiplications; ties as in the module notes.

    Parameters
    ----------
    chain : Chain
    progress : callable, optional
        Passed to :func:`solve_dp`.

    Returns
    -------
    Tree

    Raises
    ------
    ChainTooLongError
        ``L > MAX_EXACT_LINKS``.

    Examples
    --------
    >>> optimal_tree(Chain.from_dims([30, 35, 15, 5, 10, 20, 25]))
    ((6, (5, 4)), ((3, 2), 1))
    >>> optimal_tree(Chain.from_dims([1, 100, 100, 100]))  # d_0 = 1: forward is optimal
    (3, (2, 1))

    Notes
    -----
    O(L³) time, O(L²) memory (see :func:`solve_dp`).
    """
    result = solve_dp(chain, progress)
    if chain.n_links == 1:
        return 1
    for reverse in (False, True):
        if pure_mode_mults(chain, reverse) != result.mults:
            continue  # cheap O(L) check first; the peak only matters on a tie
        pure = reverse_tree(chain.n_links) if reverse else forward_tree(chain.n_links)
        if given_memory(chain, flatten(pure, chain.n_links)).peak_elements == result.peak_elements:
            return pure
    return result.tree()

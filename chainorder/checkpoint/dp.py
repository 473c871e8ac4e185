"""Exact Pareto fronts of checkpointed bracketings in the streamed setting.

For every interval of links ``lo..hi`` and every context ``F``, ``K``, ``A`` (see
:mod:`chainorder.checkpoint.decisions`) the DP keeps the Pareto front of (peak elements,
mults) over every bracketing of the interval, every child order and every keep/drop choice
(``LFA`` caches the earlier links' activations, ``LFK`` keeps only the first and recomputes).
Mults are Jacobian-product mults plus recomputation mults (forward costs of the computes that
repeat). With ``splits`` the bracketing is fixed (one tree), and only the orders and keep/drop
choices are searched.

Peaks of the options (``s``: product sizes, ``both = s_a + s_b + s_node``, ``after = d_hi``
when ``hi < L``, ``cache(i..j) = d_i + … + d_j``, ``adv`` the most elements alive while
recomputing ``x_lo..x_m`` from ``x_{lo-1}`` without keeping them)::

    F·RF  = max(both + after, F(b), s_b + F(a))
    F·LFA = max(both + after, cache(lo-1..m-1) + F(a), s_a + after + A(b))
    F·LFK = max(both + after, d_{lo-1} + adv, d_{lo-1} + F(a), s_a + after + K(b))
    K·RF  = max(both, F(b), s_b + K(a))                                 + fwd(lo..m) mults
    K·LFA = max(both, cache(lo-1..m-1) + K(a), s_a + A(b))              + fwd(lo..m) mults
    K·LFK = max(both, d_{lo-1} + adv, d_{lo-1} + K(a), s_a + K(b))      + fwd(lo..m) mults
    A·RF  = max(both, cache(m..hi-1) + A(b), s_b + A(a));  A·LFA = max(both,
            cache(lo-1..m-1) + A(a), s_a + A(b))

with ``a`` the later links ``m+1..hi`` and ``b`` the earlier ``lo..m``. A leaf costs
``d_{l-1} + |J_l| (+ after in F)``. Costs of ``F`` exclude the first computation of
``x_lo..x_hi`` (the forward pass), which every plan pays once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from chainorder.checkpoint.decisions import CHILD_CONTEXTS, Decision
from chainorder.checkpoint.model import ChainFigures
from chainorder.checkpoint.pareto import Front, combine, prune

__all__ = ["TreeFronts", "tree_fronts"]

SplitFn = Callable[[int, int], Iterable[int]]


class TreeFronts:
    """The fronts of every (interval, context) and the decisions behind their points.

    Examples
    --------
    >>> from chainorder.chain import Chain
    >>> tf = tree_fronts(ChainFigures.of(Chain.from_dims([3, 4, 5])))
    >>> [(p, c) for p, c, _ in tf.root]
    [(47, 60)]
    >>> tf.decision(0).order
    'RF'

    Notes
    -----
    See :func:`tree_fronts`.
    """

    def __init__(self, fig: ChainFigures, fronts: dict[tuple[int, int, str], Front]) -> None:
        self.fig = fig
        self.fronts = fronts

    @property
    def root(self) -> Front:
        """The front of the whole chain in context ``F`` (what a plan starts from)."""
        return self.fronts[(1, self.fig.n, "F")]

    def decision(self, j: int, lo: int = 1, hi: int | None = None, ctx: str = "F") -> Decision:
        """The evaluation behind point ``j`` of the front of ``(lo, hi, ctx)``.

        Notes
        -----
        O(L), iterative.
        """
        hi = self.fig.n if hi is None else hi
        built: dict[tuple[int, int, str, int], Decision] = {}
        stack = [(lo, hi, ctx, j, False)]
        while stack:
            lo_, hi_, ctx_, j_, done = stack.pop()
            tag, idx = self.fronts[(lo_, hi_, ctx_)][j_][2]  # type: ignore[misc]
            if tag == "leaf":
                built[(lo_, hi_, ctx_, j_)] = Decision(lo_, hi_, ctx_, "leaf")
                continue
            order, m = tag
            left_first, c1, c2 = CHILD_CONTEXTS[(ctx_, order)]
            a, b = (m + 1, hi_), (lo_, m)
            first, second = (a, b) if left_first else (b, a)
            keys = [(*first, c1, idx[0]), (*second, c2, idx[1])]
            if not done:
                stack.append((lo_, hi_, ctx_, j_, True))
                stack.extend((*k, False) for k in keys if k not in built)
                continue
            kids = [built[k] for k in keys]
            left, right = (kids[0], kids[1]) if left_first else (kids[1], kids[0])
            built[(lo_, hi_, ctx_, j_)] = Decision(lo_, hi_, ctx_, order, left, right)
        return built[(lo, hi, ctx, j)]


def tree_fronts(
    fig: ChainFigures, splits: SplitFn | None = None, limit: int | None = None
) -> TreeFronts:
    """Pareto fronts (peak elements, Jacobian + recomputation mults) of every interval.

    Parameters
    ----------
    fig : ChainFigures
    splits : callable, optional
        ``splits(lo, hi)`` yields the split points ``m`` (``lo ≤ m < hi``) to consider; by
        default every one (every bracketing). A fixed tree gives one split per interval,
        and only the intervals of its nodes are computed.
    limit : int, optional
        Peak limit in elements: points above it are dropped as soon as they appear (a
        subplan's peak never exceeds its parent's).

    Returns
    -------
    TreeFronts

    Examples
    --------
    >>> from chainorder.chain import Chain
    >>> fig = ChainFigures.of(Chain.from_dims([2, 3, 4, 5]))
    >>> [(p, c) for p, c, _ in tree_fronts(fig).root]
    [(38, 64)]
    >>> [(p, c) for p, c, _ in tree_fronts(fig, splits=lambda lo, hi: [lo]).root]  # one tree
    [(49, 90)]

    Notes
    -----
    Every bracketing: O(L³) combinations of fronts, each O(F) for fronts of at most F
    points: O(L³·F) time, O(L²·F) memory. A fixed tree: O(L·F).
    """
    n = fig.n
    d = fig.d
    fronts: dict[tuple[int, int, str], Front] = {}
    if splits is None:
        intervals = [(lo, lo + length) for length in range(n) for lo in range(1, n - length + 1)]
    else:
        intervals = _tree_intervals(n, splits)
    for lo, hi in intervals:
        after = d[hi] if hi < n else 0
        s = fig.size(lo, hi)
        if lo == hi:
            base = d[lo - 1] + s
            fronts[(lo, hi, "F")] = prune([(base + after, 0, ("leaf", None))], limit)
            fronts[(lo, hi, "K")] = prune([(base, 0, ("leaf", None))], limit)
            fronts[(lo, hi, "A")] = prune([(base, 0, ("leaf", None))], limit)
            continue
        cand: dict[str, Front] = {"F": [], "K": [], "A": []}
        ms = range(lo, hi) if splits is None else splits(lo, hi)
        for m in ms:
            sa, sb = fig.size(m + 1, hi), fig.size(lo, m)
            both = sa + sb + s
            mult = fig.mults(lo, m, hi)
            redo = fig.fwd(lo, m)
            keep = d[lo - 1] + fig.advance(lo - 1, m)
            cached = fig.cache(lo - 1, m - 1)
            Fa, Fb = fronts[(m + 1, hi, "F")], fronts[(lo, m, "F")]
            Ka, Kb = fronts[(m + 1, hi, "K")], fronts[(lo, m, "K")]
            Aa, Ab = fronts[(m + 1, hi, "A")], fronts[(lo, m, "A")]
            fa = cand["F"]
            fa += combine(both + after, mult, [(Fb, 0), (Fa, sb)], limit, ("RF", m))
            fa += combine(both + after, mult, [(Fa, cached), (Ab, sa + after)], limit, ("LFA", m))
            fa += combine(
                max(both + after, keep),
                mult,
                [(Fa, d[lo - 1]), (Kb, sa + after)],
                limit,
                ("LFK", m),
            )
            ka = cand["K"]
            ka += combine(both, mult + redo, [(Fb, 0), (Ka, sb)], limit, ("RF", m))
            ka += combine(both, mult + redo, [(Ka, cached), (Ab, sa)], limit, ("LFA", m))
            ka += combine(
                max(both, keep), mult + redo, [(Ka, d[lo - 1]), (Kb, sa)], limit, ("LFK", m)
            )
            aa = cand["A"]
            aa += combine(both, mult, [(Ab, fig.cache(m, hi - 1)), (Aa, sb)], limit, ("RF", m))
            aa += combine(both, mult, [(Aa, cached), (Ab, sa)], limit, ("LFA", m))
        for ctx, points in cand.items():
            fronts[(lo, hi, ctx)] = prune(points, limit)
    return TreeFronts(fig, fronts)


def _tree_intervals(n: int, splits: SplitFn) -> list[tuple[int, int]]:
    """The intervals of one tree's nodes, children before parents."""
    order: list[tuple[int, int]] = []
    stack = [(1, n, False)]
    while stack:
        lo, hi, done = stack.pop()
        if lo == hi or done:
            order.append((lo, hi))
            continue
        (m,) = tuple(splits(lo, hi))
        stack.extend([(lo, hi, True), (m + 1, hi, False), (lo, m, False)])
    return order

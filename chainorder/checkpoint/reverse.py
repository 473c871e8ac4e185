"""Reverse sweep with nested checkpoints: the exact Pareto DP for heterogeneous chains.

The reverse sweep forms ``J_L, J_{L-1}, …, J_1`` in that order, multiplying each into the
running product ``G = J_L ⋯ J_{t+1}`` (``g_t`` elements, 0 before the first). ``R(s, t)``
reverses links ``s+1..t`` with ``x_s`` alive (owned) and ``G`` alive: either ``t = s+1`` (form
``J_t`` from ``x_s``, drop ``x_s``, multiply), or it recomputes ``x_{s+1}..x_{s'}`` from ``x_s``
keeping only ``x_s`` and ``x_{s'}`` (a checkpoint), reverses ``s'+1..t`` from ``x_{s'}``, then
``s+1..s'`` from ``x_s`` again — the persistent, nested schedules of revolve (Griewank &
Walther) and of rotor's DP for heterogeneous chains (Beaumont et al.); taking ``s' = s+1``
every time stores every activation. Peaks::

    R(s, s+1) = max(d_s + g_{s+1} + |J_{s+1}|, g_{s+1} + |J_{s+1}| + g_s)   (d_s + |J_L| at L)
    R(s, t)   = min over s' of  max(d_s + g_t + adv(s, s'), d_s + R(s', t), R(s, s'))
                with cost fwd(s+1..s') + cost R(s', t) + cost R(s, s')

kept as Pareto fronts (peak, mults) — exact, no discretised memory axis. The first pass of
``R(0, L)`` computes every ``x_k`` once; everything beyond is recomputation.
"""

from __future__ import annotations

from collections.abc import Callable

from chainorder.checkpoint.model import ChainFigures
from chainorder.checkpoint.pareto import Front, combine, prune
from chainorder.memory import Event
from chainorder.tree import FlatTree

__all__ = ["ReverseFronts", "nested_fronts", "reverse_events", "reverse_fronts"]


class ReverseFronts:
    """Fronts of ``R(s, t)`` (peak elements, all forward mults of the sweep).

    Examples
    --------
    >>> from chainorder.chain import Chain
    >>> rf = reverse_fronts(ChainFigures.of(Chain.from_dims([4, 4, 4, 4, 4, 4, 1])))
    >>> [(p, c) for p, c, _ in rf.root]  # fewer stored activations, more recomputation
    [(28, 176), (32, 112), (36, 96), (40, 80)]

    Notes
    -----
    See :func:`reverse_fronts`.
    """

    def __init__(self, fig: ChainFigures, fronts: dict[tuple[int, int], Front]) -> None:
        self.fig = fig
        self.fronts = fronts

    @property
    def root(self) -> Front:
        """The front of ``R(0, L)``; costs are the sweep's forward mults, first pass included."""
        return self.fronts[(0, self.fig.n)]

    def cuts(self, j: int) -> list[tuple[int, int, int | None]]:
        """``(s, t, s')`` of every step behind point ``j`` of :attr:`root`, in execution order
        (``s' = None`` for a single step)."""
        out: list[tuple[int, int, int | None]] = []
        stack = [(0, self.fig.n, j)]
        while stack:
            s, t, k = stack.pop()
            choice = self.fronts[(s, t)][k][2]
            if choice is None:
                out.append((s, t, None))
                continue
            cut, (k1, k2) = choice  # type: ignore[misc]
            out.append((s, t, cut))
            stack.append((s, cut, k2))
            stack.append((cut, t, k1))
        return out


def reverse_fronts(
    fig: ChainFigures, limit: int | None = None, positions: list[int] | None = None
) -> ReverseFronts:
    """Pareto fronts of the checkpointed reverse sweep (see the module notes).

    Parameters
    ----------
    fig : ChainFigures
    limit : int, optional
        Peak limit in elements; points above it are dropped as soon as they appear.
    positions : list of int, optional
        Activations that may be checkpoints (default: all of ``x_1..x_{L-1}``). With a
        restricted list, the stretch between two chosen checkpoints is reversed with all of
        its activations stored (``R(s, t)`` for non-adjacent ``s, t`` gains that option).

    Examples
    --------
    >>> from chainorder.chain import Chain
    >>> fig = ChainFigures.of(Chain.from_dims([4, 4, 4, 4, 4, 4, 1]))
    >>> [(p, c) for p, c, _ in reverse_fronts(fig, limit=32).root]
    [(28, 176), (32, 112)]
    >>> [(p, c) for p, c, _ in reverse_fronts(fig, positions=[3]).root]
    [(32, 112), (40, 80)]

    Notes
    -----
    O(P³) combinations of fronts of at most F points for P positions: O(P³·F) time,
    O(P²·F) memory, plus O(P²·L) for the stored stretches.
    """
    n = fig.n
    g = [fig.size(t + 1, n) if t < n else 0 for t in range(n + 1)]
    stretch = lambda s, t: _stored_peak(fig, g, s, t)  # noqa: E731
    return ReverseFronts(fig, nested_fronts(fig, g, stretch, limit, positions))


def nested_fronts(
    fig: ChainFigures,
    g: list[int],
    stretch_peak: Callable[[int, int], int],
    limit: int | None = None,
    positions: list[int] | None = None,
    *,
    always_stretch: bool = False,
) -> dict[tuple[int, int], Front]:
    """The nested-checkpoint recursion shared by the reverse and the adjoint sweep.

    ``g[t]`` is what the sweep carries past ``x_t`` (the running product, or the adjoint
    block); ``stretch_peak(s, t)`` the peak of reversing ``s+1..t`` from ``x_s`` with every
    activation between stored. A stretch is a candidate for adjacent ``s, t``, for every pair
    when ``positions`` restricts the checkpoints, and always with ``always_stretch``.

    Examples
    --------
    >>> from chainorder.chain import Chain
    >>> fig = ChainFigures.of(Chain.from_dims([4, 4, 4]))
    >>> sorted(nested_fronts(fig, [8, 4, 0], lambda s, t: 10 * (t - s)))
    [(0, 1), (0, 2), (1, 2)]

    Notes
    -----
    O(P³·F) time and O(P²·F) memory for P positions and fronts of at most F points.
    """
    n, d = fig.n, fig.d
    every = positions is None
    pos = list(range(n + 1)) if every else sorted({0, n, *positions})  # type: ignore[misc]
    fronts: dict[tuple[int, int], Front] = {}
    for length in range(1, len(pos)):
        for i in range(0, len(pos) - length):
            s, t = pos[i], pos[i + length]
            points: Front = []
            if always_stretch or t == s + 1 or not every:
                points.append((stretch_peak(s, t), fig.fwd(s + 1, t - 1), None))
            for cut in pos[i + 1 : i + length]:
                const = d[s] + g[t] + fig.advance(s, cut)
                parts = [(fronts[(cut, t)], d[s]), (fronts[(s, cut)], 0)]
                points += combine(const, fig.fwd(s + 1, cut), parts, limit, cut)
            fronts[(s, t)] = prune(points, limit)
    return fronts


def _stored_peak(fig: ChainFigures, g: list[int], s: int, t: int) -> int:
    """Peak of reversing ``s+1..t`` from ``x_s`` after storing ``x_{s+1}..x_{t-1}``."""
    n, d = fig.n, fig.d
    live = g[t] + fig.cache(s, t - 1)  # after the stores
    peak = live
    for u in range(t, s, -1):
        j = fig.size(u, u)
        peak = max(peak, live + j)  # form J_u from x_{u-1}
        live -= d[u - 1]
        if u < n:
            peak = max(peak, live + j + g[u - 1])  # G_{u-1} = G_u · J_u
        live += g[u - 1] - g[u]  # J_L itself becomes G at u = L
    return peak


def reverse_events(
    n_links: int, flat: FlatTree, cuts: list[tuple[int, int, int | None]]
) -> list[Event]:
    """Events of a checkpointed reverse sweep on the reverse tree ``flat``.

    Examples
    --------
    >>> from chainorder.tree import flatten, reverse_tree
    >>> ft = flatten(reverse_tree(2), 2)
    >>> [(e.kind, e.index) for e in reverse_events(2, ft, [(0, 2, 1), (1, 2, None), (0, 1, None)])]
    [('compute', 1), ('form', 2), ('release', 1), ('form', 1), ('release', 0), \
('multiply', 2), ('free', 0), ('free', 1)]

    Notes
    -----
    O(number of events).
    """
    index = {(flat.lo[i], flat.hi[i]): i for i in range(len(flat.lo))}
    events: list[Event] = []
    for s, t, cut in cuts:
        if cut is not None:
            for k in range(s + 1, cut + 1):
                events.append(Event("compute", k))
                if k - 1 > s:
                    events.append(Event("release", k - 1))
            continue
        events += [Event("compute", k) for k in range(s + 1, t)]  # stored stretch
        for u in range(t, s, -1):
            events += [Event("form", u), Event("release", u - 1)]
            if u < n_links:
                acc, leaf = index[(u + 1, n_links)], index[(u, u)]
                events += [
                    Event("multiply", index[(u, n_links)]),
                    Event("free", acc),
                    Event("free", leaf),
                ]
    return events

"""Brute-force references for the checkpoint planners (small chains only).

:func:`brute_force_front` enumerates every bracketing × every child order × every keep/drop
choice, and every nested checkpoint schedule of the reverse sweep, writes each one's event
list and measures it by replay (:func:`chainorder.memory.simulate_peak`,
:func:`chainorder.checkpoint.events.replay`) — no DP formula is used. The DP's front must equal
it. :func:`reverse_sweep_optimum` searches *every* valid event sequence of the reverse sweep
(any compute, any release, at any time) by a shortest-path search, a reference beyond the
nested schedules the DP builds.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator

from chainorder.chain import Chain
from chainorder.checkpoint.decisions import CHILD_CONTEXTS, Decision, decision_tree
from chainorder.checkpoint.events import decision_events, replay
from chainorder.checkpoint.forward_cost import forward_costs
from chainorder.checkpoint.model import ChainFigures
from chainorder.checkpoint.pareto import prune
from chainorder.checkpoint.reverse import reverse_events
from chainorder.cost import tree_cost
from chainorder.memory import simulate_peak
from chainorder.tree import flatten, reverse_tree

__all__ = ["brute_force_front", "reverse_sweep_optimum"]


def _decisions(lo: int, hi: int, ctx: str) -> Iterator[Decision]:
    if lo == hi:
        yield Decision(lo, hi, ctx, "leaf")
        return
    for m in range(lo, hi):
        for (c, order), (left_first, c1, c2) in CHILD_CONTEXTS.items():
            if c != ctx:
                continue
            ca, cb = (c1, c2) if left_first else (c2, c1)
            for a in _decisions(m + 1, hi, ca):
                for b in _decisions(lo, m, cb):
                    yield Decision(lo, hi, ctx, order, a, b)


def _cut_schedules(s: int, t: int) -> Iterator[list[tuple[int, int, int | None]]]:
    if t == s + 1:
        yield [(s, t, None)]
        return
    for cut in range(s + 1, t):
        for upper in _cut_schedules(cut, t):
            for lower in _cut_schedules(s, cut):
                yield [(s, t, cut), *upper, *lower]


def brute_force_front(chain: Chain, costs: tuple[int, ...] | None = None) -> list[tuple[int, int]]:
    """``(peak elements, Jacobian + recomputation mults)`` front by enumeration and replay.

    Examples
    --------
    >>> brute_force_front(Chain.from_dims([4, 4, 4, 4, 1]))
    [(28, 64), (32, 48)]

    Notes
    -----
    Exponential: every tree, order and keep/drop choice (thousands at ``L = 5``).
    """
    costs = forward_costs(chain) if costs is None else costs
    n = chain.n_links
    points: list[tuple[int, int, object]] = []
    for dec in _decisions(1, n, "F"):
        tree = decision_tree(dec)
        flat = flatten(tree, n)
        events = decision_events(n, flat, dec)
        r = replay(chain, events, costs)
        peak = simulate_peak(chain, flat, events, "streamed")
        points.append((peak, tree_cost(chain, tree).mults + r.recompute_mults, None))
    flat = flatten(reverse_tree(n), n)
    jac = tree_cost(chain, flat).mults
    for cuts in _cut_schedules(0, n):
        events = reverse_events(n, flat, cuts)
        r = replay(chain, events, costs)
        peak = simulate_peak(chain, flat, events, "streamed")
        points.append((peak, jac + r.recompute_mults, None))
    return [(p, c) for p, c, _ in prune(points)]


def reverse_sweep_optimum(
    chain: Chain, limit: int, costs: tuple[int, ...] | None = None
) -> int | None:
    """Fewest recomputation mults of *any* reverse-sweep schedule with peak ≤ ``limit``.

    A state is (the set of live activations, the next Jacobian to form); moves compute an
    activation from its live predecessor, release one, or form the next ``J_t`` (from a live
    ``x_{t-1}``), optionally drop ``x_{t-1}``, and multiply it into the running product.
    Dijkstra on the forward mults spent; every state's live elements must stay ≤ ``limit``.
    ``None`` when nothing fits.

    Examples
    --------
    >>> reverse_sweep_optimum(Chain.from_dims([4, 4, 4, 4, 4, 4, 1]), 32)
    32

    Notes
    -----
    O(2^L · L²) states and moves: for chains of up to about 10 links.
    """
    fig = ChainFigures.of(chain, costs)
    n, d = fig.n, fig.d
    g = [fig.size(t + 1, n) if t < n else 0 for t in range(n + 1)]
    first_pass = fig.fwd(1, n - 1)

    def acts(mask: int) -> int:
        return sum(d[k] for k in range(n) if mask >> k & 1)

    start = (1, n)  # x_0 alive, next to form: J_n
    if d[0] + g[n] > limit:
        return None
    best = {start: 0}
    heap = [(0, start)]
    while heap:
        cost, (mask, t) = heapq.heappop(heap)
        if cost > best.get((mask, t), cost):
            continue
        if t == 0:
            return cost - first_pass
        base = acts(mask) + g[t]
        moves: list[tuple[int, int, int]] = []  # (extra cost, new mask, new t)
        for k in range(1, n):
            if mask >> (k - 1) & 1 and not mask >> k & 1 and base + d[k] <= limit:
                moves.append((fig.f[k], mask | 1 << k, t))
        for k in range(n):
            if mask >> k & 1:
                moves.append((0, mask & ~(1 << k), t))
        if mask >> (t - 1) & 1:
            j = fig.size(t, t)
            grown = g[t - 1] if t < n else 0  # J_n itself becomes the running product
            for drop in (True, False):
                after = base - (d[t - 1] if drop else 0)
                peak = max(base + j, after + j + grown)
                if peak <= limit:
                    new = mask & ~(1 << (t - 1)) if drop else mask
                    moves.append((0, new, t - 1))
        for extra, new_mask, new_t in moves:
            key = (new_mask, new_t)
            if cost + extra < best.get(key, cost + extra + 1):
                best[key] = cost + extra
                heapq.heappush(heap, (cost + extra, key))
    return None

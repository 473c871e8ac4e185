"""The exact elimination-order search, pruned before any state is copied.

Vertex elimination leaves the same graph whatever order eliminated a set of vertices (the
edges are the paths through the set; an edge is diagonal iff every path product is, and
stays an original partial iff nothing was added to it), so the cost of eliminating ``v``
next depends only on the set already eliminated. :func:`exact_order` is a depth-first
search over those sets in the order of the cheapest next step, with three savings over
copying and eliminating every child: a child whose cost already reaches the best complete
order, or a cost at which its set was reached before, is skipped *before* its state is
built; each set's state is built once and each (set, vertex) step priced once; and an
optional ``bound`` (the mults of an order known beforehand, plus one) prunes from the
first step. It visits the same sets in the same order as the unpruned search and returns
the same order (a test compares them).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

from chainorder.graph.elimstate import _State
from chainorder.graph.linearize import LinearizedGraph

__all__ = ["MAX_STATES", "exact_order", "forget_steps"]

#: Elimination states kept per graph between searches (each a few dictionaries of the
#: remaining edges); beyond this many a state is built again when a set is reached again.
MAX_STATES = 4096


def exact_order(
    lin: LinearizedGraph,
    subset: Sequence[str],
    state: _State | None = None,
    bound: int | None = None,
) -> tuple[int, tuple[str, ...]]:
    """The cheapest order of eliminating ``subset`` and its mults (without the final
    forming of partials that are still original, which no order changes).

    Parameters
    ----------
    lin : LinearizedGraph
    subset : sequence of str
        The vertices to eliminate (ties between orders go to the earlier vertex here).
    state : elimination state, optional
        The state to start from (default: nothing eliminated, ``"chainorder"`` pricing).
    bound : int, optional
        Only orders cheaper than ``bound`` are searched; give a known order's mults plus
        one (then the result is the same as without it, found sooner).

    Returns
    -------
    (int, tuple of str)
        ``(None, ())`` when no order is cheaper than ``bound``.

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.graph import trace
    >>> from chainorder.graph.linearize import linearize
    >>> W = np.ones((4, 4))
    >>> lin = linearize(trace(lambda x: W @ np.tanh(W @ x), np.ones(4)))
    >>> from itertools import permutations
    >>> from chainorder.graph.eliminate import eliminate
    >>> mults, order = exact_order(lin, lin.intermediates)
    >>> cheapest = min(eliminate(lin, o).mults for o in permutations(lin.intermediates))
    >>> eliminate(lin, order).mults == cheapest, exact_order(lin, order, bound=mults)
    (True, (None, ()))

    Notes
    -----
    O(2^I · I) elimination steps at worst for I vertices (one per set and vertex), far
    fewer when the cheapest orders are found early: every set reached at a cost at or
    above the best complete order is cut before its state is built.
    """
    subset = tuple(subset)
    state = _State(lin) if state is None else state
    full = (1 << len(subset)) - 1
    seen: dict[int, int] = {}
    # a step's price and a set's state depend only on what was eliminated (module
    # docstring): kept for every search of the same graph (the chain's blocks, then the
    # full search) until another graph is searched or :func:`forget_steps`
    steps, states = ({}, {}) if state.graphax else _caches(lin)
    index = {v: n for n, v in enumerate(lin.vertices)}
    bits = [1 << index[v] for v in subset]
    before = sum(1 << index[v] for v in lin.vertices if v not in state.pred)
    result: list = [bound, ()]

    def dfs(st: _State, done: int, gone: int, cost: int, order: tuple[int, ...]) -> None:
        seen[done] = cost
        if done == full:
            result[0], result[1] = cost, order
            return
        keys = {}
        for i in range(len(subset)):
            if not done >> i & 1:
                key = steps.get((gone, bits[i]))
                if key is None:
                    key = steps[(gone, bits[i])] = st.cost(subset[i])
                keys[i] = key
        for i in sorted(keys, key=keys.__getitem__):  # stable: ties keep subset order
            child_cost = cost + keys[i][0]
            if result[0] is not None and child_cost >= result[0]:
                continue
            child_done = done | 1 << i
            if seen.get(child_done, child_cost + 1) <= child_cost:
                continue
            child_gone = gone | bits[i]
            child = states.get(child_gone)
            if child is None and child_done != full:
                child = st.copy()
                child.eliminate(subset[i])
                if len(states) < MAX_STATES:
                    states[child_gone] = child
            dfs(child, child_done, child_gone, child_cost, (*order, i))

    dfs(state, 0, before, 0, ())
    if result[0] is None or (bound is not None and not result[1] and subset):
        return None, ()  # type: ignore[return-value]
    return result[0], tuple(subset[i] for i in result[1])


def forget_steps(lin: LinearizedGraph) -> int:
    """Drop the step prices and states :func:`exact_order` keeps for ``lin``; return how
    many step prices there were.

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.graph import trace
    >>> from chainorder.graph.linearize import linearize
    >>> lin = linearize(trace(lambda x: np.sin(np.exp(x)).sum(), np.zeros(2)))
    >>> _ = exact_order(lin, lin.intermediates)
    >>> forget_steps(lin) > 0, forget_steps(lin)
    (True, 0)

    Notes
    -----
    O(1).
    """
    if _CACHE[0] is None or _CACHE[0]() is not lin:
        return 0
    n = len(_CACHE[1])
    _CACHE[:] = [None, {}, {}]
    return n


#: The caches of the most recently searched graph: a weak reference to it, its step prices
#: ``{(eliminated set, vertex bit): (mults, Δnnz)}`` and states ``{eliminated set: state}``
#: (one graph at a time: memory stays bounded whoever holds plans).
_CACHE: list = [None, {}, {}]


def _caches(lin: LinearizedGraph) -> tuple[dict, dict]:
    if _CACHE[0] is None or _CACHE[0]() is not lin:
        _CACHE[:] = [weakref.ref(lin), {}, {}]
    return _CACHE[1], _CACHE[2]

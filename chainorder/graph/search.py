"""Simulated annealing over vertex-elimination orders.

Any permutation of the intermediates is a valid elimination order (Griewank & Walther,
ch. 9), and finding the cheapest is NP-complete (Naumann 2008). :func:`anneal_order` starts
from the best of the forward, reverse and Markowitz orders and of the
chain-through-cut-vertices plan (:func:`~chainorder.graph.chaincut.chain_reduction`), then
anneals: each step moves one vertex to another place in the order (or swaps two), keeps
the change when it is cheaper and otherwise with probability ``exp(-Δ/T)``, the
temperature falling geometrically over the run. Costs follow a counting convention of
:mod:`~chainorder.graph.eliminate` (``"chainorder"`` or ``"graphax"``).

On graphs of scalar vertices (every vertex one scalar, as in graphax's benchmark tasks) an
order is priced by a dedicated bitset evaluator (the same counts as
:func:`~chainorder.graph.eliminate.eliminate`, a test checks it), re-eliminating only the
suffix after the first changed position from stored prefix states.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from chainorder.errors import TraceError
from chainorder.graph.eliminate import _greedy, eliminate
from chainorder.graph.elimstate import _check_convention, _State
from chainorder.graph.linearize import LinearizedGraph

#: Starting and final temperature, in mults (tuned on graphax's scalar tasks).
_T_HI, _T_LO = 0.6, 0.05

__all__ = ["AnnealResult", "anneal_order", "scalar_order_cost"]


class _Bits:
    """A scalar graph as integer bitsets: ``pred``/``succ`` adjacency and, for the
    chainorder convention, ``upred``/``usucc``: the neighbours joined by a ±1 partial.

    Graphax convention: eliminating ``j`` costs ``|P|·|S|``; chainorder convention: the
    pairs with a ±1 factor are free, ``|P|·|S| − |P₁|·|S| − |P|·|S₁| + |P₁|·|S₁|``.
    """

    __slots__ = ("free", "pred", "succ", "upred", "usucc")

    def __init__(self, lin: LinearizedGraph, graphax: bool) -> None:
        index = {v: n for n, v in enumerate(lin.vertices)}
        self.free = not graphax
        self.pred = [0] * len(index)
        self.succ = [0] * len(index)
        self.upred = [0] * len(index)
        self.usucc = [0] * len(index)
        for (u, v), st in lin.edges.items():
            a, b = index[u], index[v]
            self.pred[b] |= 1 << a
            self.succ[a] |= 1 << b
            if st.unit and self.free:
                self.upred[b] |= 1 << a
                self.usucc[a] |= 1 << b

    def copy(self) -> _Bits:
        new = object.__new__(_Bits)
        new.free = self.free
        new.pred, new.succ = list(self.pred), list(self.succ)
        new.upred, new.usucc = list(self.upred), list(self.usucc)
        return new

    def eliminate(self, j: int) -> int:
        pred, succ, upred, usucc = self.pred, self.succ, self.upred, self.usucc
        bit = 1 << j
        p, s, keep = pred[j], succ[j], ~bit
        pu, su = upred[j], usucc[j]
        np_, ns = p.bit_count(), s.bit_count()
        mults = np_ * ns
        if self.free:
            npu, nsu = pu.bit_count(), su.bit_count()
            mults -= npu * ns + np_ * nsu - npu * nsu
        x = p
        while x:
            low = x & -x
            i = low.bit_length() - 1
            x ^= low
            if self.free:  # an existing edge i→k stops being ±1; a new one is if both are
                fresh = s & ~succ[i]
                usucc[i] = ((usucc[i] & ~s) | (fresh & su if pu & low else 0)) & keep
            succ[i] = (succ[i] | s) & keep
        x = s
        while x:
            low = x & -x
            k = low.bit_length() - 1
            x ^= low
            if self.free:
                fresh = p & ~pred[k]
                upred[k] = ((upred[k] & ~p) | (fresh & pu if su & low else 0)) & keep
            pred[k] = (pred[k] | p) & keep
        pred[j] = succ[j] = upred[j] = usucc[j] = 0
        return mults


def _is_scalar(lin: LinearizedGraph) -> bool:
    return all(n == 1 for n in lin.sizes.values())


def scalar_order_cost(
    lin: LinearizedGraph, order: Sequence[str], *, convention: str = "chainorder"
) -> int:
    """Mults of eliminating ``order`` on a graph whose vertices are all scalars.

    Equal to ``eliminate(lin, order).mults``. Under the ``"graphax"`` convention it is the
    annealer's integer bitset evaluator; under ``"chainorder"`` the elimination state's
    pricing (which also charges forming original partials, as the executor runs them).

    Raises
    ------
    TraceError
        If a vertex holds more than one scalar, or for an unknown convention.

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.graph import trace
    >>> from chainorder.graph.linearize import linearize
    >>> lin = linearize(trace(lambda x, y: np.sin(x * y) + x, 1.0, 2.0))
    >>> scalar_order_cost(lin, lin.intermediates), scalar_order_cost(
    ...     lin, lin.intermediates, convention="graphax")
    (2, 4)

    Notes
    -----
    O(Σ_j |pred(j)|·|succ(j)|).
    """
    graphax = _check_convention(convention) == "graphax"
    if not _is_scalar(lin):
        raise TraceError("scalar_order_cost needs a graph whose vertices are all scalars")
    if not graphax:
        state = _State(lin)
        return sum(state.eliminate(v)[0] for v in order) + state.finish_cost()
    index = {v: n for n, v in enumerate(lin.vertices)}
    st = _Bits(lin, graphax)
    return sum(st.eliminate(index[v]) for v in order)


@dataclass(frozen=True)
class AnnealResult:
    """Outcome of :func:`anneal_order`.

    Attributes
    ----------
    order : tuple of str
        The cheapest order found.
    mults : int
        Its mults under ``convention``.
    start_mults : int
        Mults of the best starting order.
    start : str
        Which starting order was best (``forward``, ``reverse``, ``markowitz``, ``chain``).
    steps : int
        Orders priced.
    seconds : float
        Wall-clock time of the search.
    convention : str
    best_step : int
        The step at which the returned order was found (0: a starting order).
    best_seconds : float
        Seconds from the start of the search until then (starting orders included).
    history : tuple of (int, float, int)
        ``(step, seconds, mults)`` at the start and at every improvement of the best.
    """

    order: tuple[str, ...]
    mults: int
    start_mults: int
    start: str
    steps: int
    seconds: float
    convention: str
    best_step: int = 0
    best_seconds: float = 0.0
    history: tuple[tuple[int, float, int], ...] = ()

    def seconds_to_reach(self, mults: int) -> float | None:
        """Seconds until an order of at most ``mults`` was found (None: never)."""
        return next((t for _, t, m in self.history if m <= mults), None)


class _Pricer:
    """Prices orders; on scalar graphs keeps prefix states every ``stride`` steps."""

    def __init__(self, lin: LinearizedGraph, subset: Sequence[str], convention: str) -> None:
        self.lin, self.convention = lin, convention
        # bitsets price the graphax convention; chainorder pricing needs the state
        self.scalar = (
            convention == "graphax" and _is_scalar(lin) and len(subset) == len(lin.intermediates)
        )
        self.names = tuple(subset)
        if self.scalar:
            index = {v: n for n, v in enumerate(lin.vertices)}
            self.ids = [index[v] for v in self.names]
            self.base = _Bits(lin, convention == "graphax")
        else:
            self.base_state = _State(lin, convention=convention)
        self.stride = max(1, int(math.sqrt(len(subset))))
        self.snaps: list = []
        self.prefix: list[int] = []

    def full(self, perm: list[int]) -> int:
        """Price ``perm`` (indices into the subset) and store its prefix states."""
        if not self.scalar:
            st = self.base_state.copy()
            total = sum(st.eliminate(self.names[p])[0] for p in perm)
            if len(perm) == len(self.lin.intermediates):
                total += st.finish_cost()
            return total
        st = self.base.copy()
        self.snaps, self.prefix, total = [], [], 0
        for n, p in enumerate(perm):
            if n % self.stride == 0:
                self.snaps.append(st.copy())
                self.prefix.append(total)
            total += st.eliminate(self.ids[p])
        return total

    def price(self, perm: list[int], first: int) -> int:
        """Price ``perm``, which agrees with the stored order before position ``first``;
        its prefix states wait in ``pending`` until :meth:`accept`."""
        if not self.scalar:
            return self.full(perm)
        block = first // self.stride
        st = self.snaps[block].copy()
        total = self.prefix[block]
        snaps, prefix = self.snaps[: block + 1], self.prefix[: block + 1]
        for n in range(block * self.stride, len(perm)):
            if n % self.stride == 0 and n > block * self.stride:
                snaps.append(st.copy())
                prefix.append(total)
            total += st.eliminate(self.ids[perm[n]])
        self.pending = (snaps, prefix)
        return total

    def accept(self) -> None:
        """Make the last priced order the stored one."""
        if self.scalar:
            self.snaps, self.prefix = self.pending


def _starts(
    lin: LinearizedGraph, subset: tuple[str, ...], convention: str, seed: int
) -> dict[str, tuple[str, ...]]:
    rank = {v: i for i, v in enumerate(lin.intermediates)}
    fwd = tuple(sorted(subset, key=rank.__getitem__))
    starts = {"forward": fwd, "reverse": fwd[::-1]}
    for conv in dict.fromkeys((convention, "chainorder", "graphax")):
        starts[f"markowitz ({conv})"] = _greedy(lin, subset, _State(lin, convention=conv))
    if len(subset) == len(lin.intermediates):
        from chainorder.graph.chaincut import chain_reduction

        red = chain_reduction(lin, seed=seed)
        if red is not None:
            starts["chain"] = tuple(red.order)
    return starts


def anneal_order(
    lin: LinearizedGraph,
    subset: Sequence[str] | None = None,
    *,
    seed: int = 0,
    iterations: int = 200_000,
    time_budget: float | None = 10.0,
    convention: str = "chainorder",
    start: Sequence[str] | None = None,
) -> AnnealResult:
    """Search elimination orders by simulated annealing.

    Parameters
    ----------
    lin : LinearizedGraph
    subset : sequence of str, optional
        Eliminate only these vertices (default: every intermediate).
    seed : int
        Seed of the random moves (same seed, same iterations: same result).
    iterations : int
        Orders to try at most.
    time_budget : float or None
        Stop after this many seconds (the temperature schedule follows whichever of
        iterations and time runs out first); ``None``: iterations only (reproducible).
    convention : {"chainorder", "graphax"}
        How orders are priced (:mod:`~chainorder.graph.eliminate`).
    start : sequence of str, optional
        An extra starting order (for example the best of an earlier search).

    Returns
    -------
    AnnealResult

    Raises
    ------
    TraceError
        For an unknown convention, a ``start`` that is not a permutation of the subset,
        or a negative iteration count or time budget.

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.graph import trace
    >>> from chainorder.graph.linearize import linearize
    >>> f = lambda x, y, z: (np.sin(x * y) * z, np.exp(x * y) + z * z)
    >>> lin = linearize(trace(f, 1.0, 2.0, 3.0))
    >>> r = anneal_order(lin, iterations=200, time_budget=None, convention="graphax")
    >>> r.mults <= r.start_mults, eliminate(lin, r.order, convention="graphax").mults == r.mults
    (True, True)

    Notes
    -----
    Each step re-eliminates the suffix of the order from the nearest stored prefix state
    (every ⌈√I⌉ positions): O(iterations · Σ_j |pred(j)|·|succ(j)|) at worst for I
    intermediates. A heuristic: no optimality claim.
    """
    convention = _check_convention(convention)
    if iterations < 0 or (time_budget is not None and time_budget < 0):
        raise TraceError("iterations and time_budget must be non-negative")
    t_begin = time.perf_counter()
    subset = tuple(lin.intermediates if subset is None else subset)
    starts = _starts(lin, subset, convention, seed)
    if start is not None:
        if sorted(start) != sorted(subset):
            raise TraceError("start must be a permutation of the vertices to eliminate")
        starts["given"] = tuple(start)
    pos = {v: n for n, v in enumerate(subset)}
    pricer = _Pricer(lin, subset, convention)
    priced = {name: pricer.full([pos[v] for v in o]) for name, o in starts.items()}
    first = min(priced, key=lambda k: (priced[k], list(starts).index(k)))
    cur = [pos[v] for v in starts[first]]
    cur_cost = pricer.full(cur)
    best, best_cost = list(cur), cur_cost
    best_step, best_seconds = 0, time.perf_counter() - t_begin
    history = [(0, best_seconds, best_cost)]
    n, steps = len(cur), 0
    rng = np.random.default_rng(seed)
    scale = max(1.0, cur_cost / 400)  # mults on larger graphs differ by more
    t_hi, t_lo = _T_HI * scale, _T_LO * scale
    while n > 1 and steps < iterations:
        frac = steps / iterations
        if time_budget is not None and steps % 32 == 0:
            frac = max(frac, (time.perf_counter() - t_begin) / max(time_budget, 1e-9))
            if frac >= 1.0:
                break
        temp = t_hi * (t_lo / t_hi) ** frac
        a, b = (int(x) for x in rng.integers(n, size=2))
        if a == b:
            continue
        steps += 1
        new = list(cur)
        if rng.random() < 0.5:
            new.insert(b, new.pop(a))
        else:
            new[a], new[b] = new[b], new[a]
        cost = pricer.price(new, min(a, b))
        delta = cost - cur_cost
        if delta <= 0 or rng.random() < math.exp(-delta / temp):
            cur, cur_cost = new, cost
            pricer.accept()
            if cost < best_cost:
                best, best_cost = list(new), cost
                best_step, best_seconds = steps, time.perf_counter() - t_begin
                history.append((steps, best_seconds, cost))
    order = tuple(subset[p] for p in best)
    if len(subset) == len(lin.intermediates):
        best_cost = eliminate(lin, order, convention=convention).mults
    return AnnealResult(
        order,
        best_cost,
        priced[first],
        first,
        steps,
        time.perf_counter() - t_begin,
        convention,
        best_step,
        best_seconds,
        tuple(history),
    )

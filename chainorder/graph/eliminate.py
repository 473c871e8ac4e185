"""Vertex elimination on a linearised graph: cost, memory, numbers, and elimination orders.

Eliminating an intermediate vertex ``j`` replaces every path ``i → j → k`` by the edge
``i → k`` carrying ``∂k/∂j · ∂j/∂i`` (added to an existing ``i → k`` edge), then removes
``j``. When every intermediate is gone, the edges ``input → output`` hold the Jacobian
(Griewank & Walther, ch. 9; Naumann's cross-country accumulation). Vertices are tensors,
and each product is priced as the executor (:mod:`~chainorder.graph.elimprog`, run by
:func:`~chainorder.graph.program.compile_jacobian_program`) performs it: an original local
partial is applied by its op's tangent rule to the columns of the other, formed, factor (or
by its adjoint rule to its rows), or formed — free when its entries are an operand's or an
elementwise factor (:mod:`~chainorder.graph.blocks`), else by its rule on identity seeds,
mults counted — and formed factors are held as diagonal vectors or dense matrices and
multiplied as such (:mod:`~chainorder.graph.elimstate`). So the partial of ``inv`` or
``solve`` need never be formed, no partial is built from an identity unless its price says
so, and the counted mults of a run equal the prediction.

Orders: ``forward`` (topological), ``reverse`` (reverse topological), ``markowitz`` (greedy:
the cheapest vertex next) and :func:`search_order` (exact over all orders for small graphs,
randomised greedy restarts otherwise, or simulated annealing from
:mod:`~chainorder.graph.search`). Every order gives the same Jacobian.

Counting conventions (``convention=``): ``"chainorder"`` (default) prices a product by its
structures — a factor of ±1 entries (add, subtract, negate, reshape, ...) costs nothing,
and an original partial may be applied by its op's rule instead of being formed.
``"graphax"`` is the convention of graphax / AlphaGrad (Lohoff & Neftci): every product of
partials costs its multiplications even when a factor is ±1, and partials are always
formed; on a scalar graph, eliminating ``j`` costs ``|pred(j)|·|succ(j)|``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from chainorder.errors import TraceError
from chainorder.graph.elimprog import elimination_program
from chainorder.graph.elimstate import CONVENTIONS, _State
from chainorder.graph.exactsearch import exact_order
from chainorder.graph.instr import execute, simulate_peak
from chainorder.graph.linearize import LinearizedGraph

__all__ = [
    "CONVENTIONS",
    "EliminationResult",
    "EliminationStep",
    "eliminate",
    "forward_order",
    "markowitz_order",
    "reverse_order",
    "search_order",
]


@dataclass(frozen=True)
class EliminationStep:
    """One vertex elimination: its mults, new edges, and nnz of all partials afterwards."""

    vertex: str
    mults: int
    fill_edges: int
    live_nnz: int


@dataclass(frozen=True)
class EliminationResult:
    """Outcome of eliminating every intermediate vertex in ``order``.

    Attributes
    ----------
    order : tuple of str
    mults : int
        Scalar multiplications of all the products (local partials given).
    peak_elements, peak_bytes : int
        Values (and constants) kept to apply or form the local partials, plus the peak
        scalars the elimination program holds at once (its formed partials, seeds and
        temporaries, and the Jacobian; :func:`~chainorder.graph.instr.simulate_peak`).
        Under the ``"graphax"`` convention: the peak nnz of the accumulated partials.
        Bytes: the values in the graph's dtype, the program's blocks in float64.
    steps : tuple of EliminationStep
    jacobian : ndarray or None
        The ``m × n`` Jacobian (rows: outputs, columns: inputs) when ``numeric=True``.
    """

    order: tuple[str, ...]
    mults: int
    peak_elements: int
    peak_bytes: int
    steps: tuple[EliminationStep, ...]
    jacobian: np.ndarray | None = None


def _check_order(lin: LinearizedGraph, order: Sequence[str]) -> tuple[str, ...]:
    order = tuple(order)
    want = set(lin.intermediates)
    if len(order) != len(want) or set(order) != want:
        missing = sorted(want - set(order))
        extra = sorted(set(order) - want)
        raise TraceError(
            "an elimination order must list every intermediate vertex once"
            + (f"; missing {missing}" if missing else "")
            + (f"; not intermediates {extra}" if extra else "")
            + (" ; repeated vertices" if len(order) != len(set(order)) else "")
        )
    return order


def eliminate(
    lin: LinearizedGraph,
    order: Sequence[str],
    numeric: bool = False,
    *,
    convention: str = "chainorder",
) -> EliminationResult:
    """Eliminate the intermediates of ``lin`` in ``order``; count mults and memory.

    Parameters
    ----------
    lin : LinearizedGraph
    order : sequence of str
        A permutation of ``lin.intermediates``.
    numeric : bool
        Also run the elimination program and return the Jacobian.
    convention : {"chainorder", "graphax"}
        How products are counted (module docstring); ``"graphax"`` counts every scalar
        product of partials, ±1 ones included, as graphax / AlphaGrad publish them.

    Returns
    -------
    EliminationResult

    Raises
    ------
    TraceError
        If ``order`` is not a permutation of the intermediates, or for an unknown
        convention.

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.graph import trace
    >>> from chainorder.graph.linearize import linearize
    >>> lin = linearize(trace(lambda x: np.sin(np.exp(x)).sum(), np.zeros(2)))
    >>> r = eliminate(lin, forward_order(lin), numeric=True)
    >>> r.mults, r.jacobian.round(4)
    (4, array([[0.5403, 0.5403]]))
    >>> eliminate(lin, forward_order(lin), convention="graphax").mults  # + the sum's ±1s
    4

    Notes
    -----
    O(Σ_j |pred(j)|·|succ(j)|) structure products, plus one rule probe per op for the
    memory model (:mod:`~chainorder.graph.probe`); numeric products as their mults.
    """
    order = _check_order(lin, order)
    state = _State(lin, convention)
    base = lin.values_elements()
    total, peak = 0, state.nnz
    steps = []
    for j in order:
        mults, fill, step_peak = state.eliminate(j)
        total += mults
        peak = max(peak, step_peak)
        steps.append(EliminationStep(j, mults, fill, state.nnz))
    total += state.finish_cost()
    jac = None
    if convention == "chainorder" or numeric:
        prog, n_slots, _ = elimination_program(lin, order)
        if convention == "chainorder":
            peak = simulate_peak(prog)
        if numeric:
            jac = execute(lin.graph, prog, n_slots, 0)[0]
    # values in the graph's dtype; the program's blocks in float64 (graphax: the dtype)
    work = 8 if convention == "chainorder" else lin.graph.itemsize
    nbytes = base * lin.graph.itemsize + peak * work
    return EliminationResult(order, total, base + peak, nbytes, tuple(steps), jac)


def forward_order(lin: LinearizedGraph) -> tuple[str, ...]:
    """Intermediates in topological order (forward vertex elimination).

    Notes
    -----
    O(V).
    """
    return tuple(lin.intermediates)


def reverse_order(lin: LinearizedGraph) -> tuple[str, ...]:
    """Intermediates in reverse topological order (reverse vertex elimination).

    Notes
    -----
    O(V).
    """
    return tuple(reversed(lin.intermediates))


def _greedy(
    lin: LinearizedGraph, subset: Iterable[str], state: _State, rng=None
) -> tuple[str, ...]:
    rank = {v: i for i, v in enumerate(lin.intermediates)}
    remaining = set(subset)
    cache: dict[str, tuple[int, int]] = {}
    order = []
    while remaining:
        for v in remaining:
            if v not in cache:
                cache[v] = state.cost(v)
        if state.graphax:
            ranked = sorted(remaining, key=lambda v: (cache[v][0], rank[v]))
        else:
            ranked = sorted(remaining, key=lambda v: (*cache[v], rank[v]))
        pick = 0
        if rng is not None:
            while pick < len(ranked) - 1 and rng.random() < 0.35:
                pick += 1
        j = ranked[pick]
        touched = state.pred[j] | state.succ[j]
        state.eliminate(j)
        remaining.discard(j)
        order.append(j)
        for v in touched:
            cache.pop(v, None)
            for w in state.pred.get(v, ()) | state.succ.get(v, ()):
                cache.pop(w, None)
    return tuple(order)


def markowitz_order(lin: LinearizedGraph, *, convention: str = "chainorder") -> tuple[str, ...]:
    """Greedy Markowitz order: always eliminate the vertex whose elimination is cheapest.

    For scalar vertices the cost is the classical Markowitz degree ``|pred|·|succ|``; with
    tensor vertices it is the mults of the products the elimination performs. Ties go to
    the smaller growth of stored nnz, then to the earlier vertex. With
    ``convention="graphax"`` the cost is counted as graphax counts it (±1 partials cost)
    and ties go to the earlier vertex, as in graphax's Markowitz order.

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.graph import trace
    >>> from chainorder.graph.linearize import linearize
    >>> markowitz_order(linearize(trace(lambda x: np.exp(np.sin(x)).sum(), np.zeros(3))))
    ('v1', 'v2')

    Notes
    -----
    O(I² · d²) for I intermediates of degree ≤ d.
    """
    return _greedy(lin, lin.intermediates, _State(lin, convention=convention))


def _exact(
    lin: LinearizedGraph, subset: Sequence[str], state: _State
) -> tuple[int, tuple[str, ...]]:
    """Cheapest order of ``subset``: :func:`~chainorder.graph.exactsearch.exact_order`."""
    return exact_order(lin, subset, state)


def search_order(
    lin: LinearizedGraph,
    subset: Sequence[str] | None = None,
    *,
    seed: int = 0,
    restarts: int = 64,
    exact_limit: int = 9,
    method: str = "auto",
    time_budget: float | None = None,
    convention: str = "chainorder",
) -> tuple[str, ...]:
    """The cheapest elimination order found.

    Exact (depth-first search over vertex subsets with memoisation and pruning) when there
    are at most ``exact_limit`` vertices to eliminate; otherwise the best of forward,
    reverse, Markowitz and ``restarts`` randomised Markowitz runs (each step takes the
    k-th cheapest vertex with probability 0.65·0.35^k).

    Parameters
    ----------
    lin : LinearizedGraph
    subset : sequence of str, optional
        Eliminate only these vertices (default: every intermediate).
    seed : int
        Seed of the randomised runs.
    restarts : int
        Number of randomised runs.
    exact_limit : int
        Largest number of vertices searched exactly.
    method : {"auto", "greedy", "anneal"}
        ``"auto"``: exact up to ``exact_limit``, else randomised greedy; ``"greedy"``:
        randomised greedy; ``"anneal"``: simulated annealing
        (:func:`~chainorder.graph.search.anneal_order`) from the best of forward,
        reverse, Markowitz and the chain-through-cut-vertices plan.
    time_budget : float, optional
        Seconds the annealing may take (default 10 s); other methods ignore it.
    convention : {"chainorder", "graphax"}
        How orders are priced (module docstring).

    Returns
    -------
    tuple of str

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.graph import trace
    >>> from chainorder.graph.linearize import linearize
    >>> W = np.ones((4, 4))
    >>> lin = linearize(trace(lambda x: W @ np.tanh(W @ x), np.ones(4)))
    >>> eliminate(lin, search_order(lin)).mults  # 16 (tanh into W) + 64 (W·W)
    80

    Notes
    -----
    Exact search: O(2^I · I) states at worst. Randomised: O(restarts · I² · d²).
    Optimal Jacobian accumulation on DAGs is NP-complete (Naumann 2008), so this is a
    heuristic beyond ``exact_limit``.
    """
    subset = tuple(lin.intermediates if subset is None else subset)
    base = _State(lin, convention=convention)
    if method not in ("auto", "greedy", "anneal"):
        raise TraceError(f"unknown search method {method!r}; expected auto, greedy or anneal")
    if not subset:
        return ()
    if method == "anneal":
        from chainorder.graph.search import anneal_order  # search imports this module

        budget = 10.0 if time_budget is None else time_budget
        return anneal_order(lin, subset, seed=seed, time_budget=budget, convention=convention).order
    if method == "auto" and len(subset) <= exact_limit:
        return _exact(lin, subset, base)[1]
    rank = {v: i for i, v in enumerate(lin.intermediates)}
    fwd = tuple(sorted(subset, key=rank.__getitem__))
    candidates = [fwd, tuple(reversed(fwd)), _greedy(lin, subset, base.copy())]
    rng = np.random.default_rng(seed)
    candidates += [_greedy(lin, subset, base.copy(), rng) for _ in range(restarts)]
    return min(candidates, key=lambda o: _order_cost(base, o))


def _order_cost(state: _State, order: Sequence[str]) -> int:
    st = state.copy()
    return sum(st.eliminate(v)[0] for v in order) + st.finish_cost()


def brute_force_orders(lin: LinearizedGraph) -> Iterable[tuple[str, ...]]:
    """Every permutation of the intermediates (for tests on tiny graphs)."""
    return itertools.permutations(lin.intermediates)

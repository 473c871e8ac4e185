"""Plan the Jacobian accumulation of a traced graph: every mode side by side.

Two cost models, both in scalar multiplications (mults):

* **sweeps** — forward mode is ``n`` tangent sweeps, reverse mode ``m`` adjoint sweeps,
  each op costing what its rule in :mod:`chainorder.graph.ops` says (tangent/adjoint
  propagation only);
* **vertex elimination** — the products of an elimination order (forward order, reverse
  order, Markowitz, the chain through cut vertices and the best order found by search),
  priced as the compiled program executes them: original local partials applied by their
  rules to formed blocks, or formed (free from an operand or an elementwise factor, else by
  their rule on identity seeds, counted), formed partials multiplied as diagonal vectors or
  dense matrices (:mod:`~chainorder.graph.elimstate`).

Peak memory of every row: the graph's values plus the peak of what the row's compiled
program allocates (:func:`~chainorder.graph.program.compile_jacobian_program`), which
tests hold against ``tracemalloc``. The chosen plan is the cheapest row by
:func:`row_score` (mults plus peak scalars); rows within 1 % of it are a tie, broken by a
sweep first, then the least memory (:func:`choose_row`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from chainorder.checks import as_nonnegative_int
from chainorder.graph.chaincut import ChainReduction, chain_reduction
from chainorder.graph.eliminate import (
    eliminate,
    forward_order,
    markowitz_order,
    reverse_order,
    search_order,
)
from chainorder.graph.linearize import LinearizedGraph, linearize
from chainorder.graph.sweep import SweepCost, sweep_cost
from chainorder.graph.trace import TracedGraph
from chainorder.graph.traced_graph import require_graph
from chainorder.units import format_count

__all__ = [
    "NEAR_TIE",
    "GraphMethod",
    "GraphPlan",
    "ModeCost",
    "choose_row",
    "plan_graph",
    "row_score",
]


class GraphMethod(StrEnum):
    """How a row of the cost table computes the Jacobian (a short key, not its display name).

    The sweep keys ``forward`` / ``reverse`` and the ``elimination:NAME`` keys are the
    ``method`` values that :func:`~chainorder.graph.validate.graph_jacobian` accepts.

    Examples
    --------
    >>> GraphMethod.MARKOWITZ, GraphMethod.MARKOWITZ.is_sweep
    (<GraphMethod.MARKOWITZ: 'elimination:markowitz'>, False)
    >>> str(GraphMethod.FORWARD)
    'forward'
    """

    FORWARD = "forward"
    REVERSE = "reverse"
    FORWARD_ELIMINATION = "elimination:forward"
    REVERSE_ELIMINATION = "elimination:reverse"
    MARKOWITZ = "elimination:markowitz"
    CHAIN = "elimination:chain"
    SEARCH = "elimination:search"

    @property
    def is_sweep(self) -> bool:
        """True for forward and reverse mode (sweeps), False for elimination orders."""
        return self in (GraphMethod.FORWARD, GraphMethod.REVERSE)


@dataclass(frozen=True)
class ModeCost:
    """One row of the cost table.

    Attributes
    ----------
    name : str
        E.g. ``"forward mode"``, ``"Markowitz elimination"``.
    model : str
        ``"sweep"`` or ``"elimination"``.
    mults : int
        Scalar multiplications.
    peak_elements, peak_bytes : int
        Predicted peak memory.
    order : tuple of str or None
        Elimination order (``None`` for sweeps).
    note : str
        How the figure arises, e.g. ``"n=12 tangents × 484 mults per sweep"``.
    method : GraphMethod
        The row's method as a key (what code compares; ``name`` is for display).
    """

    name: str
    model: str
    mults: int
    peak_elements: int
    peak_bytes: int
    order: tuple[str, ...] | None
    note: str
    method: GraphMethod


@dataclass(frozen=True)
class GraphPlan:
    """Every mode's cost for one traced graph, and the chosen elimination order.

    Attributes
    ----------
    graph : TracedGraph
    lin : LinearizedGraph
    rows : tuple of ModeCost
        Forward and reverse mode (sweeps), then the elimination orders.
    chosen : ModeCost
        The cheapest row by :func:`row_score` (mults + peak scalars, then peak memory).
    method : GraphMethod
        The chosen row's method (``chosen.method``), as a field.
    best_elimination : ModeCost
        The cheapest elimination order found.
    forward, reverse : SweepCost
        Step-by-step detail of the two pure modes.
    reduction : ChainReduction or None
        The chain through cut vertices, when the graph has cut vertices.
    """

    graph: TracedGraph
    lin: LinearizedGraph
    rows: tuple[ModeCost, ...]
    chosen: ModeCost
    best_elimination: ModeCost
    forward: SweepCost
    reverse: SweepCost
    reduction: ChainReduction | None
    method: GraphMethod

    def row(self, name: str) -> ModeCost:
        """The row called ``name``; ``KeyError`` listing the names otherwise."""
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(f"no row {name!r}; rows: {[r.name for r in self.rows]}")

    def to_dict(self) -> dict:
        """JSON-ready summary (mults, bytes, orders)."""
        return {
            "units": {"mults": "scalar multiplications", "memory": "bytes"},
            "n_inputs": self.graph.n_in,
            "n_outputs": self.graph.n_out,
            "modes": [
                {
                    "name": r.name,
                    "method": str(r.method),
                    "model": r.model,
                    "mults": r.mults,
                    "peak_bytes": r.peak_bytes,
                    "order": list(r.order) if r.order is not None else None,
                    "note": r.note,
                }
                for r in self.rows
            ],
            "chosen": self.chosen.name,
            "chosen_method": str(self.method),
            "chosen_order": list(self.chosen.order) if self.chosen.order is not None else None,
            "chain": None
            if self.reduction is None
            else {
                "cuts": list(self.reduction.cuts),
                "dims": list(self.reduction.dims),
                "expression": self.reduction.expression,
                "solver": self.reduction.solver,
                "chain_mults": self.reduction.chain_mults,
                "block_mults": self.reduction.block_mults,
            },
        }


def row_score(row: ModeCost) -> int:
    """What the chosen row minimises: its mults plus its peak scalars.

    Every scalar a plan holds at its peak is written at least once, and on a CPU a write
    costs about what a multiply-add does (a dense partial of 10⁷ structural zeros takes as
    long as 10⁷ mults), so a row is priced by both, in the spirit of cotengra's
    ``flops + writes`` score. Ties go to the smaller peak. :func:`chainorder.jacobian`'s
    ``method="auto"`` runs this row.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> row_score(NS(mults=19_264, peak_elements=41_414_658))
    41433922

    Notes
    -----
    O(1).
    """
    return int(row.mults) + int(row.peak_elements)


#: Rows whose :func:`row_score` is within this fraction of the best are a near-tie.
NEAR_TIE = 0.01


def choose_row(rows: list[ModeCost] | tuple[ModeCost, ...]) -> ModeCost:
    """The row ``method="auto"`` runs. Rows whose :func:`row_score` is within
    :data:`NEAR_TIE` of the least are a tie the score cannot break; among them a sweep is
    taken first, then the least peak memory, then the least score.

    An elimination program runs more instructions than a sweep (formed partials, their
    sums and placements), each with a fixed dispatch cost no mult prices (about 10 µs in
    NumPy); a larger peak is a larger working set (fresh pages, cache). Both showed where
    the score could not tell rows apart: the kernel exercise's reverse elimination held
    1.4 KiB less than reverse mode at equal mults (0.06 % of the score) and ran 45
    instructions against 34, 1.3× slower; attention's search order beat reverse
    elimination's score by 0.05 % with 12 MiB at its peak against 8 MiB, and ran 1.17×
    slower.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> sweep = NS(mults=1000, peak_elements=100, peak_bytes=800, method=NS(is_sweep=True))
    >>> elim = NS(mults=1000, peak_elements=95, peak_bytes=760, method=NS(is_sweep=False))
    >>> choose_row([elim, sweep]) is sweep
    True

    Notes
    -----
    O(rows).
    """
    least = min(row_score(r) for r in rows)
    near = [r for r in rows if row_score(r) <= (1 + NEAR_TIE) * least]
    return min(near, key=lambda r: (not r.method.is_sweep, r.peak_bytes, row_score(r)))


def _least_of_tie(pool: list[tuple], values: int = 0) -> tuple:
    """The ``(result, order, note)`` of ``pool`` the "best found" row reports: the least
    :func:`row_score` less the graph's ``values`` (scalars every order holds alike), where
    results within :data:`NEAR_TIE` of it are a tie broken as :func:`choose_row` breaks it
    (the least peak, then the least score, then the first: the caller lists the structured
    orders before the search's, which must beat them to be reported).

    The least mults alone is not what ``method="auto"`` minimises: attention's search found
    an order of 30.9 M mults and 12 MiB at its peak against reverse elimination's 31.5 M
    and 8 MiB (a score 0.05 % lower, a tie), and ran it 1.2x slower; layer norm's search
    order, another order, equalled reverse elimination's mults and peak exactly.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> lean = NS(mults=1000, peak_elements=50, peak_bytes=400)
    >>> few = NS(mults=990, peak_elements=55, peak_bytes=440)
    >>> _least_of_tie([(lean, ("b",), "from reverse"), (few, ("a",), "search")])[1]
    ('b',)

    Notes
    -----
    O(len(pool)).
    """
    least = min(row_score(x) for x, _, _ in pool) - values
    near = [p for p in pool if row_score(p[0]) - values <= (1 + NEAR_TIE) * least]
    return min(near, key=lambda p: (p[0].peak_bytes, row_score(p[0])))


def _counted(n: int, word: str) -> str:
    """``n`` with thousands separators and ``word``, plural unless ``n`` is 1: ``1 cut``."""
    return f"{format_count(n)} {word}{'' if n == 1 else 's'}"


def plan_graph(
    graph: TracedGraph,
    *,
    seed: int = 0,
    restarts: int = 64,
    exact_limit: int = 9,
    search: str = "auto",
    time_budget: float | None = None,
) -> GraphPlan:
    """Cost forward mode, reverse mode and elimination orders of ``graph``; pick the best.

    The "best found (search)" row is the order of least :func:`row_score` among the
    search's and the structured orders (near-ties to the least peak, :func:`_least_of_tie`),
    not the least mults alone.

    Parameters
    ----------
    graph : TracedGraph
    seed, restarts, exact_limit : int
        Non-negative; passed to :func:`~chainorder.graph.eliminate.search_order`.
    search : {"auto", "greedy", "anneal"}
        The search for the "best found" row: exact up to ``exact_limit`` vertices, else
        randomised greedy (``"auto"``); randomised greedy; or simulated annealing from the
        best structured order (``"anneal"``, see :func:`~chainorder.graph.search.anneal_order`).
    time_budget : float, optional
        Seconds the annealing may take (default 10 s).

    Raises
    ------
    TraceError
        ``graph`` is not a :class:`TracedGraph`.
    SpecError, SpecTypeError
        A negative or non-integer ``seed``, ``restarts`` or ``exact_limit``.

    Returns
    -------
    GraphPlan

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.graph import trace
    >>> W = np.ones((3, 8))
    >>> p = plan_graph(trace(lambda x: np.tanh(W @ x).sum(), np.ones(8)))
    >>> [(r.name, r.mults) for r in p.rows]  # doctest: +NORMALIZE_WHITESPACE
    [('forward mode', 216), ('reverse mode', 27), ('forward elimination', 24),
     ('reverse elimination', 27), ('Markowitz elimination', 27),
     ('chain through cut vertices', 27), ('best found (search)', 27)]
    >>> p.best_elimination.order == p.row("reverse elimination").order  # 27+79 against 24+180
    True

    Notes
    -----
    Sweeps O(V + E); elimination orders as :func:`search_order` (exact up to
    ``exact_limit`` intermediates, randomised beyond).
    """
    require_graph(graph, "plan_graph")
    seed = as_nonnegative_int(seed, "seed")
    restarts = as_nonnegative_int(restarts, "restarts")
    exact_limit = as_nonnegative_int(exact_limit, "exact_limit")
    lin = linearize(graph)
    fwd, rev = sweep_cost(graph, "forward"), sweep_cost(graph, "reverse")
    rows = [
        ModeCost(
            "forward mode", "sweep", fwd.mults, fwd.peak_elements, fwd.peak_bytes, None,
            f"n={_counted(fwd.directions, 'tangent')} × "
            f"{_counted(fwd.mults_per_direction, 'mult')} per sweep",
            GraphMethod.FORWARD,
        ),
        ModeCost(
            "reverse mode", "sweep", rev.mults, rev.peak_elements, rev.peak_bytes, None,
            f"m={_counted(rev.directions, 'adjoint')} × "
            f"{_counted(rev.mults_per_direction, 'mult')} per sweep; tape kept",
            GraphMethod.REVERSE,
        ),
    ]  # fmt: skip
    candidates = [
        (
            "forward elimination", forward_order(lin), "topological order",
            GraphMethod.FORWARD_ELIMINATION,
        ),
        (
            "reverse elimination", reverse_order(lin), "reverse topological order",
            GraphMethod.REVERSE_ELIMINATION,
        ),
        (
            "Markowitz elimination", markowitz_order(lin), "greedy: cheapest vertex next",
            GraphMethod.MARKOWITZ,
        ),
    ]  # fmt: skip
    reduction = chain_reduction(lin, seed=seed)
    if reduction is not None:
        candidates.append(
            (
                "chain through cut vertices",
                reduction.order,
                f"{_counted(len(reduction.cuts), 'cut')}, {reduction.expression} by "
                f"{reduction.solver}",
                GraphMethod.CHAIN,
            )
        )
    exact = len(lin.intermediates) <= exact_limit and search == "auto"
    found = search_order(
        lin,
        seed=seed,
        restarts=restarts,
        exact_limit=exact_limit,
        method=search,
        time_budget=time_budget,
    )
    results = []
    for name, order, note, method in candidates:
        r = eliminate(lin, order)
        results.append(r)
        rows.append(
            ModeCost(
                name, "elimination", r.mults, r.peak_elements, r.peak_bytes, order, note, method
            )
        )
    r = eliminate(lin, found)
    if search == "anneal":
        best_note = f"simulated annealing (seed {seed}, {time_budget or 10:g} s budget)"
    elif exact:
        best_note = "exact search"
    else:
        best_note = f"randomised search ({_counted(restarts, 'restart')}, seed {seed})"
    # the search may miss what a structured order finds; near-ties as choose_row breaks them
    pool = [
        (other, order, f"{best_note}; from {name}")
        for (name, order, _, _), other in zip(candidates, results, strict=True)
    ] + [(r, found, best_note)]
    r, found, best_note = _least_of_tie(pool, lin.values_elements())
    best = ModeCost(
        "best found (search)",
        "elimination",
        r.mults,
        r.peak_elements,
        r.peak_bytes,
        found,
        best_note,
        GraphMethod.SEARCH,
    )
    rows.append(best)
    chosen = choose_row(rows)
    return GraphPlan(graph, lin, tuple(rows), chosen, best, fwd, rev, reduction, chosen.method)

"""Memory-limited plans: the cheapest checkpointed plan whose streamed peak fits a limit.

A :class:`CheckpointPlan` is a :class:`~chainorder.plan.Plan` (the bracketing and its Jacobian
mults) plus a checkpoint schedule: the event list the streamed executor replays, in which
``compute k`` may repeat (a recomputation from a stored checkpoint) and ``release`` drops
activations early. Its figures — peak, forward, recomputation and Jacobian mults — are
computed from that event list (:func:`chainorder.checkpoint.events.replay`,
:func:`chainorder.memory.simulate_peak`) and agree with the DP that chose it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from chainorder.chain import Chain, as_chain
from chainorder.checkpoint.bookkeeping import (
    bookkeeping_bytes,
    bookkeeping_floor,
    executor_bookkeeping,
)
from chainorder.checkpoint.decisions import decision_tree
from chainorder.checkpoint.dp import TreeFronts
from chainorder.checkpoint.events import decision_events, replay
from chainorder.checkpoint.forward_cost import forward_costs
from chainorder.checkpoint.model import ChainFigures
from chainorder.checkpoint.reverse import reverse_events
from chainorder.checkpoint.search import (
    TREE_SEARCH_LINKS,
    Candidate,
    Search,
    default_candidates,
    search,
    thin,
)
from chainorder.dtypes import as_dtype
from chainorder.errors import ChainTooLongError, ExecutionError, InfeasibleMemoryLimitError
from chainorder.memory import Event, simulate_peak
from chainorder.plan import Plan, plan
from chainorder.tree import flatten, reverse_tree
from chainorder.units import format_bytes, parse_bytes

__all__ = ["CheckpointPlan", "bookkeeping_bytes", "pareto_front", "plan_with_memory_limit"]


@dataclass(frozen=True, eq=False)
class CheckpointPlan:
    """A bracketing with a checkpoint schedule, and what it costs (streamed setting).

    Attributes
    ----------
    plan : Plan
        The bracketing; ``plan.mults`` are the Jacobian-product mults.
    events : tuple of Event
        The schedule the executor replays (``compute`` repeats for recomputation).
    forward_costs : tuple of int
        Mults of evaluating each link once (:func:`forward_costs`).
    peak_elements : int
        Predicted peak (activations, formed Jacobians, products), from the events.
    forward_mults, recompute_mults, recomputations : int
        Mults of the first forward pass (``x_1..x_{L-1}`` once), of the recomputations, and
        how many activations are recomputed.
    checkpoints : tuple of int
        The activations ``x_k`` that recomputation starts from.
    memory_limit : int or None
        The limit the plan was chosen for, in bytes.
    reserve_bytes : int
        Bytes of the limit kept for the executor's bookkeeping (:func:`bookkeeping_bytes`).
    strategy : str
        ``"tree"`` (bracketing with keep/drop choices) or ``"reverse-checkpoints"``.
    searched : str
        What the planner searched (the plan is the cheapest of that set).
    """

    plan: Plan
    events: tuple[Event, ...] = field(repr=False)
    forward_costs: tuple[int, ...] = field(repr=False)
    peak_elements: int
    forward_mults: int
    recompute_mults: int
    recomputations: int
    checkpoints: tuple[int, ...]
    memory_limit: int | None = None
    strategy: str = "tree"
    searched: str = ""
    reserve_bytes: int = 0

    @classmethod
    def from_events(
        cls,
        p: Plan,
        events: Sequence[Event],
        costs: tuple[int, ...],
        memory_limit: int | None = None,
        strategy: str = "tree",
        searched: str = "",
        reserve_bytes: int = 0,
    ) -> CheckpointPlan:
        """Check ``events`` on ``p``'s tree and compute every figure from them.

        Raises
        ------
        ExecutionError
            The events are not a valid schedule (see :func:`replay`).

        Notes
        -----
        O(number of events).
        """
        events = tuple(events)
        r = replay(p.chain, list(events), costs)
        _check_products(p, events)
        peak = simulate_peak(p.chain, p.flat, list(events), "streamed", p.shapes)
        return cls(
            p,
            events,
            costs,
            peak,
            r.forward_mults,
            r.recompute_mults,
            r.recomputations,
            _checkpoints(events),
            memory_limit,
            strategy,
            searched,
            reserve_bytes,
        )

    # figures -------------------------------------------------------------------------------
    @property
    def chain(self) -> Chain:
        """The chain."""
        return self.plan.chain

    @property
    def jacobian_mults(self) -> int:
        """Mults of the Jacobian products (``plan.mults``)."""
        return self.plan.mults

    @property
    def total_mults(self) -> int:
        """Forward pass + recomputation + Jacobian products."""
        return self.forward_mults + self.recompute_mults + self.jacobian_mults

    @property
    def cost(self) -> int:
        """What the planner minimises: Jacobian + recomputation mults."""
        return self.jacobian_mults + self.recompute_mults

    @property
    def peak_bytes(self) -> int:
        """Predicted peak in bytes of the plan's dtype (the arrays' data)."""
        return self.peak_elements * self.plan.itemsize

    @property
    def footprint_bytes(self) -> int:
        """Predicted peak plus the reserve: what was fitted into the memory limit."""
        return self.peak_bytes + self.reserve_bytes

    def expression(self) -> str:
        """The bracketing written out."""
        return self.plan.expression()

    def describe(self) -> str:
        """One line: the bracketing, the peak and the mults by kind.

        Examples
        --------
        >>> cp = plan_with_memory_limit("4,4,4,4,4,4,1", 28 * 8, reserve=0)
        >>> print(cp.describe())
        reverse-checkpoints: peak 224 B (28 elements), 96 recomputed mults (6 recomputations), \
Jacobian 80, forward 80, total 256 mults
        """
        return (
            f"{self.strategy}: peak {format_bytes(self.peak_bytes)} ({self.peak_elements} "
            f"elements), {self.recompute_mults} recomputed mults ({self.recomputations} "
            f"recomputations), Jacobian {self.jacobian_mults}, forward {self.forward_mults}, "
            f"total {self.total_mults} mults"
        )

    def __repr__(self) -> str:
        return (
            f"CheckpointPlan({self.chain.spec()!r}, strategy={self.strategy!r}, "
            f"peak_elements={self.peak_elements}, cost={self.cost})"
        )

    def to_dict(self) -> dict[str, Any]:
        """The plan's JSON document with a ``checkpointing`` section (see :mod:`.plan_io`)."""
        from chainorder.checkpoint.plan_io import checkpoint_to_dict

        return checkpoint_to_dict(self)


def plan_with_memory_limit(
    chain: Chain | str | Sequence[int | str],
    memory_limit: int | str,
    dtype: object = "float64",
    forward_costs: Mapping[int, int] | Sequence[object] | None = None,
    *,
    reserve: int | None = None,
) -> CheckpointPlan:
    """The cheapest streamed plan (Jacobian + recomputation mults) whose peak fits the limit.

    Parameters
    ----------
    chain : Chain, str or sequence
    memory_limit : int or str
        Bytes, or a size such as ``"64MiB"`` (binary prefixes). It must hold the plan's
        predicted peak plus ``reserve``.
    dtype : str or numpy.dtype
        Element type for the bytes (default float64).
    forward_costs : mapping or sequence, optional
        Forward cost overrides (see :func:`chainorder.checkpoint.forward_costs`).
    reserve : int, optional
        Bytes of the limit kept for what the executor allocates beyond the model's arrays;
        by default each candidate's own :func:`executor_bookkeeping` (array headers: a few
        KiB; the measured peak then stays under the limit); ``0`` fits the model's peak alone.

    Returns
    -------
    CheckpointPlan

    Raises
    ------
    InfeasibleMemoryLimitError
        No plan fits; the message names the smallest achievable peak.

    Examples
    --------
    >>> cp = plan_with_memory_limit("4,4,4,4,4,4,1", 32 * 8, reserve=0)
    >>> cp.peak_elements, cp.recompute_mults, cp.strategy
    (32, 32, 'reverse-checkpoints')

    Notes
    -----
    Up to 24 links: every bracketing × every keep/drop choice, O(L³·F) for fronts of F
    points, plus the reverse sweep with checkpoints anywhere, O(L³·F). Longer chains: the
    optimal, forward and reverse trees (O(L·F) each, after the chain DP) and the reverse sweep
    with checkpoints among 32 positions (O(32³·F + 32·L)), and revolve's schedule with the
    most checkpoints that fit (never worse than revolve). See :mod:`chainorder.checkpoint.search`.
    """
    resolved = as_chain(chain)
    dt = as_dtype(dtype)
    limit = parse_bytes(memory_limit)
    costs = _costs(resolved, forward_costs)
    n = resolved.n_links
    floor = bookkeeping_floor(n) if reserve is None else reserve
    room = max((limit - floor) // dt.itemsize, -1)
    from chainorder.checkpoint.strategies import cheaper_with_revolve  # builds on this module

    fitted = None
    for cheapest_only in (True, False):
        found = _search(resolved, costs, dt, room, cheapest_only)
        fitted = _cheapest_fitting(found, resolved, costs, dt, limit, reserve)
        if fitted is not None or not found.reverse_skipped:
            break
    fitted = cheaper_with_revolve(fitted, resolved, limit, dt, forward_costs, reserve)
    if fitted is not None:
        return fitted
    full = _search(resolved, costs, dt, None)
    plans: dict[object, Plan] = {}
    smallest, least = min(
        (cp.footprint_bytes, cp.peak_bytes)
        for c in full.front[:_CHECKED_POINTS]
        for cp in [_fit(_materialise(full, c, resolved, costs, dt, limit, floor, plans), reserve)]
    )
    raise InfeasibleMemoryLimitError(
        f"no plan of {_name(resolved)} fits in {format_bytes(limit)} ({dt.name}); the "
        f"smallest achievable streamed peak is {format_bytes(smallest)} ({smallest} bytes"
        + (
            f": {least} of arrays + {smallest - least} of executor bookkeeping)"
            if smallest > least
            else ")"
        ),
        smallest,
    )


#: Candidates checked one by one against the limit with their own bookkeeping.
_CHECKED_POINTS = 64


def _fit(cp: CheckpointPlan, reserve: int | None) -> CheckpointPlan:
    """``cp`` with its reserve: ``reserve``, or its own executor bookkeeping."""
    need = executor_bookkeeping(cp.chain.n_links, cp.events) if reserve is None else reserve
    return replace(cp, reserve_bytes=need)


def _cheapest_fitting(
    found: Search, chain: Chain, costs: tuple[int, ...], dt: Any, limit: int, reserve: int | None
) -> CheckpointPlan | None:
    """The cheapest candidate whose peak plus bookkeeping fits; None if none does."""
    n = chain.n_links
    plans: dict[object, Plan] = {}
    ranked = sorted(found.front, key=lambda c: (c.total, c.peak))
    if reserve is None:  # anything under the loose bound fits: check only what is cheaper
        sure = [c for c in ranked if c.peak * dt.itemsize + bookkeeping_bytes(n) <= limit]
        if sure:
            ranked = ranked[: ranked.index(sure[0]) + 1][-_CHECKED_POINTS:]
    for c in ranked:
        cp = _fit(_materialise(found, c, chain, costs, dt, limit, 0, plans), reserve)
        if cp.footprint_bytes <= limit:
            return cp
    return None


def pareto_front(
    chain: Chain | str | Sequence[int | str],
    dtype: object = "float64",
    forward_costs: Mapping[int, int] | Sequence[object] | None = None,
    memory_limit: int | str | None = None,
    *,
    reserve: int | None = None,
    max_points: int | None = None,
) -> list[CheckpointPlan]:
    """The cost–memory front: for every peak level, the cheapest plan, by increasing peak.

    With ``memory_limit`` only plans whose peak plus ``reserve`` (as in
    :func:`plan_with_memory_limit`) fits are listed. ``max_points`` keeps at most that many
    (the first, the last, and the points nearest evenly spaced peaks between them): a long
    heterogeneous chain has thousands.

    Examples
    --------
    >>> [(cp.peak_elements, cp.cost) for cp in pareto_front("4,4,4,4,4,4,1")]
    [(28, 176), (32, 112), (36, 96), (40, 80)]

    Notes
    -----
    As :func:`plan_with_memory_limit`, plus O(L) per point returned to build its plan.
    """
    resolved = as_chain(chain)
    dt = as_dtype(dtype)
    limit = None if memory_limit is None else parse_bytes(memory_limit)
    costs = _costs(resolved, forward_costs)
    floor = bookkeeping_floor(resolved.n_links) if reserve is None else reserve
    room = None if limit is None else max((limit - floor) // dt.itemsize, -1)
    found = _search(resolved, costs, dt, room)
    plans: dict[object, Plan] = {}
    out = [
        _fit(_materialise(found, c, resolved, costs, dt, limit, 0, plans), reserve)
        for c in thin(found.front, max_points)
    ]
    return out if limit is None else [cp for cp in out if cp.footprint_bytes <= limit]


def _costs(chain: Chain, overrides: Any) -> tuple[int, ...]:
    return forward_costs(chain, overrides)


def _search(
    chain: Chain, costs: tuple[int, ...], dt: Any, limit: int | None, cheapest_only: bool = False
) -> Search:
    fig = ChainFigures.of(chain, costs)
    n = chain.n_links
    rev = Plan.from_tree(chain, reverse_tree(n), "reverse", dt)
    candidates = {} if n <= TREE_SEARCH_LINKS else default_candidates(n, _best_tree(chain, dt))
    return search(fig, candidates, rev.mults, limit, cheapest_only)


#: Beyond this many links a chain with elementwise links takes the bounded solver's tree (O(L
#: log L), with a proven gap) instead of the O(L³) chain DP's as a candidate.
EXACT_TREE_LINKS = 300


def _best_tree(chain: Chain, dt: Any) -> Any:
    """The chain DP's (or Hu–Shing's) tree; the bounded solver's for long elementwise chains."""
    if chain.n_links <= EXACT_TREE_LINKS or chain.is_dense:
        try:
            return plan(chain, "optimal", dt).tree
        except ChainTooLongError:  # pragma: no cover - dense chains never raise it
            pass
    return plan(chain, "bounded", dt).tree


def _materialise(
    found: Search,
    c: Candidate,
    chain: Chain,
    costs: tuple[int, ...],
    dt: Any,
    limit: int | None,
    reserve: int,
    plans: dict[object, Plan] | None = None,
) -> CheckpointPlan:
    n = chain.n_links
    plans = {} if plans is None else plans  # one Plan per tree, shared by the front's points
    if c.source == "reverse":
        if "reverse" not in plans:
            plans["reverse"] = Plan.from_tree(chain, found.reverse_flat, "reverse", dt)
        p = plans["reverse"]
        events = reverse_events(n, p.flat, found.reverse.cuts(c.index))
        strategy = "reverse-checkpoints"
    else:
        tf: TreeFronts = found.trees[c.source][1]
        dec = tf.decision(c.index)
        name = c.source.removeprefix("tree:")
        flat = flatten(decision_tree(dec), n)
        if flat not in plans:
            plans[flat] = Plan.from_tree(
                chain, flat, "memory-limited" if name == "any" else name, dt
            )
        p = plans[flat]
        events = decision_events(n, p.flat, dec)
        strategy = "tree"
    cp = CheckpointPlan.from_events(p, events, costs, limit, strategy, found.description, reserve)
    if cp.peak_elements != c.peak or cp.cost != c.total:  # pragma: no cover - a model bug
        raise ExecutionError(
            f"checkpoint DP and replay disagree: peak {c.peak} vs {cp.peak_elements}, "
            f"cost {c.total} vs {cp.cost}"
        )
    return cp


def _check_products(p: Plan, events: tuple[Event, ...]) -> None:
    """Every product of the tree is formed exactly once."""
    made = sorted(e.index for e in events if e.kind == "multiply")
    if made != sorted(p.flat.internal()):
        raise ExecutionError("invalid schedule: it does not form every product of the tree once")


def _checkpoints(events: tuple[Event, ...]) -> tuple[int, ...]:
    """Activations a recomputation starts from: ``x_{k-1}`` of a repeated ``compute k`` whose
    previous compute was not ``compute k-1``."""
    seen: set[int] = set()
    starts: set[int] = set()
    last = -1
    for ev in events:
        if ev.kind == "compute":
            if ev.index in seen and last != ev.index - 1:
                starts.add(ev.index - 1)
            seen.add(ev.index)
            last = ev.index
    return tuple(sorted(starts))


def _name(chain: Chain) -> str:
    spec = chain.spec()
    return spec if len(spec) <= 60 else f"the {chain.n_links}-link chain"

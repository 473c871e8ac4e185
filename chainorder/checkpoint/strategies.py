"""Named checkpoint strategies for a chain's reverse sweep: ``revolve`` and ``sqrt``.

``revolve``
    The binomial schedule (:mod:`chainorder.checkpoint.revolve`) with the most checkpoints
    whose reverse-sweep peak fits the limit: the fewest recomputed *steps* a uniform-step
    schedule can reach there (widths and forward costs are not weighed: that is the exact
    DP's job).
``sqrt``
    Chen et al.'s √L segments (:mod:`chainorder.checkpoint.segments`), whatever the limit;
    an error if its peak does not fit.

Peaks are those of :func:`chainorder.checkpoint.sweep_events.reverse_sweep_peak` (elements).
:func:`strategy_plan` wraps a strategy's schedule as a
:class:`~chainorder.checkpoint.CheckpointPlan` (the reverse tree and the schedule's events),
which the streamed executor replays like the exact planner's plans.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from chainorder.chain import Chain, as_chain
from chainorder.checkpoint.actions import CheckpointSchedule
from chainorder.checkpoint.bookkeeping import executor_bookkeeping
from chainorder.checkpoint.forward_cost import forward_costs
from chainorder.checkpoint.plan import CheckpointPlan
from chainorder.checkpoint.revolve import revolve_schedule
from chainorder.checkpoint.search import TREE_SEARCH_LINKS
from chainorder.checkpoint.segments import segments_schedule
from chainorder.checkpoint.sweep_events import reverse_sweep_events, reverse_sweep_peak
from chainorder.checks import as_nonnegative_int
from chainorder.dtypes import as_dtype
from chainorder.errors import MemoryLimitError, UnknownSolverError
from chainorder.memory import simulate_peak
from chainorder.plan import Plan
from chainorder.tree import FlatTree, flatten, reverse_tree
from chainorder.units import parse_bytes

__all__ = [
    "STRATEGIES",
    "cheaper_with_revolve",
    "revolve_front",
    "revolve_within",
    "strategy_plan",
    "strategy_schedule",
]

STRATEGIES = ("revolve", "sqrt")


def revolve_within(chain: Chain | str, limit_elements: int) -> CheckpointSchedule:
    """The revolve schedule with the most checkpoints whose sweep peak is ``<= limit``.

    Parameters
    ----------
    chain : Chain or spec
    limit_elements : int
        Peak limit in elements (bytes / itemsize).

    Returns
    -------
    CheckpointSchedule

    Raises
    ------
    MemoryLimitError
        Even one checkpoint does not fit; the message gives the smallest peak revolve reaches.

    Examples
    --------
    >>> spec = "8,8,8,8,8,8,1"  # peaks 88, 96, 104, 112 elements for s = 1, 2, 3, 4+
    >>> revolve_within(spec, 100).checkpoints, revolve_within(spec, 1000).recomputations
    (2, 0)

    Notes
    -----
    A binary search over ``s`` in ``1..L`` (the peak grows with ``s``: each slot holds one
    more activation at some moment), each probe O(L + t(L, s)).
    """
    chain = as_chain(chain)
    limit = as_nonnegative_int(limit_elements, "limit_elements")
    best, lowest = _largest_fitting(chain, lambda sch: reverse_sweep_peak(chain, sch), limit)
    if best is None:
        raise MemoryLimitError(
            f"no revolve schedule fits {limit:,} elements: the smallest reverse-sweep "
            f"peak is {lowest:,} elements (one checkpoint)"
        )
    return best


def _largest_fitting(
    chain: Chain, footprint: Callable[[CheckpointSchedule], int], limit: int
) -> tuple[CheckpointSchedule | None, int]:
    """The revolve schedule with the most checkpoints whose ``footprint`` is ``<= limit``
    (binary search, the footprint growing with ``s``), or ``None`` and the footprint at
    ``s = 1``."""
    n = chain.n_links
    lo, hi, best = 1, n, None  # the answer is in lo..hi if any s fits
    while lo < hi:
        mid = (lo + hi + 1) // 2
        sch = revolve_schedule(n, mid)
        if footprint(sch) <= limit:
            lo, best = mid, sch
        else:
            hi = mid - 1
    if best is not None:
        return best, -1
    one = revolve_schedule(n, 1)  # s = 1 last: the longest schedule, t(L, 1) = L(L−1)/2 steps
    low = footprint(one)
    return (one if low <= limit else None), low


def strategy_schedule(
    chain: Chain | str, strategy: str, limit_elements: int | None = None
) -> CheckpointSchedule:
    """The schedule of a named strategy (:data:`STRATEGIES`) under an optional limit.

    Raises
    ------
    UnknownSolverError
        An unknown name (the message lists the valid ones).
    MemoryLimitError
        The strategy's schedule does not fit the limit.

    Examples
    --------
    >>> strategy_schedule("8,8,8,8,8,8,1", "sqrt").recomputations  # segments 0..2, 3..5
    2

    Notes
    -----
    ``revolve``: as :func:`revolve_within` (every state stored without a limit); ``sqrt``:
    O(L).
    """
    chain = as_chain(chain)
    if strategy not in STRATEGIES:
        raise UnknownSolverError(
            f"unknown checkpoint strategy {strategy!r}; expected one of: {', '.join(STRATEGIES)}"
        )
    n = chain.n_links
    if strategy == "revolve":
        if limit_elements is None:
            return revolve_schedule(n, n)
        return revolve_within(chain, limit_elements)
    sch = segments_schedule(n)
    if limit_elements is not None:
        peak = reverse_sweep_peak(chain, sch)
        if peak > limit_elements:
            raise MemoryLimitError(
                f"the √L segment schedule peaks at {peak:,} elements, over the limit of "
                f"{limit_elements:,}"
            )
    return sch


def strategy_plan(
    chain: Chain | str | Sequence[int | str],
    strategy: str,
    memory_limit: int | str | None = None,
    dtype: object = "float64",
    costs: Mapping[int, int] | Sequence[object] | None = None,
    *,
    reserve: int | None = None,
) -> CheckpointPlan:
    """A named strategy's schedule as a :class:`~chainorder.checkpoint.CheckpointPlan`.

    Parameters
    ----------
    chain : Chain, str or sequence
    strategy : {"revolve", "sqrt"}
    memory_limit : int or str, optional
        Bytes or a size such as ``"64KiB"``; ``revolve`` takes the most checkpoints that fit.
    dtype : str or numpy.dtype
    costs : mapping or sequence, optional
        Forward cost overrides (:func:`chainorder.checkpoint.forward_costs`).
    reserve : int, optional
        Bytes of the limit kept for the executor's bookkeeping: the schedule's peak must fit
        ``memory_limit − reserve``. By default, as in
        :func:`~chainorder.checkpoint.plan_with_memory_limit`, each schedule's own
        bookkeeping (:func:`~chainorder.checkpoint.bookkeeping.executor_bookkeeping` of its
        events) is added to its peak.

    Returns
    -------
    CheckpointPlan
        ``strategy`` is ``"revolve"`` or ``"sqrt"``; its figures come from the events.

    Raises
    ------
    UnknownSolverError, MemoryLimitError
        As :func:`strategy_schedule`.

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.execute import compile_plan
    >>> from chainorder.nets import MLP
    >>> cp = strategy_plan("8,8,tanh,8,tanh,8,1", "revolve", memory_limit=104 * 8, reserve=0)
    >>> cp.peak_bytes, cp.recomputations, cp.recompute_mults  # tanh x_4, x_2 again: 8 + 8
    (832, 2, 16)
    >>> net = MLP("8,8,tanh,8,tanh,8,1", seed=0)
    >>> f = compile_plan(cp)
    >>> J = f(net, np.ones(8))
    >>> J.shape, f.last_recomputations
    ((1, 8), 2)

    Notes
    -----
    The schedule's cost (:func:`strategy_schedule`) plus O(L + advances) for the plan.
    """
    resolved = as_chain(chain)
    dt = as_dtype(dtype)
    limit = None if memory_limit is None else parse_bytes(memory_limit)
    n = resolved.n_links
    if limit is None or reserve is not None:
        reserve = 0 if reserve is None else as_nonnegative_int(reserve, "reserve")
        room = None if limit is None else max(limit - reserve, 0) // dt.itemsize
        sch = strategy_schedule(resolved, strategy, room)
    else:
        sch = _fitting_with_bookkeeping(resolved, strategy, dt.itemsize, limit)
    p = Plan.from_tree(resolved, reverse_tree(n), "reverse", dt)
    _, events = reverse_sweep_events(resolved, sch)
    if limit is not None and reserve is None:
        reserve = executor_bookkeeping(n, events)
    return CheckpointPlan.from_events(
        p,
        events,
        forward_costs(resolved, costs),
        limit,
        strategy,
        f"{sch.strategy} schedule, {sch.max_stored} checkpoints held at most",
        reserve or 0,
    )


def cheaper_with_revolve(
    best: CheckpointPlan | None,
    chain: Chain,
    memory_limit: int,
    dtype: object,
    costs: Mapping[int, int] | Sequence[object] | None,
    reserve: int | None,
) -> CheckpointPlan | None:
    """``best`` or the revolve plan that fits ``memory_limit``, whichever costs less.

    The memory-limited planner searches long chains (more than
    :data:`~chainorder.checkpoint.search.TREE_SEARCH_LINKS` links) only partly; the binomial
    schedule with the most checkpoints that fit is then one more candidate, so the plan never
    recomputes more than revolve does. Shorter chains are searched exhaustively and ``best``
    is returned unchanged.

    Examples
    --------
    >>> chain = as_chain(",".join(["8"] * 40) + ",1")
    >>> cheaper_with_revolve(None, chain, 4096, "float64", None, 0).strategy
    'revolve'

    Notes
    -----
    As :func:`strategy_plan` (a binary search over the number of checkpoints).
    """
    if chain.n_links <= TREE_SEARCH_LINKS:
        return best
    try:
        rv = strategy_plan(chain, "revolve", memory_limit, dtype, costs, reserve=reserve)
    except MemoryLimitError:
        return best
    if best is None or (rv.cost, rv.peak_bytes) < (best.cost, best.peak_bytes):
        return rv
    return best


def _fitting_with_bookkeeping(
    chain: Chain, strategy: str, itemsize: int, limit: int
) -> CheckpointSchedule:
    """The strategy's schedule whose peak bytes plus its own executor bookkeeping fit."""
    n = chain.n_links

    def footprint(sch: CheckpointSchedule) -> int:
        _, events = reverse_sweep_events(chain, sch)
        peak = simulate_peak(chain, _reverse_flat(n), events, "streamed")
        return peak * itemsize + executor_bookkeeping(n, events)

    if strategy not in STRATEGIES:
        strategy_schedule(chain, strategy)  # raises the one-line UnknownSolverError
    if strategy == "sqrt":
        sch = segments_schedule(n)
        need = footprint(sch)
        if need > limit:
            raise MemoryLimitError(
                f"the √L segment schedule needs {need:,} bytes (executor bookkeeping "
                f"included), over the limit of {limit:,}"
            )
        return sch
    best, lowest = _largest_fitting(chain, footprint, limit)
    if best is None:
        raise MemoryLimitError(
            f"no revolve schedule fits {limit:,} bytes: the smallest needs {lowest:,} bytes "
            "(one checkpoint, executor bookkeeping included)"
        )
    return best


def revolve_front(
    chain: Chain | str | Sequence[int | str], dtype: object = "float64"
) -> list[CheckpointPlan]:
    """Revolve's cost–memory points on the reverse sweep, one per useful ``s``, Pareto-pruned.

    For ``s = 1 .. L``: the binomial schedule with ``s`` checkpoints as a plan; points another
    point beats on both peak and cost (Jacobian + recomputation mults) are dropped. A
    candidate set the exact planner can merge into its own front.

    Examples
    --------
    >>> [(cp.peak_elements, cp.recomputations) for cp in revolve_front("8,8,8,8,8,8,1")]
    [(88, 10), (96, 3), (104, 2), (112, 0)]

    Notes
    -----
    O(L·(L + t(L, 1))) in the worst case: the ``s = 1`` schedule alone has ``L(L−1)/2``
    advances.
    """
    resolved = as_chain(chain)
    dt = as_dtype(dtype)
    n = resolved.n_links
    p = Plan.from_tree(resolved, reverse_tree(n), "reverse", dt)
    costs = forward_costs(resolved)
    points = []
    for s in range(1, n + 1):
        _, events = reverse_sweep_events(resolved, revolve_schedule(n, s))
        points.append(CheckpointPlan.from_events(p, events, costs, None, "revolve", f"s = {s}"))
    front: list[CheckpointPlan] = []
    for cp in sorted(points, key=lambda c: (c.peak_elements, c.cost)):
        if not front or cp.cost < front[-1].cost:
            front.append(cp)
    return front


def _reverse_flat(n: int) -> FlatTree:
    return flatten(reverse_tree(n), n)

"""A checkpoint schedule as the event list of a chain's pure reverse sweep.

Link ``l`` of a chain is step ``l − 1`` of the schedule (:mod:`chainorder.checkpoint.actions`):
the state ``x_{l−1}`` is the activation its Jacobian is formed from. The events are those of
:class:`chainorder.memory.Event`, for the reverse tree ``((J_L·J_{L−1})·…)·J_1``:

``advance a → b``
    ``compute k`` for ``k = a+1 .. b``, each followed by ``release k−1`` unless ``x_{k−1}`` is
    a checkpoint; a ``compute`` of an activation computed before is a *recomputation*;
``restore i``
    ``release`` of the working activation if it is not a checkpoint;
``store i``
    nothing (the working activation stays);
``reverse i``
    ``form i+1`` (from ``x_i``), ``release i``, then — once two factors exist — ``multiply``
    the running product by ``J_{i+1}`` and ``free`` both factors.

So the executor that replays :func:`chainorder.memory.schedule_events` replays these too, and
:func:`chainorder.memory.simulate_peak` gives their peak.
"""

from __future__ import annotations

from chainorder.chain import Chain, as_chain
from chainorder.checkpoint.actions import CheckpointSchedule
from chainorder.cost import node_shapes
from chainorder.errors import SpecError
from chainorder.memory import Event, simulate_peak
from chainorder.tree import FlatTree, flatten, reverse_tree

__all__ = ["count_computes", "reverse_sweep_events", "reverse_sweep_peak"]


def _reverse_flat(n_links: int) -> FlatTree:
    return flatten(reverse_tree(n_links), n_links)


def reverse_sweep_events(
    chain: Chain | str, schedule: CheckpointSchedule
) -> tuple[FlatTree, list[Event]]:
    """The reverse tree of ``chain`` and the events that evaluate it under ``schedule``.

    Parameters
    ----------
    chain : Chain or spec
        ``L`` links; ``schedule.steps`` must be ``L``.
    schedule : CheckpointSchedule
        From :func:`~chainorder.checkpoint.revolve.revolve_schedule` or
        :func:`~chainorder.checkpoint.segments.segments_schedule`.

    Returns
    -------
    (FlatTree, list of Event)
        The events' ``multiply``/``free`` indices are nodes of the returned tree.

    Raises
    ------
    SpecError
        The schedule is for another number of steps, or advances over a state that is held.

    Examples
    --------
    >>> from chainorder.checkpoint.revolve import revolve_schedule
    >>> flat, events = reverse_sweep_events("2,3,4,5", revolve_schedule(3, 1))
    >>> " ".join(f"{e.kind[0]}{e.index}" for e in events)
    'c1 c2 r1 f3 r2 c1 f2 r1 m2 f0 f1 f1 r0 m4 f2 f3'

    (``c`` compute, ``r`` release, ``f`` form or free, ``m`` multiply: ``x_1`` is computed
    twice, ``x_0`` is the only checkpoint.)

    Notes
    -----
    O(L + advances) time.
    """
    chain = as_chain(chain)
    n = chain.n_links
    if schedule.steps != n:
        raise SpecError(f"the schedule reverses {schedule.steps} steps but the chain has {n} links")
    flat = _reverse_flat(n)
    prod_of = {flat.lo[i]: i for i in range(len(flat.lo)) if flat.left[i] >= 0}
    events: list[Event] = []
    live: set[int] = {0}
    stored: set[int] = set()
    cur: int | None = 0
    for act in schedule.actions:
        if act.kind == "store":
            stored.add(act.index)
        elif act.kind == "restore":
            if cur is not None and cur not in stored:
                events.append(Event("release", cur))
                live.discard(cur)
            cur = act.index
        elif act.kind == "advance":
            for k in range(act.index + 1, act.stop + 1):
                if k in live:
                    raise SpecError(f"'{act}' recomputes x_{k}, which is still held")
                events.append(Event("compute", k))
                live.add(k)
                if k - 1 not in stored:
                    events.append(Event("release", k - 1))
                    live.discard(k - 1)
            cur = act.stop
        else:  # reverse: schedules are checked by replay_actions when built
            i = act.index
            events += [Event("form", i + 1), Event("release", i)]
            live.discard(i)
            stored.discard(i)
            cur = None
            if i + 1 < n:
                p = prod_of[i + 1]
                events += [
                    Event("multiply", p),
                    Event("free", flat.left[p]),
                    Event("free", flat.right[p]),
                ]
    return flat, events


def count_computes(events: list[Event]) -> int:
    """Number of ``compute`` events (``L − 1`` of them without recomputation).

    Examples
    --------
    >>> count_computes([Event("compute", 1), Event("release", 0), Event("compute", 1)])
    2

    Notes
    -----
    O(len(events)).
    """
    return sum(1 for e in events if e.kind == "compute")


def reverse_sweep_peak(chain: Chain | str, schedule: CheckpointSchedule) -> int:
    """Peak elements alive in the checkpointed reverse sweep (activations, Jacobians, products).

    Examples
    --------
    >>> from chainorder.checkpoint.revolve import revolve_schedule
    >>> [reverse_sweep_peak("8,8,8,8,8,8,1", revolve_schedule(6, s)) for s in (1, 2, 6)]
    [88, 96, 112]

    Notes
    -----
    O(L + advances), by :func:`chainorder.memory.simulate_peak` over the events.
    """
    chain = as_chain(chain)
    flat, events = reverse_sweep_events(chain, schedule)
    return simulate_peak(chain, flat, events, "streamed", node_shapes(chain, flat))

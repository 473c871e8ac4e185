"""Event lists of checkpointed evaluations, and a replay that checks and counts them.

The events are those of :mod:`chainorder.memory` (``compute``, ``release``, ``form``,
``multiply``, ``free``); a checkpointed schedule repeats ``compute k`` for an activation it
dropped. :func:`replay` walks a list as the executor will, checks that every step has what
it needs (``compute k`` needs ``x_{k-1}``, ``form l`` needs ``x_{l-1}``, nothing is computed
twice while alive, everything is released at the end) and counts the recomputations.
"""

from __future__ import annotations

from dataclasses import dataclass

from chainorder.chain import Chain
from chainorder.checkpoint.decisions import CHILD_CONTEXTS, Decision
from chainorder.errors import ExecutionError
from chainorder.memory import Event
from chainorder.tree import FlatTree

__all__ = ["Replay", "decision_events", "replay"]


def decision_events(n_links: int, flat: FlatTree, node: Decision) -> list[Event]:
    """The events of evaluating ``node`` (a whole chain, context ``F``) on ``flat``.

    Examples
    --------
    >>> from chainorder.tree import flatten
    >>> leaf2, leaf1 = Decision(2, 2, "F", "leaf"), Decision(1, 1, "A", "leaf")
    >>> root = Decision(1, 2, "F", "LFA", leaf2, leaf1)
    >>> [(e.kind, e.index) for e in decision_events(2, flatten((2, 1)), root)]
    [('compute', 1), ('form', 2), ('release', 1), ('form', 1), ('release', 0), \
('multiply', 2), ('free', 0), ('free', 1)]

    Notes
    -----
    O(number of events), iterative.
    """
    index = {(flat.lo[i], flat.hi[i]): i for i in range(len(flat.lo))}
    events: list[Event] = []
    stack: list[tuple[str, object]] = [("node", node)]
    while stack:
        what, item = stack.pop()
        if what == "event":
            events.append(item)  # type: ignore[arg-type]
            continue
        dec: Decision = item  # type: ignore[assignment]
        if dec.is_leaf:
            l = dec.lo
            events.append(Event("form", l))
            if dec.ctx == "F" and l < n_links:
                events.append(Event("compute", l))
            events.append(Event("release", l - 1))
            continue
        assert dec.left is not None and dec.right is not None
        left_first, _, _ = CHILD_CONTEXTS[(dec.ctx, dec.order)]
        i = index[(dec.lo, dec.hi)]
        tail: list[tuple[str, object]] = [
            ("event", Event("multiply", i)),
            ("event", Event("free", index[(dec.left.lo, dec.left.hi)])),
            ("event", Event("free", index[(dec.right.lo, dec.right.hi)])),
        ]
        if left_first:
            if dec.ctx != "A":  # in A the activations are already cached
                events.extend(_advance(dec.lo - 1, dec.right.hi, keep_all=dec.order == "LFA"))
            first, second = dec.left, dec.right
        else:
            first, second = dec.right, dec.left
        stack.extend(reversed([("node", first), ("node", second), *tail]))
    return events


def _advance(s: int, t: int, keep_all: bool) -> list[Event]:
    """Compute ``x_{s+1}..x_t`` from ``x_s``; without ``keep_all`` drop each when passed."""
    out = []
    for k in range(s + 1, t + 1):
        out.append(Event("compute", k))
        if not keep_all and k - 1 > s:
            out.append(Event("release", k - 1))
    return out


@dataclass(frozen=True, slots=True)
class Replay:
    """What a checked event list does: computes, recomputations and their mults."""

    computes: int
    recomputations: int
    recompute_mults: int
    forward_mults: int


def replay(chain: Chain, events: list[Event], costs: tuple[int, ...]) -> Replay:
    """Check ``events`` step by step and count what they compute.

    Raises
    ------
    ExecutionError
        A step whose input is not alive, an activation computed while alive, a release of
        something not alive, or activations left alive at the end.

    Examples
    --------
    >>> from chainorder.memory import Event
    >>> c = Chain.from_dims([2, 3, 4])
    >>> evs = [Event("compute", 1), Event("form", 2), Event("release", 1), Event("form", 1),
    ...        Event("release", 0), Event("multiply", 2), Event("free", 0), Event("free", 1)]
    >>> replay(c, evs, (6, 12))
    Replay(computes=1, recomputations=0, recompute_mults=0, forward_mults=6)

    Notes
    -----
    O(number of events).
    """
    n = chain.n_links
    alive = [False] * (n + 1)
    alive[0] = True
    seen = [False] * (n + 1)
    seen[0] = True
    computes = recomputations = recompute_mults = forward_mults = 0
    for ev in events:
        k = ev.index
        if ev.kind == "compute":
            if not 1 <= k < n or alive[k] or not alive[k - 1]:
                raise ExecutionError(f"invalid schedule: compute x_{k} at this point")
            alive[k] = True
            computes += 1
            if seen[k]:
                recomputations += 1
                recompute_mults += costs[k - 1]
            else:
                forward_mults += costs[k - 1]
            seen[k] = True
        elif ev.kind == "release":
            if not alive[k]:
                raise ExecutionError(f"invalid schedule: release x_{k}, which is not alive")
            alive[k] = False
        elif ev.kind == "form" and not alive[k - 1]:
            raise ExecutionError(f"invalid schedule: form J_{k} without x_{k - 1}")
    if any(alive):
        raise ExecutionError("invalid schedule: activations left alive at the end")
    return Replay(computes, recomputations, recompute_mults, forward_mults)

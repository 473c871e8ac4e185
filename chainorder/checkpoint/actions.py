"""The action vocabulary of a checkpoint schedule and the abstract machine that checks it.

The model is revolve's (Griewank & Walther, TOMS Algorithm 799): ``l`` uniform steps take
state ``x_i`` to ``x_{i+1}`` (``i = 0 .. l-1``); reversing step ``i`` needs ``x_i`` and does
its own forward evaluation, so ``x_l`` is never computed. Steps are reversed in the order
``l-1, ..., 0``. A schedule is a sequence of :class:`Action`:

``store i``
    keep the working state ``x_i`` as a checkpoint (a slot; ``x_0`` is stored first);
``restore i``
    make checkpoint ``x_i`` the working state (chainorder never copies: the working state
    *is* the stored array, later advances read it and leave it in place);
``advance i → j``
    ``j - i`` forward steps from the working state ``x_i`` to ``x_j`` (the only action that
    costs: the schedule's *advances*);
``reverse i``
    reverse step ``i`` from the working state ``x_i``; a checkpoint at ``i`` is consumed.

In a chain (link ``l`` is step ``l - 1``): advance = ``compute`` events, reverse = ``form`` the
Jacobian of link ``i + 1`` from ``x_i`` and multiply it into the running product (see
:mod:`chainorder.checkpoint.sweep_events`). With every state cached the sweep makes
``l - 1`` advances; the rest are *recomputations*.
"""

from __future__ import annotations

from dataclasses import dataclass

from chainorder.checks import as_nonnegative_int
from chainorder.errors import SpecError

__all__ = [
    "ACTION_KINDS",
    "Action",
    "CheckpointSchedule",
    "MachineTrace",
    "as_positive_int",
    "replay_actions",
]

ACTION_KINDS = ("store", "restore", "advance", "reverse")


def as_positive_int(value: object, name: str) -> int:
    """``value`` as a Python int ``>= 1``; :class:`SpecError` / ``SpecTypeError`` otherwise.

    Examples
    --------
    >>> as_positive_int(3, "steps")
    3

    Notes
    -----
    O(1).
    """
    n = as_nonnegative_int(value, name)
    if n < 1:
        raise SpecError(f"{name} must be a positive integer, got {n}")
    return n


@dataclass(frozen=True, slots=True)
class Action:
    """One action of a checkpoint schedule: ``kind`` in :data:`ACTION_KINDS`.

    ``index`` is the state ``x_index`` the action is about; ``stop`` is the state an
    ``advance`` ends at (equal to ``index`` for the other kinds).
    """

    kind: str
    index: int
    stop: int

    def __str__(self) -> str:
        if self.kind == "advance":
            return f"advance {self.index}->{self.stop}"
        return f"{self.kind} {self.index}"


@dataclass(frozen=True, slots=True)
class MachineTrace:
    """What replaying a schedule did: advances and the most states held at once.

    ``max_stored`` counts checkpoints (``x_0`` included); ``max_states`` also counts the
    working state when it is not a checkpoint (revolve's ``s + 1``).
    """

    advances: int
    max_stored: int
    max_states: int


def replay_actions(actions: tuple[Action, ...] | list[Action], steps: int) -> MachineTrace:
    """Run ``actions`` on the abstract machine; check them and count what they cost.

    Parameters
    ----------
    actions : sequence of Action
    steps : int
        ``l``, the number of steps the schedule reverses.

    Returns
    -------
    MachineTrace

    Raises
    ------
    SpecError
        An action the machine cannot do (restore of a state not stored, an advance that does
        not start at the working state or runs past the next step to reverse, a reverse out
        of order or without its state), or steps left unreversed at the end.

    Examples
    --------
    >>> acts = [Action("store", 0, 0), Action("advance", 0, 1), Action("reverse", 1, 1),
    ...         Action("restore", 0, 0), Action("reverse", 0, 0)]
    >>> replay_actions(acts, 2)
    MachineTrace(advances=1, max_stored=1, max_states=2)

    Notes
    -----
    O(number of actions) time, O(checkpoints) memory.
    """
    steps = as_positive_int(steps, "steps")
    stored: set[int] = set()
    cur: int | None = 0
    nxt = steps - 1  # the next step to reverse
    advances = max_stored = max_states = 0

    def bad(why: str, act: Action) -> SpecError:
        return SpecError(f"invalid checkpoint schedule at '{act}': {why}")

    for act in actions:
        if act.kind == "store":
            if cur is None or act.index != cur:
                raise bad(f"the working state is {_name(cur)}", act)
            stored.add(cur)
        elif act.kind == "restore":
            if act.index not in stored:
                raise bad("that state is not stored", act)
            cur = act.index
        elif act.kind == "advance":
            if cur is None or act.index != cur:
                raise bad(f"the working state is {_name(cur)}", act)
            if not act.index < act.stop <= nxt:
                raise bad(f"an advance must end after its start and at most at x_{nxt}", act)
            advances += act.stop - act.index
            cur = act.stop
        elif act.kind == "reverse":
            if act.index != nxt:
                raise bad(f"the next step to reverse is {nxt}", act)
            if cur != act.index:
                raise bad(f"the working state is {_name(cur)}", act)
            stored.discard(act.index)
            cur = None
            nxt -= 1
        else:
            raise bad(f"unknown kind; expected one of {', '.join(ACTION_KINDS)}", act)
        max_stored = max(max_stored, len(stored))
        max_states = max(max_states, len(stored | ({cur} if cur is not None else set())))
    if nxt >= 0:
        raise SpecError(f"invalid checkpoint schedule: steps 0..{nxt} were never reversed")
    return MachineTrace(advances, max_stored, max_states)


def _name(cur: int | None) -> str:
    return "none" if cur is None else f"x_{cur}"


@dataclass(frozen=True, slots=True)
class CheckpointSchedule:
    """A checkpoint schedule for reversing ``steps`` uniform steps.

    Attributes
    ----------
    strategy : str
        ``revolve`` or ``segments``.
    steps : int
        ``l``.
    checkpoints : int
        The slots the schedule was built for (``x_0`` included).
    actions : tuple of Action
    advances : int
        Forward steps (the initial sweep included), checked by :func:`replay_actions`.
    max_stored, max_states : int
        The most checkpoints held at once, and the most states (checkpoints + working).
    """

    strategy: str
    steps: int
    checkpoints: int
    actions: tuple[Action, ...]
    advances: int
    max_stored: int
    max_states: int

    @property
    def recomputations(self) -> int:
        """Forward steps beyond the ``l - 1`` of a sweep that caches every state."""
        return self.advances - (self.steps - 1)

    @classmethod
    def checked(
        cls, strategy: str, steps: int, checkpoints: int, actions: list[Action]
    ) -> CheckpointSchedule:
        """Build a schedule from ``actions`` after replaying them (figures from the replay).

        Examples
        --------
        >>> s = CheckpointSchedule.checked("revolve", 1, 1,
        ...                                [Action("store", 0, 0), Action("reverse", 0, 0)])
        >>> s.advances, s.recomputations
        (0, 0)

        Notes
        -----
        O(number of actions).
        """
        trace = replay_actions(actions, steps)
        return cls(
            strategy,
            steps,
            checkpoints,
            tuple(actions),
            trace.advances,
            trace.max_stored,
            trace.max_states,
        )

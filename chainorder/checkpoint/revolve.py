"""Binomial checkpointing (revolve; Griewank & Walther, TOMS Algorithm 799).

Reversing ``l`` uniform steps with ``s`` checkpoints (``x_0`` occupies one; the working state
is extra, see :mod:`chainorder.checkpoint.actions`) takes at least

    ``t(l, s) = r·l − C(s+r, s+1)``,  ``r`` the smallest integer with ``C(s+r, s) ≥ l``

forward steps (``r`` is the *repetition number*: no step is evaluated more than ``r`` times),
which is also the value of the recursion

    ``t(l, s) = min_{1≤m<l} [m + t(l−m, s−1) + t(m, s)]``,  ``t(l, 1) = l(l−1)/2``,  ``t(1, s) = 0``

(advance ``m`` steps, store ``x_m``, reverse the last ``l − m`` steps with one slot fewer, then
the first ``m`` with all of them). ``t`` counts every forward step, the initial sweep included;
``t(l, s) − (l − 1)`` are recomputations. This module gives the closed form, the recursion
(vectorised, as a table), a schedule generator whose advances equal ``t(l, s)`` and a brute
force over every action sequence for small ``l, s``.
"""

from __future__ import annotations

from collections import deque
from math import comb

import numpy as np

from chainorder.checkpoint.actions import Action, CheckpointSchedule, as_positive_int
from chainorder.errors import SpecError

__all__ = [
    "brute_force_advances",
    "repetition_number",
    "revolve_advances",
    "revolve_recursion_table",
    "revolve_schedule",
]


def repetition_number(steps: int, checkpoints: int) -> int:
    """The smallest ``r >= 0`` with ``C(s + r, s) >= l``.

    Examples
    --------
    >>> repetition_number(10, 3), repetition_number(11, 3), repetition_number(1, 5)
    (2, 3, 0)

    Notes
    -----
    O(r) big-integer steps.
    """
    l = as_positive_int(steps, "steps")
    s = as_positive_int(checkpoints, "checkpoints")
    r, beta = 0, 1  # beta = C(s + r, s)
    while beta < l:
        r += 1
        beta = beta * (s + r) // r
    return r


def revolve_advances(steps: int, checkpoints: int) -> int:
    """Fewest forward steps to reverse ``l`` steps with ``s`` checkpoints: ``r·l − C(s+r, s+1)``.

    Parameters
    ----------
    steps : int
        ``l >= 1``.
    checkpoints : int
        ``s >= 1`` slots, ``x_0``'s included.

    Returns
    -------
    int
        ``t(l, s)``; the initial sweep's ``l − 1`` steps included.

    Raises
    ------
    SpecError, SpecTypeError
        ``l`` or ``s`` not a positive integer.

    Examples
    --------
    >>> revolve_advances(10, 3)  # r = 2: 2·10 − C(5, 4)
    15
    >>> revolve_advances(10, 1), revolve_advances(10, 9)  # l(l−1)/2, and l − 1 when s ≥ l − 1
    (45, 9)

    Notes
    -----
    O(r) big-integer steps (:func:`repetition_number`).
    """
    l, s = as_positive_int(steps, "steps"), as_positive_int(checkpoints, "checkpoints")
    r = repetition_number(l, s)
    return r * l - comb(s + r, s + 1)


def revolve_recursion_table(max_steps: int, max_checkpoints: int) -> np.ndarray:
    """``T[s, l] = t(l, s)`` by the recursion, for ``1 <= l <= max_steps``, ``1 <= s``.

    Row 0 and column 0 are unused (zero).

    Examples
    --------
    >>> T = revolve_recursion_table(6, 3)
    >>> T[1, 1:].tolist(), T[3, 1:].tolist()
    ([0, 1, 3, 6, 10, 15], [0, 1, 2, 3, 5, 7])

    Notes
    -----
    O(s·l²) work in O(s·l) NumPy operations; O(s·l) int64 memory.
    """
    n = as_positive_int(max_steps, "max_steps")
    smax = as_positive_int(max_checkpoints, "max_checkpoints")
    if n * n > 2**62:
        raise SpecError(f"max_steps = {n} is too large for an int64 table")
    t = np.zeros((smax + 1, n + 1), dtype=np.int64)
    ls = np.arange(n + 1, dtype=np.int64)
    t[1] = ls * (ls - 1) // 2
    t[1, 0] = 0
    for s in range(2, smax + 1):
        for l in range(2, n + 1):
            m = ls[1:l]
            t[s, l] = int((m + t[s - 1, l - m] + t[s, m]).min())
    return t


def _advances_vector(ls: np.ndarray, s: int) -> np.ndarray:
    """The closed form for an array of step counts (all ``>= 1``) and one ``s``."""
    lmax = int(ls.max())
    betas, c_next = [1], [0]  # C(s+r, s) and C(s+r, s+1) for r = 0, 1, ...
    r = 0
    while betas[-1] < lmax:
        r += 1
        betas.append(betas[-1] * (s + r) // r)
        c_next.append(betas[-1] * r // (s + 1))
    reps = np.searchsorted(np.array(betas, dtype=np.int64), ls, side="left")
    return reps * ls - np.array(c_next, dtype=np.int64)[reps]


def _best_split(l: int, s: int) -> int:
    """The smallest ``m`` reaching ``t(l, s) = m + t(l−m, s−1) + t(m, s)`` (``l >= 2, s >= 2``)."""
    m = np.arange(1, l, dtype=np.int64)
    cost = m + _advances_vector(l - m, s - 1) + _advances_vector(m, s)
    return int(m[int(np.argmin(cost))])


def revolve_schedule(steps: int, checkpoints: int) -> CheckpointSchedule:
    """The binomial schedule reversing ``l`` steps with ``s`` checkpoints in ``t(l, s)`` advances.

    Parameters
    ----------
    steps : int
        ``l >= 1``.
    checkpoints : int
        ``s >= 1`` slots, ``x_0``'s included (the working state is extra).

    Returns
    -------
    CheckpointSchedule
        ``store / restore / advance / reverse`` actions; ``advances == revolve_advances(l, s)``
        (checked by replaying the actions) and at most ``s`` checkpoints held at once.

    Raises
    ------
    SpecError, SpecTypeError
        ``l`` or ``s`` not a positive integer.

    Examples
    --------
    >>> sch = revolve_schedule(4, 2)
    >>> [str(a) for a in sch.actions]  # doctest: +NORMALIZE_WHITESPACE
    ['store 0', 'advance 0->1', 'store 1', 'advance 1->3', 'reverse 3', 'restore 1',
     'advance 1->2', 'reverse 2', 'restore 1', 'reverse 1', 'restore 0', 'reverse 0']
    >>> sch.advances, sch.recomputations, revolve_advances(4, 2)
    (4, 1, 4)

    Notes
    -----
    Each split picks the smallest ``m`` that attains the recursion, found with the closed form
    vectorised over ``m``: O(l) NumPy work per split, at most ``l − 1`` splits, plus the
    ``O(t(l, s))`` actions. No recursion depth limit (an explicit stack).
    """
    l, s = as_positive_int(steps, "steps"), as_positive_int(checkpoints, "checkpoints")
    actions: list[Action] = [Action("store", 0, 0)]
    cur: int | None = 0
    stack: list[tuple[int, int, int]] = [(0, l, s)]  # reverse steps a .. a+n-1, x_a stored

    def go_to(a: int) -> None:
        nonlocal cur
        if cur != a:
            actions.append(Action("restore", a, a))
            cur = a

    def advance(a: int, b: int) -> None:
        nonlocal cur
        if b > a:
            actions.append(Action("advance", a, b))
            cur = b

    def reverse(i: int) -> None:
        nonlocal cur
        actions.append(Action("reverse", i, i))
        cur = None

    while stack:
        a, n, k = stack.pop()
        if n == 1:
            go_to(a)
            reverse(a)
        elif k == 1:
            for i in range(n - 1, -1, -1):
                go_to(a)
                advance(a, a + i)
                reverse(a + i)
        else:
            m = _best_split(n, k)
            go_to(a)
            advance(a, a + m)
            actions.append(Action("store", a + m, a + m))
            stack.append((a, m, k))  # done second
            stack.append((a + m, n - m, k - 1))  # done first
    return CheckpointSchedule.checked("revolve", l, s, actions)


def brute_force_advances(steps: int, checkpoints: int) -> int:
    """The fewest advances over *every* action sequence, by a 0-1 breadth-first search.

    The search may store any state, drop any checkpoint and restore any of them (not only
    revolve's nested pattern); it is the reference the closed form and the schedules are
    tested against.

    Examples
    --------
    >>> [brute_force_advances(l, 2) for l in range(1, 7)]
    [0, 1, 2, 4, 6, 8]

    Notes
    -----
    Exponential: states are (checkpoint set, working state, steps left); meant for
    ``l <= 8``.
    """
    l, s = as_positive_int(steps, "steps"), as_positive_int(checkpoints, "checkpoints")
    if l > 12:
        raise SpecError(f"brute force is for at most 12 steps, got {l}")
    State = tuple[frozenset[int], int, int]
    start: State = (frozenset({0}), 0, l)  # a working state of -1 means none
    best: dict[State, int] = {start: 0}
    queue: deque[tuple[int, State]] = deque([(0, start)])
    while queue:
        cost, state = queue.popleft()
        if cost > best.get(state, cost):
            continue
        stored, cur, left = state
        if left == 0:
            return cost
        moves: list[tuple[int, State]] = []
        if cur >= 0 and cur + 1 <= left - 1:
            moves.append((1, (stored, cur + 1, left)))
        if cur == left - 1:
            moves.append((0, (stored - {cur}, -1, left - 1)))
        if cur >= 0 and cur not in stored and len(stored) < s:
            moves.append((0, (stored | {cur}, cur, left)))
        for c in stored:
            moves.append((0, (stored, c, left)))
            moves.append((0, (stored - {c}, cur, left)))
        for step, nxt in moves:
            if cost + step < best.get(nxt, cost + step + 1):
                best[nxt] = cost + step
                if step:
                    queue.append((cost + step, nxt))
                else:
                    queue.appendleft((cost, nxt))
    raise SpecError("unreachable: one checkpoint always suffices")  # pragma: no cover

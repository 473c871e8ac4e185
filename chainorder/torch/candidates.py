"""The candidates of ``chainorder.torch.jacobian(method="auto")`` and the choice among timed ones.

A :class:`Candidate` is one program that may run (the optimal plan, ``jacfwd``, ``jacrev``,
``direct-fwd``, ``direct-rev``) with its predicted peak and, once the first call measured, its
times and, when it tied on time, its measured peak. The rule (:func:`tie_break`): candidates
timed within :data:`TIE` of the fastest are a tie; among them the smallest peak wins, measured
(one extra run of each tied candidate, :func:`chainorder.torch.memory.measured_peak_bytes`)
where every tied candidate has one, predicted otherwise; peaks within :data:`PEAK_EQUAL` of the
smallest are equal, and the fastest of those is kept. :func:`choice_reason` words the outcome.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chainorder import ties
from chainorder.matfree.plan import MatrixFreePlan
from chainorder.units import format_bytes

__all__ = [
    "PEAK_EQUAL",
    "TIE",
    "TIMED_ROUNDS",
    "TIMING_BUDGET",
    "Candidate",
    "choice_reason",
    "tie_break",
    "tied",
    "time_rounds",
]

#: Timed candidates within this factor of the fastest are a tie: the smaller peak wins
#: (:data:`chainorder.ties.TIME_TIE`, the rule chainorder.jax follows too).
TIE = ties.TIME_TIE
#: Tied candidates whose peaks are within this factor of the smallest peak count as equal
#: (1 %): the fastest of them is kept (:data:`chainorder.ties.PEAK_EQUAL`).
PEAK_EQUAL = ties.PEAK_EQUAL
#: The first call times its candidates in up to this many interleaved rounds ...
TIMED_ROUNDS = 5
#: ... and stops after the first round that ends past this many seconds of timing.
TIMING_BUDGET = 1.0


@dataclass
class Candidate:
    """One program that may run: its name, plan, predicted peak bytes (``peak_bytes``, the
    chain model's ``predict_memory(plan, "streamed")``), the program that runs the plan
    (:func:`chainorder.torch.jacobian.program_of`), once timed its wall and CPU seconds
    (``score``: the one the choice used) and, when it tied on time, its measured peak bytes
    (``measured_peak_bytes``; None if not measured)."""

    name: str
    plan: MatrixFreePlan
    peak_bytes: int
    program: str = "direct"
    seconds: float | None = None
    cpu_seconds: float | None = None
    score: float | None = None
    measured_peak_bytes: int | None = None

    @property
    def mults(self) -> int:
        """The plan's derivative mults."""
        return self.plan.mults


def tied(timed: list[Candidate], fastest: Candidate) -> list[Candidate]:
    """The candidates timed within :data:`TIE` of ``fastest`` (``fastest`` among them).

    Examples
    --------
    >>> from chainorder.matfree.links import custom
    >>> from chainorder.matfree.planning import pure_tangent_plan
    >>> plan = pure_tangent_plan([custom(2, 2, 4)])
    >>> a, b = Candidate("a", plan, 10, score=1.0), Candidate("b", plan, 5, score=1.2)
    >>> [c.name for c in tied([a, b], a)]
    ['a']

    Notes
    -----
    O(candidates).
    """
    assert fastest.score is not None
    return [c for c in timed if c.score is not None and c.score <= TIE * fastest.score]


def _peak(c: Candidate, measured: bool) -> int:
    if measured and c.measured_peak_bytes is not None:
        return c.measured_peak_bytes
    return c.peak_bytes


def tie_break(timed: list[Candidate], fastest: Candidate) -> Candidate:
    """Among the candidates timed within :data:`TIE` of ``fastest``, the one with the smallest
    peak: measured where every tied candidate has a measured peak, else predicted; peaks
    within :data:`PEAK_EQUAL` of the smallest are equal, and the fastest of those is kept.

    Examples
    --------
    >>> from chainorder.matfree.links import custom
    >>> from chainorder.matfree.planning import pure_tangent_plan
    >>> plan = pure_tangent_plan([custom(2, 2, 4)])
    >>> fast = Candidate("jacrev", plan, 100, score=1.00, measured_peak_bytes=2000)
    >>> near = Candidate("direct-fwd", plan, 50, score=1.04, measured_peak_bytes=3000)
    >>> tie_break([fast, near], fast).name  # predicted 50 < 100, but measured 2000 < 3000
    'jacrev'
    >>> near.measured_peak_bytes = None  # not measured: the predicted peaks decide
    >>> tie_break([fast, near], fast).name
    'direct-fwd'

    Notes
    -----
    O(candidates).
    """
    near = tied(timed, fastest)
    measured = all(c.measured_peak_bytes is not None for c in near)
    by_name = {c.name: c for c in sorted(near, key=lambda c: c is not fastest)}
    seconds = {k: c.score for k, c in by_name.items() if c.score is not None}
    peaks = {k: _peak(c, measured) for k, c in by_name.items()}
    return by_name[ties.leanest_of_ties(seconds, peaks, TIE, PEAK_EQUAL)]


def choice_reason(
    keep: Candidate, fastest: Candidate, near: list[Candidate], unavailable: str | None
) -> str:
    """The reason line of a timed choice: the rule that decided, with the deciding peaks.

    ``near`` are the tied candidates (:func:`tied`), ``unavailable`` why their peaks could not
    be measured (None: measured, or no tie).

    Examples
    --------
    >>> from chainorder.matfree.links import custom
    >>> from chainorder.matfree.planning import pure_tangent_plan
    >>> plan = pure_tangent_plan([custom(2, 2, 4)])
    >>> fast = Candidate("jacrev", plan, 100, score=1.00, measured_peak_bytes=4096)
    >>> near = Candidate("direct-fwd", plan, 50, score=1.04, measured_peak_bytes=2048)
    >>> for part in choice_reason(near, fast, [fast, near], None).split("; "):
    ...     print(part)
    timed on the first call
    2 candidates within 5% of the fastest
    direct-fwd has a smaller measured peak (2 KiB vs 4 KiB for jacrev), kept
    >>> choice_reason(fast, fast, [fast], None)
    'timed on the first call, fastest kept'
    >>> near.measured_peak_bytes = 4090  # within 1 %: the fastest kept
    >>> for part in choice_reason(fast, fast, [fast, near], None).split(": ")[1:]:
    ...     print(part)
    its measured peak 4 KiB is within 1% of the smallest (direct-fwd's 3.99 KiB)

    Notes
    -----
    O(candidates).
    """
    if len(near) < 2:
        return "timed on the first call, fastest kept"
    measured = unavailable is None
    kind = "measured" if measured else "predicted"
    lead = f"timed on the first call; {len(near)} candidates within {TIE - 1:.0%} of the fastest"
    if not measured:
        lead += f"; peak measurement {unavailable}, so predicted peaks decide"
    if keep is fastest:
        low = min(near, key=lambda c: _peak(c, measured))
        where = (
            "the smallest"
            if _peak(low, measured) == _peak(keep, measured)
            else f"within {PEAK_EQUAL - 1:.0%} of the smallest ({low.name}'s "
            f"{format_bytes(_peak(low, measured))})"
        )
        return (
            f"{lead}; the fastest ({fastest.name}) kept: its {kind} peak "
            f"{format_bytes(_peak(keep, measured))} is {where}"
        )
    return (
        f"{lead}; {keep.name} has a smaller {kind} peak ({format_bytes(_peak(keep, measured))}"
        f" vs {format_bytes(_peak(fastest, measured))} for {fastest.name}), kept"
    )


def time_rounds(candidates: list[Candidate], run: Callable[[Candidate], Any], x: Any) -> None:
    """Set each candidate's best wall and CPU seconds over up to :data:`TIMED_ROUNDS`
    interleaved rounds (the order reversed every other round, so that no candidate always
    follows the same one), stopping after any round once :data:`TIMING_BUDGET` seconds are
    spent: a Jacobian of seconds is timed once, one of a millisecond five times. The score is
    the CPU time on a CPU (other jobs on the machine do not count), the wall clock on a GPU
    (``x`` on CUDA: synchronised around each run).

    Examples
    --------
    >>> from chainorder.matfree.links import custom
    >>> from chainorder.matfree.planning import pure_tangent_plan
    >>> plan = pure_tangent_plan([custom(2, 2, 4)])
    >>> cands = [Candidate("a", plan, 10), Candidate("b", plan, 10)]
    >>> time_rounds(cands, lambda c: sum(range(1000 if c.name == "a" else 100_000)), None)
    >>> min(cands, key=lambda c: c.score).name
    'a'

    Notes
    -----
    One to :data:`TIMED_ROUNDS` runs of every candidate.
    """
    on_cpu = not getattr(x, "is_cuda", False)
    for c in candidates:
        c.seconds = c.cpu_seconds = float("inf")
    start = time.perf_counter()
    for r in range(TIMED_ROUNDS):
        for c in candidates if r % 2 == 0 else candidates[::-1]:
            _sync(x)
            wall, cpu = time.perf_counter(), time.process_time()
            J = run(c)
            _sync(x)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            del J
            c.seconds, c.cpu_seconds = min(c.seconds, wall), min(c.cpu_seconds, cpu)
        if time.perf_counter() - start > TIMING_BUDGET:
            break
    for c in candidates:
        c.score = c.cpu_seconds if on_cpu else c.seconds


def _sync(x: Any) -> None:
    if getattr(x, "is_cuda", False):
        import torch

        torch.cuda.synchronize(x.device)

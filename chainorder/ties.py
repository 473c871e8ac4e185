"""The one rule for choosing among timed candidates: time first, then peak memory on a tie.

``chainorder.jax.jacobian`` and ``chainorder.torch.jacobian`` both time their close candidates
on the first call. Both keep the fastest, except that candidates timed within
:data:`TIME_TIE` of the fastest are a tie that memory breaks: the smallest peak wins, and peaks
within :data:`PEAK_EQUAL` of the smallest count as equal, the fastest of those being kept.
The two factors are issue 12's own tolerances read the other way round: a candidate within 5 %
of the fastest meets the time target, so spending that 5 % on memory costs no target.
The peaks are whatever the caller trusts most (XLA's ``memory_analysis()`` for JAX, the
allocator's measured peak for PyTorch, the model's prediction where nothing was measured).
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["PEAK_EQUAL", "TIME_TIE", "leanest_of_ties", "time_ties"]

#: Timed candidates within this factor of the fastest are a tie (5 %): the smaller peak wins.
TIME_TIE = 1.05
#: Tied candidates whose peaks are within this factor of the smallest count as equal (1 %):
#: the fastest of them is kept.
PEAK_EQUAL = 1.01


def time_ties(seconds: Mapping[str, float], time_tie: float = TIME_TIE) -> list[str]:
    """The names timed within ``time_tie`` of the fastest, fastest first.

    Examples
    --------
    >>> time_ties({"forward": 1.04e-4, "reverse": 1.00e-4, "optimal": 2.0e-4})
    ['reverse', 'forward']

    Notes
    -----
    O(n log n) for ``n`` candidates.
    """
    if not seconds:
        raise ValueError("time_ties needs at least one timed candidate")
    least = min(seconds.values())
    return sorted((k for k, s in seconds.items() if s <= time_tie * least), key=seconds.get)


def leanest_of_ties(
    seconds: Mapping[str, float],
    peaks: Mapping[str, int],
    time_tie: float = TIME_TIE,
    peak_equal: float = PEAK_EQUAL,
) -> str:
    """The candidate kept: among :func:`time_ties`, the smallest peak; among peaks within
    ``peak_equal`` of it, the fastest (on equal times, the first in ``seconds``' order).

    ``peaks`` needs an entry for every tied name.

    Examples
    --------
    >>> seconds = {"reverse": 1.00e-4, "forward": 1.04e-4}  # a 4 % tie
    >>> leanest_of_ties(seconds, {"reverse": 35 << 20, "forward": 3 << 20})
    'forward'
    >>> leanest_of_ties(seconds, {"reverse": 1000, "forward": 995})  # within 1 %: equal
    'reverse'
    >>> leanest_of_ties({"reverse": 1.0, "forward": 1.2}, {"reverse": 9, "forward": 1})
    'reverse'

    Notes
    -----
    O(n log n) for ``n`` candidates.
    """
    near = time_ties(seconds, time_tie)
    low = min(peaks[k] for k in near)
    return next(k for k in near if peaks[k] <= peak_equal * low)

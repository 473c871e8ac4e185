"""√L segments (Chen, Xu, Zhang & Guestrin 2016, "Training deep nets with sublinear memory cost").

The ``l`` steps are cut into ``k`` segments at ``0 = b_0 < b_1 < … < b_{k−1} < l``. The
forward sweep keeps only the boundaries ``x_{b_j}`` and caches every state of the last segment;
the sweep back reverses the last segment, then for each earlier segment restores its boundary,
recomputes and caches its states, and reverses them. Every state of the first ``k − 1``
segments except their boundaries is computed twice: ``b_{k−1} − (k − 1)`` recomputations (at
most one extra forward sweep), and at most ``k + max segment length − 1`` checkpoints held.
With ``k ≈ √l`` both are ``O(√l)``. This is the schedule of PyTorch's
``checkpoint_sequential`` (whose last segment is not checkpointed either), except that a
segment's last step is not recomputed here: its reversal needs only its input state.

Actions and their checks are those of :mod:`chainorder.checkpoint.actions`.
"""

from __future__ import annotations

import itertools
import math

from chainorder.checkpoint.actions import Action, CheckpointSchedule, as_positive_int
from chainorder.errors import SpecError

__all__ = ["segment_boundaries", "segments_schedule", "sqrt_segments"]


def sqrt_segments(steps: int) -> int:
    """Chen et al.'s segment count ``max(1, round(√l))``.

    Examples
    --------
    >>> sqrt_segments(64), sqrt_segments(10), sqrt_segments(1)
    (8, 3, 1)

    Notes
    -----
    O(1).
    """
    l = as_positive_int(steps, "steps")
    return max(1, round(math.sqrt(l)))


def segment_boundaries(steps: int, segments: int) -> tuple[int, ...]:
    """Evenly spaced segment starts ``b_j = ⌊j·l/k⌋`` (``b_0 = 0``), ``k`` of them.

    Raises
    ------
    SpecError
        ``k`` larger than ``l`` (a segment would be empty).

    Examples
    --------
    >>> segment_boundaries(10, 3)
    (0, 3, 6)

    Notes
    -----
    O(k).
    """
    l, k = as_positive_int(steps, "steps"), as_positive_int(segments, "segments")
    if k > l:
        raise SpecError(f"segments must be at most the number of steps {l}, got {k}")
    return tuple(j * l // k for j in range(k))


def segments_schedule(
    steps: int, segments: int | None = None, boundaries: tuple[int, ...] | None = None
) -> CheckpointSchedule:
    """The √L (Chen et al.) schedule: boundaries stored, one segment cached at a time.

    Parameters
    ----------
    steps : int
        ``l >= 1``.
    segments : int, optional
        ``k``; default :func:`sqrt_segments`. Ignored when ``boundaries`` is given.
    boundaries : tuple of int, optional
        Increasing segment starts, the first 0, all below ``l``.

    Returns
    -------
    CheckpointSchedule
        ``strategy = "segments"``; ``checkpoints`` is the most states it stores at once.

    Raises
    ------
    SpecError, SpecTypeError
        Bad ``l``, ``k`` or boundaries.

    Examples
    --------
    >>> sch = segments_schedule(9)  # 3 segments: 0, 3, 6
    >>> sch.advances, sch.recomputations, sch.max_stored
    (12, 4, 5)

    Notes
    -----
    O(l) actions and time.
    """
    l = as_positive_int(steps, "steps")
    if boundaries is None:
        k = sqrt_segments(l) if segments is None else segments
        bounds = segment_boundaries(l, k)
    else:
        bounds = tuple(boundaries)
        if (
            not bounds
            or bounds[0] != 0
            or any(not isinstance(b, int) for b in bounds)
            or any(a >= b for a, b in itertools.pairwise(bounds))
            or bounds[-1] >= l
        ):
            raise SpecError(
                f"boundaries must be increasing integers from 0 and below {l}, got {boundaries!r}"
            )
    ends = (*bounds[1:], l)
    actions: list[Action] = [Action("store", 0, 0)]
    for a, b in itertools.pairwise(bounds):  # the sweep: boundaries only
        actions += [Action("advance", a, b), Action("store", b, b)]
    for j in range(len(bounds) - 1, -1, -1):
        a, end = bounds[j], ends[j]
        if j < len(bounds) - 1:
            actions.append(Action("restore", a, a))
        for i in range(a + 1, end):  # cache the segment
            actions += [Action("advance", i - 1, i), Action("store", i, i)]
        for i in range(end - 1, a - 1, -1):
            if i != end - 1:
                actions.append(Action("restore", i, i))
            actions.append(Action("reverse", i, i))
    sch = CheckpointSchedule.checked("segments", l, 0, actions)
    return CheckpointSchedule(
        "segments", l, sch.max_stored, sch.actions, sch.advances, sch.max_stored, sch.max_states
    )

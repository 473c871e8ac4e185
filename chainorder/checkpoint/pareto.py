"""Pareto fronts of (peak, cost) pairs and their combination under ``max`` and ``+``.

A *front* is a list of points ``(peak, cost, choice)`` sorted by increasing peak and strictly
decreasing cost: no point is matched or beaten on both figures by another. ``choice`` is
whatever the caller needs to rebuild the plan behind a point.

A plan made of independent parts has ``peak = max(constant, peak_i + offset_i)`` and
``cost = constant + Σ cost_i``; :func:`combine` computes the front of all such plans from the
parts' fronts in one merge over the candidate peaks (the optimum at a peak level ``P`` takes
from every part its cheapest point with ``peak_i + offset_i ≤ P``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = ["Front", "Point", "best_within", "combine", "prune"]

Point = tuple[int, int, object]
Front = list[Point]


def prune(points: Iterable[Point], limit: int | None = None) -> Front:
    """The non-dominated points, sorted by peak; points above ``limit`` are dropped.

    Examples
    --------
    >>> prune([(5, 10, "a"), (3, 12, "b"), (4, 12, "c"), (6, 10, "d"), (9, 1, "e")], limit=8)
    [(3, 12, 'b'), (5, 10, 'a')]

    Notes
    -----
    O(n log n) for n points.
    """
    out: Front = []
    for point in sorted(points, key=lambda p: (p[0], p[1])):
        if limit is not None and point[0] > limit:
            break
        if not out or point[1] < out[-1][1]:
            out.append(point)
    return out


def combine(
    peak: int,
    cost: int,
    parts: Sequence[tuple[Front, int]],
    limit: int | None = None,
    tag: object = None,
) -> Front:
    """Front of ``max(peak, p_i + offset_i)`` and ``cost + Σ c_i`` over one point per part.

    Each resulting point's choice is ``(tag, (j_1, j_2, ...))``: the index of the point
    taken from each part.

    Examples
    --------
    >>> a = [(2, 9, None), (5, 1, None)]
    >>> b = [(1, 4, None), (3, 0, None)]
    >>> combine(0, 100, [(a, 0), (b, 1)], tag="x")
    [(2, 113, ('x', (0, 0))), (4, 109, ('x', (0, 1))), (5, 101, ('x', (1, 1)))]

    Notes
    -----
    O(k·Σ|front_i|) for k parts: one pass over the candidate peak levels.
    """
    if any(not front for front, _ in parts):
        return []
    levels = sorted({peak} | {p + off for front, off in parts for p, _, _ in front})
    idx = [-1] * len(parts)
    out: Front = []
    for level in levels:
        if level < peak or (limit is not None and level > limit):
            continue
        total = cost
        actual = peak
        ok = True
        for n, (front, off) in enumerate(parts):
            j = idx[n]
            while j + 1 < len(front) and front[j + 1][0] + off <= level:
                j += 1
            idx[n] = j
            if j < 0:
                ok = False
                break
            total += front[j][1]
            actual = max(actual, front[j][0] + off)
        if ok and (not out or total < out[-1][1]):
            out.append((actual, total, (tag, tuple(idx))))
    return out


def best_within(front: Front, limit: int) -> int | None:
    """Index of the cheapest point whose peak is at most ``limit`` (None if none fits).

    Examples
    --------
    >>> best_within([(2, 9, None), (5, 1, None)], 4)
    0

    Notes
    -----
    O(len(front)).
    """
    best = None
    for j, (p, _, _) in enumerate(front):
        if p <= limit:
            best = j
    return best

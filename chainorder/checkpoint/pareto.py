"""Pareto fronts of (peak, cost) pairs and their combination under ``max`` and ``+``.

A *front* is a list of points ``(peak, cost, choice)`` sorted by increasing peak and strictly
decreasing cost: no point is matched or beaten on both figures by another. ``choice`` is
whatever the caller needs to rebuild the plan behind a point.

A plan made of two independent parts has ``peak = max(constant, peak_i + offset_i)`` and
``cost = constant + cost_1 + cost_2``; :func:`combine` computes the front of all such plans
in one merge of the parts' fronts (the optimum at a peak level ``P`` takes from each part its
cheapest point with ``peak_i + offset_i ≤ P``).
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
    """Front of ``max(peak, p_1 + o_1, p_2 + o_2)`` and ``cost + c_1 + c_2``, one point per part.

    ``parts`` holds two ``(front, offset)`` pairs. Each resulting point's choice is
    ``(tag, (j_1, j_2))``: the index of the point taken from each part.

    Examples
    --------
    >>> a = [(2, 9, None), (5, 1, None)]
    >>> b = [(1, 4, None), (3, 0, None)]
    >>> combine(0, 100, [(a, 0), (b, 1)], tag="x")
    [(2, 113, ('x', (0, 0))), (4, 109, ('x', (0, 1))), (5, 101, ('x', (1, 1)))]

    Notes
    -----
    O(|front_1| + |front_2|): both fronts are walked once, in increasing peak; each step
    takes the next point of the part whose next peak is lower (its cost only falls).
    """
    (fa, oa), (fb, ob) = parts
    if not fa or not fb:
        return []
    na, nb = len(fa), len(fb)
    i = j = 0
    out: Front = []
    while True:
        level = max(peak, fa[i][0] + oa, fb[j][0] + ob)
        if limit is not None and level > limit:
            break
        total = cost + fa[i][1] + fb[j][1]
        if out and out[-1][0] == level:
            out[-1] = (level, total, (tag, (i, j)))
        else:
            out.append((level, total, (tag, (i, j))))
        nxt_a = fa[i + 1][0] + oa if i + 1 < na else None
        nxt_b = fb[j + 1][0] + ob if j + 1 < nb else None
        if nxt_a is None and nxt_b is None:
            break
        if nxt_b is None or (nxt_a is not None and nxt_a <= nxt_b):
            i += 1
            if nxt_b is not None and nxt_a == nxt_b:
                j += 1
        else:
            j += 1
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

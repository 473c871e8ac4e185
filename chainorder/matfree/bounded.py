"""Matrix-free chains beyond the exact DP's reach: a segmented plan with a certified bound.

The generalised DP (:mod:`chainorder.matfree.solver`) is exact but O(L³) time and O(L²)
memory, so it refuses chains over :data:`~chainorder.matfree.solver.MAX_MATFREE_LINKS` links.
:func:`solve_matrix_free_bounded` plans any length and states how far from optimal it can be.

Lower bound (the proof)
-----------------------
Take any plan of the DP's family (:mod:`chainorder.matfree.plan`). Every link ``l`` is
processed by exactly one action: a leaf (``given``: 0 mults; ``diagonal``/``tangent``/
``adjoint`` on the link alone: at least ``pre_l``, its :attr:`LinkCost.preaccumulation`,
which is the cheapest leaf action), or it is swept by exactly one internal sweep node
(a tangent node ``(lo, hi, split)`` sweeps ``split..hi`` and leaves ``lo..split-1`` to its
child; an adjoint node sweeps ``lo..split-1``). A tangent node over ``lo..hi`` runs
``d_{lo-1}`` seeds, ``lo <= l``, so link ``l`` costs ``d_{lo-1}·T_l >= minL(l)·T_l`` with
``minL(l) = min(d_0..d_{l-1})``; an adjoint node runs ``d_hi`` seeds, ``hi >= l``, so
``>= minR(l)·A_l`` with ``minR(l) = min(d_l..d_L)``. Dense products cost ``>= 0``. Summing
the disjoint per-link charges::

    LB = Σ_l min(pre_l, minL(l)·T_l, minR(l)·A_l)  <=  cost of every plan  (in particular OPT).

(A swept length-1 leaf is charged ``pre_l <= min(d_{l-1}·T_l, d_l·A_l)`` as well.)

Solution
--------
Cut the chain into segments of at most ``width`` links (each cut at the narrowest width in the
last half of its window, so that sweeps with few seeds can start at a cut); solve each exactly
with the DP; make each segment a *super-link* (rows/cols its end widths, tangent/adjoint per
seed the sums over its links, preaccumulation its exact optimum, with its plan kept) and solve
the chain of super-links exactly with the DP (recursively, by the same construction, when there
are more than ``width`` super-links). The super-plan is then *expanded* over the original
links: a preaccumulated super-link becomes its segment's nodes, a sweep or dense product over
super-links ``I..J`` (split ``K``) the same action over their original links (split = first
link of ``K``; an adjoint from the identity keeps ``hi + 1``). A sweep through a super-link
costs, per seed, exactly the sum over its links, so the expanded plan is a valid plan of the
family; its mults are re-priced from its own nodes by :meth:`MatrixFreePlan.from_nodes`, never
taken from the super-chain. The plan is one plan of the family, so ``LB <= OPT <= plan.mults``;
``plan.gap`` is ``mults / lower_bound - 1``. (What it may miss: nodes that start or end inside
a segment and reach beyond it.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chainorder.errors import SpecError
from chainorder.matfree.links import LinkCost
from chainorder.matfree.plan import MatrixFreePlan
from chainorder.matfree.solver import (
    MAX_MATFREE_LINKS,
    check_links,
    plan_nodes,
    solve_table,
)

__all__ = ["DEFAULT_WIDTH", "matfree_lower_bound", "solve_matrix_free_bounded"]

#: Links per segment solved exactly (O(width²) per segment; O(L·width²) in all).
DEFAULT_WIDTH = 256

Node = tuple[int, int, int, str]


def matfree_lower_bound(links: Sequence[LinkCost]) -> int:
    """``Σ_l min(pre_l, minL(l)·T_l, minR(l)·A_l)``: a proven lower bound on the optimum.

    See the module notes for the proof.

    Examples
    --------
    >>> from chainorder.matfree.links import custom
    >>> matfree_lower_bound([custom(3, 3, 29), custom(1, 3, 14), custom(2, 1, 7)])  # OPT 56
    50

    Notes
    -----
    O(L) time and memory.
    """
    links = check_links(links)
    dims = [links[0].cols] + [link.rows for link in links]
    L = len(links)
    suffix = dims[:]
    for x in range(L - 1, -1, -1):
        suffix[x] = min(suffix[x], suffix[x + 1])
    total, left = 0, dims[0]
    for l, link in enumerate(links, start=1):
        left = min(left, dims[l - 1])
        total += min(link.preaccumulation, left * link.tangent, suffix[l] * link.adjoint)
    return total


@dataclass(frozen=True, slots=True)
class _Segment(LinkCost):
    """A segment as one link: preaccumulation = its plan's cost; ``nodes`` over original links."""

    pre: int = 0
    first: int = 1
    last: int = 1
    nodes: tuple[Node, ...] = ()

    @property
    def preaccumulation(self) -> int:
        return self.pre


def _offset(nodes: Sequence[Node], off: int) -> list[Node]:
    return [(lo + off, hi + off, split + off if split else 0, act) for lo, hi, split, act in nodes]


def _exact(links: Sequence[LinkCost], sweeps: bool) -> tuple[int, list[Node]]:
    best, action, split = solve_table(links, sweeps)
    return best, plan_nodes(links, action, split)


def _expand(parts: Sequence[_Segment], nodes: Sequence[Node]) -> list[Node]:
    out: list[Node] = []
    for lo, hi, split, act in nodes:
        if lo == hi:  # a leaf: the super-link preaccumulated
            out.extend(parts[lo - 1].nodes)  # its segment's own plan
            continue
        a, b = parts[lo - 1].first, parts[hi - 1].last
        k = parts[split - 1].first if split <= len(parts) else parts[-1].last + 1
        out.append((a, b, k, act))
    return out


def _cuts(links: Sequence[LinkCost], width: int) -> list[tuple[int, int]]:
    """Segments ``[start, stop)`` of at most ``width`` links, each cut at the narrowest width
    among the last half of its window (ties: the latest), so sweeps of few seeds can start
    at segment boundaries."""
    L, out, start = len(links), [], 0
    while start < L:
        if L - start <= width:
            out.append((start, L))
            break
        lo = start + max(1, width // 2)
        stop = min(range(lo, start + width + 1), key=lambda c: (links[c - 1].rows, -c))
        out.append((start, stop))
        start = stop
    return out


def _segmented(links: Sequence[LinkCost], width: int, sweeps: bool) -> list[Node]:
    """Nodes over ``links`` (1-based) by the segmented construction."""
    L = len(links)
    if L <= width:
        return _exact(links, sweeps)[1]
    parts: list[_Segment] = []
    for start, stop in _cuts(links, width):
        seg = links[start:stop]
        cost, nodes = _exact(seg, sweeps)
        parts.append(
            _Segment(
                rows=seg[-1].rows,
                cols=seg[0].cols,
                tangent=sum(x.tangent for x in seg),
                adjoint=sum(x.adjoint for x in seg),
                kind="custom",
                pre=cost,
                first=start + 1,
                last=start + len(seg),
                nodes=tuple(_offset(nodes, start)),
            )
        )
    if len(parts) <= width:
        return _expand(parts, _exact(parts, sweeps)[1])
    return _expand(parts, _segmented(parts, width, sweeps))


def solve_matrix_free_bounded(
    links: Sequence[LinkCost],
    dtype: str = "float64",
    width: int = DEFAULT_WIDTH,
    sweeps: bool = True,
) -> MatrixFreePlan:
    """A plan for a chain of any length, with ``lower_bound`` (proven) and ``gap``.

    Parameters
    ----------
    links : sequence of LinkCost
    dtype : str
        Recorded in the plan.
    width : int
        Links per exactly solved segment (``>= 2``).
    sweeps : bool
        ``False``: dense products only (the given-matrix family; the bound is then the
        sum of the preaccumulations, also proven: every plan of that family preaccumulates
        every link).

    Returns
    -------
    MatrixFreePlan
        ``lower_bound <= optimal mults <= plan.mults``.

    Raises
    ------
    SpecError
        Links that do not chain, or ``width < 2``.

    Examples
    --------
    >>> from chainorder.matfree.links import custom
    >>> ls = [custom(3, 3, 29), custom(1, 3, 14), custom(2, 1, 7)]
    >>> p = solve_matrix_free_bounded(ls, width=2)
    >>> p.lower_bound <= 56 <= p.mults
    True

    Notes
    -----
    O(L·width²) time (each segment's DP is O(width³) over L/width segments; the super-chain
    of S = L/width links is O(S³) when S is small, recursive otherwise), O(width² + L) memory.
    """
    links = check_links(links)
    if not isinstance(width, int) or width < 2:
        raise SpecError(f"segment width must be an integer >= 2, got {width!r}")
    nodes = _segmented(links, min(width, MAX_MATFREE_LINKS), sweeps)
    plan = MatrixFreePlan.from_nodes(links, nodes, dtype)  # re-priced from its own nodes
    bound = (
        matfree_lower_bound(links) if sweeps else sum(x.preaccumulation for x in links)
    )
    return MatrixFreePlan(plan.links, plan.nodes, plan.dtype, None, bound)

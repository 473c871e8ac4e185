"""One product of a plan's schedule (:class:`Step`) and the schedule itself, in O(L)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chainorder.chain import Structure
from chainorder.cost import NodeShapes, product_flops, product_mults
from chainorder.tree import FlatTree

__all__ = ["Step", "schedule_steps"]


@dataclass(frozen=True, slots=True)
class Step:
    """One product of a schedule: ``out = left @ right``.

    ``left_links``/``right_links`` are ``(first, last)`` link ranges (``left`` covers the
    later links); shapes are ``(rows, cols)``; ``mults`` and ``flops`` in their units.
    """

    number: int
    node: int
    left_links: tuple[int, int]
    right_links: tuple[int, int]
    left_shape: tuple[int, int]
    right_shape: tuple[int, int]
    out_shape: tuple[int, int]
    left_structure: Structure
    right_structure: Structure
    out_structure: Structure
    mults: int
    flops: int

    @staticmethod
    def label(links: tuple[int, int]) -> str:
        """``"J3"`` for one link, ``"J5..J2"`` for a product of several."""
        first, last = links
        return f"J{first}" if first == last else f"J{last}..J{first}"

    def describe(self) -> str:
        """``"J3 · J2..J1 -> (d3×d0)"``-style one-liner."""
        return (
            f"{self.label(self.left_links)} · {self.label(self.right_links)} -> "
            f"{self.out_shape[0]}×{self.out_shape[1]}"
        )


def schedule_steps(flat: FlatTree, shapes: NodeShapes, order: Sequence[int]) -> list[Step]:
    """The products of ``flat`` in evaluation ``order`` (leaves skipped), with shapes and costs.

    Examples
    --------
    >>> from chainorder.plan import plan
    >>> p = plan([2, 3, 4, 5], mode="forward")
    >>> [s.describe() for s in schedule_steps(p.flat, p.shapes, p.given.order)]
    ['J2 · J1 -> 4×2', 'J3 · J2..J1 -> 5×2']

    Notes
    -----
    O(L) time and memory.
    """
    steps: list[Step] = []
    for i in order:
        if flat.is_leaf(i):
            continue
        a, b = flat.left[i], flat.right[i]
        p, q, r = shapes.rows[a], shapes.rows[b], shapes.cols[b]
        sa, sb = shapes.structure[a], shapes.structure[b]
        steps.append(
            Step(
                number=len(steps) + 1,
                node=i,
                left_links=(flat.lo[a], flat.hi[a]),
                right_links=(flat.lo[b], flat.hi[b]),
                left_shape=(p, q),
                right_shape=(q, r),
                out_shape=(p, r),
                left_structure=sa,
                right_structure=sb,
                out_structure=shapes.structure[i],
                mults=product_mults(p, q, r, sa, sb),
                flops=product_flops(p, q, r, sa, sb),
            )
        )
    return steps

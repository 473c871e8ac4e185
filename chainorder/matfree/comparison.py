"""A matrix-free optimum against the homogeneous plans: pure tangent, pure adjoint, given-matrix."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Comparison"]


@dataclass(frozen=True, slots=True)
class Comparison:
    """The optimum against the homogeneous plans, in mults (see :mod:`chainorder.matfree.plan`).

    ``given_matrix``: every link preaccumulated (or given), then the cheapest dense products.
    """

    optimum: int
    pure_tangent: int
    pure_adjoint: int
    given_matrix: int

    @staticmethod
    def _ratio(a: int, b: int) -> float:
        return a / b if b else (1.0 if a == 0 else float("inf"))

    @property
    def speedup_vs_tangent(self) -> float:
        """``pure_tangent / optimum``."""
        return self._ratio(self.pure_tangent, self.optimum)

    @property
    def speedup_vs_adjoint(self) -> float:
        """``pure_adjoint / optimum``."""
        return self._ratio(self.pure_adjoint, self.optimum)

    @property
    def speedup_vs_given_matrix(self) -> float:
        """``given_matrix / optimum``."""
        return self._ratio(self.given_matrix, self.optimum)

    @property
    def speedup_vs_best_homogeneous(self) -> float:
        """``min(pure_tangent, pure_adjoint) / optimum``."""
        return self._ratio(min(self.pure_tangent, self.pure_adjoint), self.optimum)

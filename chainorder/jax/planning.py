"""Plans for a segmented function: the matrix-free optimum and the named alternatives.

The links of the segments go to the existing planners of :mod:`chainorder.matfree`:

``optimal``  :func:`chainorder.matfree.plan_matrix_free` (the generalised DP: tangent sweeps,
             adjoint sweeps and dense products in the cheapest order);
``forward``  :func:`chainorder.matfree.pure_tangent_plan` (what ``jax.jacfwd`` does);
``reverse``  :func:`chainorder.matfree.pure_adjoint_plan` (what ``jax.jacrev`` does);
``given``    :func:`chainorder.matfree.given_matrix_plan` (every segment's Jacobian formed,
             then the cheapest dense products).

:func:`candidates` orders the distinct plans by predicted mults; :func:`to_time` picks those
the first call should time (point 3 of issue 12: the cheapest within 20 %, at most three).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chainorder.errors import SpecError
from chainorder.matfree.links import LinkCost
from chainorder.matfree.memory import predict_memory
from chainorder.matfree.plan import MatrixFreePlan
from chainorder.matfree.planning import (
    given_matrix_plan,
    plan_matrix_free,
    pure_adjoint_plan,
    pure_tangent_plan,
)

__all__ = ["METHODS", "NAMED", "Candidate", "candidates", "make_plans", "to_time"]

#: The plans by name.
NAMED: tuple[str, ...] = ("optimal", "forward", "reverse", "given")
#: Accepted ``method`` values.
METHODS: tuple[str, ...] = ("auto", *NAMED)
#: Candidates predicted within this factor of the cheapest are timed on the first call.
WITHIN = 1.2
#: At most this many candidates are timed.
MAX_TIMED = 3


@dataclass(frozen=True)
class Candidate:
    """A named plan with its predicted mults and peak memory (bytes, streamed model)."""

    name: str
    plan: MatrixFreePlan
    peak_bytes: int

    @property
    def mults(self) -> int:
        """The plan's multiplications."""
        return self.plan.mults


def make_plans(links: Sequence[LinkCost], dtype: str) -> dict[str, Candidate]:
    """Every named plan over ``links``.

    Examples
    --------
    >>> from chainorder.matfree.links import custom, elementwise
    >>> ls = [custom(8, 256, 256 * 8), elementwise(8), custom(256, 8, 256 * 8)]  # an hourglass
    >>> {k: c.mults for k, c in make_plans(ls, "float32").items()}
    {'optimal': 540680, 'forward': 1050624, 'reverse': 1050624, 'given': 559112}

    Notes
    -----
    O(L³) (the DP).
    """
    plans = {
        "optimal": plan_matrix_free(links, dtype),
        "forward": pure_tangent_plan(links, dtype),
        "reverse": pure_adjoint_plan(links, dtype),
        "given": given_matrix_plan(links, dtype),
    }
    return {k: Candidate(k, p, predict_memory(p, "streamed").peak_bytes) for k, p in plans.items()}


def candidates(plans: dict[str, Candidate]) -> list[Candidate]:
    """Distinct plans (same nodes = same plan), cheapest first; ties keep the order of NAMED.

    Examples
    --------
    >>> from chainorder.matfree.links import custom
    >>> c = candidates(make_plans([custom(5, 5, 25), custom(5, 5, 25)], "float64"))
    >>> [(x.name, x.mults) for x in c]  # forward is the same plan as optimal
    [('optimal', 250), ('reverse', 250), ('given', 375)]

    Notes
    -----
    O(plans · nodes).
    """
    seen: dict[tuple[object, ...], Candidate] = {}
    for name in NAMED:
        c = plans[name]
        key = tuple((n.lo, n.hi, n.split, n.action) for n in c.plan.nodes)
        seen.setdefault(key, c)
    return sorted(seen.values(), key=lambda c: (c.mults, NAMED.index(c.name)))


def to_time(cands: Sequence[Candidate], measure: bool | None) -> list[Candidate]:
    """The candidates to time: none when ``measure`` is False; the cheapest three when True;
    when None, those within 20 % of the cheapest (timed only if there are two or more).

    Examples
    --------
    >>> from chainorder.matfree.links import custom
    >>> c = candidates(make_plans([custom(5, 5, 25), custom(5, 5, 25)], "float64"))
    >>> [x.name for x in to_time(c, None)]  # the optimum is forward; reverse costs the same
    ['optimal', 'reverse']

    Notes
    -----
    O(candidates).
    """
    if measure is False or not cands:
        return []
    if measure:
        return list(cands[:MAX_TIMED])
    best = cands[0].mults
    close = [c for c in cands if c.mults <= WITHIN * best][:MAX_TIMED]
    return close if len(close) > 1 else []


def check_method(method: object) -> str:
    """``method`` as a checked name; SpecError otherwise.

    Notes
    -----
    O(1).
    """
    if not isinstance(method, str) or method not in METHODS:
        raise SpecError(f"method is {method!r}; expected one of {', '.join(METHODS)}")
    return method

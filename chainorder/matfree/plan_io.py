"""Text and JSON for :class:`~chainorder.matfree.plan.MatrixFreePlan`.

Expression notation (built bottom-up, no recursion): ``J3`` a given link, ``diag(J3)`` an
elementwise link's diagonal, ``T[5..3]·X`` a tangent sweep through links 3, 4, 5 applied to
``X`` (``I`` = the identity, i.e. seeded with unit columns), ``X·A[2..1]`` an adjoint sweep
through links 2, 1 applied to ``X`` from the left, ``X·Y`` a dense product. Composite operands
are parenthesised. The GDJCPB optimum reads ``(T[3]·I)·(I·A[2..1])``.

JSON (format ``chainorder-matfree-plan``, version 1): ``dtype``, ``links`` (flat link objects
as in :mod:`chainorder.matfree.chainfile`), ``nodes`` (a flat list, children before parents, of
``{"lo", "hi", "split", "action", "seeds", "mults"}``), the totals ``mults`` and ``flops``, and
``comparison`` (or null). Reading re-prices every node from the links and re-checks every
stated number, the totals and the comparison.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from chainorder.errors import PlanFormatError, SpecError
from chainorder.units import format_count

if TYPE_CHECKING:
    from chainorder.matfree.plan import MatrixFreePlan, PlanNode

__all__ = [
    "MATFREE_PLAN_FORMAT",
    "MATFREE_PLAN_FORMAT_VERSION",
    "describe_node",
    "describe_plan",
    "lower_bound_line",
    "plan_expression",
    "plan_from_dict",
    "plan_from_json",
    "plan_json",
    "plan_to_dict",
]

MATFREE_PLAN_FORMAT = "chainorder-matfree-plan"
MATFREE_PLAN_FORMAT_VERSION = 1


def _span(a: int, b: int) -> str:
    return str(a) if a == b else f"{a}..{b}"


def plan_expression(plan: MatrixFreePlan, dot: str = "·") -> str:
    """The plan as one expression (notation in the module notes).

    Examples
    --------
    >>> from chainorder.matfree import custom, solve_matrix_free
    >>> plan_expression(solve_matrix_free([custom(3, 3, 29), custom(1, 3, 14), custom(2, 1, 7)]))
    '(T[3]·I)·(I·A[2..1])'

    Notes
    -----
    O(number of nodes · length of the result).
    """
    texts: list[str] = []

    def wrap(i: int) -> str:
        t = texts[i]
        return f"({t})" if dot in t else t

    for node in plan.nodes:
        if node.action == "given":
            text = f"J{node.lo}"
        elif node.action == "diagonal":
            text = f"diag(J{node.lo})"
        elif node.action == "tangent":
            start = wrap(node.right) if node.right >= 0 else "I"
            text = f"T[{_span(node.hi, node.split)}]{dot}{start}"
        elif node.action == "adjoint":
            start = wrap(node.left) if node.left >= 0 else "I"
            text = f"{start}{dot}A[{_span(node.split - 1, node.lo)}]"
        else:
            text = f"{wrap(node.left)}{dot}{wrap(node.right)}"
        texts.append(text)
    return texts[-1]


def describe_node(plan: MatrixFreePlan, node: PlanNode) -> str:
    """One line for one node."""
    links = _span(node.lo, node.hi)
    if node.action == "given":
        what = "given as an array"
    elif node.action == "diagonal":
        what = "diagonal from one JVP of ones"
    elif node.action == "tangent":
        start = "the identity" if node.right < 0 else f"links {_span(node.lo, node.split - 1)}"
        what = (
            f"tangent sweep (JVPs) through {_span(node.split, node.hi)} on {node.seeds} seed "
            f"column{'s' if node.seeds != 1 else ''}, from {start}"
        )
    elif node.action == "adjoint":
        start = "the identity" if node.left < 0 else f"links {_span(node.split, node.hi)}"
        what = (
            f"adjoint sweep (VJPs) through {_span(node.split - 1, node.lo)} on {node.seeds} "
            f"seed row{'s' if node.seeds != 1 else ''}, from {start}"
        )
    else:
        what = (
            f"dense product ({_span(node.split, node.hi)})·({_span(node.lo, node.split - 1)})"
        )
    return f"links {links}: {what}: {format_count(node.mults)} mults"


def describe_plan(plan: MatrixFreePlan) -> list[str]:
    """Human-readable lines: the summary, one line per node, and the comparison.

    Examples
    --------
    >>> from chainorder.matfree import custom, plan_matrix_free
    >>> for line in describe_plan(plan_matrix_free([custom(3, 3, 29), custom(1, 3, 14),
    ...                                             custom(2, 1, 7)])):
    ...     print(line)
    matrix-free plan over 3 links (float64): mixed, matrix-free; 56 mults, 112 FLOPs
      (T[3]·I)·(I·A[2..1])
      links 1..2: adjoint sweep (VJPs) through 2..1 on 1 seed row, from the identity: 43 mults
      links 3: tangent sweep (JVPs) through 3 on 1 seed column, from the identity: 7 mults
      links 1..3: dense product (3)·(1..2): 6 mults
    pure tangent 150 mults (2.68×), pure adjoint 100 (1.79×), given-matrix 123 (2.2×)

    Notes
    -----
    O(number of nodes + L).
    """
    lines = [
        f"matrix-free plan over {plan.n_links} link{'s' if plan.n_links != 1 else ''} "
        f"({plan.dtype}): {plan.mode_label}; {format_count(plan.mults)} mults, "
        f"{format_count(plan.flops)} FLOPs",
        f"  {plan_expression(plan)}",
    ]
    lines += [f"  {describe_node(plan, node)}" for node in plan.nodes]
    if plan.lower_bound is not None:
        lines.append(lower_bound_line(plan))
    c = plan.comparison
    if c is not None:
        lines.append(
            f"pure tangent {format_count(c.pure_tangent)} mults ({c.speedup_vs_tangent:.3g}×), "
            f"pure adjoint {format_count(c.pure_adjoint)} ({c.speedup_vs_adjoint:.3g}×), "
            f"given-matrix {format_count(c.given_matrix)} ({c.speedup_vs_given_matrix:.3g}×)"
        )
    return lines


def lower_bound_line(plan: MatrixFreePlan) -> str:
    """``"lower bound on the optimum N mults: at most G % above optimal"`` (plan with a bound).

    Examples
    --------
    >>> from chainorder.matfree.bounded import solve_matrix_free_bounded
    >>> from chainorder.matfree import custom
    >>> p = solve_matrix_free_bounded([custom(3, 3, 29), custom(1, 3, 14), custom(2, 1, 7)])
    >>> lower_bound_line(p)
    'proven lower bound on the optimum 50 mults: this plan is at most 12% above optimal'

    Notes
    -----
    O(1).
    """
    gap = plan.gap
    pct = "inf" if gap is None or gap == float("inf") else f"{100 * gap:.3g}"
    return (
        f"proven lower bound on the optimum {format_count(plan.lower_bound or 0)} mults: "
        f"this plan is at most {pct}% above optimal"
    )


def plan_to_dict(plan: MatrixFreePlan) -> dict[str, Any]:
    """JSON-ready dict (format in the module notes).

    Notes
    -----
    O(number of nodes + L).
    """
    from chainorder.matfree.chainfile import link_to_dict

    c = plan.comparison
    return {
        "format": MATFREE_PLAN_FORMAT,
        "version": MATFREE_PLAN_FORMAT_VERSION,
        "dtype": plan.dtype,
        "mode": plan.mode_label,
        "mults": plan.mults,
        "flops": plan.flops,
        "links": [link_to_dict(link) for link in plan.links],
        "nodes": [
            {
                "lo": n.lo,
                "hi": n.hi,
                "split": n.split,
                "action": n.action,
                "seeds": n.seeds,
                "mults": n.mults,
            }
            for n in plan.nodes
        ],
        "lower_bound": plan.lower_bound,
        "comparison": None
        if c is None
        else {
            "pure_tangent": c.pure_tangent,
            "pure_adjoint": c.pure_adjoint,
            "given_matrix": c.given_matrix,
        },
    }


def plan_from_dict(data: Any) -> MatrixFreePlan:
    """Inverse of :func:`plan_to_dict`, re-checking every stated number.

    Raises
    ------
    PlanFormatError
        Wrong format or version, missing fields, or figures that disagree with the links.

    Notes
    -----
    O(L³) when a comparison is stored (it is recomputed), else O(number of nodes · L).
    """
    from chainorder.dtypes import as_dtype
    from chainorder.matfree.chainfile import link_from_dict
    from chainorder.matfree.plan import Comparison, MatrixFreePlan, PlanNode
    from chainorder.matfree.planning import comparison

    if not isinstance(data, dict) or data.get("format") != MATFREE_PLAN_FORMAT:
        raise PlanFormatError(
            f'not a matrix-free plan: expected "format": "{MATFREE_PLAN_FORMAT}"'
        )
    if data.get("version") != MATFREE_PLAN_FORMAT_VERSION:
        raise PlanFormatError(
            f"matrix-free plan format version {data.get('version')!r} is not supported; "
            f"this chainorder reads version {MATFREE_PLAN_FORMAT_VERSION}"
        )
    try:
        links = []
        for l, item in enumerate(data["links"], start=1):
            try:
                links.append(link_from_dict(item))
            except SpecError as exc:
                raise PlanFormatError(f"link {l} of the plan: {exc}") from None
        nodes = [
            PlanNode(
                int(n["lo"]), int(n["hi"]), int(n["split"]), str(n["action"]),
                int(n["seeds"]), int(n["mults"]), 0,
            )
            for n in data["nodes"]
        ]
        dtype = as_dtype(data["dtype"]).name
        plan = MatrixFreePlan.from_nodes(links, nodes, dtype)
        if "mode" in data and data["mode"] != plan.mode_label:
            raise PlanFormatError(
                f"the plan states mode {data['mode']!r} but its nodes give {plan.mode_label!r}"
            )
        for key in ("mults", "flops"):
            if data[key] != getattr(plan, key):
                raise PlanFormatError(
                    f"the plan states {data[key]!r} {key} but its nodes give {getattr(plan, key)}"
                )
        stored = data.get("comparison")
        bound = data.get("lower_bound")
        if bound is not None:
            from chainorder.matfree.bounded import matfree_lower_bound

            if bound not in (matfree_lower_bound(links), sum(x.preaccumulation for x in links)):
                raise PlanFormatError(
                    f"the stored lower bound {bound!r} is not the proven bound of the links "
                    f"({matfree_lower_bound(links)})"
                )
            plan = MatrixFreePlan(plan.links, plan.nodes, plan.dtype, None, int(bound))
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, PlanFormatError):
            raise
        raise PlanFormatError(f"malformed matrix-free plan: {type(exc).__name__}: {exc}") from None
    if stored is None:
        return plan
    fresh = comparison(plan)
    if not isinstance(stored, dict) or any(
        stored.get(k) != getattr(fresh, k) for k in ("pure_tangent", "pure_adjoint", "given_matrix")
    ):
        raise PlanFormatError(
            f"the stored comparison {stored!r} disagrees with the links: pure tangent "
            f"{fresh.pure_tangent}, pure adjoint {fresh.pure_adjoint}, given-matrix "
            f"{fresh.given_matrix}"
        )
    return MatrixFreePlan(plan.links, plan.nodes, plan.dtype, Comparison(*(
        fresh.optimum, fresh.pure_tangent, fresh.pure_adjoint, fresh.given_matrix
    )), plan.lower_bound)


def plan_json(plan: MatrixFreePlan, indent: int | None = 2) -> str:
    """:func:`plan_to_dict` as JSON text."""
    return json.dumps(plan_to_dict(plan), indent=indent) + "\n"


def plan_from_json(text: str) -> MatrixFreePlan:
    """Inverse of :func:`plan_json`.

    Raises
    ------
    PlanFormatError
        Invalid JSON (naming the line) or as :func:`plan_from_dict`.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanFormatError(f"line {exc.lineno}: invalid JSON: {exc.msg}") from None
    return plan_from_dict(data)

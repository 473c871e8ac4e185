"""Compute a traced graph's Jacobian several ways and compare them.

:func:`graph_jacobian` gives the ``m × n`` Jacobian (rows: outputs flattened and
concatenated; columns: inputs) by forward mode, reverse mode, central finite differences,
or vertex elimination in any order. :func:`validate_graph` compares the chosen order with
the other three.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from chainorder.checks import as_nonnegative_int, as_positive_float
from chainorder.errors import JacobianMismatchError, TraceError, UnknownSolverError
from chainorder.gradcheck import central_difference
from chainorder.graph.linearize import LinearizedGraph, linearize
from chainorder.graph.orders import ORDERS, named_order
from chainorder.graph.planning import GraphPlan, plan_graph
from chainorder.graph.program import compile_jacobian_program
from chainorder.graph.trace import TracedGraph
from chainorder.graph.traced_graph import require_graph

__all__ = [
    "ORDERS",
    "Comparison",
    "GraphValidationReport",
    "graph_fd_jacobian",
    "graph_jacobian",
    "named_order",
    "validate_graph",
]


def graph_fd_jacobian(graph: TracedGraph, eps: float = 1e-6) -> np.ndarray:
    """The ``m × n`` Jacobian of a traced graph by central differences of its original function.

    Column ``j`` is :func:`chainorder.gradcheck.central_difference` (the one finite-difference
    helper) along the ``j``-th unit vector of the differentiated inputs, flattened and
    concatenated in argument order; rows are the outputs, flattened and concatenated. (For a
    plain function ``R^n → R^m`` see :func:`chainorder.nets.finite_difference_jacobian`.)

    Examples
    --------
    >>> from chainorder.graph import trace
    >>> graph_fd_jacobian(trace(lambda x: x**3, np.array([2.0]))).round(5)
    array([[12.]])

    Notes
    -----
    ``2n`` calls of the function; error O(eps²) + O(machine eps / eps).
    """
    require_graph(graph, "graph_fd_jacobian")
    eps = as_positive_float(eps, "eps")
    x = [np.asarray(graph.value(name), dtype=float) for name in graph.inputs]
    n = sum(xi.size for xi in x)
    cols = []
    for j in range(n):
        e = np.zeros(n)
        e[j] = 1.0
        v, off = [], 0
        for xi in x:
            v.append(e[off : off + xi.size].reshape(xi.shape))
            off += xi.size
        d = central_difference(lambda xs: graph.call(*xs), x, v, eps)
        cols.append(np.concatenate([di.ravel() for di in d]))
    return np.stack(cols, axis=1)


def graph_jacobian(
    graph: TracedGraph,
    method: str | Sequence[str] = "reverse",
    seed: int = 0,
    *,
    lin: LinearizedGraph | None = None,
) -> np.ndarray:
    """The ``m × n`` Jacobian of ``graph`` at its traced values.

    Parameters
    ----------
    graph : TracedGraph
    method : str or sequence of str
        ``"forward"`` / ``"reverse"`` (sweeps), ``"fd"`` (central differences),
        ``"elimination:NAME"`` with NAME in forward, reverse, markowitz, search, or an
        explicit elimination order (a sequence of intermediate vertex names).
    seed : int
        Seed of the search order.
    lin : LinearizedGraph, optional
        The graph's linearisation when already at hand (e.g. ``GraphPlan.lin``), so that an
        elimination does not linearise again.

    Examples
    --------
    >>> from chainorder.graph import trace
    >>> g = trace(lambda x: np.sin(x) * x, np.array([1.0, 2.0]))
    >>> np.allclose(graph_jacobian(g, "elimination:markowitz"), graph_jacobian(g, "fd"))
    True

    Notes
    -----
    Runs the method's compiled program
    (:func:`~chainorder.graph.program.compile_jacobian_program`); costs as
    :func:`~chainorder.graph.sweep.sweep_cost` and
    :func:`~chainorder.graph.eliminate.eliminate` predict them.
    """
    require_graph(graph, "graph_jacobian")
    seed = as_nonnegative_int(seed, "seed")
    if isinstance(method, str):
        if method == "fd":
            return graph_fd_jacobian(graph)
        if method in ("forward", "reverse"):
            prog = compile_jacobian_program(lin if lin is not None else linearize(graph), method)
            return prog.run(graph)
        if method.startswith("elimination:"):
            lin = lin if lin is not None else linearize(graph)
            order = named_order(lin, method.split(":", 1)[1], seed)
            return compile_jacobian_program(lin, method, order).run(graph)
        raise UnknownSolverError(
            f"unknown method {method!r}; expected forward, reverse, fd, "
            + ", ".join(f"elimination:{o}" for o in ORDERS)
            + " or an explicit order"
        )
    if not isinstance(method, Sequence):
        raise UnknownSolverError(
            "method must be a method name or an elimination order (a list of vertex names), "
            f"got {type(method).__name__}"
        )
    odd = [v for v in method if not isinstance(v, str)]
    if odd:
        raise UnknownSolverError(
            f"an elimination order lists vertex names (str), got a {type(odd[0]).__name__}"
        )
    lin = lin if lin is not None else linearize(graph)
    return compile_jacobian_program(lin, "elimination:search", method).run(graph)


@dataclass(frozen=True)
class Comparison:
    """Max absolute and relative difference between the checked Jacobian and a reference."""

    reference: str
    max_abs: float
    max_rel: float
    ok: bool


@dataclass(frozen=True)
class GraphValidationReport:
    """The checked Jacobian and its comparisons with forward, reverse and finite differences."""

    method: str
    jacobian: np.ndarray
    comparisons: tuple[Comparison, ...]

    @property
    def ok(self) -> bool:
        """True when every comparison is within tolerance."""
        return all(c.ok for c in self.comparisons)

    def raise_if_failed(self) -> None:
        """Raise :class:`JacobianMismatchError` naming the failed comparisons."""
        bad = [c for c in self.comparisons if not c.ok]
        if bad:
            raise JacobianMismatchError(
                f"Jacobian by {self.method} disagrees with "
                + ", ".join(f"{c.reference} (max abs {c.max_abs:.3g})" for c in bad)
            )


def validate_graph(
    graph: TracedGraph | GraphPlan,
    order: Sequence[str] | str | None = None,
    *,
    rtol: float = 1e-6,
    fd_rtol: float = 1e-5,
    eps: float = 1e-6,
) -> GraphValidationReport:
    """Compute the Jacobian by elimination in ``order`` and compare it with the other ways.

    Parameters
    ----------
    graph : TracedGraph or GraphPlan
        A traced graph, or its plan from :func:`~chainorder.graph.planning.plan_graph`
        (whose linearised graph and chosen method are then reused, not recomputed).
    order : sequence of str, or "forward" / "reverse", optional
        Elimination order, or a sweep mode (default: the plan's chosen method; a traced
        graph is planned first).
    rtol : float
        Tolerance against forward and reverse mode (exact arithmetic up to rounding),
        relative to the largest Jacobian entry.
    fd_rtol : float
        Tolerance against central finite differences.
    eps : float
        Finite-difference step.

    Returns
    -------
    GraphValidationReport

    Raises
    ------
    TraceError
        ``graph`` is neither a :class:`TracedGraph` nor a :class:`GraphPlan`.
    SpecError, SpecTypeError
        A tolerance or step that is not a positive finite number.
    UnknownSolverError
        An unknown order name.

    Examples
    --------
    >>> from chainorder.graph import plan_graph, trace
    >>> g = trace(lambda x: np.exp(x).sum(), np.zeros(3))
    >>> validate_graph(g).ok, validate_graph(plan_graph(g)).method
    (True, 'elimination order')

    Notes
    -----
    One elimination, one forward and one reverse sweep, ``2n`` function calls.
    """
    if not isinstance(graph, GraphPlan | TracedGraph):
        raise TraceError(
            "validate_graph needs a TracedGraph (from chainorder.trace(fn, *args)) or its "
            f"GraphPlan (from plan_graph), got {type(graph).__name__}"
        )
    rtol = as_positive_float(rtol, "rtol")
    fd_rtol = as_positive_float(fd_rtol, "fd_rtol")
    eps = as_positive_float(eps, "eps")
    plan = graph if isinstance(graph, GraphPlan) else None
    if plan is None and order is None:
        plan = plan_graph(graph)
    traced = plan.graph if plan is not None else graph
    lin = plan.lin if plan is not None else linearize(traced)
    if order is None:
        chosen = plan.chosen
        order = str(chosen.method) if chosen.method.is_sweep else chosen.order
    method = f"{order} mode" if isinstance(order, str) else "elimination order"
    jac = graph_jacobian(traced, order, lin=lin)
    scale = max(1.0, float(np.abs(jac).max(initial=0.0)))
    comps = []
    for ref, tol in (("forward", rtol), ("reverse", rtol), ("fd", fd_rtol)):
        other = (
            graph_jacobian(traced, ref, lin=lin) if ref != "fd" else graph_fd_jacobian(traced, eps)
        )
        diff = float(np.abs(jac - other).max(initial=0.0))
        rel = diff / scale
        name = {"fd": "finite differences"}.get(ref, f"{ref} mode")
        if name != method:
            comps.append(Comparison(name, diff, rel, rel <= tol))
    return GraphValidationReport(method, jac, tuple(comps))

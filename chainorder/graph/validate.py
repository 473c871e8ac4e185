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

from chainorder.errors import JacobianMismatchError
from chainorder.graph.eliminate import ORDERS, eliminate, named_order
from chainorder.graph.linearize import linearize
from chainorder.graph.sweep import jacobian_forward, jacobian_reverse
from chainorder.graph.trace import TracedGraph

__all__ = [
    "Comparison",
    "ValidationReport",
    "finite_difference_jacobian",
    "graph_jacobian",
    "validate_graph",
]


def finite_difference_jacobian(graph: TracedGraph, eps: float = 1e-6) -> np.ndarray:
    """The Jacobian by central differences of the original function (``2n`` calls).

    Examples
    --------
    >>> from chainorder.graph import trace
    >>> finite_difference_jacobian(trace(lambda x: x**3, np.array([2.0]))).round(5)
    array([[12.]])

    Notes
    -----
    ``2n`` evaluations of the function; error O(eps²) + O(machine eps / eps).
    """
    x = [np.asarray(graph.value(name), dtype=float) for name in graph.inputs]
    flat = np.concatenate([xi.ravel() for xi in x])
    sizes = [xi.size for xi in x]
    cols = []

    def unflat(z: np.ndarray) -> list[np.ndarray]:
        parts, off = [], 0
        for xi, n in zip(x, sizes, strict=True):
            parts.append(z[off : off + n].reshape(xi.shape))
            off += n
        return parts

    for j in range(flat.size):
        e = np.zeros_like(flat)
        e[j] = eps
        plus = graph.call(*unflat(flat + e))
        minus = graph.call(*unflat(flat - e))
        cols.append(
            np.concatenate([(p - q).ravel() for p, q in zip(plus, minus, strict=True)]) / (2 * eps)
        )
    return np.stack(cols, axis=1)


def graph_jacobian(
    graph: TracedGraph, method: str | Sequence[str] = "reverse", seed: int = 0
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

    Examples
    --------
    >>> from chainorder.graph import trace
    >>> g = trace(lambda x: np.sin(x) * x, np.array([1.0, 2.0]))
    >>> np.allclose(graph_jacobian(g, "elimination:markowitz"), graph_jacobian(g, "fd"))
    True

    Notes
    -----
    Costs as the method: see :func:`~chainorder.graph.sweep.sweep_cost` and
    :func:`~chainorder.graph.eliminate.eliminate`.
    """
    if isinstance(method, str):
        if method == "forward":
            return jacobian_forward(graph)
        if method == "reverse":
            return jacobian_reverse(graph)
        if method == "fd":
            return finite_difference_jacobian(graph)
        if method.startswith("elimination:"):
            lin = linearize(graph)
            return eliminate(
                lin, named_order(lin, method.split(":", 1)[1], seed), numeric=True
            ).jacobian
        from chainorder.errors import UnknownSolverError

        raise UnknownSolverError(
            f"unknown method {method!r}; expected forward, reverse, fd, "
            + ", ".join(f"elimination:{o}" for o in ORDERS)
            + " or an explicit order"
        )
    lin = linearize(graph)
    return eliminate(lin, method, numeric=True).jacobian


@dataclass(frozen=True)
class Comparison:
    """Max absolute and relative difference between the checked Jacobian and a reference."""

    reference: str
    max_abs: float
    max_rel: float
    ok: bool


@dataclass(frozen=True)
class ValidationReport:
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
    graph: TracedGraph,
    order: Sequence[str] | str | None = None,
    *,
    rtol: float = 1e-6,
    fd_rtol: float = 1e-5,
    eps: float = 1e-6,
) -> ValidationReport:
    """Compute the Jacobian by elimination in ``order`` and compare it with the other ways.

    Parameters
    ----------
    graph : TracedGraph
    order : sequence of str, or "forward" / "reverse", optional
        Elimination order, or a sweep mode (default: the chosen plan of
        :func:`~chainorder.graph.planning.plan_graph`).
    rtol : float
        Tolerance against forward and reverse mode (exact arithmetic up to rounding),
        relative to the largest Jacobian entry.
    fd_rtol : float
        Tolerance against central finite differences.
    eps : float
        Finite-difference step.

    Returns
    -------
    ValidationReport

    Examples
    --------
    >>> from chainorder.graph import trace
    >>> validate_graph(trace(lambda x: np.exp(x).sum(), np.zeros(3))).ok
    True

    Notes
    -----
    One elimination, one forward and one reverse sweep, ``2n`` function calls.
    """
    if order is None:
        from chainorder.graph.planning import plan_graph

        chosen = plan_graph(graph).chosen
        order = chosen.order if chosen.order is not None else chosen.name.split()[0]
    if isinstance(order, str):
        method = f"{order} mode"
        jac = graph_jacobian(graph, order)
    else:
        method = "elimination order"
        jac = eliminate(linearize(graph), order, numeric=True).jacobian
    scale = max(1.0, float(np.abs(jac).max(initial=0.0)))
    comps = []
    for ref, tol in (("forward", rtol), ("reverse", rtol), ("fd", fd_rtol)):
        other = graph_jacobian(graph, ref)
        diff = float(np.abs(jac - other).max(initial=0.0))
        rel = diff / scale
        name = {"fd": "finite differences"}.get(ref, f"{ref} mode")
        if name != method:
            comps.append(Comparison(name, diff, rel, rel <= tol))
    return ValidationReport(method, jac, tuple(comps))

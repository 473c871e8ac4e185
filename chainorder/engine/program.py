"""The numeric program of a planned Jacobian: what a cache entry of
:func:`chainorder.jacobian` runs at each call on the replayed graph.

:func:`compile_program` turns the chosen method (a sweep or an elimination order) into an
object with ``run(graph) → m × n`` Jacobian at the graph's values.
"""

from __future__ import annotations

from typing import Any

from chainorder.graph.eliminate import eliminate
from chainorder.graph.linearize import linearize
from chainorder.graph.planning import GraphMethod
from chainorder.graph.sweep import jacobian_forward, jacobian_reverse
from chainorder.graph.traced_graph import TracedGraph

__all__ = ["SweepOrElimination", "compile_program"]


class SweepOrElimination:
    """Forward sweep, reverse sweep, or vertex elimination in a fixed order.

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.graph import trace
    >>> g = trace(lambda x: np.sin(x).sum(), np.zeros(2))
    >>> SweepOrElimination(GraphMethod.REVERSE, None).run(g)
    array([[1., 1.]])

    Notes
    -----
    As the method: ``n`` tangent or ``m`` adjoint sweeps, or the elimination's products.
    """

    def __init__(self, method: GraphMethod, order: tuple[str, ...] | None) -> None:
        self.method = GraphMethod(method)
        self.order = order

    def run(self, graph: TracedGraph) -> Any:
        """The ``m × n`` Jacobian at ``graph``'s values."""
        if self.method == GraphMethod.FORWARD:
            return jacobian_forward(graph)
        if self.method == GraphMethod.REVERSE:
            return jacobian_reverse(graph)
        return eliminate(linearize(graph), self.order, numeric=True).jacobian


def compile_program(lin: Any, method: GraphMethod, order: tuple[str, ...] | None) -> Any:
    """The program that computes the Jacobian by ``method`` (in ``order`` for eliminations).

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.graph import linearize, trace
    >>> g = trace(lambda x: x * x, np.ones(2))
    >>> compile_program(linearize(g), GraphMethod.FORWARD, None).run(g)
    array([[2., 0.],
           [0., 2.]])

    Notes
    -----
    O(1) here; the work is in ``run``.
    """
    del lin
    return SweepOrElimination(method, order)

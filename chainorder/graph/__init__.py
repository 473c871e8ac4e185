"""Traced graphs: NumPy function → DAG → Jacobian accumulation plans.

Modules by role: :mod:`~chainorder.graph.ops` (the op registry: one rule per op),
:mod:`~chainorder.graph.boxed` (the boxed array and its NumPy protocol handlers),
:mod:`~chainorder.graph.tape` (records ops), :mod:`~chainorder.graph.traced_graph` (the graph
container, topological order computed once), :mod:`~chainorder.graph.trace` (the tracer
entry point), :mod:`~chainorder.graph.unsupported` (the registry-built error for anything
else); then :mod:`~chainorder.graph.linearize`, :mod:`~chainorder.graph.sweep`,
:mod:`~chainorder.graph.eliminate`, :mod:`~chainorder.graph.chaincut`,
:mod:`~chainorder.graph.planning` (every mode's cost; the chosen method as a field),
:mod:`~chainorder.graph.validate` (Jacobians several ways) and
:mod:`~chainorder.graph.render` (DOT/PNG).

>>> import numpy as np
>>> g = trace(lambda x: np.sin(x) * x, np.zeros(3))
>>> p = plan_graph(g)
>>> p.chosen.name, p.chosen.mults, p.method
('forward elimination', 3, <GraphMethod.FORWARD_ELIMINATION: 'elimination:forward'>)
"""

from chainorder.graph.eliminate import (
    EliminationResult,
    eliminate,
    forward_order,
    markowitz_order,
    reverse_order,
    search_order,
)
from chainorder.graph.linearize import LinearizedGraph, linearize
from chainorder.graph.planning import GraphMethod, GraphPlan, ModeCost, plan_graph
from chainorder.graph.render import to_dot
from chainorder.graph.structure import EdgeStructure
from chainorder.graph.sweep import (
    SweepCost,
    jacobian_forward,
    jacobian_reverse,
    jvp,
    sweep_cost,
    vjp,
)
from chainorder.graph.trace import NodeInfo, TracedArray, TracedGraph, trace
from chainorder.graph.validate import (
    GraphValidationReport,
    graph_fd_jacobian,
    graph_jacobian,
    validate_graph,
)

__all__ = [
    "EdgeStructure",
    "EliminationResult",
    "GraphMethod",
    "GraphPlan",
    "GraphValidationReport",
    "LinearizedGraph",
    "ModeCost",
    "NodeInfo",
    "SweepCost",
    "TracedArray",
    "TracedGraph",
    "eliminate",
    "forward_order",
    "graph_fd_jacobian",
    "graph_jacobian",
    "jacobian_forward",
    "jacobian_reverse",
    "jvp",
    "linearize",
    "markowitz_order",
    "plan_graph",
    "reverse_order",
    "search_order",
    "sweep_cost",
    "to_dot",
    "trace",
    "validate_graph",
    "vjp",
]

"""Traced graphs: NumPy function → DAG → Jacobian accumulation plans."""

from chainorder.graph.trace import NodeInfo, TracedArray, TracedGraph, trace

__all__ = ["NodeInfo", "TracedArray", "TracedGraph", "trace"]

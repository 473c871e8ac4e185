"""The linearised graph: tensor-valued vertices joined by local partials.

Vertices are the active nodes of a :class:`~chainorder.graph.trace.TracedGraph` (those that
depend on a differentiated input and reach an output); edge ``u → v`` carries the local
partial ``∂v/∂u`` as an :class:`~chainorder.graph.structure.EdgeStructure` and, on demand,
as numbers (:meth:`LinearizedGraph.local_jacobian`). An output that feeds another op gets a
copy vertex ``name.out`` (identity edge) so that every output is a sink.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from chainorder.graph.blocks import former
from chainorder.graph.ops import get_rule
from chainorder.graph.structure import EdgeStructure
from chainorder.graph.trace import TracedGraph

__all__ = [
    "LinearizedGraph",
    "LocalJacobian",
    "add_local",
    "linearize",
    "multiply_local",
    "to_dense",
]

#: A numeric local partial: ``("diag", vector)`` or ``("dense", matrix)``.
LocalJacobian = tuple[str, np.ndarray]


def to_dense(a: LocalJacobian) -> np.ndarray:
    """The matrix of a numeric local partial."""
    return np.diag(a[1]) if a[0] == "diag" else a[1]


def multiply_local(a: LocalJacobian, b: LocalJacobian) -> LocalJacobian:
    """``a @ b`` keeping diagonals as vectors (diagonal scaling is a row/column scale)."""
    (ka, va), (kb, vb) = a, b
    if ka == "diag" and kb == "diag":
        return ("diag", va * vb)
    if ka == "diag":
        return ("dense", va[:, None] * vb)
    if kb == "diag":
        return ("dense", va * vb[None, :])
    return ("dense", va @ vb)


def add_local(a: LocalJacobian, b: LocalJacobian) -> LocalJacobian:
    """``a + b``."""
    if a[0] == "diag" and b[0] == "diag":
        return ("diag", a[1] + b[1])
    return ("dense", to_dense(a) + to_dense(b))


@dataclass
class LinearizedGraph:
    """Vertices, local-partial structures and (lazily) numeric local partials.

    Attributes
    ----------
    graph : TracedGraph
        What was linearised.
    inputs, outputs : tuple of str
        Source and sink vertices (differentiated inputs; outputs, possibly ``name.out``).
    intermediates : tuple of str
        Every other vertex, in topological order: the vertices that elimination removes.
    sizes : dict
        Scalars per vertex.
    edges : dict
        ``(u, v) → EdgeStructure`` of ``∂v/∂u``.
    apply_cost : dict
        ``(u, v) → (jvp, vjp)``: mults of applying the local partial to one column
        (the op's tangent rule) or one row (its adjoint rule) without forming it.
    formers : dict
        ``(u, v) → scalars allocated`` for the partials that
        :func:`chainorder.graph.blocks.form` builds from the op's values without mults.
    """

    graph: TracedGraph
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    intermediates: tuple[str, ...]
    sizes: dict[str, int]
    edges: dict[tuple[str, str], EdgeStructure]
    apply_cost: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    formers: dict[tuple[str, str], int] = field(default_factory=dict)
    _numeric: dict[tuple[str, str], LocalJacobian] = field(default_factory=dict, repr=False)
    _form_costs: dict = field(default_factory=dict, repr=False)

    @property
    def vertices(self) -> tuple[str, ...]:
        """Inputs, intermediates and outputs, in topological order."""
        return self.inputs + self.intermediates + self.outputs

    def local_jacobian(self, u: str, v: str) -> LocalJacobian:
        """Numeric ``∂v/∂u`` at the traced values (cached).

        Diagonal partials are formed from one tangent (the JVP of a vector of ones), the
        others from ``size(u)`` tangents (the JVP of the identity). A reference for tests:
        the executor never calls it (it forms partials only as the plan prices them,
        :mod:`~chainorder.graph.elimprog`).
        """
        key = (u, v)
        if key in self._numeric:
            return self._numeric[key]
        st = self.edges[key]
        if v.endswith(".out") and v[: -len(".out")] == u:
            result: LocalJacobian = ("diag", np.ones(self.sizes[u]))
        else:
            g = self.graph
            d = g.nx.nodes[v]
            rule = get_rule(d["op"])
            values = tuple(g.value(a) for a in d["args"])
            shape_u = g.shape(u)
            if st.is_diagonal:
                seed = np.ones((1, *shape_u))
            else:
                seed = np.eye(self.sizes[u]).reshape((self.sizes[u], *shape_u))
            acc = 0.0
            for i in g.nx.edges[u, v]["argnums"]:
                acc = acc + rule.jvp(i, seed, values, d["value"], d["params"])
            acc = np.asarray(acc, dtype=float)
            if st.is_diagonal:
                result = ("diag", acc.reshape(-1))
            else:
                result = ("dense", acc.reshape(self.sizes[u], self.sizes[v]).T.copy())
        self._numeric[key] = result
        return result

    def values_elements(self) -> int:
        """Scalars of every active value and constant (kept to form the local partials)."""
        g = self.graph
        const = sum(g.size(v) for v in g.nx if g.nx.nodes[v]["kind"] == "constant")
        return const + sum(g.size(v) for v in g.active())


def linearize(graph: TracedGraph) -> LinearizedGraph:
    """The :class:`LinearizedGraph` of a traced graph.

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.graph import trace
    >>> lin = linearize(trace(lambda x: np.tanh(2.0 * x).sum(), np.ones(3)))
    >>> lin.inputs, lin.intermediates, lin.outputs
    (('x',), ('v1', 'v2'), ('v3',))
    >>> [s.kind for s in lin.edges.values()]
    ['diagonal', 'diagonal', 'reduction']

    Notes
    -----
    O(V + E); no numbers are formed until :meth:`LinearizedGraph.local_jacobian`.
    """
    active = graph.active()
    act = set(active)
    sizes = {v: graph.size(v) for v in active}
    edges: dict[tuple[str, str], EdgeStructure] = {}
    apply_cost: dict[tuple[str, str], tuple[int, int]] = {}
    for u, v, data in graph.nx.edges(data=True):
        if u in act and v in act and data["differentiable"]:
            edges[(u, v)] = data["structure"]
            d = graph.nx.nodes[v]
            rule = get_rule(d["op"])
            shapes = tuple(graph.shape(a) for a in d["args"])
            apply_cost[(u, v)] = (
                sum(rule.jvp_cost(i, shapes, graph.shape(v), d["params"]) for i in data["argnums"]),
                sum(rule.vjp_cost(i, shapes, graph.shape(v), d["params"]) for i in data["argnums"]),
            )
    outputs: list[str] = []
    for y in graph.outputs:
        if any(s in act for s in graph.nx.successors(y)):
            sink = f"{y}.out"
            sizes[sink] = sizes[y]
            edges[(y, sink)] = EdgeStructure.diagonal(sizes[y], unit=True)
            apply_cost[(y, sink)] = (0, 0)
            outputs.append(sink)
        else:
            outputs.append(y)
    sinks = set(outputs)
    inter = tuple(v for v in active if v not in graph.inputs and v not in sinks)
    formers = {}
    for (u, v), st in edges.items():
        if v in graph.nx and (u, v) in apply_cost:
            found = former(graph, u, v)
            if found is not None and (found[0] == "diag") == st.is_diagonal:
                formers[(u, v)] = found[1]
    return LinearizedGraph(
        graph, tuple(graph.inputs), tuple(outputs), inter, sizes, edges, apply_cost, formers
    )

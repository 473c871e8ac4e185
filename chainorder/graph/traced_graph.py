"""The graph container: :class:`TracedGraph`, a traced function's DAG of inputs, constants
and ops, with its topological order and active set computed once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import networkx as nx
import numpy as np

from chainorder.errors import TraceError
from chainorder.graph.ops import get_rule
from chainorder.graph.structure import EdgeStructure

__all__ = ["NodeInfo", "TracedGraph", "require_graph"]


@dataclass(frozen=True)
class NodeInfo:
    """One row of a traced graph's node table.

    ``kind`` is ``input``, ``constant`` or ``intermediate``; ``output`` says whether the
    function returns the node; ``differentiable`` whether it depends on a differentiated input.
    """

    name: str
    kind: str
    op: str
    shape: tuple[int, ...]
    dtype: str
    output: bool
    differentiable: bool
    line: str

    @property
    def size(self) -> int:
        """Number of scalars in the node's value."""
        return math.prod(self.shape)


class TracedGraph:
    """A traced function: a ``networkx.DiGraph`` of inputs, constants and ops.

    Node attributes: ``kind`` (``input``/``constant``/``intermediate``), ``op``, ``shape``,
    ``dtype``, ``value`` (at the example arguments), ``args`` (argument node names in
    order), ``params``, ``line`` (the user code that created it), ``differentiable`` and
    ``output``. Edge attributes: ``argnums`` (positions of the source among the op's
    arguments), ``differentiable`` and ``structure`` (the local partial's
    :class:`~chainorder.graph.structure.EdgeStructure`, ``None`` for constants).

    Attributes
    ----------
    nx : networkx.DiGraph
        The graph itself.
    inputs : tuple of str
        Differentiated inputs, in argument order.
    outputs : tuple of str
        Returned nodes, in order.
    fn : callable
        The traced function, for re-evaluation (finite differences).
    args : tuple
        The example arguments, as given.
    wrt : tuple of int
        Positions of the differentiated arguments.
    """

    def __init__(self, g, inputs, outputs, fn, args, wrt, single_output) -> None:
        self.nx: nx.DiGraph = g
        self.inputs: tuple[str, ...] = tuple(inputs)
        self.outputs: tuple[str, ...] = tuple(outputs)
        self.fn = fn
        self.args = tuple(args)
        self.wrt = tuple(wrt)
        self.single_output = single_output
        #: Zero-derivative values the trace decided (:class:`~chainorder.graph.tape.Guard`).
        self.guards: tuple = ()

    def __repr__(self) -> str:
        return (
            f"TracedGraph({getattr(self.fn, '__name__', 'fn')}: {len(self.nx)} nodes, "
            f"inputs={list(self.inputs)}, outputs={list(self.outputs)}, "
            f"n={self.n_in}, m={self.n_out})"
        )

    def node(self, name: str) -> NodeInfo:
        """The :class:`NodeInfo` of node ``name``."""
        d = self.nx.nodes[name]
        return NodeInfo(
            d["label"], d["kind"], d["op"], tuple(d["shape"]), d["dtype"],
            d["output"], d["differentiable"], d["line"],
        )  # fmt: skip

    def nodes(self, include_scalar_constants: bool = False) -> list[NodeInfo]:
        """Every node in creation order (inputs, constants and ops)."""
        out = []
        for name in self._order:
            d = self.nx.nodes[name]
            if d["kind"] == "constant" and not include_scalar_constants and len(d["shape"]) == 0:
                continue
            out.append(self.node(name))
        return out

    @property
    def order(self) -> list[str]:
        """Node names in a topological (creation) order (sorted once, then cached)."""
        return list(self._order)

    @cached_property
    def _order(self) -> tuple[str, ...]:
        return tuple(nx.lexicographical_topological_sort(self.nx, key=self._rank))

    def _rank(self, name: str) -> tuple[int, int]:
        d = self.nx.nodes[name]
        if d["kind"] == "input":
            return (0, self.inputs.index(name) if name in self.inputs else 0)
        if d["kind"] == "constant":
            return (1, 0)
        return (2, int(name[1:]))

    def value(self, name: str) -> np.ndarray:
        """The value of node ``name`` at the example arguments."""
        return self.nx.nodes[name]["value"]

    def shape(self, name: str) -> tuple[int, ...]:
        """The shape of node ``name``."""
        return tuple(self.nx.nodes[name]["shape"])

    def size(self, name: str) -> int:
        """Number of scalars in node ``name``."""
        return math.prod(self.shape(name))

    @property
    def n_in(self) -> int:
        """Total number of differentiated input scalars (the Jacobian's columns)."""
        return sum(self.size(x) for x in self.inputs)

    @property
    def n_out(self) -> int:
        """Total number of output scalars (the Jacobian's rows)."""
        return sum(self.size(y) for y in self.outputs)

    @property
    def itemsize(self) -> int:
        """Bytes per scalar of the outputs' dtype."""
        return int(np.dtype(self.nx.nodes[self.outputs[0]]["dtype"]).itemsize)

    def edge_structure(self, u: str, v: str) -> EdgeStructure | None:
        """Structure of the local partial ``∂v/∂u`` (``None`` when not differentiated)."""
        return self.nx.edges[u, v]["structure"]

    def active(self) -> list[str]:
        """Differentiable nodes that reach an output, in topological order (inputs first).

        Computed once, then cached (the graph is not changed after tracing).
        """
        return list(self._active)

    @cached_property
    def _active(self) -> tuple[str, ...]:
        reach: set[str] = set(self.outputs)
        for y in self.outputs:
            reach |= nx.ancestors(self.nx, y)
        return tuple(
            v
            for v in self._order
            if self.nx.nodes[v]["differentiable"] and (v in reach or v in self.inputs)
        )

    def replay(self, *inputs: np.ndarray) -> list[np.ndarray]:
        """Re-evaluate the recorded ops at new values of the differentiated inputs.

        Control flow taken at trace time is frozen; constants keep their traced values.
        """
        vals: dict[str, Any] = dict(
            zip(self.inputs, self._new_inputs("replay", inputs), strict=True)
        )
        for name in self._order:
            d = self.nx.nodes[name]
            if name in vals:
                continue
            if d["kind"] in ("input", "constant"):
                vals[name] = d["value"]
                continue
            vals[name] = np.asarray(
                get_rule(d["op"]).forward(*(vals[a] for a in d["args"]), **d["params"])
            )
        return [vals[y] for y in self.outputs]

    def with_values(self, values: dict[str, Any], args: tuple | None = None) -> TracedGraph:
        """The same graph with node ``values`` replaced (a replay at new arguments).

        Structure, topological order and active set are shared, not recomputed; ``args``
        replaces the example arguments (for :meth:`call`).

        Examples
        --------
        >>> from chainorder.graph.trace import trace
        >>> g = trace(lambda x: 2.0 * x, np.ones(2))
        >>> h = g.with_values({"x": np.full(2, 3.0), "v1": np.full(2, 6.0)})
        >>> h.value("v1"), g.value("v1")
        (array([6., 6.]), array([2., 2.]))

        Notes
        -----
        O(V) small dictionary copies: the edges are shared (a traced graph is never changed
        after tracing), no array is copied.
        """
        g = _with_node_values(self.nx, values)
        new = TracedGraph(
            g, self.inputs, self.outputs, self.fn, self.args if args is None else args,
            self.wrt, self.single_output,
        )  # fmt: skip
        new.guards = self.guards
        for key in ("_order", "_active"):
            if key in self.__dict__:
                new.__dict__[key] = self.__dict__[key]
        return new

    def _new_inputs(
        self, where: str, inputs: tuple[Any, ...], dtype: Any = None
    ) -> list[np.ndarray]:
        """New values of the differentiated inputs, each as an array of its traced shape (and
        dtype, unless ``dtype`` is given)."""
        if len(inputs) != len(self.inputs):
            need = f"{len(self.inputs)} input{'' if len(self.inputs) == 1 else 's'}"
            raise TraceError(f"{where} needs {need}, got {len(inputs)}")
        arrays = []
        for name, x in zip(self.inputs, inputs, strict=True):
            try:
                a = np.asarray(x, dtype=dtype or self.nx.nodes[name]["dtype"])
            except (TypeError, ValueError):
                raise TraceError(
                    f"{where}: input {name} must be real numbers, got {type(x).__name__}"
                ) from None
            if not np.isfinite(a).all():
                raise TraceError(f"{where}: input {name} has non-finite values (nan or inf)")
            if a.size != self.size(name):
                raise TraceError(
                    f"{where}: input {name} has {a.size} values, expected shape {self.shape(name)}"
                )
            arrays.append(a.reshape(self.shape(name)))
        return arrays

    def call(self, *inputs: np.ndarray) -> list[np.ndarray]:
        """Call the original function with new values of the differentiated inputs.

        Returns the outputs as a list of arrays (what finite differences compare against).
        """
        args = list(self.args)
        for pos, x in zip(self.wrt, self._new_inputs("call", inputs, float), strict=True):
            args[pos] = x
        out = self.fn(*args)
        outs = out if isinstance(out, tuple | list) else (out,)
        return [np.asarray(o, dtype=float) for o in outs]


def _with_node_values(g: nx.DiGraph, values: dict[str, Any]) -> nx.DiGraph:
    """A DiGraph sharing ``g``'s (read-only) adjacency, with fresh node dictionaries whose
    ``value`` is replaced where ``values`` has one."""
    h = g.__class__()
    needed = ("_node", "_adj", "_succ", "_pred")
    if not all(hasattr(g, a) for a in needed):  # pragma: no cover - another networkx layout
        h = g.copy()
        for name, value in values.items():
            h.nodes[name]["value"] = value
        return h
    h.graph = g.graph
    h._node = {n: ({**d, "value": values[n]} if n in values else d) for n, d in g._node.items()}
    h._adj = h._succ = g._succ
    h._pred = g._pred
    return h


def require_graph(graph: object, where: str) -> TracedGraph:
    """``graph`` itself when it is a :class:`TracedGraph`; a one-line :class:`TraceError` otherwise.

    Parameters
    ----------
    graph : object
        What the caller passed.
    where : str
        The function that needs the graph, for the message.

    Examples
    --------
    >>> try:
    ...     require_graph(None, "plan_graph")
    ... except ValueError as exc:
    ...     print(exc)
    plan_graph needs a TracedGraph (from chainorder.trace(fn, *args)), got NoneType

    Notes
    -----
    O(1).
    """
    if not isinstance(graph, TracedGraph):
        raise TraceError(
            f"{where} needs a TracedGraph (from chainorder.trace(fn, *args)), "
            f"got {type(graph).__name__}"
        )
    return graph

"""Forward mode (tangent sweeps) and reverse mode (adjoint sweeps) on a traced graph.

Numerics: :func:`jvp`, :func:`vjp` push a *batch* of tangents / cotangents through the graph
with the op rules; :func:`jacobian_forward` seeds the identity (input dimension ``n``
directions), :func:`jacobian_reverse` seeds the identity on the outputs (``m`` directions).

Both Jacobians run as compiled instruction lists (:mod:`~chainorder.graph.sweepprog`).

Costs: :func:`sweep_cost` counts scalar multiplications exactly as the op rules define them
(``n ×`` the tangent sweep, ``m ×`` the adjoint sweep) and the peak memory of each mode:
the values the graph holds (constants and every active value: the tape) plus the peak of
what the compiled sweep allocates — the Jacobian, the identity seeds, the live blocks of
``n`` tangents (forward; a block dies after its last consumer) or ``m`` adjoints (reverse;
a block dies once pulled back) and each step's summands
(:func:`~chainorder.graph.instr.simulate_peak`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from chainorder.errors import TraceError, UnknownSolverError
from chainorder.graph.instr import execute, live_after, simulate_peak
from chainorder.graph.ops import get_rule
from chainorder.graph.sweepprog import sweep_program
from chainorder.graph.trace import TracedGraph
from chainorder.graph.traced_graph import require_graph

__all__ = [
    "SweepCost",
    "SweepStep",
    "jacobian_forward",
    "jacobian_reverse",
    "jvp",
    "sweep_cost",
    "vjp",
]


def _args(graph: TracedGraph, v: str) -> tuple[tuple, np.ndarray, dict]:
    d = graph.nx.nodes[v]
    return tuple(graph.value(a) for a in d["args"]), d["value"], d["params"]


def _in_edges(graph: TracedGraph, v: str, active: set[str]):
    for u, _, data in graph.nx.in_edges(v, data=True):
        if data["differentiable"] and u in active:
            yield u, data["argnums"]


def _seeds(
    graph: TracedGraph, nodes: Sequence[str], arrays: Sequence[Any], what: str
) -> tuple[dict[str, np.ndarray], int]:
    """Check a batch of ``k`` seeds per node (shape ``(k, *shape)``); return them and ``k``."""
    per = "differentiated input" if what == "tangent" else "output"
    if isinstance(arrays, str | bytes) or not isinstance(arrays, Sequence | np.ndarray):
        raise TraceError(
            f"{what}s must be a list of arrays, one per {per}, got {type(arrays).__name__}"
        )
    if len(arrays) != len(nodes):
        need = f"{len(nodes)} {what}{'' if len(nodes) == 1 else 's'}"
        raise TraceError(f"{need} needed, one per {per}; got {len(arrays)}")
    seeds: dict[str, np.ndarray] = {}
    ks = set()
    for node, array in zip(nodes, arrays, strict=True):
        try:
            a = np.asarray(array, dtype=float)
        except (TypeError, ValueError):
            raise TraceError(
                f"{what} of {node} must be an array of real numbers, got {type(array).__name__}"
            ) from None
        if a.ndim == 0 or a.shape[1:] != graph.shape(node):
            raise TraceError(
                f"{what} of {node} has shape {a.shape}, expected (k, *{graph.shape(node)})"
            )
        seeds[node] = a
        ks.add(a.shape[0])
    if len(ks) != 1:
        raise TraceError(f"all {what}s need the same batch size k")
    return seeds, ks.pop()


def _sweep_start(
    graph: TracedGraph, where: str, arrays: Sequence[Any]
) -> tuple[list[str], set[str], dict[str, np.ndarray], int]:
    """What a sweep starts from: the active nodes (list and set) and its checked seeds."""
    require_graph(graph, where)
    active = graph.active()
    if where == "jvp":
        seeds, k = _seeds(graph, graph.inputs, arrays, "tangent")
    else:
        seeds, k = _seeds(graph, graph.outputs, arrays, "cotangent")
    return active, set(active), seeds, k


def jvp(graph: TracedGraph, tangents: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Push a batch of ``k`` tangents through the graph (forward mode).

    Parameters
    ----------
    graph : TracedGraph
    tangents : sequence of arrays
        One per differentiated input, each of shape ``(k, *input_shape)``.

    Returns
    -------
    list of arrays
        One per output, each of shape ``(k, *output_shape)``.

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.graph import trace
    >>> g = trace(lambda x: np.sin(x) * x, np.array([0.0, 1.0]))
    >>> jvp(g, [np.eye(2)])[0].round(4)
    array([[0.    , 0.    ],
           [0.    , 1.3818]])

    Notes
    -----
    ``k`` × the tangent sweep's mults (:func:`sweep_cost`).
    """
    active, act, tan, k = _sweep_start(graph, "jvp", tangents)
    for v in active:
        if v in tan:
            continue
        values, out, params = _args(graph, v)
        rule = get_rule(graph.nx.nodes[v]["op"])
        acc = np.zeros((k, *graph.shape(v)))
        for u, argnums in _in_edges(graph, v, act):
            for i in argnums:
                acc = acc + rule.jvp(i, tan[u], values, out, params)
        tan[v] = acc
    return [tan[y] for y in graph.outputs]


def vjp(graph: TracedGraph, cotangents: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Pull a batch of ``k`` cotangents back through the graph (reverse mode).

    Parameters
    ----------
    graph : TracedGraph
    cotangents : sequence of arrays
        One per output, each of shape ``(k, *output_shape)``.

    Returns
    -------
    list of arrays
        One per differentiated input, each of shape ``(k, *input_shape)``.

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.graph import trace
    >>> g = trace(lambda x: (x * x).sum(), np.array([1.0, 2.0]))
    >>> vjp(g, [np.ones((1,))])[0]
    array([[2., 4.]])

    Notes
    -----
    ``k`` × the adjoint sweep's mults (:func:`sweep_cost`).
    """
    active, act, cot, k = _sweep_start(graph, "vjp", cotangents)
    for v in reversed(active):
        if v not in cot or graph.nx.nodes[v]["kind"] == "input":
            continue
        values, out, params = _args(graph, v)
        rule = get_rule(graph.nx.nodes[v]["op"])
        for u, argnums in _in_edges(graph, v, act):
            for i in argnums:
                g = rule.vjp(i, cot[v], values, out, params)
                cot[u] = cot[u] + g if u in cot else g
    return [cot.get(x, np.zeros((k, *graph.shape(x)))) for x in graph.inputs]


def jacobian_forward(graph: TracedGraph) -> np.ndarray:
    """The full ``m × n`` Jacobian by one forward sweep with ``n`` tangents.

    Rows are the outputs, flattened in C order and concatenated; columns the inputs.

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.graph import trace
    >>> jacobian_forward(trace(lambda x: 3 * x, np.ones(2)))
    array([[3., 0.],
           [0., 3.]])

    Notes
    -----
    ``n`` × tangent-sweep mults; memory ``n`` × the live node sizes.
    """
    require_graph(graph, "jacobian_forward")
    prog, n_slots = sweep_program(graph, "forward")
    return execute(graph, prog, n_slots, 0)[0]


def jacobian_reverse(graph: TracedGraph) -> np.ndarray:
    """The full ``m × n`` Jacobian by one reverse sweep with ``m`` cotangents.

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.graph import trace
    >>> jacobian_reverse(trace(lambda x: x.sum(), np.ones(3)))
    array([[1., 1., 1.]])

    Notes
    -----
    ``m`` × adjoint-sweep mults; memory: the tape plus ``m`` × the live adjoints.
    """
    require_graph(graph, "jacobian_reverse")
    prog, n_slots = sweep_program(graph, "reverse")
    return execute(graph, prog, n_slots, 0)[0]


@dataclass(frozen=True)
class SweepStep:
    """One op of a sweep: what is computed, its mults and the memory live after it.

    ``carried`` is ``(rows, cols)`` of the derivative the step produces: ``∂v/∂inputs``
    (``size(v) × n``) in forward mode, ``∂outputs/∂v`` (``m × size(v)``) in reverse mode.
    """

    node: str
    op: str
    carried: tuple[int, int]
    mults: int
    live_elements: int


@dataclass(frozen=True)
class SweepCost:
    """Cost of one pure mode on a traced graph.

    Attributes
    ----------
    mode : str
        ``forward`` or ``reverse``.
    directions : int
        ``n`` (forward) or ``m`` (reverse): the number of tangents / cotangents.
    mults_per_direction : int
        Scalar multiplications of one tangent (adjoint) sweep.
    mults : int
        ``directions × mults_per_direction``.
    peak_elements : int
        Peak number of scalars held (see the module notes).
    peak_bytes : int
        The values in the graph's dtype plus the compiled sweep's float64 blocks.
    steps : tuple of SweepStep
        In execution order.
    """

    mode: str
    directions: int
    mults_per_direction: int
    mults: int
    peak_elements: int
    peak_bytes: int
    steps: tuple[SweepStep, ...]


def sweep_cost(graph: TracedGraph, mode: str) -> SweepCost:
    """Mults and peak memory of ``forward`` or ``reverse`` mode on ``graph``.

    Parameters
    ----------
    graph : TracedGraph
    mode : {"forward", "reverse"}

    Returns
    -------
    SweepCost

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.graph import trace
    >>> g = trace(lambda x, W: np.tanh(W @ x).sum(), np.ones(3), np.ones((2, 3)), wrt=[0])
    >>> sweep_cost(g, "forward").mults, sweep_cost(g, "reverse").mults
    (24, 8)

    Notes
    -----
    O(V + E) over the active nodes and edges.
    """
    require_graph(graph, "sweep_cost")
    if mode not in ("forward", "reverse"):
        raise UnknownSolverError(f"mode must be 'forward' or 'reverse', got {mode!r}")
    active = graph.active()
    act = set(active)
    g = graph.nx
    const = sum(graph.size(v) for v in g if g.nodes[v]["kind"] == "constant")
    edge_cost: dict[str, int] = {}
    for v in active:
        if g.nodes[v]["kind"] == "input":
            continue
        d = g.nodes[v]
        rule = get_rule(d["op"])
        shapes = tuple(np.shape(graph.value(a)) for a in d["args"])
        fn = rule.jvp_cost if mode == "forward" else rule.vjp_cost
        edge_cost[v] = sum(
            fn(i, shapes, graph.shape(v), d["params"])
            for _, argnums in _in_edges(graph, v, act)
            for i in argnums
        )
    per_dir = sum(edge_cost.values())
    n, m = graph.n_in, graph.n_out
    k = n if mode == "forward" else m
    # The values the graph holds, plus what the compiled sweep allocates at its peak.
    base = const + sum(graph.size(v) for v in active)
    prog, _ = sweep_program(graph, mode)
    steps: list[SweepStep] = []
    for ins, live in zip(prog, live_after(prog), strict=True):
        v = ins.node
        if v is None:
            continue
        if steps and steps[-1].node == v:  # reverse: one step per node, live after its last
            steps.pop()
        carried = (graph.size(v), n) if mode == "forward" else (m, graph.size(v))
        steps.append(
            SweepStep(v, g.nodes[v]["op"], carried, k * edge_cost.get(v, 0), base + live)
        )
    work = simulate_peak(prog)
    peak_el = base + work
    return SweepCost(
        mode,
        n if mode == "forward" else m,
        per_dir,
        (n if mode == "forward" else m) * per_dir,
        peak_el,
        base * graph.itemsize + work * 8,
        tuple(steps),
    )

"""Reduce a linearised graph to a chain through its cut vertices and solve the chain exactly.

A *cut vertex* is an intermediate that every input → output path passes through (it
dominates the outputs from the inputs). With cut vertices ``c_1 … c_r`` the Jacobian is the
chain ``J = B_{r+1} ⋯ B_1`` whose link ``B_b`` is the Jacobian of block ``b`` (from
``c_{b-1}`` to ``c_b``; ``c_0`` = the inputs, ``c_{r+1}`` = the outputs). Each block is
accumulated by the best elimination of its inner vertices, and the chain of blocks is then
bracketed exactly: by :func:`chainorder.plan.plan` when every link is dense or diagonal
(the chain planner's cost model), else by an interval DP over
:func:`~chainorder.graph.structure.multiply_structures`. The bracketing becomes an
elimination order of the cut vertices, so the whole plan is a vertex-elimination order.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from chainorder.graph.eliminate import _State, search_order
from chainorder.graph.linearize import LinearizedGraph
from chainorder.graph.structure import EdgeStructure, multiply_structures
from chainorder.solvers.interval import Block, solve_intervals

__all__ = ["ChainReduction", "chain_reduction", "cut_vertices"]

_SOURCE, _SINK = "<source>", "<sink>"


def cut_vertices(lin: LinearizedGraph) -> tuple[str, ...]:
    """Intermediates on every input → output path, in topological order.

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.graph import trace
    >>> from chainorder.graph.linearize import linearize
    >>> g = trace(lambda x: np.sin(x * x).sum(), np.ones(3))
    >>> cut_vertices(linearize(g))
    ('v1', 'v2')

    Notes
    -----
    O(E log V) with networkx's immediate dominators.
    """
    g = nx.DiGraph()
    g.add_nodes_from(lin.vertices)
    g.add_edges_from(lin.edges)
    g.add_edges_from((_SOURCE, x) for x in lin.inputs)
    g.add_edges_from((y, _SINK) for y in lin.outputs)
    idom = nx.immediate_dominators(g, _SOURCE)
    if _SINK not in idom:
        return ()
    inter = set(lin.intermediates)
    cuts = []
    v = idom[_SINK]
    while v != _SOURCE:
        if v in inter:
            cuts.append(v)
        v = idom[v]
    rank = {v: i for i, v in enumerate(lin.intermediates)}
    return tuple(sorted(cuts, key=rank.__getitem__))


@dataclass(frozen=True)
class ChainReduction:
    """The chain of blocks through the cut vertices and its exact bracketing.

    Attributes
    ----------
    cuts : tuple of str
        Cut vertices ``c_1 … c_r``.
    blocks : tuple of tuple of str
        Inner vertices of each block, eliminated first.
    block_mults : int
        Mults of accumulating the blocks.
    dims : tuple of int
        ``n, |c_1|, …, |c_r|, m``.
    links : tuple of EdgeStructure
        The block Jacobians.
    tree : nested tuples
        Bracketing of the links (1-based; ``(a, b)`` = product(a) @ product(b)).
    chain_mults : int
        Mults of the chain product in that bracketing, as the elimination executes it
        (:mod:`~chainorder.graph.elimstate`), so ``block_mults + chain_mults`` is the
        order's price. The bracketing itself is chosen on the links' structures.
    solver : str
        ``"chainorder.plan"`` or ``"interval DP on graph structures, matrix-free partials"``.
    expression : str
        E.g. ``"B3·(B2·B1)"``.
    order : tuple of str
        The full elimination order: block vertices, then cut vertices in tree order.
    """

    cuts: tuple[str, ...]
    blocks: tuple[tuple[str, ...], ...]
    block_mults: int
    dims: tuple[int, ...]
    links: tuple[EdgeStructure, ...]
    tree: object
    chain_mults: int
    solver: str
    expression: str
    order: tuple[str, ...]


def _stack(structs: list[EdgeStructure], rows: int, cols: int) -> EdgeStructure:
    if len(structs) == 1 and (structs[0].rows, structs[0].cols) == (rows, cols):
        return structs[0]
    nnz = sum(s.nnz for s in structs)
    return EdgeStructure.sparse("sparse", rows, cols, nnz)


def _interval_dp(
    links: list[EdgeStructure], apply: list[tuple[int, int] | None]
) -> tuple[int, object]:
    """Exact bracketing; a single original link may be applied matrix-free (``apply``).

    Runs on :mod:`chainorder.solvers.interval`'s engine (Python-int costs): the price of a
    split multiplies the structures of the two parts' chosen products, which the engine's
    ``on_length`` hook records per interval.
    """
    n = len(links)
    if n == 1:
        return 0, 1
    # st[(i, j)]: structure of the chosen product of links i..j (1-based)
    st: dict[tuple[int, int], EdgeStructure] = {(i, i): links[i - 1] for i in range(1, n + 1)}
    made: dict[tuple[int, int, int], EdgeStructure] = {}

    def price(b: Block) -> np.ndarray:
        total = b.out
        for r in range(b.count):
            i, j = r + 1, r + b.length
            for c in range(b.width):
                k = i + c  # right part i..k, left part k+1..j
                m, made[i, j, c] = multiply_structures(st[k + 1, j], st[i, k])
                if k + 1 == j and apply[j - 1] is not None:
                    m = min(m, st[i, k].cols * apply[j - 1][0])
                if i == k and apply[i - 1] is not None:
                    m = min(m, st[k + 1, j].rows * apply[i - 1][1])
                total[r, c] = b.right[r, c] + b.left[r, c] + m
        return total

    def on_length(length: int, cols: np.ndarray) -> None:
        for r, c in enumerate(cols):
            st[r + 1, r + length] = made[r + 1, r + length, int(c)]
        made.clear()

    engine = solve_intervals(n, price, dtype=object, on_length=on_length)
    return engine.cost(), engine.tree()


def _expression(tree: object) -> str:
    if isinstance(tree, int):
        return f"B{tree}"
    a, b = tree
    left = _expression(a) if isinstance(a, int) else f"({_expression(a)})"
    right = _expression(b) if isinstance(b, int) else f"({_expression(b)})"
    return f"{left}·{right}"


def _cut_order(tree: object, cuts: tuple[str, ...]) -> list[str]:
    """Post-order: the node joining links lo..mid and mid+1..hi eliminates cut ``c_mid``."""

    def span(t: object) -> tuple[int, int]:
        if isinstance(t, int):
            return t, t
        a, b = t
        return span(b)[0], span(a)[1]

    out: list[str] = []

    def walk(t: object) -> None:
        if isinstance(t, int):
            return
        a, b = t
        walk(b)
        walk(a)
        out.append(cuts[span(b)[1] - 1])

    walk(tree)
    return out


def chain_reduction(lin: LinearizedGraph, seed: int = 0) -> ChainReduction | None:
    """Reduce ``lin`` to a chain of blocks through its cut vertices and bracket it exactly.

    Returns ``None`` when the graph has no cut vertex.

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.graph import trace
    >>> from chainorder.graph.linearize import linearize
    >>> A, B = np.ones((2, 6)), np.ones((6, 6))
    >>> red = chain_reduction(linearize(trace(lambda x: A @ np.tanh(B @ x), np.ones(6))))
    >>> red.dims, red.expression, red.chain_mults, red.solver
    ((6, 6, 6, 2), '(B3·B2)·B1', 84, 'chainorder.plan')

    Notes
    -----
    Dominators O(E log V); block searches as :func:`search_order`; chain DP O(r³).
    """
    cuts = cut_vertices(lin)
    if not cuts:
        return None
    g = nx.DiGraph(list(lin.edges))
    g.add_nodes_from(lin.vertices)
    cut_set = set(cuts)
    blocks: list[list[str]] = [[] for _ in range(len(cuts) + 1)]
    for v in lin.intermediates:
        if v in cut_set:
            continue
        anc = nx.ancestors(g, v)
        blocks[sum(1 for c in cuts if c in anc)].append(v)
    state = _State(lin)
    block_orders: list[tuple[str, ...]] = []
    block_mults = 0
    for inner in blocks:
        order = search_order(lin, inner, seed=seed) if inner else ()
        for v in order:
            block_mults += state.eliminate(v)[0]
        block_orders.append(order)
    ends: list[tuple[str, ...]] = [lin.inputs, *((c,) for c in cuts), lin.outputs]
    dims = [sum(lin.sizes[v] for v in group) for group in ends]
    links, apply = [], []
    for b in range(len(ends) - 1):
        keys = [(u, v) for v in ends[b + 1] for u in ends[b] if (u, v) in state.E]
        links.append(_stack([state.E[e] for e in keys], dims[b + 1], dims[b]))
        costs = [state.A.get(e) for e in keys]
        ok = all(c is not None for c in costs)
        apply.append((sum(c[0] for c in costs), sum(c[1] for c in costs)) if ok else None)
    chain_mults, tree = _interval_dp(links, apply)
    solver = "interval DP on graph structures, matrix-free partials"
    if all(s.kind == "dense" or (s.kind == "diagonal" and not s.unit) for s in links):
        try:
            from chainorder.chain import Chain, Structure
            from chainorder.plan import plan
        except ImportError:  # pragma: no cover - the chain planner is part of the package
            pass
        else:
            structures = [
                Structure.DIAGONAL if s.kind == "diagonal" else Structure.DENSE for s in links
            ]
            p = plan(Chain.from_dims(dims, structures), mode="optimal")
            if int(p.mults) <= chain_mults:  # else a matrix-free partial beats the given ones
                tree, chain_mults, solver = p.tree, int(p.mults), "chainorder.plan"
    cut_order = tuple(_cut_order(tree, cuts))
    order = tuple(v for o in block_orders for v in o) + cut_order
    chain_mults = sum(state.eliminate(c)[0] for c in cut_order) + state.finish_cost()
    return ChainReduction(
        cuts,
        tuple(block_orders),
        block_mults,
        tuple(dims),
        tuple(links),
        tree,
        chain_mults,
        solver,
        _expression(tree),
        order,
    )

"""Forward and reverse mode as flat instruction lists (:mod:`~chainorder.graph.instr`).

Forward: the Jacobian ``m × n`` is allocated first, one identity block of ``n`` tangents
per differentiated input, then each active op in topological order pushes the ``n``
tangents of its arguments through its tangent rule; an output's block is written into the
Jacobian when it is made, and every block dies after its last consumer.

Reverse: the Jacobian first, one identity block of ``m`` adjoints per output, then each
active op in reverse order pulls its adjoint block back through its adjoint rule into each
argument's block (``old + new``, in place once the block is a new array of the sweep's
own); a node's block dies after its last contribution, the inputs' blocks are written into
the Jacobian at the end.
"""

from __future__ import annotations

import numpy as np

from chainorder.graph.instr import Instr, jacobian_written
from chainorder.graph.ops import get_rule
from chainorder.graph.probe import Footprints, summed
from chainorder.graph.trace import TracedGraph

__all__ = ["sweep_program"]


def _in_edges(graph: TracedGraph, v: str, act: set[str]):
    for u, _, data in graph.nx.in_edges(v, data=True):
        if data["differentiable"] and u in act:
            for i in data["argnums"]:
                yield u, i


def _price(graph: TracedGraph, v: str, i: int, kind: str) -> int:
    d = graph.nx.nodes[v]
    rule = get_rule(d["op"])
    shapes = tuple(np.shape(graph.value(a)) for a in d["args"])
    fn = rule.jvp_cost if kind == "jvp" else rule.vjp_cost
    return int(fn(i, shapes, graph.shape(v), d["params"]))


def _boxes(graph: TracedGraph, names):
    off = 0
    for name in names:
        size = graph.size(name)
        yield name, off, off + size
        off += size


def sweep_program(graph: TracedGraph, mode: str) -> tuple[list[Instr], int]:
    """Instructions of forward (``mode="forward"``) or reverse mode; and the slot count.

    Slot 0 holds the ``m × n`` Jacobian.

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.graph import trace
    >>> from chainorder.graph.instr import execute
    >>> g = trace(lambda x: np.sin(x) * x, np.array([0.0, 1.0]))
    >>> prog, n_slots = sweep_program(g, "reverse")
    >>> [i.op for i in prog]
    ['zeros', 'seed', 'vjp_add', 'vjp_add', 'vjp_add', 'place']
    >>> execute(g, prog, n_slots, 0)[0].round(4)
    array([[0.    , 0.    ],
           [0.    , 1.3818]])

    Notes
    -----
    O(V + E).
    """
    active = graph.active()
    fp = Footprints(graph)
    m, n = graph.n_out, graph.n_in
    prog: list[Instr] = [Instr("zeros", 0, info={"shape": (m, n)}, alloc=m * n)]
    act = set(active)
    slot: dict[str, int] = {}
    nxt = 1
    if mode == "forward":
        rows = {y: (a, b) for y, a, b in _boxes(graph, graph.outputs)}
        last = {v: -1 for v in active}
        pos = {v: t for t, v in enumerate(active)}
        for v in active:
            for u, _ in _in_edges(graph, v, act):
                last[u] = max(last[u], pos[v])
        for x, a, b in _boxes(graph, graph.inputs):
            slot[x] = nxt
            nxt += 1
            prog.append(
                Instr("seed", slot[x], info={"k": n, "size": b - a, "offset": a,
                      "shape": graph.shape(x)}, alloc=n * (b - a))
            )  # fmt: skip
        for t, v in enumerate(active):
            if v not in slot:
                edges = list(_in_edges(graph, v, act))
                terms = tuple((slot[u], i) for u, i in edges)
                size = n * graph.size(v)
                slot[v] = nxt
                nxt += 1
                mults = n * sum(_price(graph, v, i, "jvp") for _, i in edges)
                dead = tuple(slot[u] for u in dict.fromkeys(u for u, _ in edges)
                             if last[u] == t and u not in rows)  # fmt: skip
                fps = [fp(v, i, "jvp", graph.shape(u), n) for u, i in edges]
                alloc, temp, alias = summed(fps, n, size, terms[0][0])
                prog.append(
                    Instr("jvp", slot[v], terms, v, alloc=alloc, temp=temp, free=dead,
                          mults=mults, alias=alias)
                )  # fmt: skip
            if v in rows:
                r0, r1 = rows[v]
                dead = (slot[v],) if last[v] <= t else ()
                prog.append(
                    Instr("place", 0, ((slot[v], 0),), info={"box": (r0, r1, 0, n),
                          "layout": "forward"}, free=dead, alias=0)
                )  # fmt: skip
        return jacobian_written(prog), nxt
    cols = {x: (a, b) for x, a, b in _boxes(graph, graph.inputs)}
    for y, a, b in _boxes(graph, graph.outputs):
        slot[y] = nxt
        nxt += 1
        prog.append(
            Instr("seed", slot[y], info={"k": m, "size": b - a, "offset": a,
                  "shape": graph.shape(y)}, alloc=m * (b - a))
        )  # fmt: skip
    owned: set[int] = set()  # slots holding a new full-size array no other slot holds
    for v in reversed(active):
        if v not in slot or graph.nx.nodes[v]["kind"] == "input":
            continue
        edges = list(_in_edges(graph, v, act))
        for e, (u, i) in enumerate(edges):
            size = m * graph.size(u)
            g = fp(v, i, "vjp", graph.shape(v), m)
            into = False
            if u not in slot:
                slot[u] = nxt
                nxt += 1
                alloc, temp, alias = summed([g], m, size, slot[v])
                if alias < 0 and not g.view and g.held(m) >= size:
                    owned.add(slot[u])
            elif slot[u] in owned:  # old += g, in place
                alloc, alias, into = 0, slot[u], True
                temp = g.held(m) + g.temp(m)
            else:  # old + g: a new array
                alloc, alias = size, -1
                temp = max(g.held(m) + g.temp(m) - size, g.held(m))
                owned.add(slot[u])
            prog.append(
                Instr("vjp_add", slot[u], ((slot[v], i),), v, info={"into": into},
                      alloc=alloc, temp=temp, free=(slot[v],) if e == len(edges) - 1 else (),
                      mults=m * _price(graph, v, i, "vjp"), alias=alias)
            )  # fmt: skip
    for x in graph.inputs:
        if x in slot:
            c0, c1 = cols[x]
            prog.append(
                Instr("place", 0, ((slot[x], 0),), info={"box": (0, m, c0, c1),
                      "layout": "reverse"}, free=(slot[x],), alias=0)
            )  # fmt: skip
    return jacobian_written(prog), nxt

"""Cut a traced program into a chain of segments at the cut vertices of its dataflow.

Between the differentiated inputs and the outputs, a position ``p`` of the operation list (before
operation ``p``) is a *cut* when exactly one active value is live there: defined before ``p``,
depending on the differentiated inputs, and read by some needed operation at or after ``p`` (or
returned). Every derivative from the inputs to the outputs then flows through that value, so the
function is the composition ``g_L ∘ ⋯ ∘ g_1`` of the segments between consecutive cuts and its
Jacobian the chain ``J_L ⋯ J_1``. Segment ``l`` maps the flattened cut value ``x_{l-1}`` to
``x_l``; the first takes the concatenation of every differentiated leaf, the last returns the
concatenation of every output leaf. A function without interior cuts is one segment.

Each segment is priced by summing :func:`chainorder.jax.price.price_op` over its active
operations; it also runs the operations that read a value computed from the inputs without
carrying a derivative (after a ``stop_gradient``, an ``argmax``), priced at zero.
Segments that cost nothing per seed (reshapes, bias additions, transposes) are merged
into a neighbour, keeping the narrower boundary, so the chain the planner sees has only links
that do work. The links are :class:`chainorder.matfree.LinkCost` objects: ``elementwise`` when the
segment's Jacobian is diagonal, ``custom`` otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chainorder.jax.price import OpCost, is_inexact, price_op
from chainorder.jax.program import Lit, Op, Program
from chainorder.matfree.links import LinkCost

__all__ = ["Segment", "activity", "link_of", "segment_program"]


@dataclass(frozen=True)
class Segment:
    """One link of the chain: active operations ``ops`` from the cut value(s) ``ins`` to ``outs``.

    ``rows``/``cols``: sizes of the flattened output and input; ``cost``: summed per-seed
    costs; ``names``: the primitives it runs, in order of first appearance.
    """

    ops: tuple[Op, ...]
    ins: tuple[int, ...]
    outs: tuple[object, ...]
    rows: int
    cols: int
    cost: OpCost

    @property
    def names(self) -> tuple[str, ...]:
        """Distinct primitive names, in order."""
        return tuple(dict.fromkeys(op.name for op in self.ops))

    @property
    def diagonal(self) -> bool:
        """The Jacobian is diagonal (square, element ``i`` from element ``i`` only)."""
        return self.cost.diagonal and self.rows == self.cols

    @property
    def label(self) -> str:
        """A short description, e.g. ``dot_general+add`` (at most four names)."""
        names = self.names
        text = "+".join(names[:4]) + ("+…" if len(names) > 4 else "")
        return text or "identity"


def activity(prog: Program, wrt: Sequence[int]) -> tuple[set[int], list[list[bool]]]:
    """Active value ids (depending on ``wrt``) and, per operation, which inputs are active.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from chainorder.jax.program import trace_program
    >>> prog, _ = trace_program(lambda x, y: jnp.sin(x) * y, (jnp.ones(2), jnp.ones(2)))
    >>> activity(prog, [prog.inputs[0]])[1]
    [[True], [True, False]]

    Notes
    -----
    O(operations).
    """
    active = set(wrt)
    per_op = []
    for op in prog.ops:
        act = [not isinstance(a, Lit) and a in active for a in op.ins]
        per_op.append(act)
        if any(act) and op.name != "stop_gradient":
            active.update(o for o in op.outs if is_inexact(prog.avals[o][1]))
    return active, per_op


def segment_program(prog: Program, wrt: Sequence[int]) -> list[Segment]:
    """The chain of segments from the leaves ``wrt`` to every output (see the module notes).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from chainorder.jax.program import trace_program
    >>> w = jnp.ones((3, 4))
    >>> prog, _ = trace_program(lambda x: jnp.tanh(x @ w) @ w.T, (jnp.ones(3),))
    >>> [(s.label, s.rows, s.cols) for s in segment_program(prog, prog.inputs)]
    [('dot_general', 4, 3), ('tanh', 4, 4), ('dot_general', 3, 4)]

    Notes
    -----
    O(operations + values).
    """
    n_ops = len(prog.ops)
    active, act_in = activity(prog, wrt)
    # varying: operations reading a value computed from the inputs, derivative or not (after a
    # stop_gradient, an argmax): they run inside the segments, recomputed with their inputs
    varying, reads_varying = set(wrt), []
    for op in prog.ops:
        reads = any(not isinstance(a, Lit) and a in varying for a in op.ins)
        reads_varying.append(reads)
        if reads:
            varying.update(op.outs)
    # needed: operations whose results reach an output
    need = {a for a in prog.outputs if not isinstance(a, Lit)}
    needed = [False] * n_ops
    for p in range(n_ops - 1, -1, -1):
        op = prog.ops[p]
        if any(o in need for o in op.outs):
            needed[p] = True
            need.update(a for a in op.ins if not isinstance(a, Lit))
    defined = {v: 0 for v in wrt}
    last_use: dict[int, int] = {}
    for p, op in enumerate(prog.ops):
        for o in op.outs:
            defined[o] = p + 1
        if needed[p]:
            for a, on in zip(op.ins, act_in[p], strict=True):
                if on:
                    last_use[a] = p
    for a in prog.outputs:
        if not isinstance(a, Lit) and a in active:
            last_use[a] = n_ops
    # live active values per position p: defined <= p <= last use
    starts: dict[int, list[int]] = {}
    ends: dict[int, list[int]] = {}
    for v, last in last_use.items():
        d = defined.get(v, 0)
        if d <= last:
            starts.setdefault(d, []).append(v)
            ends.setdefault(last + 1, []).append(v)
    cuts: list[tuple[int, int]] = []  # (position, value id)
    alive: set[int] = set()
    for p in range(n_ops + 1):
        alive.difference_update(ends.get(p, ()))
        alive.update(starts.get(p, ()))
        if len(alive) == 1 and 0 < p < n_ops:
            (v,) = alive
            if v not in wrt and (not cuts or cuts[-1][1] != v):
                cuts.append((p, v))
    bounds = [0, *(p for p, _ in cuts), n_ops]
    cut_vals: list[tuple[object, ...]] = [tuple(wrt), *((v,) for _, v in cuts), prog.outputs]
    segs = []
    for l in range(len(bounds) - 1):
        ops = [
            (prog.ops[p], act_in[p])
            for p in range(bounds[l], bounds[l + 1])
            if needed[p] and reads_varying[p]
        ]
        cost = OpCost()
        for op, act in ops:
            cost = cost + price_op(op.eqn, act)
        ins, outs = cut_vals[l], cut_vals[l + 1]
        segs.append(
            Segment(
                tuple(op for op, _ in ops),
                tuple(ins),  # type: ignore[arg-type]
                outs,
                _total(prog, outs),
                _total(prog, ins),
                cost,
            )
        )
    return merge_free(segs)


def _total(prog: Program, ids: Sequence[object]) -> int:
    n = 0
    for a in ids:
        if isinstance(a, Lit):
            n += int(getattr(a.value, "size", 1))
        else:
            n += prog.size(a)  # type: ignore[arg-type]
    return max(n, 1)


def _join(a: Segment, b: Segment) -> Segment:
    """``b ∘ a`` as one segment."""
    return Segment(a.ops + b.ops, a.ins, b.outs, b.rows, a.cols, _compose_cost(a, b))


def _compose_cost(a: Segment, b: Segment) -> OpCost:
    c = a.cost + b.cost
    diagonal = a.diagonal and b.diagonal
    return OpCost(c.tangent, c.adjoint, c.tape, c.forward, diagonal, c.unknown)


def merge_free(segs: list[Segment]) -> list[Segment]:
    """Merge segments that cost 0 mults per seed into a neighbour (the narrower cut stays).

    Notes
    -----
    O(segments).
    """
    out = list(segs)
    i = 0
    while len(out) > 1 and i < len(out):
        s = out[i]
        if s.cost.tangent or s.cost.adjoint:
            i += 1
            continue
        into_prev = i == len(out) - 1 or (i > 0 and s.rows <= s.cols)
        if into_prev:
            out[i - 1 : i + 1] = [_join(out[i - 1], s)]
            i -= 1
        else:
            out[i : i + 2] = [_join(s, out[i + 1])]
    return out


def link_of(seg: Segment) -> LinkCost:
    """The :class:`~chainorder.matfree.LinkCost` the planner sees for a segment.

    Examples
    --------
    >>> from chainorder.jax.price import OpCost
    >>> link_of(Segment((), (0,), (1,), 4, 4, OpCost(4, 4, 4, 4, True))).kind
    'elementwise'

    Notes
    -----
    O(1).
    """
    c = seg.cost
    kind = "elementwise" if seg.diagonal else "custom"
    params = (("function", seg.label),) if seg.diagonal else ()
    return LinkCost(seg.rows, seg.cols, c.tangent, c.adjoint, c.tape, c.forward, kind, params)

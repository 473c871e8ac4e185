"""Vertex elimination as a flat instruction list, executed exactly as it is priced.

:func:`elimination_program` replays the elimination order on the symbolic state
(:class:`~chainorder.graph.elimstate._State`, ``"chainorder"`` convention) and emits, for
every product the state prices, the instructions that compute it in the priced way:

* ``form`` — an original partial from its rule: the JVP of a ones seed (diagonal), or of
  ``size(u)`` identity tangents, or the VJP of ``size(v)`` identity adjoints, whichever
  the state chose (its mults are those tangents × the rule's per-tangent cost);
* ``apply_jvp`` / ``apply_vjp`` — an original partial applied by its rule to the dense columns
  (rows) of the other, formed, factor;
* ``mm`` — two formed factors multiplied (diagonals stay vectors);
* ``add`` — a product added into an existing edge (formed first if still original);
  written into a summand of the sum's layout that a product, a sum or a rule created
  (a new array no other slot or graph value holds), else into a new array; a diagonal
  summand is added onto the dense one's diagonal, never expanded.

A factor formed in a step is kept until the step ends; the eliminated vertex's edges die
with the step. Finally the ``m × n`` Jacobian is allocated and the input → output blocks
are written into it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from chainorder.graph.elimpost import forms_transposed, gemm_added, jacobian_taken
from chainorder.graph.elimstate import _State
from chainorder.graph.instr import Instr, _run_elim, jacobian_written
from chainorder.graph.linearize import LinearizedGraph
from chainorder.graph.ops import get_rule
from chainorder.graph.ops.registry import broadcast_axes
from chainorder.graph.probe import Footprints, summed

__all__ = ["elimination_program"]


class _Emitter:
    def __init__(self, lin: LinearizedGraph) -> None:
        self.lin = lin
        self.graph = lin.graph
        self.prog: list[Instr] = []
        self.held: dict[tuple[str, str], int] = {}  # formed edges → slot
        self.nxt = 1  # slot 0: the Jacobian
        self.fp = Footprints(lin.graph)
        self.owned: set[int] = set()  # slots whose array is new and referenced nowhere else

    def new_slot(self) -> int:
        self.nxt += 1
        return self.nxt - 1

    def emit(self, ins: Instr) -> int:
        self.prog.append(ins)
        return ins.out

    def free_after_last(self, slots) -> None:
        slots = tuple(s for s in slots if s is not None)
        if slots:
            last = self.prog[-1]
            self.prog[-1] = replace(last, free=last.free + slots)

    def _op_terms(self, e: tuple[str, str], slot: int) -> tuple[str, tuple, bool]:
        """(node whose rule applies, (slot, argnum) terms, is a copy edge) of edge ``e``."""
        u, v = e
        if v.endswith(".out") and v[: -len(".out")] == u:
            return v, ((slot, 0),), True
        argnums = self.graph.nx.edges[u, v]["argnums"]
        return v, tuple((slot, i) for i in argnums), False

    def form(self, state: _State, e: tuple[str, str]) -> int:
        """Emit the forming of original edge ``e`` as the state prices it; its slot."""
        mults, way = state.form_cost(e)
        u, v = e
        nu, nv = self.lin.sizes[u], self.lin.sizes[v]
        node, terms, copy = self._op_terms(e, 0)
        diag = state.E[e].is_diagonal
        size = nv if diag else nu * nv
        if way == "hook":
            info = {"way": way, "u": u, "v": v}
            out = self.emit(
                Instr("form", self.new_slot(), (), None, info, alloc=self.lin.formers[e])
            )
            if self.lin.formers[e] > 0:  # a new array (zeros filled, or a factor's copy)
                self.owned.add(out)
            return out
        seed = {"ones": nu, "jvp": nu * nu, "vjp": nv * nv}[way]
        if copy:
            temp = 0
        else:
            kind = "vjp" if way == "vjp" else "jvp"
            rows = {"ones": 1, "jvp": nu, "vjp": nv}[way]
            shape_in = self._shape(v) if way == "vjp" else self._shape(u)
            fps = [self.fp(node, i, kind, shape_in, rows) for _, i in terms]
            temp = seed + summed(fps, rows, size)[1]
        info = {"way": way, "copy": copy, "shape_u": self._shape(u), "shape_v": self._shape(v)}
        return self.emit(
            Instr("form", self.new_slot(), terms, node if not copy else None, info,
                  alloc=size, temp=temp, mults=mults)
        )  # fmt: skip

    def _shape(self, v: str) -> tuple[int, ...]:
        if v.endswith(".out") and v not in self.graph.nx:
            return self.graph.shape(v[: -len(".out")])
        return self.graph.shape(v)

    def product(self, state: _State, i: str, j: str, k: str, way: str, step: dict) -> int:
        """Emit ``∂k/∂j · ∂j/∂i`` in ``way``; ``step`` caches factors formed this step."""
        ij, jk = (i, j), (j, k)
        a, b = state.E[ij], state.E[jk]
        both = a.is_diagonal and b.is_diagonal

        def formed(e: tuple[str, str]) -> int:
            if e in self.held:
                return self.held[e]
            if e not in step:
                step[e] = self.form(state, e)
            return step[e]

        rows, cols = b.rows, a.cols
        size = rows if both else rows * cols
        if way == "mm":
            sa, sb = formed(ij), formed(jk)
            if both:
                mults = rows
            elif a.is_diagonal or b.is_diagonal:
                mults = rows * cols
            else:
                mults = rows * b.cols * cols
            info = {"diag_a": a.is_diagonal, "diag_b": b.is_diagonal}
            out = self.emit(
                Instr("mm", self.new_slot(), ((sb, 0), (sa, 0)), None, info, alloc=size,
                      mults=mults)
            )  # fmt: skip
            self.owned.add(out)
            return out
        if way == "jvp":
            src, e, per = formed(ij), jk, state.A[jk][0]
            batch = 1 if both else cols
        else:
            src, e, per = formed(jk), ij, state.A[ij][1]
            batch = 1 if both else rows
        node, terms, copy = self._op_terms(e, src)
        nj = self.lin.sizes[j]
        temp = 0  # the state applies a rule to a diagonal factor only if both are diagonal
        fresh = copy  # a new full-size array that no other slot or value holds
        if not copy:
            fps = [self.fp(node, i, way, self._shape(j), batch) for _, i in terms]
            temp += summed(fps, batch, size)[1]
            fresh = len(fps) > 1 or (not fps[0].view and fps[0].held(batch) >= size)
        info = {"both_diag": both, "shape_j": self._shape(j), "copy": copy,
                "shape_out": self._shape(i if way == "vjp" else k)}  # fmt: skip
        ins = Instr(f"apply_{way}", self.new_slot(), terms, None if copy else node, info,
                    alloc=size, temp=temp, mults=batch * per)  # fmt: skip
        if not copy and not both and len(fps) == 1 and fps[0].view:
            # the rule's result is a view of its block (a broadcast, a transpose): an add
            # can take it as it is; a broadcast is never kept as a block (stride-0 axes
            # make every later product loop once per short group)
            bcast = _broadcasts(self.graph, node, terms[0][1], way, self._shape(j))
            ins = replace(ins, info={**info, "view_rule": True, "bcast": bcast},
                          temp=fps[0].temp(batch))  # fmt: skip
        if not copy and any(fp.view for fp in fps):
            self.owned.discard(src)  # the result may be a view of it: never written in place
        if not copy and not both and len(fps) == 1 and fps[0].view:
            src_shape = (nj, cols) if way == "jvp" else (rows, nj)
            if _result_is_view(self.graph, ins, src, src_shape):
                ins = replace(ins, alloc=0, alias=src)
        out = self.emit(ins)
        if fresh:
            self.owned.add(out)
        return out


def elimination_program(lin: LinearizedGraph, order) -> tuple[list[Instr], int, int]:
    """Instructions computing the Jacobian by eliminating ``order``; slots; mults.

    Slot 0 holds the ``m × n`` Jacobian at the end.

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.graph import trace
    >>> from chainorder.graph.linearize import linearize
    >>> from chainorder.graph.instr import execute
    >>> lin = linearize(trace(lambda x: np.sin(np.exp(x)).sum(), np.zeros(2)))
    >>> prog, n_slots, mults = elimination_program(lin, ("v1", "v2"))
    >>> [i.op for i in prog], mults
    (['form', 'form', 'mm', 'form', 'mm', 'place'], 4)
    >>> execute(lin.graph, prog, n_slots, 0)[0].round(4)
    array([[0.5403, 0.5403]])

    Notes
    -----
    O(Σ_j |pred(j)|·|succ(j)|) instructions.
    """
    state = _State(lin)
    em = _Emitter(lin)
    total = 0
    for j in order:
        products: list = []
        step: dict[tuple[str, str], int] = {}
        preds, succs = sorted(state.pred[j]), sorted(state.succ[j])
        state._step(j, products)
        for i, k, m, prod, way in products:
            slot = em.product(state, i, j, k, way, step)
            if (i, k) in state.E:
                old = em.held.get((i, k))
                if old is None:
                    old = em.form(state, (i, k))
                diag_x, diag_y = state.E[(i, k)].is_diagonal, prod.is_diagonal
                alloc = state.added(state.E[(i, k)], prod).nnz
                into = _in_place_target(em, old, slot, diag_x, diag_y)
                if _fuse_apply_add(em, old, slot, diag_x, diag_y):
                    new = em.prog[-1].out
                    em.owned.add(new)
                    em.held[(i, k)] = new
                    total += m
                    continue
                em.emit(
                    Instr("add", em.new_slot(), ((old, 0), (slot, 0)), None,
                          {"diag_x": diag_x, "diag_y": diag_y, "into": into},
                          alloc=0 if into >= 0 else alloc,
                          temp=_expand(diag_x, diag_y, alloc), free=(old, slot),
                          alias=into)
                )  # fmt: skip
                new = em.prog[-1].out
                em.owned.add(new)
                em.held[(i, k)] = new
            else:
                em.held[(i, k)] = slot
            total += m
        state.eliminate(j)
        dead = [em.held.pop((i, j), None) for i in preds]
        dead += [em.held.pop((j, k), None) for k in succs]
        em.free_after_last([*dead, *step.values()])
    em.prog = _products_in_place(_free_at_last_read(em.prog), em.owned)
    m_rows = sum(lin.sizes[y] for y in lin.outputs)
    n_cols = sum(lin.sizes[x] for x in lin.inputs)
    em.emit(Instr("zeros", 0, info={"shape": (m_rows, n_cols)}, alloc=m_rows * n_cols))
    r0 = 0
    for y in lin.outputs:
        c0 = 0
        for x in lin.inputs:
            e = (x, y)
            if e in state.E:
                src = em.held.pop(e, None)
                if src is None:
                    total += state.form_cost(e)[0]
                    src = em.form(state, e)
                diag = state.E[e].is_diagonal
                em.emit(
                    Instr("place", 0, ((src, 0),),
                          info={"box": (r0, r0 + lin.sizes[y], c0, c0 + lin.sizes[x]),
                                "layout": "formed", "diag": diag},
                          temp=lin.sizes[x] * lin.sizes[y] if diag else 0, free=(src,),
                          alias=0)
                )  # fmt: skip
            c0 += lin.sizes[x]
        r0 += lin.sizes[y]
    prog = forms_transposed(lin.graph, jacobian_written(_views_kept(em.prog)))
    prog = gemm_added(lin.graph, prog)
    return jacobian_taken(prog, em.owned), em.nxt, total


#: Largest formed factor (scalars) on which :func:`_result_is_view` runs a view rule.
VIEW_PROBE_SCALARS = 1 << 19


def _result_is_view(graph, ins: Instr, src: int, src_shape: tuple[int, int]) -> bool:
    """Whether applying ``ins`` (a rule whose result is a view of its block) to a formed
    factor of ``src_shape`` leaves a view of that factor — then it allocates nothing.

    Decided by running the instruction once on an uninitialised factor (``np.empty``:
    pages a view never touches are never committed); the layout, not the values, decides.
    A factor over :data:`VIEW_PROBE_SCALARS` is not tried (a copy would cost a run's
    time at compile time): its result is priced as a new array, an upper bound.
    """
    if src_shape[0] * src_shape[1] > VIEW_PROBE_SCALARS:
        return False
    slots: list = [None] * (src + 1)
    slots[src] = np.empty(src_shape)
    out, _ = _run_elim(graph, ins, slots, np)
    return bool(np.may_share_memory(out, slots[src]))


def _in_place_target(em: _Emitter, old: int, slot: int, diag_x: bool, diag_y: bool) -> int:
    """The summand slot the sum of ``old`` and ``slot`` can be written into, or -1.

    Only a summand of the sum's own layout (both diagonal, or the dense one) whose array a
    product or an earlier sum created — new, and held by no other slot or graph value —
    is written in place; both summands die with the sum.
    """
    for s, diag in ((old, diag_x), (slot, diag_y)):
        if s in em.owned and diag == (diag_x and diag_y):
            return s
    return -1


def _free_at_last_read(prog: list[Instr]) -> list[Instr]:
    """Move each slot's drop to the instruction that reads it last (liveness), where the
    step that made it freed it later: a factor formed for one product of a step died only
    with the step, so the product could not scale it in place and its buffer outlived
    its use (the memory model and ``execute`` both follow the moved drops)."""
    last: dict[int, int] = {}
    made: dict[int, int] = {}
    for k, ins in enumerate(prog):
        made.setdefault(ins.out, k)
        for s, _ in ins.terms:
            last[s] = k
        if ins.op == "apply_add":
            last[ins.info["into"]] = k
    moved: dict[int, list[int]] = {}
    out = list(prog)
    for k, ins in enumerate(prog):
        keep = []
        for s in ins.free:
            at = last.get(s, made.get(s, k))
            if s != 0 and made.get(s, -1) <= at < k:
                moved.setdefault(at, []).append(s)
            else:
                keep.append(s)
        if len(keep) != len(ins.free):
            out[k] = replace(out[k], free=tuple(keep))
    for at, slots in moved.items():
        out[at] = replace(out[at], free=(*out[at].free, *slots))
    return out


def _products_in_place(prog: list[Instr], owned: set[int]) -> list[Instr]:
    """``mm`` steps with a diagonal factor rewritten to scale the other factor in place
    where that factor dies at the step and is a new array of the program's own (``owned``:
    created by a product, a sum, a rule or a former, and no view of it held elsewhere).

    The product then allocates nothing (it aliases the dying factor: the memory model
    counts one buffer) and writes no fresh pages: a diagonal × dense product of
    524,288 scalars took 0.55 ms into a new array and 0.30 ms in place.
    """
    out = []
    for ins in prog:
        if ins.op == "mm" and (ins.info["diag_a"] or ins.info["diag_b"]):
            (sb, _), (sa, _) = ins.terms
            da, db = ins.info["diag_a"], ins.info["diag_b"]
            # the factor of the product's own layout: the dense one, or either diagonal
            cands = (sb, sa) if da and db else ((sb,) if da else (sa,))
            into = next((c for c in cands if c in ins.free and c in owned), -1)
            if into >= 0:
                ins = replace(ins, info={**ins.info, "into": into}, alloc=0, alias=into)
        out.append(ins)
    return out


def _fuse_apply_add(em: _Emitter, old: int, slot: int, diag_x: bool, diag_y: bool) -> bool:
    """Fuse ``add(old, slot)`` with the rule application that just made ``slot``, when that
    rule's result is a view of its block (a broadcast: the VJP of a sum, a mean) and
    ``old`` is a dense array of the program's own: the broadcast is added into ``old`` in
    place (``apply_add``), never written out as a block of its own. Rewrites the last
    instruction; returns whether it did."""
    last = em.prog[-1]
    if (last.out != slot or not last.op.startswith("apply_") or not last.info.get("view_rule")
            or last.alias >= 0 or diag_x or diag_y or old not in em.owned):  # fmt: skip
        return False
    info = {**last.info, "into": old}
    em.prog[-1] = replace(last, op="apply_add", info={**info, "way": last.op[6:]}, alloc=0,
                          alias=old, free=(*last.free, old))  # fmt: skip
    return True


def _broadcasts(graph, node: str, argnum: int, way: str, shape_in: tuple) -> bool:
    """Whether ``node``'s ``way`` rule for ``argnum`` returns a broadcast view (stride-0
    axes), tried on a block of two zero rows."""
    d = graph.nx.nodes[node]
    rule = get_rule(d["op"])
    apply = rule.jvp if way == "jvp" else rule.vjp
    values = tuple(graph.value(a) for a in d["args"])
    res = apply(argnum, np.zeros((2, *shape_in)), values, graph.value(node), d["params"])
    return bool(broadcast_axes(np.asarray(res)[:1]))


def _views_kept(prog: list[Instr]) -> list[Instr]:
    """Adjoint rule results that are views of their factor (a transpose, a reshape) kept
    in their block shape, where only other adjoint rules read them (``keep_nd``): the
    flattening copy of the block (262,144 scalars for attention's ``k.T``: 0.27 ms) is
    not made; the result aliases the factor, which then lives as long as it does."""
    readers: dict[int, set[str]] = {}
    for ins in prog:
        # a reader whose own result may be a view of the block needs it flat (a view of
        # a permuted block would be a copy: not what that reader was priced as)
        kind = "view" if ins.info.get("view_rule") or ins.alias >= 0 else ins.op
        for s, _ in ins.terms:
            readers.setdefault(s, set()).add(kind)
        if ins.op == "apply_add":
            readers.setdefault(ins.info["into"], set()).add("into")
    out = []
    for ins in prog:
        # (tangent blocks are not kept: a permuted tangent block made the next rule's
        # product 2.3x slower than the copy saved, attention's search order 5.3 -> 10 ms)
        if (ins.op == "apply_vjp" and ins.info.get("view_rule") and not ins.info["bcast"]
                and ins.alias < 0
                and readers.get(ins.out, {"none"}) <= {"apply_vjp"}):  # fmt: skip
            src = ins.terms[0][0]
            ins = replace(ins, info={**ins.info, "keep_nd": True}, alloc=0, alias=src)
        out.append(ins)
    return out


def _expand(diag_x: bool, diag_y: bool, alloc: int) -> int:
    """Temporaries of ``add``: none — a diagonal summand is added onto the dense one's
    diagonal in place (its copy, or itself when it may be written)."""
    return 0


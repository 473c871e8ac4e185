"""Flat instructions over buffer slots: what a compiled Jacobian program runs.

An :class:`Instr` computes one array into a slot from other slots and the graph's values,
through an op's batched tangent / adjoint rule or a plain array product. Each instruction
states what it allocates (``alloc``: the array it leaves in its slot), what it holds only
while it runs (``temp``: seeds, summands, expanded diagonals), which slots die after it
(``free``) and the mults it performs (``mults``). :func:`simulate_peak` turns that into the
predicted peak of live scalars; :func:`execute` runs the list and counts the mults from the
block sizes it actually meets, so a test can hold the counted figure against the predicted.

Numbers: a batch of ``k`` tangents of a node of shape ``s`` is an array ``(k, *s)``; a
formed partial ``∂v/∂u`` is a vector (diagonal) or a ``size(v) × size(u)`` matrix.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from chainorder.graph.blocks import form, form_transposed
from chainorder.graph.ops import get_rule
from chainorder.graph.ops.registry import (
    broadcast_axes,
    dense_copy,
    namespace_of_array,
    writable,
)

__all__ = ["Instr", "array_module", "execute", "jacobian_written", "live_after", "simulate_peak"]



@dataclass(frozen=True)
class Instr:
    """One instruction of a compiled program (see the module docstring).

    ``node`` is the graph node whose op rule is applied (``None`` for array products),
    ``terms`` the ``(input slot, argnum)`` pairs whose rule applications are summed, and
    ``info`` the static shapes and flags the op needs. ``alias`` is a slot whose buffer the
    result shares (a view, or the Jacobian written in place): the instruction then
    allocates nothing and the buffer lives while either slot does.
    """

    op: str
    out: int
    terms: tuple[tuple[int, int], ...] = ()
    node: str | None = None
    info: dict = field(default_factory=dict)
    alloc: int = 0
    temp: int = 0
    free: tuple[int, ...] = ()
    mults: int = 0
    alias: int = -1
    #: What the rule application needs that the graph's structure fixes (the rule, the
    #: argument names, each term's mults per row), filled on the first run.
    static: dict = field(default_factory=dict, compare=False, repr=False)


def _profile(instrs: Sequence[Instr]):
    """Yield (live scalars before the step + its alloc + temp, live scalars after)."""
    buf_of: dict[int, int] = {}
    size: dict[int, int] = {}
    refs: dict[int, int] = {}
    total = 0

    def release(b: int | None) -> int:
        if b is None:
            return 0
        refs[b] -= 1
        if refs[b] == 0:
            del refs[b]
            return size.pop(b)
        return 0

    for n, ins in enumerate(instrs):
        during = total + ins.alloc + ins.temp
        old = buf_of.get(ins.out)
        if ins.alias >= 0:
            b = buf_of[ins.alias]
            refs[b] += 1
        else:
            b = -1 - n
            size[b], refs[b] = ins.alloc, 1
            total += ins.alloc
        buf_of[ins.out] = b
        total -= release(old)
        for s in ins.free:
            total -= release(buf_of.pop(s, None))
        yield during, total


def live_after(instrs: Sequence[Instr]) -> list[int]:
    """Live scalars after each instruction (its buffers, once its dead slots are dropped).

    Examples
    --------
    >>> live_after([Instr("seed", 0, alloc=4), Instr("mm", 1, alloc=2, temp=1, free=(0,))])
    [4, 2]

    Notes
    -----
    O(len(instrs)).
    """
    return [after for _, after in _profile(instrs)]


def simulate_peak(instrs: Sequence[Instr]) -> int:
    """Peak live scalars of running ``instrs`` (buffers plus each step's temporaries).

    Examples
    --------
    >>> simulate_peak([Instr("seed", 0, alloc=4), Instr("mm", 1, alloc=2, temp=1, free=(0,))])
    7

    Notes
    -----
    O(len(instrs)).
    """
    return max((during for during, _ in _profile(instrs)), default=0)


def _rule_sum(graph, ins: Instr, slots: list, block_of, kind: str, xp=np) -> tuple:
    """Sum of the rule applications of ``ins.terms``; mults counted per block row."""
    v = ins.node
    static = ins.static.get(kind)
    if static is None:  # the structure's part: the same at every run of the program
        d = graph.nx.nodes[v]
        rule = get_rule(d["op"])
        shapes = tuple(np.shape(graph.value(a)) for a in d["args"])
        price = rule.jvp_cost if kind == "jvp" else rule.vjp_cost
        out_shape = np.shape(graph.value(v))
        per_row = tuple(price(i, shapes, out_shape, d["params"]) for _, i in ins.terms)
        static = ins.static[kind] = (rule.jvp if kind == "jvp" else rule.vjp, per_row,
                                     tuple(d["args"]), d["params"])  # fmt: skip
    apply, per_row, args, params = static
    value = graph.value
    values = tuple(value(a) for a in args)
    out = value(v)
    acc, mults, owned = None, 0, False
    for (slot, argnum), price in zip(ins.terms, per_row, strict=True):
        block = block_of(slots[slot])
        mults += block.shape[0] * price
        t = apply(argnum, block, values, out, params)
        if acc is None:
            acc = t
        elif owned:
            xp.add(acc, t, out=acc)
        else:  # the first term may be a view of a block or of a value: never written to
            acc, owned = acc + t, True
        del t
    return acc, mults


def _split(a, shape: tuple, xp):
    """``a`` with its axis 1 split into ``shape``, as a view (NumPy never copies here)."""
    if xp is not np:
        return a.reshape((a.shape[0], *shape))
    t = a.view()
    t.shape = (a.shape[0], *shape)
    return t


def _as_tangents(a, shape: tuple, xp=np):
    """A formed dense ``∂j/∂i`` (``size(j) × c``) as ``c`` tangents of ``j``. (A diagonal
    factor is never expanded for a rule: the elimination state multiplies it instead.) A
    factor kept as ``c`` tangents (``keep_nd``, only for ``j`` of two or more axes) is
    returned as it is."""
    if len(shape) >= 2 and a.ndim == 1 + len(shape) and tuple(a.shape[1:]) == tuple(shape):
        return a
    return _split(a.T, shape, xp)


def _as_adjoints(b, shape: tuple, xp=np):
    """A formed dense ``∂k/∂j`` (``r × size(j)``) as ``r`` adjoints of ``j`` (a factor kept
    in its block shape, ``keep_nd``, as it is)."""
    if b.ndim == 1 + len(shape) and tuple(b.shape[1:]) == tuple(shape):
        return b
    return _split(b, shape, xp)


def _run_one(graph, ins: Instr, slots: list, xp=np) -> tuple:
    info, op = ins.info, ins.op
    if op == "seed":  # an identity block of k rows: rows offset.. of an input / output
        k, size, off = info["k"], info["size"], info["offset"]
        a = xp.zeros((k, size))
        a[xp.arange(off, off + size), xp.arange(size)] = 1.0
        return a.reshape((k, *info["shape"])), 0
    if op in ("jvp", "vjp"):  # sweeps: a node's batch from its argument batches
        return _rule_sum(graph, ins, slots, lambda a: a, op, xp)
    if op == "vjp_add":  # reverse sweep: add one adjoint contribution into u's batch
        g, mults = _rule_sum(graph, ins, slots, lambda a: a, "vjp", xp)
        old = slots[ins.out]
        if old is None:
            return g, mults
        if ins.info.get("into") and writable(old):
            return xp.add(old, g, out=old), mults  # a new array the compiler gave this slot
        return old + g, mults
    if op == "place":  # write a block of the Jacobian
        a = slots[ins.terms[0][0]]
        if info.get("take"):  # the whole Jacobian, of our own: returned when C-contiguous
            a = a if a.flags.c_contiguous else xp.ascontiguousarray(a)
            return a.reshape(info["shape"]), 0
        jac = slots[ins.out]
        r0, r1, c0, c1 = info["box"]
        w = jac[r0:r1, c0:c1]
        if info["layout"] == "formed":
            w[...] = xp.diag(a) if info["diag"] else a
        else:  # forward: (n, *shape_y) → rows r0:r1; reverse: (m, *shape_x) → columns
            dest = w.T if info["layout"] == "forward" else w
            if xp is np:  # a view of the Jacobian shaped like the block: no copy of it
                _split(dest, a.shape[1:], xp)[...] = a
            else:
                dest[...] = a.reshape(dest.shape)
        return jac, 0
    if op == "zeros":  # the Jacobian; "empty" when every block of it is written
        return (xp.empty if info.get("empty") else xp.zeros)(info["shape"]), 0
    return _run_elim(graph, ins, slots, xp)


def _run_elim(graph, ins: Instr, slots: list, xp=np) -> tuple:
    info, op = ins.info, ins.op
    if op == "form":  # an original partial ∂v/∂u from an identity (or ones) seed
        if info["way"] == "hook":
            return form(graph, info["u"], info["v"], xp, ins.static), 0
        su, sv = info["shape_u"], info["shape_v"]
        nu, nv = int(np.prod(su)), int(np.prod(sv))
        if info["copy"]:
            return (xp.ones(nu) if info["way"] == "ones" else xp.eye(nu)), 0
        if info["way"] == "ones":
            seed = xp.ones((1, *su))
            out, mults = _rule_sum(graph, ins, [seed], lambda a: a, "jvp", xp)
            return xp.asarray(out).reshape(nv), mults
        if info["way"] == "jvp":
            seed = xp.eye(nu).reshape((nu, *su))
            out, mults = _rule_sum(graph, ins, [seed], lambda a: a, "jvp", xp)
            return xp.asarray(out).reshape(nu, nv).T, mults
        seed = xp.eye(nv).reshape((nv, *sv))
        out, mults = _rule_sum(graph, ins, [seed], lambda a: a, "vjp", xp)
        return xp.asarray(out).reshape(nv, nu), mults
    if op in ("apply_jvp", "apply_vjp"):
        diag_out = info["both_diag"]
        shape = info["shape_j"]
        if diag_out:
            def block(a):
                return a.reshape((1, *shape))
        elif op == "apply_jvp":
            def block(a):
                return _as_tangents(a, shape, xp)
        else:
            def block(a):
                return _as_adjoints(a, shape, xp)
        if info["copy"]:
            a = block(slots[ins.terms[0][0]])
            out, mults = a.copy(), 0
        else:
            out, mults = _rule_sum(graph, ins, slots, block, op[6:], xp)
        out = xp.asarray(out)
        if diag_out:
            return out.reshape(-1), mults
        if info.get("keep_nd"):  # a view of the factor, read only by rules: not flattened
            return out, mults
        r = out.shape[0]
        if op == "apply_jvp" and xp is np:
            return _tangents_as_columns(out), mults
        if xp is np and broadcast_axes(out):
            out = dense_copy(out)  # a broadcast block by repeat, not NumPy's copy loop
        flat = out.reshape(r, -1)
        return (flat.T if op == "apply_jvp" else flat), mults
    if op == "gemm_add":  # a contraction's rule added into a held sum by BLAS (C += A·B)
        from chainorder.graph.gemmadd import gemm_add

        return gemm_add(graph, ins, slots, xp)
    if op == "form_t":  # a Kronecker former written straight into a transposed layout
        return form_transposed(graph, info, xp, ins.static), 0
    if op == "apply_add":  # a broadcast rule result added into a dense sum of our own
        return _apply_add(graph, ins, slots, xp)
    if op == "mm":  # ∂k/∂j (slot b) · ∂j/∂i (slot a), diagonals as vectors
        (sb, _), (sa, _) = ins.terms
        b, a = slots[sb], slots[sa]
        db, da = info["diag_b"], info["diag_a"]
        into = info.get("into", -1)  # a dying factor of the product's layout, ours alone
        if into >= 0 and writable(slots[into]):
            dest = slots[into]
            if db and da:
                return xp.multiply(b, a, out=dest), a.size
            if db:
                return xp.multiply(b[:, None], a, out=dest), a.size
            return xp.multiply(b, a[None, :], out=dest), b.size
        if db and da:
            return b * a, a.size
        if db:
            return b[:, None] * a, a.size
        if da:
            return b * a[None, :], b.size
        return b @ a, b.shape[0] * b.shape[1] * a.shape[1]
    if op == "add":  # an accumulated edge plus a product
        (s1, _), (s2, _) = ins.terms
        x, y = slots[s1], slots[s2]
        into = info.get("into", -1)  # a summand of the sum's layout, new and held nowhere else
        if into >= 0 and not writable(slots[into]):
            into = -1  # pragma: no cover - the compiler marks only new arrays
        if info["diag_x"] == info["diag_y"]:
            if into < 0:
                return x + y, 0
            dest, other = (x, y) if into == s1 else (y, x)
            return xp.add(dest, other, out=dest), 0
        dense, diag = (y, x) if info["diag_x"] else (x, y)
        return _add_diagonal(dense if into >= 0 else dense.copy(), diag, xp), 0
    raise ValueError(f"unknown instruction {op!r}")  # pragma: no cover - compiler bug


def _apply_add(graph, ins: Instr, slots: list, xp) -> tuple:
    """``dest += rule(block)``: ``dest`` (``into``) is ``rows × size`` (adjoints, ``vjp``)
    or ``size × cols`` (tangents, ``jvp``); the rule's result ``(r, *shape_out)`` is added
    through a view of ``dest`` shaped like it, or row by row where ``dest``'s layout has no
    such view (temporaries of at most one row)."""
    info = ins.info
    shape_j, shape_out = info["shape_j"], info["shape_out"]
    if info["way"] == "jvp":
        g, mults = _rule_sum(graph, ins, slots, lambda a: _as_tangents(a, shape_j, xp), "jvp", xp)
        dest = slots[info["into"]]
        rows = dest.T
    else:
        g, mults = _rule_sum(graph, ins, slots, lambda a: _as_adjoints(a, shape_j, xp), "vjp",
                             xp)  # fmt: skip
        dest = slots[info["into"]]
        rows = dest
    if rows.flags.c_contiguous:
        view = rows.reshape((rows.shape[0], *shape_out))
        xp.add(view, g, out=view)
    else:
        for r in range(rows.shape[0]):
            rows[r] += g[r].reshape(-1)
    return dest, mults


def _tangents_as_columns(out):
    """``r`` tangents ``(r, *shape)`` as the ``size × r`` matrix of their columns: a view
    when their layout allows, else one copy written C-contiguous (as ``reshape`` would copy,
    but in the layout the next products and sums read fastest): one ``copy()`` of the
    batch-last view. Whether a view exists is read from the strides (:func:`_merged_tail`)."""
    r = out.shape[0]
    flat = _merged_tail(out)
    if flat is not None:
        return flat.T
    res = np.moveaxis(out, 0, -1).copy()
    res.shape = (res.size // r, r)
    return res


def _merged_tail(a):
    """``a`` (``(r, *shape)``) as an ``r × size`` view, or ``None`` if that needs a copy.

    Decided from the strides: setting ``.shape`` instead would copy the whole array before
    it refuses (NumPy 2), a hidden copy of the block (1 ms for 512 × 512)."""
    dims = [(n, s) for n, s in zip(a.shape[1:], a.strides[1:], strict=True) if n != 1]
    for (_, s0), (n1, s1) in itertools.pairwise(dims):
        if s0 != s1 * n1:
            return None
    step = dims[-1][1] if dims else a.itemsize
    size = int(np.prod(a.shape[1:], dtype=np.int64))
    return np.lib.stride_tricks.as_strided(
        a, (a.shape[0], size), (a.strides[0], step), writeable=a.flags.writeable
    )


def _add_diagonal(dense, diag, xp):
    """``dense + diag(diag)`` written into ``dense`` (no expanded diagonal)."""
    if dense.flags.c_contiguous:
        flat = dense.reshape(-1)
        step = dense.shape[1] + 1
        flat[::step] += diag
    else:
        idx = xp.arange(diag.shape[0])
        dense[idx, idx] += diag
    return dense


def jacobian_written(prog: list[Instr]) -> list[Instr]:
    """``prog`` with its Jacobian allocated uninitialised (``zeros`` marked ``empty``) when
    its ``place`` steps write every entry (boxes that tile the whole ``m × n``; a box is
    written once), as a sum of box areas equal to ``m·n`` shows; else unchanged.

    Examples
    --------
    >>> z = Instr("zeros", 0, info={"shape": (2, 3)}, alloc=6)
    >>> p = Instr("place", 0, ((1, 0),), info={"box": (0, 2, 0, 3), "layout": "formed"})
    >>> jacobian_written([z, p])[0].info["empty"], "empty" in jacobian_written([z])[0].info
    (True, False)

    Notes
    -----
    O(len(prog)).
    """
    zeros = [k for k, ins in enumerate(prog) if ins.op == "zeros" and ins.out == 0]
    if len(zeros) != 1:
        return prog
    m, n = prog[zeros[0]].info["shape"]
    boxes = {ins.info["box"] for ins in prog if ins.op == "place"}
    if sum((r1 - r0) * (c1 - c0) for r0, r1, c0, c1 in boxes) != m * n:
        return prog
    z = prog[zeros[0]]
    out = list(prog)
    out[zeros[0]] = replace(z, info={**z.info, "empty": True})
    return out


def array_module(graph):
    """The array namespace of the graph's values: ``cupy`` for CuPy arrays, else NumPy.

    Examples
    --------
    >>> from chainorder.graph import trace
    >>> array_module(trace(lambda x: x * 2.0, np.ones(2))).__name__
    'numpy'

    Notes
    -----
    O(1); CuPy is imported only when a value is a CuPy array.
    """
    return namespace_of_array(graph.value(graph.inputs[0]) if graph.inputs else None)


def execute(graph, instrs: Sequence[Instr], n_slots: int, result: int) -> tuple[np.ndarray, int]:
    """Run ``instrs`` on ``graph``'s values; return the result slot and the mults counted.

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.graph import trace
    >>> g = trace(lambda x: 2.0 * x, np.ones(2))
    >>> prog = [Instr("seed", 0, info={"k": 2, "size": 2, "offset": 0, "shape": (2,)})]
    >>> execute(g, prog, 1, 0)[0]
    array([[1., 0.],
           [0., 1.]])

    Notes
    -----
    One pass over the list; slots are dropped right after their last use.
    """
    xp = array_module(graph)
    slots: list = [None] * n_slots
    mults = 0
    for ins in instrs:
        value, m = _run_one(graph, ins, slots, xp)
        slots[ins.out] = value
        del value
        mults += m
        for s in ins.free:
            slots[s] = None
    return slots[result], mults

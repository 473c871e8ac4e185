"""A matrix product's rule applied and added into a sum in one BLAS call (``C += A·B``).

An elimination program adds a product into an edge it already holds: the rule of a
contraction (``matmul``, ``dot``, two-operand ``einsum``) applied to the columns (tangents)
or rows (adjoints) of a formed block, then ``add`` into the held sum. NumPy's ``matmul`` has
no accumulating form, so that is one block written by the product and one more pass that
reads it back (attention's forward elimination: 524,288 scalars, 0.35 ms). BLAS's GEMM adds
into its output (``beta = 1``); SciPy exposes it (:func:`scipy.linalg.blas.dgemm`), and
where SciPy is importable :func:`gemm_added` fuses such pairs into one ``gemm_add``: the
same mults (GEMM's ``beta = 1`` adds, it does not multiply), no block of its own.

``gemm_add`` runs the GEMM on views when the blocks have the layout the compiler expects
(seeds last for tangents, seeds first for adjoints, both C-contiguous). Otherwise it applies
the rule to chunks of at most :data:`FALLBACK_SCALARS` scalars of result and adds each
(slower, same numbers and mults, within the predicted memory).

The environment variable ``CHAINORDER_GEMM_ADD=0`` turns the fusion off for programs
compiled after it is set (:func:`gemm_add_available`), to measure what runs without SciPy
in an environment that has it.
"""

from __future__ import annotations

import os

import numpy as np

from chainorder.graph.ops import get_rule
from chainorder.graph.ops.linalg import matrix_product_letters

__all__ = ["FALLBACK_SCALARS", "GEMM_ADD_ENV", "gemm_add", "gemm_add_available", "gemm_case"]

#: Scalars of rule result per chunk where ``gemm_add`` cannot run its GEMM on views.
FALLBACK_SCALARS = 4096


#: Environment variable: ``"0"`` turns the fused GEMM off (see :func:`gemm_add_available`).
GEMM_ADD_ENV = "CHAINORDER_GEMM_ADD"


def gemm_add_available() -> bool:
    """Whether programs compiled now fuse a product added into a held sum into one GEMM.

    True where SciPy's BLAS imports and :data:`GEMM_ADD_ENV` is not ``"0"``.

    Examples
    --------
    >>> import os
    >>> os.environ[GEMM_ADD_ENV] = "0"
    >>> gemm_add_available()
    False
    >>> del os.environ[GEMM_ADD_ENV]

    Notes
    -----
    O(1) after SciPy's first import.
    """
    return _dgemm() is not None


def _dgemm():
    if os.environ.get(GEMM_ADD_ENV, "1").strip() == "0":
        return None
    try:
        from scipy.linalg.blas import dgemm
    except ImportError:  # SciPy is optional: no fusion without it
        return None
    return dgemm


def gemm_case(graph, node: str, argnum: int, way: str) -> dict | None:
    """How ``node``'s ``way`` rule for ``argnum`` is one GEMM (or one per row of the block)
    on a seeds-last tangent block / seeds-first adjoint block, or ``None``.

    Returns ``{"case": "jvp_y" | "jvp_x" | "vjp_x", "fixed": argument index of the other
    operand, "transpose": whether it enters transposed, "dims": (x, s, y) extents}``.

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.graph import trace
    >>> W = np.ones((3, 4))
    >>> g = trace(lambda X: X @ W, np.ones((2, 3)))
    >>> gemm_case(g, "v1", 0, "vjp")["case"], gemm_case(g, "v1", 0, "jvp")["case"]
    ('vjp_x', 'jvp_x')

    Notes
    -----
    O(1).
    """
    d = graph.nx.nodes[node]
    if d["op"] not in ("matmul", "dot", "einsum") or "spec" not in d["params"]:
        return None
    spec = d["params"]["spec"]
    if len(spec) != 3 or len(d["args"]) != 2:
        return None
    mine, other, so = spec[argnum], spec[1 - argnum], spec[2]
    sblk, sfix, sout = (mine, other, so) if way == "jvp" else (so, other, mine)
    letters = matrix_product_letters(sblk, sfix, sout)
    if letters is None:
        return None
    s, x, y = letters
    shapes = [tuple(graph.shape(a)) for a in d["args"]]
    if [len(sub) for sub in spec[:2]] != [len(sh) for sh in shapes]:
        return None
    ext = {c: int(n) for sub, sh in zip(spec[:2], shapes, strict=True)
           for c, n in zip(sub, sh, strict=True)}  # fmt: skip
    dims = (ext[x], ext[s], ext[y])
    if way == "jvp" and sblk == s + y:  # out[x, (y r)] += L[x, s] · blk[s, (y r)]
        case, want = "jvp_y", x + s
    elif way == "jvp" and sblk == x + s:  # out[x][y, r] += R[y, s] · blk[x][s, r]
        case, want = "jvp_x", y + s
    elif way == "vjp" and sblk == x + s:  # out[(r x), y] += blk[(r x), s] · R[s, y]
        case, want = "vjp_x", s + y
    else:
        return None
    return {"case": case, "fixed": 1 - argnum, "transpose": sfix != want, "dims": dims}


def _fast(dgemm, case: str, fixed, src, dest, dims) -> bool:
    """``dest += product`` by GEMM on views; ``False`` (nothing written) if the layouts
    are not the expected ones."""
    x, s, y = dims
    f64 = np.dtype(np.float64)
    if not (src.flags.c_contiguous and dest.flags.c_contiguous and src.dtype == f64
            and dest.dtype == f64 and type(src) is np.ndarray):  # fmt: skip
        return False
    f = np.ascontiguousarray(fixed, dtype=f64)  # the small constant operand (x·s or s·y)
    if case == "jvp_y":  # src (s y, r), dest (x y, r): C (x, y r) += L (x, s) · B (s, y r)
        _acc(dgemm, src.reshape(s, -1).T, f.T, dest.reshape(x, -1).T)
    elif case == "jvp_x":  # per x: dest[x] (y, r) += R (y, s) · src[x] (s, r)
        r = src.shape[1]
        blk, out = src.reshape(x, s, r), dest.reshape(x, y, r)
        for i in range(x):
            _acc(dgemm, blk[i].T, f.T, out[i].T)
    else:  # src (r, x s), dest (r, x y): C (r x, y) += B (r x, s) · R (s, y)
        _acc(dgemm, f.T, src.reshape(-1, s).T, dest.reshape(-1, y).T)
    return True


def _acc(dgemm, a, b, c) -> None:
    """``c += a @ b`` (Fortran-ordered views) in place; copied back should BLAS's wrapper
    have worked on a copy of ``c``."""
    res = dgemm(1.0, a, b, 1.0, c, overwrite_c=1)
    if not np.may_share_memory(res, c):  # pragma: no cover - F-contiguous c is written
        c[...] = res


def gemm_add(graph, ins, slots: list, xp=np) -> tuple:
    """Run a ``gemm_add`` instruction: the rule's result added into ``info["into"]``."""
    from chainorder.graph.instr import _as_adjoints, _as_tangents, _rule_sum

    info = ins.info
    ((slot, argnum),) = ins.terms
    src, dest = slots[slot], slots[info["into"]]
    way, g = info["way"], info["gemm"]
    d = graph.nx.nodes[ins.node]
    per_row = ins.static.get("gemm_price")
    if per_row is None:
        rule = get_rule(d["op"])
        shapes = tuple(graph.shape(a) for a in d["args"])
        price = rule.jvp_cost if way == "jvp" else rule.vjp_cost
        per_row = ins.static["gemm_price"] = price(argnum, shapes, graph.shape(ins.node),
                                                   d["params"])  # fmt: skip
    rows = src.shape[1] if way == "jvp" else src.shape[0]
    dgemm = _dgemm() if xp is np else None
    fixed = graph.value(d["args"][g["fixed"]])
    if g["transpose"]:
        fixed = fixed.T
    if dgemm is not None and _fast(dgemm, g["case"], fixed, src, dest, g["dims"]):
        return dest, rows * per_row
    shape_j = info["shape_j"]
    size = dest.shape[0] if way == "jvp" else dest.shape[1]
    step = max(1, FALLBACK_SCALARS // max(size, 1))
    mults = 0
    for c0 in range(0, rows, step):
        part = src[:, c0 : c0 + step] if way == "jvp" else src[c0 : c0 + step]
        if way == "jvp":
            res, m = _rule_sum(graph, ins, {slot: part}, lambda a: _as_tangents(a, shape_j, xp),
                               "jvp", xp)  # fmt: skip
            view = dest[:, c0 : c0 + step]
            view += xp.asarray(res).reshape(res.shape[0], -1).T
        else:
            res, m = _rule_sum(graph, ins, {slot: part}, lambda a: _as_adjoints(a, shape_j, xp),
                               "vjp", xp)  # fmt: skip
            view = dest[c0 : c0 + step]
            view += xp.asarray(res).reshape(res.shape[0], -1)
        mults += m
        del res
    return dest, mults

"""Rewrites of a finished elimination program that drop passes over its blocks which the
price does not count (no mult changes; the memory model follows the rewritten program).

* :func:`forms_transposed` — a Kronecker partial formed only to be transposed (attention's
  ``k.T`` in forward order: form ``∂k/∂x``, then the transpose's tangent rule copies the
  permuted block into columns) is formed straight into the transposed layout
  (:func:`~chainorder.graph.blocks.form_transposed`): one block written, not two.
* :func:`gemm_added` — a matrix product's rule application whose result is only added into
  a held sum becomes one GEMM accumulating into the sum (:mod:`~chainorder.graph.gemmadd`).
* :func:`jacobian_taken` — where one formed block is the whole Jacobian, is a new array of
  the program's own and is C-contiguous at run time, ``run`` returns it instead of copying
  it into a new ``m × n`` array (a 512 × 512 copy: 0.16 ms).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from chainorder.graph.gemmadd import _dgemm, gemm_case
from chainorder.graph.instr import Instr, _profile, array_module

__all__ = ["forms_transposed", "gemm_added", "jacobian_taken"]


def _readers(prog: list[Instr]) -> dict[int, list[int]]:
    seen: dict[int, list[int]] = {}
    for k, ins in enumerate(prog):
        for s, _ in ins.terms:
            seen.setdefault(s, []).append(k)
        if ins.op == "apply_add":
            seen.setdefault(ins.info["into"], []).append(k)
    return seen


def _kron_former(graph, ins: Instr) -> bool:
    """Whether ``ins`` forms a matrix product's partial by the Kronecker former."""
    if ins.op != "form" or ins.info.get("way") != "hook" or ins.alloc <= 0:
        return False
    d = graph.nx.nodes[ins.info["v"]]
    shapes = [len(graph.shape(a)) for a in d["args"]]
    return d["op"] in ("matmul", "dot") and shapes == [2, 2]


def forms_transposed(graph, prog: list[Instr]) -> list[Instr]:
    """``prog`` with each Kronecker former read only by a transpose's tangent rule that
    copies its result into columns replaced by one ``form_t`` (the former writing the
    transposed columns): same result, no mults either way, one block fewer.

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.graph import linearize, trace
    >>> from chainorder.graph.elimprog import elimination_program
    >>> A = np.ones((3, 2))
    >>> lin = linearize(trace(lambda x: np.tanh((x @ A).T), np.ones((4, 3))))
    >>> prog, _, _ = elimination_program(lin, ("v1", "v2"))
    >>> [i.op for i in prog][:2]
    ['form_t', 'form']

    Notes
    -----
    O(len(prog)).
    """
    readers = _readers(prog)
    drop: set[int] = set()
    out = list(prog)
    for k, ins in enumerate(prog):
        s = ins.out
        if not _kron_former(graph, ins) or len(readers.get(s, [])) != 1:
            continue
        (at,) = readers[s]
        app = prog[at]
        if (app.op != "apply_jvp" or app.terms != ((s, 0),) or app.alias >= 0
                or s not in app.free or app.info.get("keep_nd") or app.info["both_diag"]
                or app.info["copy"] or graph.nx.nodes[app.node]["op"] != "transpose"):  # fmt: skip
            continue
        shape_v = tuple(graph.shape(ins.info["v"]))
        axes = graph.nx.nodes[app.node]["params"].get("axes")
        axes = tuple(reversed(range(len(shape_v)))) if axes is None else tuple(axes)
        info = {"u": ins.info["u"], "v": ins.info["v"], "axes": axes,
                "shape_u": tuple(graph.shape(ins.info["u"])), "shape_v": shape_v,
                "shape_k": tuple(graph.shape(app.node))}  # fmt: skip
        out[at] = Instr("form_t", app.out, (), None, info, alloc=app.alloc,
                        free=tuple(f for f in app.free if f != s))  # fmt: skip
        drop.add(k)
    return [ins for k, ins in enumerate(out) if k not in drop]


def jacobian_taken(prog: list[Instr], owned: set[int]) -> list[Instr]:
    """``prog`` with its one ``place`` of a dense block that is the whole Jacobian marked
    ``take`` (the block is returned when C-contiguous, else copied into a new array), where
    the block is a new array of the program's own (``owned``) and either a fresh matrix
    product (C-contiguous: the Jacobian *is* the block, no allocation, and the model says
    so) or the program's peak is reached before the Jacobian is allocated (the prediction,
    a new ``m × n`` array, is then the peak whichever way ``run`` goes, and taking only
    frees memory after it).

    Examples
    --------
    >>> z = Instr("zeros", 0, info={"shape": (2, 3), "empty": True}, alloc=6)
    >>> p = Instr("place", 0, ((5, 0),), info={"box": (0, 2, 0, 3), "layout": "formed",
    ...           "diag": False}, free=(5,), alias=0)
    >>> mk = Instr("mm", 5, alloc=6, temp=8)  # a matrix product: the Jacobian is its block
    >>> [i.op for i in jacobian_taken([mk, z, p], {5})], jacobian_taken([mk, z, p], {5})[1].alloc
    (['mm', 'place'], 0)
    >>> dm = Instr("mm", 5, info={"diag_a": True}, alloc=6, temp=8)  # may be F-ordered: a copy
    >>> jacobian_taken([dm, z, p], {5})[1].alloc
    6

    Notes
    -----
    O(len(prog)).
    """
    zeros = [k for k, ins in enumerate(prog) if ins.op == "zeros" and ins.out == 0]
    places = [k for k, ins in enumerate(prog) if ins.op == "place"]
    if len(zeros) != 1 or len(places) != 1 or places[0] != len(prog) - 1:
        return prog
    z, p = prog[zeros[0]], prog[places[0]]
    m, n = z.info["shape"]
    src = p.terms[0][0]
    if (p.info["box"] != (0, m, 0, n) or p.info["diag"] or src not in owned
            or zeros[0] != len(prog) - 2):  # fmt: skip
        return prog
    made = [ins for ins in prog[:-2] if ins.out == src]
    if (
        made
        and made[-1].op == "mm"
        and made[-1].alias < 0
        and not (made[-1].info.get("diag_a") or made[-1].info.get("diag_b"))
    ):  # a fresh matrix product is C-contiguous: always returned as it is, never copied
        info = {**p.info, "take": True, "shape": (m, n)}
        return [*prog[:-2], replace(p, info=info, alloc=0, alias=src)]
    during = [d for d, _ in _profile(prog)]
    if max(during[:-2], default=0) < max(during[-2:]):
        return prog  # the Jacobian's allocation is the peak: taking would change it
    place = replace(p, info={**p.info, "take": True, "shape": (m, n)}, alloc=m * n, alias=-1)
    return [*prog[:-2], place]


def gemm_added(graph, prog: list[Instr]) -> list[Instr]:
    """``prog`` with each contraction rule application (:func:`gemm_case`) read only by the
    next instruction, an ``add`` into a dense sum of the program's own, replaced with one
    ``gemm_add`` accumulating into that sum: the same mults, no block for the product.
    Unchanged where SciPy's BLAS is not importable, ``CHAINORDER_GEMM_ADD=0`` is set, or the
    values are not NumPy arrays.

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.graph import linearize, trace
    >>> from chainorder.graph.elimprog import elimination_program
    >>> from chainorder.graph.instr import execute
    >>> A = np.arange(9.0).reshape(3, 3)
    >>> lin = linearize(trace(lambda x: (x @ A) @ (x @ A).T, np.ones((2, 3))))
    >>> prog, n_slots, _ = elimination_program(lin, ("v1", "v2", "v3"))
    >>> [i.op for i in prog]
    ['form', 'apply_jvp', 'form_t', 'gemm_add', 'place']
    >>> J = execute(lin.graph, prog, n_slots, 0)[0]
    >>> fd = np.array([((lambda x: (x @ A) @ (x @ A).T)(np.ones((2, 3)) + 1e-6 * e.reshape(2, 3))
    ...                 - (lambda x: (x @ A) @ (x @ A).T)(np.ones((2, 3)))).ravel() / 1e-6
    ...                for e in np.eye(6)]).T
    >>> bool(np.allclose(J, fd, atol=1e-3))
    True

    Notes
    -----
    O(len(prog)).
    """
    if _dgemm() is None or array_module(graph) is not np:
        return prog
    readers = _readers(prog)
    # rule results that are views of their factor (a transpose kept in its block shape)
    views = {i.out for i in prog if i.op in ("apply_jvp", "apply_vjp") and i.alias >= 0}
    out: list[Instr] = []
    k = 0
    while k < len(prog):
        app = prog[k]
        nxt = prog[k + 1] if k + 1 < len(prog) else None
        case = _fusable(graph, app, nxt, readers)
        if case is not None and app.terms[0][0] in views:
            case = None  # not a GEMM's layout: the rule and the add, as before
        if case is None:
            out.append(app)
            k += 1
            continue
        old = nxt.info["into"]
        x, s, y = case["dims"]
        out.append(Instr(
            "gemm_add", nxt.out, app.terms, app.node,
            {**app.info, "into": old, "way": app.op[6:], "gemm": case},
            alloc=0, temp=s * (y if case["case"] != "jvp_y" else x), alias=old,
            free=(*app.free, *(f for f in nxt.free if f != app.out)), mults=app.mults,
        ))  # fmt: skip
        k += 2
    return out


def _fusable(graph, app: Instr, nxt: Instr | None, readers) -> dict | None:
    if (nxt is None or app.op not in ("apply_jvp", "apply_vjp") or app.node is None
            or len(app.terms) != 1 or app.alias >= 0 or app.info["copy"]
            or app.info["both_diag"] or app.info.get("keep_nd") or app.info.get("view_rule")
            or nxt.op != "add" or nxt.info["diag_x"] or nxt.info["diag_y"]):  # fmt: skip
        return None
    (old, _), (prod, _) = nxt.terms
    if prod != app.out or nxt.info["into"] != old or old == prod or nxt.alias != old:
        return None
    if readers.get(prod) != [readers[prod][0]] or app.out not in nxt.free:
        return None
    return gemm_case(graph, app.node, app.terms[0][1], app.op[6:])

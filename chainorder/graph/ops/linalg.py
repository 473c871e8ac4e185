"""Rules of the contractions (two-operand einsum, matmul, dot) and of ``np.linalg.solve``
and ``np.linalg.inv``."""

from __future__ import annotations

import math
import string
from collections.abc import Callable
from typing import Any

import numpy as np

from chainorder.graph.ops.registry import Array, OpRule, Shape, register, size_of
from chainorder.graph.structure import EdgeStructure

__all__ = ["batched_contract", "einsum_spec", "matmul_spec", "matrix_product_letters"]


# ----------------------------------------------------------------------------------------
# two-operand einsum, and matmul / dot written as einsum


def einsum_spec(subscripts: str, shape_a: Shape, shape_b: Shape) -> tuple[str, str, str]:
    """Split and check a two-operand einsum ``subscripts`` into ``(sa, sb, so)``.

    Raises ``ValueError`` for forms chainorder does not differentiate: ellipses, repeated
    indices within one operand, or indices of the output that no operand has.

    Examples
    --------
    >>> einsum_spec("ij,jk->ik", (2, 3), (3, 4))
    ('ij', 'jk', 'ik')
    >>> einsum_spec("ij,j", (2, 3), (3,))
    ('ij', 'j', 'i')
    """
    s = subscripts.replace(" ", "")
    if "." in s:
        raise ValueError("einsum with '...' is not supported")
    if "->" in s:
        ins, so = s.split("->")
    else:
        ins = s
        letters = ins.replace(",", "")
        so = "".join(sorted(ch for ch in set(letters) if letters.count(ch) == 1))
    parts = ins.split(",")
    if len(parts) != 2:
        raise ValueError("only two-operand einsum is supported")
    sa, sb = parts
    for sub, shape in ((sa, shape_a), (sb, shape_b)):
        if len(sub) != len(shape):
            raise ValueError(f"einsum operand {sub!r} does not match shape {shape}")
        if len(set(sub)) != len(sub):
            raise ValueError(
                f"einsum with a repeated index in {sub!r} (a diagonal) is not supported"
            )
    if len(set(so)) != len(so) or not set(so) <= set(sa) | set(sb):
        raise ValueError(f"bad einsum output {so!r}")
    return sa, sb, so


def matrix_product_letters(sa: str, sb: str, sout: str) -> tuple[str, str, str] | None:
    """``(s, x, y)`` when ``sa, sb -> sout`` is a product of two matrices summed over one
    shared letter ``s`` into ``sout = x y``; else ``None``.

    Examples
    --------
    >>> matrix_product_letters("ij", "jk", "ik"), matrix_product_letters("ij", "kj", "ki")
    (('j', 'i', 'k'), ('j', 'k', 'i'))
    >>> matrix_product_letters("ij", "jk", "ijk") is None  # nothing summed: not a product
    True

    Notes
    -----
    O(1).
    """
    if len(sa) != 2 or len(sb) != 2 or len(sout) != 2 or len(set(sa + sb)) != 3:
        return None
    shared = set(sa) & set(sb)
    if len(shared) != 1 or set(sout) != set(sa + sb) - shared:
        return None
    (s,) = shared
    return s, sout[0], sout[1]


def _extents(sa: str, sb: str, shapes: tuple) -> dict[str, int]:
    ext: dict[str, int] = {}
    for sub, shape in ((sa, shapes[0]), (sb, shapes[1])):
        for ch, n in zip(sub, shape, strict=True):
            ext[ch] = int(n)
    return ext


def _as_matmul(block: Array, sblk: str, fixed: Array, sfix: str, sout: str) -> Array | None:
    """The contraction as one stacked ``np.matmul`` writing ``(k, *sout)`` contiguously,
    when block and fixed are matrices sharing one summed index (else ``None``).

    ``tensordot`` would first copy a block whose summed index is not its last axis into
    that order and leave its result transposed (a copy again when the caller flattens it);
    the stacked product reads the block in place and runs one BLAS GEMM per seed, with the
    same mults.
    """
    letters = matrix_product_letters(sblk, sfix, sout)
    if letters is None or type(block) is not np.ndarray:
        return None
    s, x, y = letters
    if block.shape[0] > 1 and not block.flags.c_contiguous:
        last = block.transpose(1, 2, 0)  # seeds on the last axis: a transposed formed factor
        if last.flags.c_contiguous:
            return _matmul_seeds_last(last, sblk, fixed, sfix, x, y, s).transpose(2, 0, 1)
    if x in sblk:  # out[x, y] = block[x, s] · fixed[s, y]
        left = block if sblk == x + s else block.transpose(0, 2, 1)
        right = fixed if sfix == s + y else fixed.T
        return np.matmul(left, right)
    left = fixed if sfix == x + s else fixed.T  # out[x, y] = fixed[x, s] · block[s, y]
    right = block if sblk == s + y else block.transpose(0, 2, 1)
    return np.matmul(left, right)


def _matmul_seeds_last(last: Array, sblk: str, fixed: Array, sfix: str, x: str, y: str,
                       s: str) -> Array:
    """``out[x, y, r] = Σ_s`` of the block ``last`` (seed axis ``r`` last, C-contiguous) and
    ``fixed``, C-contiguous: one GEMM when the block holds ``y`` (after ``s``), else one
    per row of the block."""
    if y in sblk:  # out[x, y, r] = fixed[x, s] · last[s, y, r]
        left = fixed if sfix == x + s else fixed.T
        if sblk == s + y:
            n_s, n_y, n_r = last.shape
            return (left @ last.reshape(n_s, n_y * n_r)).reshape(left.shape[0], n_y, n_r)
        return np.tensordot(left, last, axes=([1], [1]))
    right = fixed if sfix == y + s else fixed.T  # out[x, y, r] = fixed[y, s] · last[x, s, r]
    rows = last if sblk == x + s else last.transpose(1, 0, 2)
    return np.matmul(right, rows)


def batched_contract(block: Array, sblk: str, fixed: Array, sfix: str, sout: str) -> Array:
    """``einsum("...{sblk},{sfix}->...{sout}", block, fixed)`` for a block of seeds (leading
    axis ``k``), by one BLAS ``tensordot`` where no index is kept on both operands (else
    ``einsum`` with an optimised path).

    Examples
    --------
    >>> t, b = np.ones((5, 2, 3)), np.arange(12.0).reshape(3, 4)
    >>> np.array_equal(batched_contract(t, "ij", b, "jk", "ik"), np.einsum("...ij,jk->...ik", t, b))
    True
    >>> batched_contract(t, "ij", b, "jk", "ki").shape
    (5, 4, 2)

    Notes
    -----
    As the contraction's mults; the sums of indices on one operand only are done first.
    """
    if any(ch in sfix and ch in sout for ch in sblk):  # a batch index of both (bmm)
        return np.einsum(f"...{sblk},{sfix}->...{sout}", block, fixed, optimize=True)
    mm = _as_matmul(block, sblk, fixed, sfix, sout)
    if mm is not None:
        return mm
    only_b = tuple(p + 1 for p, ch in enumerate(sblk) if ch not in sfix and ch not in sout)
    if only_b:
        block = block.sum(axis=only_b)
        sblk = "".join(ch for ch in sblk if ch in sfix or ch in sout)
    only_f = tuple(p for p, ch in enumerate(sfix) if ch not in sblk and ch not in sout)
    if only_f:
        fixed = fixed.sum(axis=only_f)
        sfix = "".join(ch for ch in sfix if ch in sblk or ch in sout)
    summed = [ch for ch in sblk if ch in sfix]
    axes = ([1 + sblk.index(ch) for ch in summed], [sfix.index(ch) for ch in summed])
    res = np.tensordot(block, fixed, axes=axes)
    have = [ch for ch in sblk if ch not in summed] + [ch for ch in sfix if ch not in summed]
    perm = [0, *(1 + have.index(ch) for ch in sout)]
    return res if perm == list(range(len(perm))) else res.transpose(perm)


def _contract_jvp(i, t, values, out, params):
    sa, sb, so = params["spec"]
    if i == 0:
        return batched_contract(t, sa, values[1], sb, so)
    return batched_contract(t, sb, values[0], sa, so)


def _contract_vjp(i, c, values, out, params):
    sa, sb, so = params["spec"]
    mine, other = (sa, sb) if i == 0 else (sb, sa)
    kept = "".join(ch for ch in mine if ch in so or ch in other)
    g = batched_contract(c, so, values[1 - i], other, kept)
    shape = np.shape(values[i])
    missing = [pos for pos, ch in enumerate(mine) if ch not in kept]
    if missing:
        g = np.expand_dims(g, tuple(p + 1 for p in missing))
        g = np.broadcast_to(g, (c.shape[0], *shape))
    return g


def _contract_structure(i, shapes, out_shape, params):
    sa, sb, so = params["spec"]
    ext = _extents(sa, sb, shapes)
    mine = sa if i == 0 else sb
    nnz = math.prod(ext[ch] for ch in set(so) | set(mine))
    return EdgeStructure.sparse("kronecker", size_of(out_shape), size_of(shapes[i]), nnz)


def _contract_cost(i, shapes, out_shape, params):
    sa, sb, _ = params["spec"]
    ext = _extents(sa, sb, shapes)
    return math.prod(ext.values())


def _contraction(name: str, forward: Callable[..., Any], doc: str) -> OpRule:
    return register(
        OpRule(
            name,
            forward,
            _contract_jvp,
            _contract_vjp,
            _contract_structure,
            _contract_cost,
            _contract_cost,
            doc,
            partial="kronecker (each operand's partial: the other operand ⊗ identity)",
        )
    )


_contraction("matmul", lambda a, b, spec=None: np.matmul(a, b), "a @ b, batch dimensions broadcast")
_contraction("dot", lambda a, b, spec=None: np.dot(a, b), "np.dot(a, b) for 1-D/2-D operands")
_contraction(
    "einsum",
    lambda a, b, spec=None: np.einsum(f"{spec[0]},{spec[1]}->{spec[2]}", a, b),
    "np.einsum, any number of operands: one op per pairwise contraction, "
    "in np.einsum_path's greedy order; ellipses allowed",
)


#: Letters of matmul's batch axes: never i, j, k (the matrix axes and the contracted one).
_BATCH_LETTERS = "nopqrstuvwxyzabcdefghlm" + string.ascii_uppercase


def matmul_spec(shape_a: Shape, shape_b: Shape) -> tuple[str, str, str]:
    """Einsum subscripts of ``a @ b``, batch dimensions broadcast as NumPy does.

    ``ValueError`` for 0-d operands, incompatible batch shapes, or a batch dimension of
    size 1 that broadcasts against a larger one (the caller broadcasts that operand first).

    Examples
    --------
    >>> matmul_spec((2, 3), (3,))
    ('ij', 'j', 'i')
    >>> matmul_spec((2, 5, 4), (4, 3))
    ('nij', 'jk', 'nik')
    >>> matmul_spec((2, 3, 4), (2, 4, 5))  # batch letters never collide with i, j, k
    ('nij', 'njk', 'nik')
    """
    na, nb = len(shape_a), len(shape_b)
    if na == 0 or nb == 0:
        raise ValueError("matmul of a 0-d operand")
    ba, bb = tuple(shape_a[:-2]), tuple(shape_b[:-2])
    batch = np.broadcast_shapes(ba, bb)
    for b in (ba, bb):
        if b != batch[len(batch) - len(b) :]:
            raise ValueError(f"matmul batch {b} broadcasts against {batch}")
    if len(batch) > len(_BATCH_LETTERS):
        n = len(_BATCH_LETTERS)
        raise ValueError(f"matmul with {len(batch)} batch dimensions (at most {n})")
    letters = _BATCH_LETTERS[: len(batch)]
    la, lb = letters[len(batch) - len(ba) :], letters[len(batch) - len(bb) :]
    sa = la + ("ij" if na >= 2 else "j")
    sb = lb + ("jk" if nb >= 2 else "j")
    so = letters + ("i" if na >= 2 else "") + ("k" if nb >= 2 else "")
    return sa, sb, so


# ----------------------------------------------------------------------------------------
# linear algebra: solve and inv


def _solve_batch(a: Array, r: Array) -> Array:
    """Solve ``a @ x = r[j]`` for every batch entry ``j`` of ``r`` (``(k, n, ...)``)."""
    k, n, rest = r.shape[0], r.shape[1], r.shape[2:]
    cols = np.moveaxis(r, 1, 0).reshape(n, -1)
    x = np.linalg.solve(a, cols)
    return np.moveaxis(x.reshape((n, k, *rest)), 0, 1)


def _stacked_solve(a, b):
    """``solve(a, b)`` with ``a``'s stack broadcast against ``b``'s leading (seed) axes:
    NumPy broadcasts; CuPy wants equal stacks, so ``a`` is broadcast (a view) first."""
    if type(a) is not np.ndarray and a.shape[:-2] != b.shape[:-2]:
        a = np.broadcast_to(a, (*b.shape[:-2], *a.shape[-2:]))
    return np.linalg.solve(a, b)


def _solve_jvp(i, t, values, out, params):
    a = values[0]
    if a.ndim > 2:  # a stack of systems with matrix right-hand sides (same batch)
        return _stacked_solve(a, t if i == 1 else t @ out) * (1 if i == 1 else -1)
    if i == 1:
        return _solve_batch(a, t)
    return -_solve_batch(a, t @ out)


def _solve_vjp(i, c, values, out, params):
    a = values[0]
    if a.ndim > 2:
        gb = _stacked_solve(np.swapaxes(a, -1, -2), c)
        return gb if i == 1 else -(gb @ np.swapaxes(out, -1, -2))
    gb = _solve_batch(a.T, c)
    if i == 1:
        return gb
    if out.ndim == 1:
        return -gb[:, :, None] * out[None, None, :]
    return -np.einsum("kim,jm->kij", gb, out)


def _solve_dims(shapes: tuple) -> tuple[int, int, int]:
    """``(n, m, batch)``: order, right-hand sides and number of stacked systems."""
    n = int(shapes[0][-1])
    m = 1 if len(shapes[1]) == 1 else int(shapes[1][-1])
    return n, m, size_of(shapes[0][:-2])


def _solve_structure(i, shapes, out_shape, params):
    n, m, batch = _solve_dims(shapes)
    if i == 0:
        return EdgeStructure.sparse("sparse", batch * n * m, batch * n * n, batch * n**3 * m)
    return EdgeStructure.sparse("kronecker", batch * n * m, batch * n * m, batch * n * n * m)


def _solve_cost(direction: str):
    def cost(i, shapes, out_shape, params):
        n, m, batch = _solve_dims(shapes)
        # triangular solves with the LU factors of the primal pass: n²·m; dA @ x: n²·m
        return batch * n * n * m * (2 if i == 0 else 1)

    return cost


register(
    OpRule(
        "solve",
        lambda a, b: np.linalg.solve(a, b),
        _solve_jvp,
        _solve_vjp,
        _solve_structure,
        _solve_cost("jvp"),
        _solve_cost("vjp"),
        "np.linalg.solve(a, b), a: n×n, b: n or n×m; or stacks a: …×n×n, b: …×n×m",
        spelling="np.linalg.solve",
        partial="dense for a, kronecker (A⁻¹ ⊗ I) for b",
    )
)


def _inv_cost(i, shapes, out_shape, params):
    n = int(shapes[0][-1])
    return 2 * n**3 * size_of(shapes[0][:-2])


def _inv_structure(i, shapes, out_shape, params):
    n, size = int(shapes[0][-1]), size_of(shapes[0])
    return EdgeStructure.sparse("sparse", size, size, size * n * n)


register(
    OpRule(
        "inv",
        lambda a: np.linalg.inv(a),
        lambda i, t, v, out, p: -(out @ t @ out),
        lambda i, c, v, out, p: -(np.swapaxes(out, -1, -2) @ c @ np.swapaxes(out, -1, -2)),
        _inv_structure,
        _inv_cost,
        _inv_cost,
        "np.linalg.inv(a), a: n×n or a stack of them",
        spelling="np.linalg.inv",
        partial="dense (block-diagonal for a stack)",
    )
)

"""Rules of the non-linear reductions and scans: ``max``/``min`` (also ``amax``/``amin``),
``prod``, ``var``, ``std``, ``cumsum``, ``cumprod`` and ``trace``.

Conventions: the partial of ``max``/``min`` splits the derivative equally among tied
extrema (as JAX does); ``prod`` and ``cumprod`` use products of the *other* factors, so
they are exact at zeros (no division by the input).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainorder.graph.ops.elementwise import _axes
from chainorder.graph.ops.registry import (
    Array,
    OpRule,
    as_array,
    eye_like,
    ones_like_shape,
    register,
    size_of,
)
from chainorder.graph.structure import EdgeStructure

__all__: list[str] = []


def _kept_shape(shape: tuple, axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if a in axes else n for a, n in enumerate(shape))


def _reduce_rule(name: str, forward, weights, doc: str, spelling: str = "") -> OpRule:
    """A reduction ``out = f(x over axes)`` whose partial is the dense per-group weights
    ``w = ∂out/∂x`` (same shape as ``x``): JVP ``Σ w·t``, VJP ``w·c``."""

    def w_of(values: tuple, out: Array, params: dict) -> tuple[Array, tuple[int, ...]]:
        x = as_array(values[0], dtype=float)
        axes = _axes(params.get("axis"), x.ndim)
        return weights(x, np.reshape(out, _kept_shape(x.shape, axes)), axes, params), axes

    def jvp(i, t, values, out, params):
        w, axes = w_of(values, out, params)
        red = tuple(a + 1 for a in axes)
        if type(t) is np.ndarray and type(w) is np.ndarray and t.ndim <= 26:
            letters = "abcdefghijklmnopqrstuvwxyz"[: t.ndim]  # Σ w·t in one pass
            kept = "".join(ch for n, ch in enumerate(letters) if n not in red)
            r = np.einsum(f"{letters},{letters[1:]}->{kept}", t, w)
        else:
            r = (t * w).sum(axis=red)
        return r.reshape((t.shape[0], *np.shape(out)))

    def vjp(i, c, values, out, params):
        w, axes = w_of(values, out, params)
        shape = np.shape(values[0])
        g = c.reshape((c.shape[0], *_kept_shape(shape, axes)))
        return _times(g, w)

    def structure(i, shapes, out_shape, params):
        n_in = size_of(shapes[0])
        return EdgeStructure.sparse("reduction", size_of(out_shape), n_in, n_in)

    def cost(i, shapes, out_shape, params):
        return size_of(shapes[0])

    return register(
        OpRule(
            name, forward, jvp, vjp, structure, cost, cost, doc, spelling=spelling,
            partial="reduction (dense within each group)",
        )
    )  # fmt: skip


def _times(g: Array, w: Array) -> Array:
    """``g * w`` for a block ``g`` (``(k, *kept)``, size 1 along the reduced axes) and the
    weights ``w``; for NumPy arrays as one ``einsum``, which runs the long axes inside
    (``g * w`` loops once per group over the short reduced axis: 0.69 against 0.35 ms for
    ``(512, 32, 1) × (32, 32)``). The same products, exactly."""
    if type(g) is not np.ndarray or type(w) is not np.ndarray or g.ndim > 26:
        return g * w
    letters = "abcdefghijklmnopqrstuvwxyz"[: g.ndim]
    lead = g.ndim - w.ndim
    return np.einsum(f"{letters},{letters[lead:]}->{letters}", g, w)


def _w_extreme(x, out_k, axes, params):
    hit = np.equal(x, out_k)
    return hit / hit.sum(axis=axes, keepdims=True)


_reduce_rule(
    "max",
    lambda x, axis=None, keepdims=False: np.max(x, axis=axis, keepdims=keepdims),
    _w_extreme,
    "max/amax over axes; tied maxima share the derivative equally",
    "np.max / np.amax / x.max()",
)
_reduce_rule(
    "min",
    lambda x, axis=None, keepdims=False: np.min(x, axis=axis, keepdims=keepdims),
    _w_extreme,
    "min/amin over axes; tied minima share the derivative equally",
    "np.min / np.amin / x.min()",
)


def _others_product(x: Array, axes: tuple[int, ...]) -> Array:
    """For each entry, the product of the other entries of its reduction group."""
    rest = [a for a in range(x.ndim) if a not in axes]
    perm = (*rest, *axes)
    moved = np.transpose(x, perm)
    lead = moved.shape[: len(rest)]
    flat = moved.reshape((*lead, -1))
    ones = ones_like_shape((*lead, 1), flat.dtype, like=flat)
    left = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    right = np.flip(
        np.cumprod(np.concatenate([ones, np.flip(flat, -1)[..., :-1]], axis=-1), axis=-1), -1
    )
    return np.transpose((left * right).reshape(moved.shape), tuple(np.argsort(perm).tolist()))


def _w_prod(x, out_k, axes, params):
    return _others_product(x, axes)


_reduce_rule(
    "prod",
    lambda x, axis=None, keepdims=False: np.prod(x, axis=axis, keepdims=keepdims),
    _w_prod,
    "prod over axes (partials: products of the other entries, exact at zeros)",
)


def _count(shape: tuple, axes: tuple[int, ...]) -> int:
    return size_of(tuple(shape[a] for a in axes))


def _w_var(x, out_k, axes, params):
    centred = x - x.mean(axis=axes, keepdims=True)
    return 2.0 * centred / (_count(x.shape, axes) - params.get("ddof", 0))


def _w_std(x, out_k, axes, params):
    return _w_var(x, out_k, axes, params) / (2.0 * out_k)


_reduce_rule(
    "var",
    lambda x, axis=None, ddof=0, keepdims=False: np.var(x, axis=axis, ddof=ddof, keepdims=keepdims),
    _w_var,
    "var(x, axis, ddof, keepdims)",
)
_reduce_rule(
    "std",
    lambda x, axis=None, ddof=0, keepdims=False: np.std(x, axis=axis, ddof=ddof, keepdims=keepdims),
    _w_std,
    "std(x, axis, ddof, keepdims); undefined where std = 0",
)


# ----------------------------------------------------------------------------------------
# scans along one axis (axis=None: over the flattened array)


def _scan_axis(values: tuple, params: dict) -> tuple[Array, int]:
    x = as_array(values[0])
    axis = params.get("axis")
    if axis is None:
        return x.reshape(-1), 0
    return x, int(axis) % x.ndim


def _cumsum_jvp(i, t, values, out, params):
    x, axis = _scan_axis(values, params)
    t = t.reshape((t.shape[0], *x.shape))
    return np.cumsum(t, axis=axis + 1)


def _cumsum_vjp(i, c, values, out, params):
    _x, axis = _scan_axis(values, params)
    g = np.flip(np.cumsum(np.flip(c, axis + 1), axis=axis + 1), axis + 1)
    return g.reshape((c.shape[0], *np.shape(values[0])))


def _scan_len(shapes: tuple, params: dict) -> tuple[int, int]:
    shape = shapes[0]
    n = size_of(shape)
    if params.get("axis") is None:
        return n, 1
    L = int(shape[int(params["axis"]) % len(shape)])
    return L, n // max(L, 1)


def _tri_nnz(shapes, params) -> int:
    L, lines = _scan_len(shapes, params)
    return lines * L * (L + 1) // 2


register(
    OpRule(
        "cumsum",
        lambda x, axis=None: np.cumsum(x, axis=axis),
        _cumsum_jvp,
        _cumsum_vjp,
        lambda i, shapes, o, p: EdgeStructure.sparse(
            "sparse", size_of(o), size_of(shapes[0]), _tri_nnz(shapes, p), unit=True
        ),
        lambda i, shapes, o, p: 0,
        lambda i, shapes, o, p: 0,
        "cumsum(x, axis): lower-triangular ones along the axis",
        partial="lower-triangular ones per line (unit), 0 mults",
    )
)


def _cumprod_jac(values: tuple, params: dict) -> tuple[Array, int, tuple]:
    """``J[..., j, i] = ∂out_j/∂x_i`` along the scanned axis (moved last): products of
    ``x_0 … x_j`` without ``x_i`` for ``i ≤ j``."""
    x, axis = _scan_axis(values, params)
    m = np.moveaxis(as_array(x, dtype=float), axis, -1)
    L = m.shape[-1]
    jac = np.zeros((*m.shape, L), like=m)
    for i in range(L):
        others = m.copy()
        others[..., i] = 1.0
        col = np.cumprod(others, axis=-1)
        col[..., :i] = 0.0
        jac[..., :, i] = col
    return jac, axis, x.shape


def _cumprod_jvp(i, t, values, out, params):
    jac, axis, shape = _cumprod_jac(values, params)
    tm = np.moveaxis(t.reshape((t.shape[0], *shape)), axis + 1, -1)
    r = np.einsum("...ji,k...i->k...j", jac, tm)
    return np.moveaxis(r, -1, axis + 1).reshape((t.shape[0], *np.shape(out)))


def _cumprod_vjp(i, c, values, out, params):
    jac, axis, shape = _cumprod_jac(values, params)
    cm = np.moveaxis(c.reshape((c.shape[0], *shape)), axis + 1, -1)
    g = np.einsum("...ji,k...j->k...i", jac, cm)
    return np.moveaxis(g, -1, axis + 1).reshape((c.shape[0], *np.shape(values[0])))


register(
    OpRule(
        "cumprod",
        lambda x, axis=None: np.cumprod(x, axis=axis),
        _cumprod_jvp,
        _cumprod_vjp,
        lambda i, shapes, o, p: EdgeStructure.sparse(
            "sparse", size_of(o), size_of(shapes[0]), _tri_nnz(shapes, p)
        ),
        lambda i, shapes, o, p: _tri_nnz(shapes, p),
        lambda i, shapes, o, p: _tri_nnz(shapes, p),
        "cumprod(x, axis): lower-triangular partial (products of the other factors)",
        partial="lower-triangular per line",
    )
)


# ----------------------------------------------------------------------------------------
# trace


def _trace_forward(x, offset=0, axis1=0, axis2=1):
    return np.trace(x, offset, axis1, axis2)


def _trace_vjp(i, c, values, out, params):
    x = as_array(values[0])
    o, a1, a2 = params.get("offset", 0), params.get("axis1", 0), params.get("axis2", 1)
    eye = eye_like(x.shape[a1], x.shape[a2], k=o, like=c)
    eye = np.expand_dims(eye, tuple(range(2, x.ndim)))
    eye = np.moveaxis(eye, (0, 1), (a1 % x.ndim, a2 % x.ndim))
    c_rest = c.reshape((c.shape[0], *np.shape(out)))
    c_rest = np.expand_dims(c_rest, (1 + a1 % x.ndim, 1 + a2 % x.ndim))
    return c_rest * eye[None]


def _trace_struct(i, shapes, o, p: dict[str, Any]) -> EdgeStructure:
    shape = shapes[0]
    diag = np.diagonal(np.empty(shape), p.get("offset", 0), p.get("axis1", 0), p.get("axis2", 1))
    n_diag = diag.size
    return EdgeStructure.sparse("reduction", size_of(o), size_of(shape), n_diag, unit=True)


register(
    OpRule(
        "trace",
        _trace_forward,
        lambda i, t, v, out, p: np.trace(
            t,
            p.get("offset", 0),
            p.get("axis1", 0) % np.ndim(v[0]) + 1,
            p.get("axis2", 1) % np.ndim(v[0]) + 1,
        ),
        _trace_vjp,
        _trace_struct,
        lambda i, s, o, p: 0,
        lambda i, s, o, p: 0,
        "trace(x, offset, axis1, axis2): sum of a diagonal",
        partial="reduction of a diagonal (unit), 0 mults",
    )
)

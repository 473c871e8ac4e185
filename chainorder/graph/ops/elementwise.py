"""Rules of the elementwise ops, reductions and shape ops (indexing, transpose, reshape)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from chainorder.graph.ops.registry import (
    Array,
    OpRule,
    Shape,
    as_array,
    bcast_tangent,
    register,
    size_of,
    sum_axes,
    unbroadcast,
)
from chainorder.graph.structure import EdgeStructure

__all__ = ["DIAGONAL_FACTORS"]

#: Structured-partial hook: op name → ``(factor, unit_args, masks)`` of each elementwise op,
#: so that a same-shape (diagonal) partial can be formed as its factor vector without
#: multiplying a seed (:mod:`chainorder.graph.blocks`).
DIAGONAL_FACTORS: dict[str, tuple[Callable, dict[int, float], bool]] = {}


def _seeds_last(t: Array) -> bool:
    """Whether the block ``t`` is laid out with its seed axis last (a transposed factor)."""
    if type(t) is not np.ndarray or t.ndim < 2 or t.shape[0] < 2 or t.flags.c_contiguous:
        return False
    return bool(np.moveaxis(t, 0, -1).flags.c_contiguous)


def _times(tb: Array, f: Any, last: bool) -> Array:
    """``tb * f``, written seeds-last when the block was (so that flattening each seed's
    result stays a view): NumPy's own order for a broadcast block mixes the two."""
    if not last:
        return tb * f
    res = np.empty((*tb.shape[1:], tb.shape[0]), np.result_type(tb, f))
    return np.multiply(tb, f, out=np.moveaxis(res, -1, 0))


def _broadcast_times(t: Array, f: Any, out_shape: Shape, last: bool) -> Array | None:
    """``bcast_tangent(t, out_shape) * f`` as one ``einsum`` when ``t`` or an array ``f``
    must be broadcast (else ``None``): NumPy's broadcast product runs its inner loop once
    per short group (512 tangents ``(32, 1)`` times a ``(32, 32)`` factor: 0.81 ms), the
    ``einsum`` over the long axes (0.50 ms). A broadcast axis gets a label of its own (a
    sum over one term: the same products)."""
    if type(t) is not np.ndarray or not isinstance(f, np.ndarray) or f.ndim == 0:
        return None
    nd = len(out_shape)
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXY"
    if 2 * nd + 1 > len(letters) or f.ndim > nd or t.ndim - 1 > nd:
        return None
    pad = (1,) * (nd - (t.ndim - 1))
    t_shape = (*pad, *t.shape[1:])
    lead = nd - f.ndim
    if t_shape == tuple(out_shape) and f.shape == tuple(out_shape[lead:]):
        return None  # nothing broadcast: the plain product is as fast
    fpad = (1,) * lead + tuple(f.shape)
    if any(n != 1 and t_shape[a] == 1 and fpad[a] == 1 for a, n in enumerate(out_shape)):
        return None  # an axis neither operand spans (a third argument's)
    spare = iter(letters[nd:])
    ts = "".join(letters[a] if n == out_shape[a] else next(spare) for a, n in enumerate(t_shape))
    fs = "".join(letters[lead + a] if n == out_shape[lead + a] else next(spare)
                 for a, n in enumerate(f.shape))  # fmt: skip
    spec = f"Z{ts},{fs}->Z{letters[:nd]}"
    tt = t.reshape((t.shape[0], *t_shape))
    if not last:
        return np.einsum(spec, tt, f)
    res = np.empty((*out_shape, t.shape[0]), np.result_type(t, f))
    return np.einsum(spec, tt, f, out=np.moveaxis(res, -1, 0))


def _short_tail(c: Array, f: Array, in_shape: Shape) -> Array | None:
    """``unbroadcast(c * f, in_shape)`` where ``in_shape`` keeps only a short trailing block
    of the output's axes (at most 16 scalars, e.g. a length scale ``(2,)`` of ``(N, N, 2)``
    differences) and ``f`` has the output's shape: one strided product per kept scalar
    (``einsum`` runs its inner loop along the short axis: 0.92 against 0.42 ms for
    ``(1, 400, 400, 2)``); else ``None``."""
    out_shape = c.shape[1:]
    nd = len(out_shape)
    kept = len(in_shape)
    while kept and in_shape[len(in_shape) - kept] == 1:
        kept -= 1  # leading size-1 axes of in_shape are summed over
    tail = tuple(in_shape[len(in_shape) - kept :])
    n_k = math.prod(tail)
    if (not kept or n_k > 16 or tail != tuple(out_shape[nd - kept :])
            or tuple(f.shape) != tuple(out_shape) or n_k == math.prod(out_shape)
            or not c.flags.c_contiguous or not f.flags.c_contiguous):  # fmt: skip
        return None
    c2 = c.reshape(c.shape[0], -1, n_k)
    f2 = f.reshape(-1, n_k)
    res = np.empty((c.shape[0], n_k), np.result_type(c, f))
    for k in range(n_k):
        res[:, k] = c2[:, :, k] @ f2[:, k]
    return res.reshape((c.shape[0], *in_shape))


def _fused_unbroadcast(c: Array, f: Any, in_shape: Shape) -> Array | None:
    """``unbroadcast(c * f, in_shape)`` as one ``einsum`` (the same multiply-adds, without
    the ``c * f`` temporary of the full block), for an array factor ``f``; else ``None``."""
    if not isinstance(f, np.ndarray) or f.ndim == 0:
        return None
    out_shape = c.shape[1:]
    nd = len(out_shape)
    letters = "abcdefghijklmnopqrstuvwxy"[:nd]
    if nd > len(letters) or f.ndim > nd:
        return None
    short = _short_tail(c, f, in_shape)
    if short is not None:
        return short
    lead = nd - f.ndim  # f's size-1 axes along which out is wider are squeezed out
    squeeze = tuple(a for a in range(f.ndim) if f.shape[a] == 1 and out_shape[lead + a] != 1)
    fspec = "".join(letters[lead + a] for a in range(f.ndim) if a not in squeeze)
    padded = (1,) * (nd - len(in_shape)) + tuple(in_shape)
    kept = "".join(ch for ch, n, m in zip(letters, padded, out_shape, strict=True) if n == m)
    g = np.einsum(f"z{letters},{fspec}->z{kept}", c, f.squeeze(axis=squeeze))
    return g.reshape((c.shape[0], *in_shape))


# ----------------------------------------------------------------------------------------
# elementwise ops: described by the elementwise factor of each argument


def _elementwise(
    name: str,
    forward: Callable[..., Any],
    factors: Callable[[int, tuple, Array], Array | float],
    unit_args: dict[int, float] | None = None,
    doc: str = "",
    nondiff_args: tuple[int, ...] = (),
    masks: bool = False,
) -> OpRule:
    """Build the rule of an elementwise op from ``factor(i, values, out) = ∂out/∂arg_i``.

    ``unit_args`` maps argument positions whose factor is a constant ±1 to that sign: their
    partials are identity / broadcast matrices and cost no multiplications.
    """
    units = dict(unit_args or {})
    DIAGONAL_FACTORS[name] = (factors, units, masks)
    # masks: every factor is 0 or 1 (where), so the partial is unit and costs no mults

    def jvp(i, t, values, out, params):
        if i not in units:
            f = factors(i, values, out)
            fused = _broadcast_times(t, f, np.shape(out), _seeds_last(t))
            if fused is not None:
                return fused
        tb = bcast_tangent(t, np.shape(out))
        if i in units:
            return tb if units[i] > 0 else -tb
        return _times(tb, f, _seeds_last(t))

    def vjp(i, c, values, out, params):
        in_shape = np.shape(values[i])
        if i in units:  # negated after the reduction: a small array, the same values
            g = unbroadcast(c, in_shape)
            return g if units[i] > 0 else -g
        f = factors(i, values, out)
        if tuple(in_shape) != c.shape[1:] and type(c) is np.ndarray:
            fused = _fused_unbroadcast(c, f, in_shape)
            if fused is not None:
                return fused
        elif tuple(in_shape) == c.shape[1:]:  # a broadcast factor: one einsum
            fused = _broadcast_times(c, f, c.shape[1:], _seeds_last(c))
            if fused is not None:
                return fused
        return unbroadcast(c * f, in_shape)

    def structure(i, shapes, out_shape, params):
        n_out, n_in = size_of(out_shape), size_of(shapes[i])
        unit = i in units or masks
        if tuple(shapes[i]) == tuple(out_shape):
            return EdgeStructure.diagonal(n_out, unit=unit)
        return EdgeStructure.sparse("broadcast", n_out, n_in, n_out, unit=unit)

    def cost(i, shapes, out_shape, params):
        return 0 if i in units or masks else size_of(out_shape)

    partial = "diagonal (broadcast if an operand broadcasts)"
    if units:
        partial = "identity ±1 (broadcast if an operand broadcasts), 0 mults"
    elif masks:
        partial = "0/1 diagonal: a selection (unit), 0 mults"
    return register(
        OpRule(
            name, forward, jvp, vjp, structure, cost, cost, doc, nondiff_args, partial=partial
        )
    )


def _f_add(i, v, out):
    return 1.0


_elementwise("add", np.add, _f_add, {0: 1, 1: 1}, "x + y")
_elementwise("subtract", np.subtract, _f_add, {0: 1, 1: -1}, "x - y")
_elementwise("negative", np.negative, _f_add, {0: -1}, "-x")
_elementwise("positive", np.positive, _f_add, {0: 1}, "+x (also: copy of an output)")
_elementwise("multiply", np.multiply, lambda i, v, out: v[1 - i], doc="x * y")
_elementwise(
    "divide",
    np.divide,
    lambda i, v, out: 1.0 / v[1] if i == 0 else -out / v[1],
    doc="x / y",
)


def _f_power(i, v, out):
    x, p = v
    if i == 0:
        return p * np.power(x, p - 1)
    return out * np.log(x)


_elementwise("power", np.power, _f_power, doc="x ** p")
_elementwise("square", np.square, lambda i, v, out: 2 * v[0], doc="x**2")
_elementwise("exp", np.exp, lambda i, v, out: out, doc="exp(x)")
_elementwise("log", np.log, lambda i, v, out: 1.0 / v[0], doc="log(x)")
_elementwise("tanh", np.tanh, lambda i, v, out: 1.0 - out * out, doc="tanh(x)")
_elementwise("sin", np.sin, lambda i, v, out: np.cos(v[0]), doc="sin(x)")
_elementwise("cos", np.cos, lambda i, v, out: -np.sin(v[0]), doc="cos(x)")
_elementwise("sqrt", np.sqrt, lambda i, v, out: 0.5 / out, doc="sqrt(x)")
_elementwise("absolute", np.absolute, lambda i, v, out: np.sign(v[0]), doc="abs(x)")


def _f_maximum(i, v, out):
    x, y = v
    win = np.greater(x, y) if i == 0 else np.greater(y, x)
    return win + 0.5 * np.equal(x, y)


_elementwise("maximum", np.maximum, _f_maximum, doc="maximum(x, y); ties split 1/2 each")


def _f_minimum(i, v, out):
    x, y = v
    win = np.less(x, y) if i == 0 else np.less(y, x)
    return win + 0.5 * np.equal(x, y)


_elementwise("minimum", np.minimum, _f_minimum, doc="minimum(x, y); ties split 1/2 each")
_elementwise("log1p", np.log1p, lambda i, v, out: 1.0 / (1.0 + v[0]), doc="log(1 + x)")
_elementwise("expm1", np.expm1, lambda i, v, out: out + 1.0, doc="exp(x) - 1")
_elementwise("sinh", np.sinh, lambda i, v, out: np.cosh(v[0]), doc="sinh(x)")
_elementwise("cosh", np.cosh, lambda i, v, out: np.sinh(v[0]), doc="cosh(x)")
_elementwise("tan", np.tan, lambda i, v, out: 1.0 + out * out, doc="tan(x)")
_elementwise("arcsin", np.arcsin, lambda i, v, out: 1.0 / np.sqrt(1.0 - v[0] ** 2), doc="arcsin(x)")
_elementwise(
    "arccos", np.arccos, lambda i, v, out: -1.0 / np.sqrt(1.0 - v[0] ** 2), doc="arccos(x)"
)
_elementwise("arctan", np.arctan, lambda i, v, out: 1.0 / (1.0 + v[0] ** 2), doc="arctan(x)")
_elementwise(
    "arcsinh", np.arcsinh, lambda i, v, out: 1.0 / np.sqrt(v[0] ** 2 + 1.0), doc="arcsinh(x)"
)
_elementwise("exp2", np.exp2, lambda i, v, out: out * np.log(2.0), doc="2**x")
_elementwise("log2", np.log2, lambda i, v, out: 1.0 / (v[0] * np.log(2.0)), doc="log2(x)")
_elementwise("log10", np.log10, lambda i, v, out: 1.0 / (v[0] * np.log(10.0)), doc="log10(x)")
_elementwise("reciprocal", np.reciprocal, lambda i, v, out: -out * out, doc="1 / x")
_elementwise("cbrt", np.cbrt, lambda i, v, out: 1.0 / (3.0 * out * out), doc="cbrt(x)")


def _f_logaddexp(i, v, out):
    return np.exp(v[i] - out)


_elementwise("logaddexp", np.logaddexp, _f_logaddexp, doc="log(exp(x) + exp(y))")
_elementwise("hypot", np.hypot, lambda i, v, out: v[i] / out, doc="sqrt(x**2 + y**2)")


def _f_arctan2(i, v, out):
    y, x = v
    r2 = x * x + y * y
    return x / r2 if i == 0 else -y / r2


_elementwise("arctan2", np.arctan2, _f_arctan2, doc="arctan2(y, x)")


def _f_where(i, v, out):
    cond = as_array(v[0], dtype=bool)
    return cond.astype(float) if i == 1 else (~cond).astype(float)


def _where_forward(cond, x, y):
    return np.where(cond, x, y)


_elementwise(
    "where",
    _where_forward,
    _f_where,
    doc="where(cond, x, y); cond is not differentiated",
    nondiff_args=(0,),
    masks=True,
)


def _clip_forward(x, lo, hi):
    return np.clip(x, lo, hi)


def _f_clip(i, v, out):
    x, lo, hi = v
    if i == 0:
        inside = np.greater(x, lo) & np.less(x, hi)
        return inside + 0.5 * (np.equal(x, lo) + np.equal(x, hi))
    bound = lo if i == 1 else hi
    beyond = np.greater(bound, x) if i == 1 else np.less(bound, x)
    return beyond + 0.5 * np.equal(x, bound)


_elementwise(
    "clip",
    _clip_forward,
    _f_clip,
    doc="clip(x, lo, hi) = minimum(maximum(x, lo), hi); ties at a bound split 1/2",
)
_elementwise(
    "astype",
    lambda x, dtype: x.astype(dtype),
    _f_add,
    {0: 1},
    "x.astype(float dtype); to an int/bool dtype: a constant",
)
_elementwise("copy", np.copy, _f_add, {0: 1}, "np.copy(x), x.copy()")


# ----------------------------------------------------------------------------------------
# reductions


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int | np.integer):
        axis = (axis,)
    out = []
    for a in axis:
        a = int(a)
        if not -ndim <= a < ndim:
            raise np.exceptions.AxisError(a, ndim)
        out.append(a % ndim)
    return tuple(sorted(set(out)))


def _reduction(name: str, forward: Callable[..., Any], scaled: bool) -> OpRule:
    def count(shape: Shape, params: dict) -> int:
        return size_of(tuple(shape[a] for a in _axes(params.get("axis"), len(shape))))

    def jvp(i, t, values, out, params):
        axes = _axes(params.get("axis"), np.ndim(values[0]))
        r = sum_axes(t, tuple(a + 1 for a in axes), params.get("keepdims", False))
        return r / count(np.shape(values[0]), params) if scaled else r

    def vjp(i, c, values, out, params):
        shape = np.shape(values[0])
        axes = _axes(params.get("axis"), len(shape))
        kept = tuple(1 if a in axes else n for a, n in enumerate(shape))
        g = c.reshape((c.shape[0], *kept))
        if scaled:
            g = g / count(shape, params)
        return np.broadcast_to(g, (c.shape[0], *shape))

    def structure(i, shapes, out_shape, params):
        n_in = size_of(shapes[0])
        return EdgeStructure.sparse("reduction", size_of(out_shape), n_in, n_in, unit=not scaled)

    def cost(i, shapes, out_shape, params):
        return size_of(out_shape) if scaled else 0

    partial = "reduction (scaled 1/count)" if scaled else "reduction of ones, 0 mults"
    return register(
        OpRule(name, forward, jvp, vjp, structure, cost, cost, f"{name} over axes", partial=partial)
    )


_reduction(
    "sum", lambda x, axis=None, keepdims=False: np.sum(x, axis=axis, keepdims=keepdims), False
)
_reduction(
    "mean", lambda x, axis=None, keepdims=False: np.mean(x, axis=axis, keepdims=keepdims), True
)


# ----------------------------------------------------------------------------------------
# shape ops: indexing, transpose, reshape (unit partials, no mults)


def _zero_cost(i, shapes, out_shape, params):
    return 0


def _shape_op(name, forward, jvp, vjp, kind, doc, spelling=""):
    def structure(i, shapes, out_shape, params):
        n_out, n_in = size_of(out_shape), size_of(shapes[0])
        if kind == "identity":
            return EdgeStructure.diagonal(n_out, unit=True)
        return EdgeStructure.sparse(kind, n_out, n_in, n_out, unit=True)

    return register(
        OpRule(
            name, forward, jvp, vjp, structure, _zero_cost, _zero_cost, doc,
            spelling=spelling, partial=f"{kind} (unit), 0 mults",
        )
    )


def _perm(params: dict, ndim: int) -> tuple[int, ...]:
    axes = params.get("axes")
    return tuple(reversed(range(ndim))) if axes is None else tuple(int(a) % ndim for a in axes)


_shape_op(
    "transpose",
    lambda x, axes=None: np.transpose(x, axes),
    lambda i, t, v, out, p: t.transpose((0, *(a + 1 for a in _perm(p, np.ndim(v[0]))))),
    lambda i, c, v, out, p: c.transpose((0, *(a + 1 for a in np.argsort(_perm(p, np.ndim(v[0])))))),
    "permutation",
    "transpose(x, axes)",
)
_shape_op(
    "reshape",
    lambda x, shape: np.reshape(x, shape),
    lambda i, t, v, out, p: t.reshape((t.shape[0], *np.shape(out))),
    lambda i, c, v, out, p: c.reshape((c.shape[0], *np.shape(v[0]))),
    "identity",
    "reshape(x, shape) (C order: the identity on flattened values)",
)

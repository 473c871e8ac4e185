"""NumPy function handlers of the boxed array: ``np.f(traced, ...)`` → one registry op.

:class:`~chainorder.graph.boxed.TracedArray` forwards every ``__array_function__`` call
here through :data:`FUNCTIONS`; each handler checks its arguments and records one op (or a
few) on the tape. Functions with a zero derivative (:data:`ZERO_FUNCTIONS`) return a plain
NumPy value, a constant of the rest of the trace.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from chainorder.graph.boxed import TracedArray, as_dtype, tape_of, value_of
from chainorder.graph.einsum import traced_einsum
from chainorder.graph.unsupported import unsupported

__all__ = ["FUNCTIONS", "ZERO_FUNCTIONS", "SlogdetResult", "stack_nested"]


def _no_extras(name: str, **extras: Any) -> None:
    for key, val in extras.items():
        if val is not None and val is not np._NoValue:
            raise unsupported(f"np.{name}({key}=...)")


def _apply(op: str, inputs: tuple, params: dict) -> Any:
    return tape_of(*inputs).apply(op, inputs, params)


def _reducer(op: str) -> Callable[..., Any]:
    def handler(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
        _no_extras(op, dtype=dtype, out=out, initial=initial, where=where)
        if keepdims is np._NoValue:
            keepdims = False
        axis = tuple(axis) if isinstance(axis, list) else axis
        return _apply(op, (a,), {"axis": axis, "keepdims": bool(keepdims)})

    return handler


def _moments(op: str) -> Callable[..., Any]:
    def handler(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw):
        _no_extras(op, dtype=dtype, out=out, where=kw.pop("where", None))
        if kw:
            raise unsupported(f"np.{op}({', '.join(kw)}=...)")
        axis = tuple(axis) if isinstance(axis, list) else axis
        return _apply(op, (a,), {"axis": axis, "ddof": ddof, "keepdims": bool(keepdims)})

    return handler


def _scan(op: str) -> Callable[..., Any]:
    def handler(a, axis=None, dtype=None, out=None):
        _no_extras(op, dtype=dtype, out=out)
        return _apply(op, (a,), {"axis": axis})

    return handler


def _h_transpose(a, axes=None):
    return _apply("transpose", (a,), {"axes": None if axes is None else tuple(axes)})


def _h_reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    if order != "C":
        raise unsupported(f"np.reshape(order={order!r})")
    shape = newshape if shape is None else shape
    shape = (shape,) if isinstance(shape, int | np.integer) else tuple(shape)
    return _apply("reshape", (a,), {"shape": shape})


def _h_ravel(a, order="C"):
    return _h_reshape(a, (-1,), order)


def _h_dot(a, b, out=None):
    _no_extras("dot", out=out)
    if np.ndim(value_of(a)) > 2 or np.ndim(value_of(b)) > 2:
        raise unsupported("np.dot of arrays with more than 2 dimensions (use matmul or einsum)")
    if np.ndim(value_of(a)) == 0 or np.ndim(value_of(b)) == 0:
        return np.multiply(a, b)
    return tape_of(a, b).matmul("dot", a, b)


def _h_matmul(a, b, **kwargs):
    return tape_of(a, b).matmul("matmul", a, b)


def _h_outer(a, b, out=None):
    _no_extras("outer", out=out)
    return _apply("einsum", (_h_ravel(a) if isinstance(a, TracedArray) else np.ravel(a),
                             _h_ravel(b) if isinstance(b, TracedArray) else np.ravel(b)),
                  {"spec": ("i", "j", "ij")})  # fmt: skip


def _h_einsum(subscripts, *operands, out=None, optimize=False, **kwargs):
    if not isinstance(subscripts, str) or out is not None or kwargs:
        raise unsupported("np.einsum (only the subscripts-string form, without out=, is traced)")
    return traced_einsum(subscripts, *operands)


def _h_solve(a, b):
    va, vb = value_of(a), value_of(b)
    stacked = np.ndim(va) > 2 and np.shape(vb)[:-1] == np.shape(va)[:-1]
    if not ((np.ndim(va) == 2 and np.ndim(vb) in (1, 2)) or stacked):
        raise unsupported(
            "np.linalg.solve of these shapes (a: n×n with b: n or n×m, or a: …×n×n with "
            "b: …×n×m of the same batch)",
            "solve",
        )
    return _apply("solve", (a, b), {})


def _h_inv(a):
    if np.ndim(value_of(a)) < 2:
        raise unsupported("np.linalg.inv of a 0-d or 1-d array", "inv")
    return _apply("inv", (a,), {})


def _square(name: str) -> Callable[..., Any]:
    def handler(a, *args, **kwargs):
        if args or kwargs or np.ndim(value_of(a)) < 2:
            raise unsupported(f"np.linalg.{name} with extra arguments or a non-matrix")
        return _apply(name, (a,), {})

    return handler


class SlogdetResult(NamedTuple):
    """``(sign, logabsdet)`` as ``np.linalg.slogdet`` returns; ``logabsdet`` is traced."""

    sign: Any
    logabsdet: Any


def _h_slogdet(a):
    sign = tape_of(a).derived(_slogdet_sign, (a,))
    return SlogdetResult(sign, _apply("slogdet", (a,), {}))


def _slogdet_sign(a):
    return np.linalg.slogdet(a)[0]


def _h_norm(x, ord=None, axis=None, keepdims=False):
    nd = np.ndim(value_of(x)) if axis is None else np.size(axis)
    if not (ord is None or (ord == "fro" and nd == 2) or (ord in (1, 2) and nd == 1)):
        raise unsupported(f"np.linalg.norm(ord={ord!r}) of a {nd}-D array", "norm")
    axis = tuple(axis) if isinstance(axis, list) else axis
    return _apply("norm", (x,), {"ord": ord, "axis": axis, "keepdims": bool(keepdims)})


def _h_unary(name: str) -> Callable[..., Any]:
    def handler(x, *args, **kwargs):
        if args or kwargs:
            raise unsupported(f"np.{name} with extra arguments")
        return _apply(name, (x,), {})

    return handler


def _h_where(cond, x=None, y=None):
    if x is None and y is None:
        return tape_of(cond).derived(np.nonzero, (cond,))
    if isinstance(cond, TracedArray):
        cond = cond._tape.derived(as_dtype, (cond, np.dtype(bool)))
    return tape_of(x, y).apply("where", (np.asarray(cond, dtype=bool), x, y), {})


def _h_clip(a, a_min=np._NoValue, a_max=np._NoValue, out=None, *, min=np._NoValue,
            max=np._NoValue, **kwargs):  # fmt: skip
    _no_extras("clip", out=out)
    lo = a_min if a_min is not np._NoValue else min
    hi = a_max if a_max is not np._NoValue else max
    lo = -np.inf if lo is None or lo is np._NoValue else lo
    hi = np.inf if hi is None or hi is np._NoValue else hi
    return tape_of(a, lo, hi).apply("clip", (a, lo, hi), {})


def _h_copy(a, order="K", subok=False):
    return _apply("copy", (a,), {})


def _axis_op(op: str, *names: str) -> Callable[..., Any]:
    def handler(a, *args, **kwargs):
        params = dict(zip(names, args, strict=False))
        params.update(kwargs)
        for k, v in params.items():
            if isinstance(v, list):
                params[k] = tuple(v)
            if isinstance(v, TracedArray):
                raise unsupported(f"np.{op} with a traced {k}")
        return _apply(op, (a,), params)

    return handler


def _int_indices(op: str, a, indices, **params):
    idx = np.asarray(value_of(indices))
    if not np.issubdtype(idx.dtype, np.integer):
        raise unsupported(f"np.{op} with {idx.dtype} indices (integers needed)")
    return _apply(op, (a,), {"indices": idx, **params})


def _h_take(a, indices, axis=None, out=None, mode="raise"):
    _no_extras("take", out=out)
    return _int_indices("take", a, indices, axis=axis, mode=mode)


def _h_take_along_axis(arr, indices, axis=-1):
    return _int_indices("take_along_axis", arr, indices, axis=axis)


def _h_pad(array, pad_width, mode="constant", **kwargs):
    if mode not in ("constant", "edge", "reflect", "symmetric", "wrap"):
        raise unsupported(f"np.pad(mode={mode!r})", "pad")
    cv = kwargs.pop("constant_values", 0)
    if kwargs or np.ndim(cv) != 0:
        raise unsupported("np.pad with per-axis constant_values or extra options", "pad")
    params: dict[str, Any] = {"pad_width": np.asarray(pad_width).tolist(), "mode": mode}
    if mode == "constant":
        params["constant_values"] = float(cv)
    return _apply("pad", (array,), params)


def _seq(op: str) -> Callable[..., Any]:
    def handler(arrays, axis=0, out=None, **kwargs):
        _no_extras(op, out=out, **{k: v for k, v in kwargs.items() if k != "casting"})
        arrays = tuple(arrays)
        return tape_of(*arrays).apply(op, arrays, {"axis": axis})

    return handler


def _h_hstack(tup, **kwargs):
    tup = tuple(tup)
    axis = 0 if all(np.ndim(value_of(t)) == 1 for t in tup) else 1
    return tape_of(*tup).apply("concatenate", tup, {"axis": axis})


def _h_vstack(tup, **kwargs):
    tup = tuple(x if np.ndim(value_of(x)) >= 2 else _as_2d(x) for x in tuple(tup))
    return tape_of(*tup).apply("concatenate", tup, {"axis": 0})


def _as_2d(x):
    if isinstance(x, TracedArray):
        return _apply("reshape", (x,), {"shape": (1, -1)})
    return np.reshape(x, (1, -1))


def _h_split(ary, indices_or_sections, axis=0):
    n = np.shape(value_of(ary))[axis]
    pieces = np.split(np.arange(n), indices_or_sections)
    out = []
    for p in pieces:
        key = [slice(None)] * np.ndim(value_of(ary))
        key[axis] = slice(int(p[0]) if p.size else n, int(p[-1]) + 1 if p.size else n)
        out.append(ary[tuple(key)])
    return out


def _h_array_split(ary, indices_or_sections, axis=0):
    raise unsupported("np.array_split (use np.split or slicing)", "split")


def _h_astype(x, dtype, /, *, copy=True, device=None):
    if np.issubdtype(np.dtype(dtype), np.floating):
        return _apply("astype", (x,), {"dtype": np.dtype(dtype)})
    return tape_of(x).derived(as_dtype, (x, np.dtype(dtype)))


def _zero(func: Callable[..., Any]) -> Callable[..., Any]:
    def handler(*args, **kwargs):
        traced = [a for a in (*args, *kwargs.values()) if isinstance(a, TracedArray)]
        if not traced:  # pragma: no cover - NumPy dispatches here only with a traced value
            return func(*args, **kwargs)
        return traced[0]._tape.derived(func, args, kwargs)

    return handler


def stack_nested(obj: Any) -> Any:
    """``np.array`` of a (nested) list/tuple holding traced values, as ``stack`` ops.

    Examples
    --------
    >>> from chainorder.graph import trace
    >>> g = trace(lambda x: stack_nested([[x[0], 1.0], [x[1], x[0]]]), np.ones(2))
    >>> g.shape(g.outputs[0])
    (2, 2)

    Notes
    -----
    One ``stack`` op per nesting level: O(total size).
    """
    if isinstance(obj, list | tuple):
        parts = [stack_nested(o) for o in obj]
        if any(isinstance(p, TracedArray) for p in parts):
            return tape_of(*parts).apply("stack", tuple(parts), {"axis": 0})
        return np.array(parts)
    return obj


_ZERO_NAMES = (
    "sign floor ceil trunc rint round around fix argmax argmin argsort nonzero flatnonzero "
    "isnan isinf isfinite isclose allclose array_equal signbit logical_and logical_or "
    "logical_not logical_xor all any count_nonzero shape ndim size searchsorted"
).split()

#: Functions with zero derivative: called on the values, the result is a plain constant.
ZERO_FUNCTIONS: dict[Any, Callable[..., Any]] = {
    getattr(np, n): _zero(getattr(np, n)) for n in _ZERO_NAMES if hasattr(np, n)
}

FUNCTIONS: dict[Any, Callable[..., Any]] = {
    **ZERO_FUNCTIONS,
    np.sum: _reducer("sum"),
    np.mean: _reducer("mean"),
    np.prod: _reducer("prod"),
    np.max: _reducer("max"),
    np.amax: _reducer("max"),
    np.min: _reducer("min"),
    np.amin: _reducer("min"),
    np.var: _moments("var"),
    np.std: _moments("std"),
    np.cumsum: _scan("cumsum"),
    np.cumprod: _scan("cumprod"),
    np.transpose: _h_transpose,
    np.reshape: _h_reshape,
    np.ravel: _h_ravel,
    np.dot: _h_dot,
    np.matmul: _h_matmul,
    np.outer: _h_outer,
    np.einsum: _h_einsum,
    np.linalg.solve: _h_solve,
    np.linalg.inv: _h_inv,
    np.linalg.cholesky: _square("cholesky"),
    np.linalg.det: _square("det"),
    np.linalg.slogdet: _h_slogdet,
    np.linalg.norm: _h_norm,
    np.where: _h_where,
    np.clip: _h_clip,
    np.copy: _h_copy,
    np.squeeze: _axis_op("squeeze", "axis"),
    np.expand_dims: _axis_op("expand_dims", "axis"),
    np.broadcast_to: _axis_op("broadcast_to", "shape"),
    np.swapaxes: _axis_op("swapaxes", "axis1", "axis2"),
    np.moveaxis: _axis_op("moveaxis", "source", "destination"),
    np.flip: _axis_op("flip", "axis"),
    np.roll: _axis_op("roll", "shift", "axis"),
    np.tile: _axis_op("tile", "reps"),
    np.repeat: _axis_op("repeat", "repeats", "axis"),
    np.triu: _axis_op("triu", "k"),
    np.tril: _axis_op("tril", "k"),
    np.diag: _axis_op("diag", "k"),
    np.diagonal: _axis_op("diagonal", "offset", "axis1", "axis2"),
    np.trace: _axis_op("trace", "offset", "axis1", "axis2"),
    np.sort: _axis_op("sort", "axis"),
    np.take: _h_take,
    np.take_along_axis: _h_take_along_axis,
    np.pad: _h_pad,
    np.concatenate: _seq("concatenate"),
    np.stack: _seq("stack"),
    np.hstack: _h_hstack,
    np.vstack: _h_vstack,
    np.split: _h_split,
    np.array_split: _h_array_split,
    np.astype: _h_astype,
}

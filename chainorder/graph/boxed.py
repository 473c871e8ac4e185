"""The boxed array: :class:`TracedArray` and its NumPy protocol handlers.

NumPy hands a :class:`TracedArray` back to chainorder through its array protocols
(``__array_ufunc__``, ``__array_function__``) and Python's operator overloading; each handler
checks the call and records one op on the array's tape (:mod:`chainorder.graph.tape`). The
ufuncs traced are exactly the registry's ops that are NumPy ufuncs; every other ufunc, NumPy
function, and ``ndarray`` method or attribute raises
:class:`~chainorder.errors.UnsupportedOperationError` naming it and the user's line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from chainorder.graph.ops import REGISTRY, einsum_spec
from chainorder.graph.unsupported import unsupported

if TYPE_CHECKING:  # pragma: no cover
    from chainorder.graph.tape import Tape

__all__ = ["TRACED_UFUNCS", "TracedArray", "value_of"]

#: NumPy ufuncs recorded as ops: the registry's ops that are ufuncs.
TRACED_UFUNCS = frozenset(n for n in REGISTRY if isinstance(getattr(np, n, None), np.ufunc))
_COMPARISONS = {"greater", "greater_equal", "less", "less_equal", "equal", "not_equal", "sign"}


class TracedArray:
    """A NumPy-like value that records every op applied to it on its tape.

    Users do not build these; :func:`trace` passes them to the traced function.
    """

    __array_priority__ = 1000

    def __init__(self, tape: Tape, node: str, value: np.ndarray) -> None:
        self._tape = tape
        self._node = node
        self._value = value

    # --- array-like attributes
    shape = property(lambda self: self._value.shape)
    ndim = property(lambda self: self._value.ndim)
    size = property(lambda self: self._value.size)
    dtype = property(lambda self: self._value.dtype)

    @property
    def T(self) -> TracedArray:
        return self._tape.apply("transpose", (self,), {"axes": None})

    def __len__(self) -> int:
        return len(self._value)

    def __repr__(self) -> str:
        return f"TracedArray({self._node}, shape={self.shape}, dtype={self.dtype})"

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails: an ndarray attribute or method without a
        # rule (``x.max()``, ``x.ravel()``) is an unsupported operation, not an AttributeError.
        if not name.startswith("_") and hasattr(np.ndarray, name):
            call = "()" if callable(getattr(np.ndarray, name)) else ""
            raise unsupported(f"x.{name}{call} (ndarray.{name})", name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # --- NumPy protocols
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        name = ufunc.__name__
        if (
            method != "__call__"
            or kwargs.get("out") is not None
            or kwargs.get("where", True) is not True
        ):
            raise unsupported(
                f"np.{name}.{method}" if method != "__call__" else f"np.{name}(out=/where=)"
            )
        if name in _COMPARISONS:
            return ufunc(*(value_of(x) for x in inputs))
        if name == "true_divide":
            name = "divide"
        if name not in TRACED_UFUNCS:
            raise unsupported(f"np.{name}", name)
        if name == "matmul":
            return self._tape.matmul("matmul", inputs[0], inputs[1])
        return self._tape.apply(name, inputs, {})

    def __array_function__(self, func, types, args, kwargs):
        handler = _FUNCTIONS.get(func)
        if handler is None:
            module = getattr(func, "__module__", "numpy") or "numpy"
            module = module.replace("numpy.linalg._linalg", "np.linalg").replace("numpy", "np")
            raise unsupported(f"{module}.{func.__name__}", func.__name__)
        return handler(*args, **kwargs)

    def __array__(self, dtype=None, copy=None):
        raise unsupported("conversion of a traced array to a NumPy array (np.asarray/np.array)")

    def __bool__(self) -> bool:
        raise unsupported("truth value of a traced array (if/while on traced values)")

    def __float__(self) -> float:
        raise unsupported("float() of a traced array")

    def __int__(self) -> int:
        raise unsupported("int() of a traced array")

    def __iter__(self):
        raise unsupported("iteration over a traced array")

    # --- operators
    def __add__(self, o):
        return np.add(self, o)

    def __radd__(self, o):
        return np.add(o, self)

    def __sub__(self, o):
        return np.subtract(self, o)

    def __rsub__(self, o):
        return np.subtract(o, self)

    def __mul__(self, o):
        return np.multiply(self, o)

    def __rmul__(self, o):
        return np.multiply(o, self)

    def __truediv__(self, o):
        return np.divide(self, o)

    def __rtruediv__(self, o):
        return np.divide(o, self)

    def __pow__(self, o):
        return np.power(self, o)

    def __rpow__(self, o):
        return np.power(o, self)

    def __matmul__(self, o):
        return self._tape.matmul("matmul", self, o)

    def __rmatmul__(self, o):
        return self._tape.matmul("matmul", o, self)

    def __neg__(self):
        return np.negative(self)

    def __pos__(self):
        return np.positive(self)

    def __abs__(self):
        return np.absolute(self)

    def __gt__(self, o):
        return np.greater(self, o)

    def __ge__(self, o):
        return np.greater_equal(self, o)

    def __lt__(self, o):
        return np.less(self, o)

    def __le__(self, o):
        return np.less_equal(self, o)

    def __getitem__(self, key):
        return self._tape.apply("getitem", (self,), {"key": _normalise_key(key)})

    # --- methods
    def sum(self, axis=None, keepdims=False):
        return _h_sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        return _h_mean(self, axis=axis, keepdims=keepdims)

    def transpose(self, *axes):
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], tuple | list)):
            axes = axes[0]
        return _h_transpose(self, axes or None)

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], tuple | list):
            shape = shape[0]
        return _h_reshape(self, tuple(shape))

    def dot(self, other):
        return _h_dot(self, other)


def value_of(x: Any) -> Any:
    return x._value if isinstance(x, TracedArray) else x


def _normalise_key(key: Any) -> tuple:
    key = key if isinstance(key, tuple) else (key,)
    out = []
    for k in key:
        if isinstance(k, TracedArray):
            raise unsupported("indexing with a traced array")
        if k is None or k is Ellipsis or isinstance(k, slice):
            out.append(k)
        elif isinstance(k, int | np.integer) and not isinstance(k, bool | np.bool_):
            out.append(int(k))
        else:
            raise unsupported(f"advanced indexing with {type(k).__name__} (use ints, slices, None)")
    return tuple(out)


def _tape_of(*xs: Any) -> Tape:
    for x in xs:
        if isinstance(x, TracedArray):
            return x._tape
    raise AssertionError("no traced argument")  # pragma: no cover


def _no_extras(name: str, **extras: Any) -> None:
    for key, val in extras.items():
        if val is not None and val is not np._NoValue:
            raise unsupported(f"np.{name}({key}=...)")


def _h_sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    _no_extras("sum", dtype=dtype, out=out, initial=initial, where=where)
    return _tape_of(a).apply("sum", (a,), {"axis": axis, "keepdims": bool(keepdims)})


def _h_mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    _no_extras("mean", dtype=dtype, out=out, where=where)
    return _tape_of(a).apply("mean", (a,), {"axis": axis, "keepdims": bool(keepdims)})


def _h_transpose(a, axes=None):
    return _tape_of(a).apply("transpose", (a,), {"axes": None if axes is None else tuple(axes)})


def _h_reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    if order != "C":
        raise unsupported(f"np.reshape(order={order!r})")
    shape = newshape if shape is None else shape
    shape = (shape,) if isinstance(shape, int | np.integer) else tuple(shape)
    return _tape_of(a).apply("reshape", (a,), {"shape": shape})


def _h_dot(a, b, out=None):
    _no_extras("dot", out=out)
    if np.ndim(value_of(a)) > 2 or np.ndim(value_of(b)) > 2:
        raise unsupported("np.dot of arrays with more than 2 dimensions (use matmul or einsum)")
    return _tape_of(a, b).matmul("dot", a, b)


def _h_matmul(a, b, **kwargs):
    return _tape_of(a, b).matmul("matmul", a, b)


def _h_einsum(subscripts, *operands, out=None, optimize=False, **kwargs):
    if not isinstance(subscripts, str) or len(operands) != 2 or out is not None or kwargs:
        raise unsupported("np.einsum (only the two-operand subscripts form is traced)")
    a, b = operands
    try:
        spec = einsum_spec(subscripts, np.shape(value_of(a)), np.shape(value_of(b)))
    except ValueError as exc:
        raise unsupported(f"np.einsum({subscripts!r}): {exc}") from None
    return _tape_of(a, b).apply("einsum", (a, b), {"spec": spec})


def _h_solve(a, b):
    va, vb = value_of(a), value_of(b)
    if np.ndim(va) != 2 or np.ndim(vb) not in (1, 2):
        raise unsupported("np.linalg.solve with stacked matrices (a must be 2-D, b 1-D or 2-D)")
    return _tape_of(a, b).apply("solve", (a, b), {})


def _h_inv(a):
    if np.ndim(value_of(a)) != 2:
        raise unsupported("np.linalg.inv of stacked matrices")
    return _tape_of(a).apply("inv", (a,), {})


def _h_unary(name: str) -> Callable[..., Any]:
    def handler(x, *args, **kwargs):
        if args or kwargs:
            raise unsupported(f"np.{name} with extra arguments")
        return _tape_of(x).apply(name, (x,), {})

    return handler


def _h_shape(a):
    return np.shape(value_of(a))


def _h_ndim(a):
    return np.ndim(value_of(a))


def _h_size(a, axis=None):
    return np.size(value_of(a), axis)


_FUNCTIONS: dict[Any, Callable[..., Any]] = {
    np.sum: _h_sum,
    np.mean: _h_mean,
    np.transpose: _h_transpose,
    np.reshape: _h_reshape,
    np.dot: _h_dot,
    np.einsum: _h_einsum,
    np.linalg.solve: _h_solve,
    np.linalg.inv: _h_inv,
    np.shape: _h_shape,
    np.ndim: _h_ndim,
    np.size: _h_size,
}

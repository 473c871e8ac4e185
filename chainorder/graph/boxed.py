"""The boxed array: :class:`TracedArray` and its NumPy protocol handlers.

NumPy hands a :class:`TracedArray` back to chainorder through its array protocols
(``__array_ufunc__``, ``__array_function__``) and Python's operator overloading; each handler
checks the call and records one op on the array's tape (:mod:`chainorder.graph.tape`). The
ufuncs traced are exactly the registry's ops that are NumPy ufuncs; every other ufunc, NumPy
function, and ``ndarray`` method or attribute raises
:class:`~chainorder.errors.UnsupportedOperationError` naming it and the user's line.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from chainorder.graph.ops import REGISTRY
from chainorder.graph.unsupported import unsupported

if TYPE_CHECKING:  # pragma: no cover
    from chainorder.graph.tape import Tape

__all__ = [
    "TRACED_UFUNCS", "TracedArray", "as_dtype", "tape_of", "traced_constructors", "value_of",
]

#: NumPy ufuncs recorded as ops: the registry's ops that are ufuncs.
TRACED_UFUNCS = frozenset(n for n in REGISTRY if isinstance(getattr(np, n, None), np.ufunc))
#: Ufuncs with zero derivative (piecewise constant): applied to the values, a constant.
_ZERO_UFUNCS = frozenset(
    "greater greater_equal less less_equal equal not_equal sign floor ceil trunc rint "
    "isnan isinf isfinite signbit logical_and logical_or logical_not logical_xor "
    "floor_divide".split()
)


def _binary(ufunc: np.ufunc, reflected: bool = False) -> Any:
    """The operator method ``x OP o`` (or ``o OP x`` when ``reflected``) as ``ufunc``."""

    def method(self, o):
        return ufunc(o, self) if reflected else ufunc(self, o)

    return method


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
        if name == "true_divide":
            name = "divide"
        if name not in TRACED_UFUNCS:
            if name in _ZERO_UFUNCS or all(t[-1] in "?bBhHiIlLqQ" for t in ufunc.types):
                return self._tape.derived(ufunc, inputs, kwargs)
            raise unsupported(f"np.{name}", name)
        if name == "matmul":
            return self._tape.matmul("matmul", inputs[0], inputs[1])
        return self._tape.apply(name, inputs, {})

    def __array_function__(self, func, types, args, kwargs):
        # handlers build on this class, so they are looked up here rather than imported above
        from chainorder.graph.handlers import FUNCTIONS

        handler = FUNCTIONS.get(func)
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

    def __complex__(self) -> complex:
        raise unsupported("complex() of a traced array")

    def __index__(self) -> int:
        raise unsupported("a traced array as an index or size (operator.index)")

    def __contains__(self, item) -> bool:
        raise unsupported("`in` on a traced array (use np.any(x == item))", "any")

    def __delitem__(self, key):
        raise unsupported("del x[...] on a traced array", "delete")

    def __copy__(self):
        return np.copy(self)

    def __deepcopy__(self, memo):
        return np.copy(self)

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

    def __floordiv__(self, o):
        return np.floor_divide(self, o)

    def __rfloordiv__(self, o):
        return np.floor_divide(o, self)

    def __mod__(self, o):
        return np.remainder(self, o)

    def __rmod__(self, o):
        return np.remainder(o, self)

    # divmod and the bitwise operators: NumPy's ufuncs (integer/boolean: zero derivative)
    __divmod__, __rdivmod__ = _binary(np.divmod), _binary(np.divmod, True)
    __and__, __rand__ = _binary(np.bitwise_and), _binary(np.bitwise_and, True)
    __or__, __ror__ = _binary(np.bitwise_or), _binary(np.bitwise_or, True)
    __xor__, __rxor__ = _binary(np.bitwise_xor), _binary(np.bitwise_xor, True)
    __lshift__, __rlshift__ = _binary(np.left_shift), _binary(np.left_shift, True)
    __rshift__, __rrshift__ = _binary(np.right_shift), _binary(np.right_shift, True)

    def __invert__(self):
        return np.invert(self)

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

    def __eq__(self, o):  # type: ignore[override]
        return np.equal(self, o)

    def __ne__(self, o):  # type: ignore[override]
        return np.not_equal(self, o)

    __hash__ = object.__hash__

    def __setitem__(self, key, value):
        raise unsupported("x[...] = value (in-place assignment; use np.where)", "put")

    def __getitem__(self, key):
        return self._tape.apply("getitem", (self,), {"key": _normalise_key(key)})

    # --- methods: each the NumPy function of the same name
    def sum(self, axis=None, dtype=None, out=None, keepdims=False):
        return np.sum(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims)

    def mean(self, axis=None, dtype=None, out=None, keepdims=False):
        return np.mean(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims)

    def prod(self, axis=None, dtype=None, out=None, keepdims=False):
        return np.prod(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims)

    def max(self, axis=None, out=None, keepdims=False):
        return np.max(self, axis=axis, out=out, keepdims=keepdims)

    def min(self, axis=None, out=None, keepdims=False):
        return np.min(self, axis=axis, out=out, keepdims=keepdims)

    def var(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
        return np.var(self, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims)

    def std(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
        return np.std(self, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims)

    def cumsum(self, axis=None, dtype=None, out=None):
        return np.cumsum(self, axis=axis, dtype=dtype, out=out)

    def cumprod(self, axis=None, dtype=None, out=None):
        return np.cumprod(self, axis=axis, dtype=dtype, out=out)

    def transpose(self, *axes):
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], tuple | list)):
            axes = axes[0]
        return np.transpose(self, axes or None)

    def reshape(self, *shape, order="C"):
        if len(shape) == 1 and isinstance(shape[0], tuple | list):
            shape = shape[0]
        return np.reshape(self, tuple(shape), order=order)

    def ravel(self, order="C"):
        return np.ravel(self, order)

    flatten = ravel

    def dot(self, other):
        return np.dot(self, other)

    def squeeze(self, axis=None):
        return np.squeeze(self, axis)

    def swapaxes(self, axis1, axis2):
        return np.swapaxes(self, axis1, axis2)

    def clip(self, min=None, max=None):
        return np.clip(self, min, max)

    def copy(self, order="C"):
        return np.copy(self)

    def astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True):
        return np.astype(self, dtype)

    def take(self, indices, axis=None, out=None, mode="raise"):
        return np.take(self, indices, axis=axis, out=out, mode=mode)

    def repeat(self, repeats, axis=None):
        return np.repeat(self, repeats, axis)

    def diagonal(self, offset=0, axis1=0, axis2=1):
        return np.diagonal(self, offset, axis1, axis2)

    def trace(self, offset=0, axis1=0, axis2=1, dtype=None, out=None):
        return np.trace(self, offset, axis1, axis2)

    def round(self, decimals=0, out=None):
        return self._tape.derived(np.round, (self, decimals))

    def argmax(self, axis=None, out=None, keepdims=False):
        return self._tape.derived(np.argmax, (self,), {"axis": axis, "keepdims": keepdims})

    def argmin(self, axis=None, out=None, keepdims=False):
        return self._tape.derived(np.argmin, (self,), {"axis": axis, "keepdims": keepdims})

    def argsort(self, axis=-1, kind=None, order=None):
        return self._tape.derived(np.argsort, (self,), {"axis": axis, "kind": kind})

    def nonzero(self):
        return self._tape.derived(np.nonzero, (self,))

    def all(self, axis=None, out=None, keepdims=False):
        return self._tape.derived(np.all, (self,), {"axis": axis, "keepdims": keepdims})

    def any(self, axis=None, out=None, keepdims=False):
        return self._tape.derived(np.any, (self,), {"axis": axis, "keepdims": keepdims})

    def sort(self, axis=-1, kind=None, order=None):
        raise unsupported("x.sort() (sorts in place; use y = np.sort(x))", "sort")


def as_dtype(x: Any, dtype: Any) -> Any:
    """``x.astype(dtype)``: the recomputable form of an integer or boolean cast (a guard).

    Examples
    --------
    >>> as_dtype(np.array([1.7, -0.2]), np.dtype(int))
    array([1, 0])
    """
    return np.asarray(x).astype(dtype)


def value_of(x: Any) -> Any:
    return x._value if isinstance(x, TracedArray) else x


def _normalise_key(key: Any) -> tuple:
    key = key if isinstance(key, tuple) else (key,)
    out = []
    for k in key:
        if isinstance(k, TracedArray) or (
            isinstance(k, slice)
            and any(isinstance(e, TracedArray) for e in (k.start, k.stop, k.step))
        ):
            raise unsupported("indexing with a traced array (indices must be constants)")
        if k is None or k is Ellipsis or isinstance(k, slice):
            out.append(k)
        elif isinstance(k, int | np.integer) and not isinstance(k, bool | np.bool_):
            out.append(int(k))
        else:
            arr = np.asarray(k)
            if not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == np.bool_):
                raise unsupported(f"indexing with {arr.dtype} values (use ints, slices, masks)")
            out.append(arr)
    return tuple(out)


def tape_of(*xs: Any) -> Tape:
    """The tape of the first traced array among ``xs``.

    Examples
    --------
    >>> from chainorder.graph.tape import Tape
    >>> t = Tape()
    >>> tape_of(1.0, t.add_input("x", np.ones(2), True)) is t
    True

    Notes
    -----
    O(len(xs)).
    """
    for x in xs:
        if isinstance(x, TracedArray):
            return x._tape
    raise AssertionError("no traced argument")  # pragma: no cover


@contextmanager
def traced_constructors() -> Iterator[None]:
    """Within the block, ``np.array`` / ``np.asarray`` of (nested) lists holding traced
    values record ``stack`` ops instead of failing (NumPy offers no protocol for them).

    Examples
    --------
    >>> with traced_constructors():
    ...     np.array([1.0, 2.0]).shape
    (2,)
    """
    from chainorder.graph.handlers import stack_nested

    originals = np.array, np.asarray, np.asanyarray

    def wrap(orig):
        def constructor(obj, *args, **kwargs):
            if isinstance(obj, TracedArray):
                dtype = kwargs.get("dtype", args[0] if args else None)
                if dtype is None or np.issubdtype(np.dtype(dtype), np.floating):
                    return obj
                return obj._tape.derived(as_dtype, (obj, np.dtype(dtype)))
            if isinstance(obj, list | tuple) and _holds_traced(obj):
                return stack_nested(obj)
            return orig(obj, *args, **kwargs)

        return constructor

    np.array, np.asarray, np.asanyarray = (wrap(o) for o in originals)
    try:
        yield
    finally:
        np.array, np.asarray, np.asanyarray = originals


def _holds_traced(obj: Any) -> bool:
    if isinstance(obj, TracedArray):
        return True
    return isinstance(obj, list | tuple) and any(_holds_traced(o) for o in obj)

"""The op registry itself: :class:`OpRule`, :data:`REGISTRY`, :func:`register`,
:func:`get_rule`, and the broadcasting helpers the rules share. The rules live in
:mod:`~chainorder.graph.ops.elementwise` and :mod:`~chainorder.graph.ops.linalg`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chainorder.graph.structure import EdgeStructure

__all__ = [
    "REGISTRY", "ZERO_DERIVATIVE", "Array", "OpRule", "Shape", "add_at", "broadcast_axes",
    "dense_copy", "eye_like", "get_rule", "namespace_of_array", "ones_like_shape", "register",
    "sum_axes", "writable",
]  # fmt: skip

Array = np.ndarray
Shape = tuple[int, ...]


@dataclass(frozen=True)
class OpRule:
    """Everything chainorder knows about one primitive op.

    Examples
    --------
    >>> rule = get_rule("tanh")
    >>> x = np.array([0.0, 1.0])
    >>> out = rule.forward(x)
    >>> rule.jvp(0, np.ones((1, 2)), (x,), out, {}).round(3)
    array([[1.  , 0.42]])
    >>> rule.jvp_cost(0, ((2,),), (2,), {})
    2
    """

    name: str
    forward: Callable[..., Any]
    jvp: Callable[[int, Array, tuple, Array, dict], Array]
    vjp: Callable[[int, Array, tuple, Array, dict], Array]
    structure: Callable[[int, tuple, Shape, dict], EdgeStructure]
    jvp_cost: Callable[[int, tuple, Shape, dict], int]
    vjp_cost: Callable[[int, tuple, Shape, dict], int]
    doc: str = ""
    nondiff_args: tuple[int, ...] = field(default=())
    spelling: str = ""
    partial: str = ""

    @property
    def api(self) -> str:
        """How user code writes the op: ``spelling`` when given, else ``np.NAME``."""
        return self.spelling or f"np.{self.name}"


REGISTRY: dict[str, OpRule] = {}

#: Functions whose derivative is zero wherever it exists (piecewise constant, integer or
#: boolean results): applied to traced values they return plain NumPy values, which the
#: rest of the trace uses as constants. Name → what it is.
ZERO_DERIVATIVE: dict[str, str] = {
    "sign": "np.sign",
    "floor": "np.floor",
    "ceil": "np.ceil",
    "trunc": "np.trunc",
    "rint": "np.rint",
    "round": "np.round / np.around / x.round()",
    "comparisons": "< <= > >= == != and np.greater, np.less, np.equal, ...",
    "logical": "np.logical_and/or/not/xor, np.isnan, np.isfinite, np.isinf",
    "argmax": "np.argmax / np.argmin / np.argsort / np.nonzero / np.where(cond)",
    "astype_int": "x.astype(int or bool dtype)",
}


def register(rule: OpRule) -> OpRule:
    """Add ``rule`` to :data:`REGISTRY` under ``rule.name`` and return it."""
    REGISTRY[rule.name] = rule
    return rule


def get_rule(name: str) -> OpRule:
    """The rule registered as ``name``; ``KeyError`` naming the known ops otherwise."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"no rule for op {name!r}; known: {', '.join(sorted(REGISTRY))}") from None


def size_of(shape: Shape) -> int:
    return math.prod(shape)


def as_array(x: Any, dtype: Any = None) -> Array:
    """``x`` as an array of its own namespace: a CuPy array stays on its device (where
    ``np.asarray`` would try to copy it to the host), anything else goes through NumPy.

    Examples
    --------
    >>> as_array([1, 2], dtype=float)
    array([1., 2.])
    """
    if hasattr(x, "__array_function__") and hasattr(x, "dtype"):
        return x if dtype is None or x.dtype == dtype else x.astype(dtype)
    return np.asarray(x, dtype=dtype)


def namespace_of_array(a: Any) -> Any:
    """The array namespace of ``a``: ``cupy`` for a CuPy array, else ``numpy``.

    Examples
    --------
    >>> namespace_of_array(np.ones(2)) is np
    True

    Notes
    -----
    O(1); CuPy is imported only when one of its arrays arrives.
    """
    if type(a) is np.ndarray or type(a).__module__.split(".")[0] != "cupy":
        return np
    import cupy

    return cupy


def eye_like(n: int, m: int | None = None, k: int = 0, *, like: Any) -> Array:
    """``eye(n, m, k)`` of floats in ``like``'s namespace (``np.eye(..., like=)`` hands
    CuPy a ``device`` keyword it refuses).

    Examples
    --------
    >>> eye_like(2, like=np.zeros(1))
    array([[1., 0.],
           [0., 1.]])
    """
    return namespace_of_array(like).eye(n, m, k=k, dtype=float)


def ones_like_shape(shape: Shape, dtype: Any, *, like: Any) -> Array:
    """``ones(shape, dtype)`` in ``like``'s namespace (see :func:`eye_like`).

    Examples
    --------
    >>> ones_like_shape((2,), float, like=np.zeros(1))
    array([1., 1.])
    """
    return namespace_of_array(like).ones(shape, dtype=dtype)


def add_at(a: Array, index: Any, values: Array) -> None:
    """Unbuffered ``a[index] += values`` (repeated indices add up): ``np.add.at``, or
    CuPy's own scatter-add for device arrays (CuPy's ufuncs do not take ``at`` through
    NumPy's protocol).

    Examples
    --------
    >>> a = np.zeros(3); add_at(a, np.array([0, 0, 2]), np.ones(3)); a
    array([2., 0., 1.])
    """
    xp = namespace_of_array(a)
    if xp is np:
        np.add.at(a, index, values)
    elif hasattr(xp, "add") and hasattr(xp.add, "at"):
        xp.add.at(a, index, values)
    else:  # older CuPy
        import cupyx

        cupyx.scatter_add(a, index, values)


def writable(a: Any) -> bool:
    """Whether ``a`` may be written in place: NumPy's flag; a device array only when it
    owns its memory (CuPy keeps no writeable flag and lets any view be written: a
    broadcast view, an ``einsum`` result that is one, or a view of a value) and no axis of
    more than one entry has stride 0.

    Examples
    --------
    >>> writable(np.ones(2)), writable(np.broadcast_to(np.ones(1), (2,)))
    (True, False)
    """
    if isinstance(a, np.ndarray):
        return bool(a.flags.writeable)
    flags = getattr(a, "flags", None)
    if not getattr(flags, "writeable", True) or not getattr(flags, "owndata", False):
        return False
    return all(s != 0 or n <= 1 for s, n in zip(a.strides, a.shape, strict=True))


# ----------------------------------------------------------------------------------------
# broadcasting helpers (batch axis 0 is never broadcast)


def bcast_tangent(t: Array, out_shape: Shape) -> Array:
    """Broadcast a batch of tangents ``(k, *in_shape)`` to ``(k, *out_shape)``."""
    k, in_shape = t.shape[0], t.shape[1:]
    pad = len(out_shape) - len(in_shape)
    t = t.reshape((k,) + (1,) * pad + in_shape)
    return np.broadcast_to(t, (k, *out_shape))


def sum_axes(a: Array, axes: tuple[int, ...], keepdims: bool = False) -> Array:
    """``a.sum(axis=axes, keepdims=keepdims)``; for a NumPy array as one ``einsum``.

    NumPy's ``sum`` over a short trailing axis runs its inner loop once per group (a
    ``(512, 32, 32)`` block summed over its last axis: 16,384 loops of 32, 0.43 ms), where
    ``einsum`` keeps the long axes inside (0.15 ms). The same additions, in another order
    (results agree to rounding). Other array types (CuPy) use their own ``sum``.

    Examples
    --------
    >>> sum_axes(np.arange(6.0).reshape(1, 2, 3), (2,), keepdims=True).tolist()
    [[[3.0], [12.0]]]
    """
    axes = tuple(sorted({int(x) % max(a.ndim, 1) for x in axes}))
    if type(a) is not np.ndarray or a.ndim > 26 or not axes or a.dtype.kind not in "fc":
        return a.sum(axis=axes, keepdims=keepdims)
    letters = "abcdefghijklmnopqrstuvwxyz"[: a.ndim]
    kept = "".join(ch for n, ch in enumerate(letters) if n not in axes)
    r = np.einsum(f"{letters}->{kept}", a)
    if keepdims:
        r = r.reshape(tuple(1 if n in axes else m for n, m in enumerate(a.shape)))
    return r


def dense_copy(a: Array) -> Array:
    """A new C-contiguous copy of ``a``; a broadcast NumPy view (stride-0 axes) is written
    by ``np.repeat`` of its base along those axes, not by NumPy's copy loop, which runs
    once per short group (``(1, 400, 400, 1)`` → ``(…, 2)``: 1.0 against 0.43 ms).

    Examples
    --------
    >>> dense_copy(np.broadcast_to(np.arange(2.0)[:, None], (2, 3))).tolist()
    [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]
    """
    wide = broadcast_axes(a)
    if not wide or type(a) is not np.ndarray:
        return a.copy()
    if wide == list(range(len(wide))):  # leading axes: copies of the tail, one repeat
        tail = np.ascontiguousarray(a[(0,) * len(wide)])
        count = math.prod(a.shape[: len(wide)])
        return np.repeat(tail[None], count, axis=0).reshape(a.shape)
    if len(wide) > 1:  # (repeat axis by axis would leave temporaries of its own)
        return a.copy()
    base = a[tuple(slice(0, 1) if ax in wide else slice(None) for ax in range(a.ndim))]
    return np.repeat(base, a.shape[wide[0]], axis=wide[0])


def broadcast_axes(a: Array) -> list[int]:
    """The axes along which ``a`` is a broadcast view (stride 0, length > 1).

    Examples
    --------
    >>> broadcast_axes(np.broadcast_to(np.ones(3), (2, 3)))
    [0]
    """
    strides = getattr(a, "strides", None)
    if strides is None:
        return []
    return [ax for ax, (n, st) in enumerate(zip(a.shape, strides, strict=True))
            if st == 0 and n > 1]  # fmt: skip


def unbroadcast(c: Array, in_shape: Shape) -> Array:
    """Sum a batch of cotangents ``(k, *out_shape)`` down to ``(k, *in_shape)``."""
    k = c.shape[0]
    pad = c.ndim - 1 - len(in_shape)
    axes = tuple(range(1, 1 + pad)) + tuple(
        i + 1 + pad for i, n in enumerate(in_shape) if n == 1 and c.shape[i + 1 + pad] != 1
    )
    if axes:
        c = sum_axes(c, axes)
    return c.reshape((k, *in_shape))

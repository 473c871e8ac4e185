"""A stand-in for CuPy on a machine without a GPU: device arrays that refuse host mixing.

CuPy's arrays differ from NumPy's in the ways that break code written for the host only:
they are a type of their own (``type(x).__module__ == "cupy"``); ``numpy.asarray`` of one
raises ``TypeError`` (no implicit device-to-host copy); a NumPy array among the operands of
a CuPy operation raises ``TypeError``; NumPy's functions and ufuncs called on them dispatch to
CuPy through ``__array_function__`` / ``__array_ufunc__``; reductions return 0-d arrays, not
scalars. This module reproduces exactly those rules over NumPy, so tests can check that a
code path keeps its values on the "device" and never mixes them with host arrays. It measures
nothing about speed or device memory (``cupy.cuda`` is absent).

Install it for one test with ``monkeypatch.setitem(sys.modules, "cupy", fake_cupy.module())``.
"""

from __future__ import annotations

import types
from typing import Any

import numpy as np

__all__ = ["HostMixingError", "module", "ndarray"]


class HostMixingError(TypeError):
    """A host (NumPy) array met a device array, or a device array was converted implicitly."""


def _unwrap(x: Any) -> Any:
    if isinstance(x, ndarray):
        return x._a
    if isinstance(x, np.ndarray):
        raise HostMixingError(f"Unsupported type {type(x)}: a host array among device arrays")
    if isinstance(x, tuple):
        return tuple(_unwrap(v) for v in x)
    if isinstance(x, list):
        return [_unwrap(v) for v in x]
    return x


def _wrap(r: Any) -> Any:
    if isinstance(r, np.ndarray):
        return ndarray(r)
    if isinstance(r, np.generic):  # CuPy's reductions return 0-d device arrays
        return ndarray(np.asarray(r))
    if isinstance(r, tuple):
        return tuple(_wrap(v) for v in r)
    if isinstance(r, list):
        return [_wrap(v) for v in r]
    return r


def _call(fn: Any, args: tuple, kwargs: dict) -> Any:
    return _wrap(fn(*_unwrap(args), **{k: _unwrap(v) for k, v in kwargs.items()}))


def _index(key: Any) -> Any:
    """Indices may be host arrays (CuPy copies them over); values may not."""
    if isinstance(key, ndarray):
        return key._a
    if isinstance(key, tuple):
        return tuple(_index(k) for k in key)
    return key


_COPIES_TO_DEVICE = (np.asarray, np.array, np.asanyarray, np.ascontiguousarray)


def _refuse_as_cupy_does(func: Any, args: tuple, kwargs: dict) -> None:
    """What CuPy 14 refused on an H200 where NumPy would go on (seen in this project's GPU
    run): NumPy's creation functions hand ``like=``'s module a ``device`` keyword that
    CuPy's ``eye``/``ones`` do not take; CuPy's ``take`` has no ``mode``; CuPy's ``solve``
    does not broadcast a stack of matrices against the right-hand sides' leading axes."""
    name = getattr(func, "__name__", str(func))
    if "device" in kwargs:
        raise TypeError(f"{name}() got an unexpected keyword argument 'device'")
    if func is np.take and "mode" in kwargs:
        raise TypeError("take() got an unexpected keyword argument 'mode'")
    if func is np.linalg.solve and len(args) == 2:
        a, b = (np.shape(x._a if isinstance(x, ndarray) else x) for x in args)
        if len(a) > 2 and len(b) > 2 and a[:-2] != b[:-2]:
            raise ValueError("a must have (..., M, M) shape and b must have (..., M, K) for "
                             "multidimensional b")


class ndarray:  # CuPy's name
    """A device array: a NumPy array behind a wall that host arrays may not cross."""

    __array_priority__ = 100.0

    def __init__(self, a: np.ndarray) -> None:
        self._a = a

    # --- what CuPy refuses -------------------------------------------------------------
    def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise HostMixingError("Implicit conversion to a NumPy array is not allowed; use .get()")

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if method == "at":  # np.add.at(device, ...): CuPy declines (use cupy.add.at)
            return NotImplemented
        if "out" in kwargs:
            outs = kwargs["out"]
            kwargs["out"] = tuple(o._a if isinstance(o, ndarray) else _unwrap(o) for o in outs)
            _call(getattr(ufunc, method), inputs, kwargs)
            return outs[0] if len(outs) == 1 else outs
        return _call(getattr(ufunc, method), inputs, kwargs)

    def __array_function__(self, func: Any, types_: Any, args: tuple, kwargs: dict) -> Any:
        _refuse_as_cupy_does(func, args, kwargs)
        if func in _COPIES_TO_DEVICE:  # np.asarray(host, like=device): CuPy copies it over
            a = args[0]._a if isinstance(args[0], ndarray) else args[0]
            dtype = kwargs.get("dtype", args[1] if len(args) > 1 else None)
            return ndarray(np.array(a, dtype=dtype))
        return _call(func, args, kwargs)

    # --- what CuPy allows ----------------------------------------------------------------
    def get(self) -> np.ndarray:
        return self._a.copy()

    def __getitem__(self, key: Any) -> Any:
        return _wrap(self._a[_index(key)])

    def __setitem__(self, key: Any, value: Any) -> None:
        self._a[_index(key)] = _unwrap(value)

    def __len__(self) -> int:
        return len(self._a)

    def __float__(self) -> float:
        return float(self._a)

    def __int__(self) -> int:
        return int(self._a)

    def __bool__(self) -> bool:
        return bool(self._a)

    def __index__(self) -> int:
        return self._a.__index__()

    def __repr__(self) -> str:
        return f"fake_cupy.{self._a!r}"

    def __getattr__(self, name: str) -> Any:  # shape, dtype, T, flags, sum, reshape, ...
        if name.startswith("__"):  # no __array_interface__, buffer or pickling protocol
            raise AttributeError(name)
        attr = getattr(self._a, name)
        if callable(attr):
            return lambda *args, **kwargs: _call(attr, args, kwargs)
        return _wrap(attr)


def _binary(name: str) -> Any:
    def op(self: ndarray, other: Any) -> Any:
        return _call(getattr(self._a, name), (other,), {})

    op.__name__ = name
    return op


for _name in (
    "add radd sub rsub mul rmul truediv rtruediv floordiv rfloordiv pow rpow matmul rmatmul "
    "mod rmod lt le gt ge eq ne and rand or ror iadd isub imul itruediv"
).split():
    setattr(ndarray, f"__{_name}__", _binary(f"__{_name}__"))
for _name in ("neg", "pos", "abs", "invert"):
    setattr(ndarray, f"__{_name}__", lambda self, _n=_name: _wrap(getattr(self._a, f"__{_n}__")()))
ndarray.__module__ = "cupy"


class _UFunc:
    def __init__(self, uf: np.ufunc) -> None:
        self._uf = uf
        self.__name__ = uf.__name__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _call(self._uf, args, kwargs)

    def __getattr__(self, name: str) -> Any:  # reduce, accumulate, at, outer
        if name == "at":  # cupy.add.at(device, index, values): in place, on the device
            return lambda a, index, values=None: self._uf.at(
                a._a, _index(index), *(() if values is None else (_unwrap(values),)))
        return lambda *args, **kwargs: _call(getattr(self._uf, name), args, kwargs)


def _namespace(source: types.ModuleType, name: str) -> types.ModuleType:
    mod = types.ModuleType(name)

    def lookup(attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        value = getattr(source, attr)
        if isinstance(value, np.ufunc):
            return _UFunc(value)
        if isinstance(value, type | types.ModuleType) or not callable(value):
            return value  # dtypes (cupy.float64 is numpy.float64), constants
        return lambda *args, **kwargs: _call(value, args, kwargs)

    mod.__getattr__ = lookup  # type: ignore[attr-defined]
    return mod


def _broadcast_to(a: Any, shape: Any) -> ndarray:
    if not isinstance(a, ndarray):  # CuPy: "Argument 'array' has incorrect type"
        raise TypeError(f"Argument 'array' has incorrect type (got {type(a).__name__})")
    return ndarray(np.broadcast_to(a._a, shape))


def module() -> types.ModuleType:
    """A fresh ``cupy`` stand-in module (``asarray`` copies host data to the "device").

    Examples
    --------
    >>> cp = module()
    >>> x = cp.asarray(np.arange(3.0))
    >>> float((x * 2).sum()), type(x).__module__
    (6.0, 'cupy')
    """
    cp = _namespace(np, "cupy")
    cp.ndarray = ndarray  # type: ignore[attr-defined]
    cp.asarray = lambda a, dtype=None: a if isinstance(a, ndarray) and dtype is None else (  # type: ignore[attr-defined]
        ndarray(np.array(a._a if isinstance(a, ndarray) else a, dtype=dtype))
    )
    cp.array = cp.asarray  # type: ignore[attr-defined]
    cp.asnumpy = lambda a: a.get() if isinstance(a, ndarray) else np.asarray(a)  # type: ignore[attr-defined]
    cp.get_array_module = lambda *args: cp  # type: ignore[attr-defined]
    cp.linalg = _namespace(np.linalg, "cupy.linalg")  # type: ignore[attr-defined]
    cp.broadcast_to = _broadcast_to  # type: ignore[attr-defined]
    cp.fake = True  # type: ignore[attr-defined]
    return cp


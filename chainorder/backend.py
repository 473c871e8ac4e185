"""Array namespaces: NumPy always; CuPy and Dask imported only when their arrays are asked for.

The executor never names an array library: it asks :func:`namespace_of` for the
:class:`Backend` of the arrays it was handed and uses only operations that NumPy and CuPy
share (``@``, ``*``, broadcasting, ``empty_like``, ufuncs with ``out=``). A CuPy array is
recognised by the top-level module of its type (``cupy``), so CuPy is imported only when
such an array arrives; NumPy arrays never trigger the import. ``dask.array`` arrays are
recognised the same way (top-level module ``dask``): with them the executor builds a lazy task
graph instead of computing (see :mod:`chainorder.dask_backend`).

Examples
--------
>>> import numpy as np
>>> namespace_of([np.ones(2), np.ones((2, 2))]).name
'numpy'
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from chainorder.errors import ExecutionError

__all__ = ["BACKEND_NAMES", "Backend", "get_backend", "namespace_of"]

#: Names accepted by :func:`get_backend` (and the CLI's ``--backend``).
BACKEND_NAMES: tuple[str, ...] = ("numpy", "cupy", "dask")


@dataclass(frozen=True, slots=True)
class Backend:
    """An array namespace and the few device operations the executor needs.

    Attributes
    ----------
    name : str
        ``"numpy"``, ``"cupy"`` or ``"dask"``.
    xp : module
        The array module itself (``numpy``, ``cupy`` or ``dask.array``).
    """

    name: str
    xp: ModuleType

    @property
    def is_gpu(self) -> bool:
        """True for CuPy (arrays live on an NVIDIA GPU)."""
        return self.name == "cupy"

    def synchronize(self) -> None:
        """Wait for queued device work (a no-op for NumPy); call before reading a clock."""
        if self.is_gpu:
            self.xp.cuda.get_current_stream().synchronize()

    def asarray(self, array: Any, dtype: object = None) -> Any:
        """``array`` as an array of this namespace (copied to the device for CuPy)."""
        return self.xp.asarray(array, dtype=dtype)

    def to_numpy(self, array: Any) -> np.ndarray:
        """A NumPy copy (or view, for NumPy) of ``array``, for comparisons and printing."""
        if self.name == "dask":
            return np.asarray(array.compute())
        if self.is_gpu:
            return self.xp.asnumpy(array)
        return np.asarray(array)


_NUMPY = Backend("numpy", np)


def _import_cupy() -> ModuleType:
    try:
        return importlib.import_module("cupy")
    except ImportError as exc:
        raise ExecutionError(
            "the cupy backend needs CuPy and an NVIDIA GPU: pip install "
            f"'jacobian-chainorder[gpu]' ({exc})"
        ) from None


def _import_dask() -> ModuleType:
    try:
        return importlib.import_module("dask.array")
    except ImportError as exc:
        raise ExecutionError(
            f"the dask backend needs dask.array: pip install 'jacobian-chainorder[dask]' ({exc})"
        ) from None


def get_backend(name: str) -> Backend:
    """The backend called ``name`` (``"numpy"``, ``"cupy"`` or ``"dask"``).

    Raises
    ------
    ExecutionError
        Unknown name, or ``"cupy"``/``"dask"`` when the library cannot be imported.

    Examples
    --------
    >>> get_backend("numpy").xp.__name__
    'numpy'

    Notes
    -----
    O(1); imports CuPy (Dask) on the first ``"cupy"`` (``"dask"``) request only.
    """
    key = str(name).strip().lower()
    if key == "numpy":
        return _NUMPY
    if key == "cupy":
        return Backend("cupy", _import_cupy())
    if key == "dask":
        return Backend("dask", _import_dask())
    raise ExecutionError(f"unknown backend {name!r}; expected one of: {', '.join(BACKEND_NAMES)}")


def _kind(array: object) -> str | None:
    """``"cupy"``, ``"dask"``, ``"numpy"`` or None (not an array we accept), importing nothing."""
    root = type(array).__module__.partition(".")[0]
    if root == "cupy":
        return "cupy"
    if root == "dask" and type(array).__name__ == "Array":
        return "dask"
    if isinstance(array, np.ndarray):
        return "numpy"
    return None


def namespace_of(arrays: Iterable[object], what: str = "J") -> Backend:
    """The single namespace of ``arrays``; mixed or foreign arrays are an error.

    Parameters
    ----------
    arrays : iterable of arrays
        NumPy, CuPy or ``dask.array`` arrays (all of the same library).
    what : str
        Prefix for error messages (``"J"`` names the items ``J1, J2, ...``).

    Returns
    -------
    Backend

    Raises
    ------
    ExecutionError
        An item that is not a NumPy, CuPy or Dask array (lists, scalars, other libraries),
        or a mix of libraries; the message names the offending items.

    Examples
    --------
    >>> import numpy as np
    >>> namespace_of([np.ones(3)]).name
    'numpy'
    >>> namespace_of([np.ones(3), [1.0, 2.0]])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    chainorder.errors.ExecutionError: J2 is a list, not an array: expected a numpy.ndarray...

    Notes
    -----
    O(n) for n arrays; CuPy (Dask) is imported only when such an array is among them.
    """
    first: tuple[str, int] | None = None
    for position, array in enumerate(arrays, start=1):
        kind = _kind(array)
        if kind is None:
            raise ExecutionError(
                f"{what}{position} is a {type(array).__name__}, not an array: expected a "
                "numpy.ndarray, cupy.ndarray or dask.array.Array"
            )
        if first is None:
            first = (kind, position)
        elif kind != first[0]:
            raise ExecutionError(
                f"mixed array namespaces: {what}{first[1]} is a {first[0]} array but "
                f"{what}{position} is a {kind} array; pass all arrays from one library"
            )
    if first is None or first[0] == "numpy":
        return _NUMPY
    return get_backend(first[0])

"""Array namespaces: NumPy always, CuPy imported only when a CuPy array (or backend) is asked for.

The executor never names an array library: it asks :func:`namespace_of` for the
:class:`Backend` of the arrays it was handed and uses only operations that NumPy and CuPy
share (``@``, ``*``, broadcasting, ``empty_like``, ufuncs with ``out=``). A CuPy array is
recognised by the top-level module of its type (``cupy``), so CuPy is imported only when
such an array arrives; NumPy arrays never trigger the import.

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
BACKEND_NAMES: tuple[str, ...] = ("numpy", "cupy")


@dataclass(frozen=True, slots=True)
class Backend:
    """An array namespace and the few device operations the executor needs.

    Attributes
    ----------
    name : str
        ``"numpy"`` or ``"cupy"``.
    xp : module
        The array module itself (``numpy`` or ``cupy``).
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


def get_backend(name: str) -> Backend:
    """The backend called ``name`` (``"numpy"`` or ``"cupy"``).

    Raises
    ------
    ExecutionError
        Unknown name, or ``"cupy"`` when CuPy cannot be imported.

    Examples
    --------
    >>> get_backend("numpy").xp.__name__
    'numpy'

    Notes
    -----
    O(1); imports CuPy on the first ``"cupy"`` request only.
    """
    key = str(name).strip().lower()
    if key == "numpy":
        return _NUMPY
    if key == "cupy":
        return Backend("cupy", _import_cupy())
    raise ExecutionError(f"unknown backend {name!r}; expected one of: {', '.join(BACKEND_NAMES)}")


def _kind(array: object) -> str | None:
    """``"cupy"``, ``"numpy"`` or None (not an array we accept), without importing CuPy."""
    root = type(array).__module__.partition(".")[0]
    if root == "cupy":
        return "cupy"
    if isinstance(array, np.ndarray):
        return "numpy"
    return None


def namespace_of(arrays: Iterable[object], what: str = "J") -> Backend:
    """The single namespace of ``arrays``; mixed or foreign arrays are an error.

    Parameters
    ----------
    arrays : iterable of arrays
        NumPy or CuPy arrays (all of the same library).
    what : str
        Prefix for error messages (``"J"`` names the items ``J1, J2, ...``).

    Returns
    -------
    Backend

    Raises
    ------
    ExecutionError
        An item that is not a NumPy or CuPy array (lists, scalars, other libraries), or a
        mix of NumPy and CuPy arrays; the message names the offending items.

    Examples
    --------
    >>> import numpy as np
    >>> namespace_of([np.ones(3)]).name
    'numpy'
    >>> namespace_of([np.ones(3), [1.0, 2.0]])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    chainorder.errors.ExecutionError: J2 is a list, not an array: expected a numpy.ndarray ...

    Notes
    -----
    O(n) for n arrays; CuPy is imported only when a CuPy array is among them.
    """
    first: tuple[str, int] | None = None
    for position, array in enumerate(arrays, start=1):
        kind = _kind(array)
        if kind is None:
            raise ExecutionError(
                f"{what}{position} is a {type(array).__name__}, not an array: expected a "
                "numpy.ndarray or cupy.ndarray"
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
    return Backend("cupy", _import_cupy())

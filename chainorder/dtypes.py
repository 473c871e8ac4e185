"""Numeric dtypes: the one place a dtype name becomes a NumPy dtype (bytes per element)."""

from __future__ import annotations

import numpy as np

from chainorder.errors import DtypeError

__all__ = ["as_dtype"]


def as_dtype(value: object) -> np.dtype:
    """A numeric NumPy dtype from a name or dtype; :class:`DtypeError` otherwise.

    Examples
    --------
    >>> as_dtype("float32").itemsize
    4

    Notes
    -----
    O(1).
    """
    try:
        dt = np.dtype(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise DtypeError(
            f"unknown dtype {value!r}; expected a numeric dtype such as float64, float32, "
            "complex128"
        ) from None
    if dt.kind not in "fc":
        raise DtypeError(
            f"dtype {dt.name!r} is not a floating or complex dtype; Jacobians need one of "
            "float16, float32, float64, complex64, complex128"
        )
    return dt

"""Argument checks shared by the library: seeds, tolerances and steps, with one-line errors.

Each check returns the value in its canonical type or raises :class:`~chainorder.errors.SpecError`
(a value out of range) / :class:`~chainorder.errors.SpecTypeError` (a value of the wrong type),
naming the argument and the value given. This module sits at the bottom of the package (it
imports only :mod:`chainorder.errors` and NumPy), so any layer may use it.
"""

from __future__ import annotations

import math

import numpy as np

from chainorder.errors import SpecError, SpecTypeError

__all__ = ["as_nonnegative_int", "as_positive_float"]


def as_nonnegative_int(value: object, name: str = "seed") -> int:
    """``value`` as a non-negative Python int (a seed, a count of restarts, ...).

    Parameters
    ----------
    value : object
        What the caller passed.
    name : str
        The argument's name, for the message.

    Returns
    -------
    int

    Raises
    ------
    SpecTypeError
        Not an integer (``bool`` counts as not an integer).
    SpecError
        Negative.

    Examples
    --------
    >>> as_nonnegative_int(np.int64(7))
    7
    >>> for bad in (-3, 2.0):
    ...     try:
    ...         as_nonnegative_int(bad, "restarts")
    ...     except (TypeError, ValueError) as exc:
    ...         print(type(exc).__name__, exc)
    SpecError restarts must be a non-negative integer, got -3
    SpecTypeError restarts must be a non-negative integer, got 2.0

    Notes
    -----
    O(1).
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise SpecTypeError(f"{name} must be a non-negative integer, got {value!r}")
    if value < 0:
        raise SpecError(f"{name} must be a non-negative integer, got {value}")
    return int(value)


def as_positive_float(value: object, name: str, *, allow_zero: bool = False) -> float:
    """``value`` as a finite float that is positive (or, with ``allow_zero``, non-negative).

    Parameters
    ----------
    value : object
        What the caller passed (a tolerance, a finite-difference step, ...).
    name : str
        The argument's name, for the message.
    allow_zero : bool
        Accept ``0`` (e.g. an absolute tolerance).

    Returns
    -------
    float

    Raises
    ------
    SpecTypeError
        Not a real number (``bool`` and strings count as not a number).
    SpecError
        NaN, infinite, negative, or zero when ``allow_zero`` is false.

    Examples
    --------
    >>> as_positive_float(1e-6, "rtol"), as_positive_float(0, "atol", allow_zero=True)
    (1e-06, 0.0)
    >>> try:
    ...     as_positive_float(float("nan"), "rtol")
    ... except ValueError as exc:
    ...     print(exc)
    rtol must be a positive finite number, got nan

    Notes
    -----
    O(1).
    """
    what = "a non-negative" if allow_zero else "a positive"
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise SpecTypeError(f"{name} must be {what} finite number, got {value!r}")
    try:
        number = float(value)
    except OverflowError:  # an int beyond the float range
        number = math.inf
    if not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        raise SpecError(f"{name} must be {what} finite number, got {value}")
    return number

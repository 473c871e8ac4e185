"""Validation of chain widths: positive integers of at most :data:`MAX_WIDTH_DIGITS` digits.

Split from :mod:`chainorder.chain`; the fast paths check 10⁶ plain ints in one pass of C loops.
"""

from __future__ import annotations

import operator
import re

from chainorder.errors import SpecError, SpecTypeError

__all__ = ["MAX_WIDTH_DIGITS", "as_width", "check_dims", "check_size"]

#: Widths have at most this many decimal digits, so every cost (a sum of products of three
#: widths) stays printable as an exact decimal integer (Python's limit is 4300 digits).
MAX_WIDTH_DIGITS = 1000
_WIDTH_LIMIT = 10**MAX_WIDTH_DIGITS


def as_width(value: object, index: int, position: int | None = None) -> int:
    """``value`` as a width (a positive int), or a SpecError/SpecTypeError naming it.

    Examples
    --------
    >>> as_width("007", 0), as_width(5, 1)
    (7, 5)

    Notes
    -----
    O(digits).
    """
    where = f"width at position {position}" if position is not None else f"d_{index}"
    if isinstance(value, bool):
        raise SpecTypeError(f"{where} is a bool ({value!r}); expected a positive integer")
    if isinstance(value, str):
        text = value.strip()
        if not re.fullmatch(r"[+-]?\d+", text):
            raise SpecError(f"{where} is {value!r}; expected a positive integer width")
        if len(text.lstrip("+-0")) > MAX_WIDTH_DIGITS:
            check_size(_WIDTH_LIMIT, where)
        number = int(text)
    else:
        try:
            number = operator.index(value)  # Python and NumPy integers, never floats
        except TypeError:
            if isinstance(value, float) and value.is_integer():
                raise SpecTypeError(
                    f"{where} is the float {value!r}; expected an integer width"
                ) from None
            raise SpecTypeError(
                f"{where} is {value!r} ({type(value).__name__}); expected a positive integer"
            ) from None
    if number < 1:
        raise SpecError(f"{where} is {number}; widths must be positive integers (>= 1)")
    check_size(number, where)
    return int(number)


def check_size(number: int, where: str) -> None:
    """Refuse a width of more than :data:`MAX_WIDTH_DIGITS` digits.

    Examples
    --------
    >>> check_size(10**6, "d_0")

    Notes
    -----
    O(1).
    """
    if number >= _WIDTH_LIMIT:
        raise SpecError(
            f"{where} has more than {MAX_WIDTH_DIGITS} digits; widths of at most "
            f"{MAX_WIDTH_DIGITS} digits are supported"
        )


def check_dims(dims: tuple[int, ...]) -> None:
    """Refuse fewer than two widths or any width that is not a positive int.

    Examples
    --------
    >>> check_dims((3, 4))

    Notes
    -----
    O(L); plain ints are checked in one pass of C loops (10⁶ widths in milliseconds).
    """
    if len(dims) < 2:
        raise SpecError(f"a chain needs at least two widths d_0, d_1 (one link); got {len(dims)}")
    if all(type(d) is int for d in dims) and min(dims) >= 1 and max(dims) < _WIDTH_LIMIT:
        return  # the common case in one pass of C loops
    for i, d in enumerate(dims):
        if not isinstance(d, int) or isinstance(d, bool):
            raise SpecTypeError(f"d_{i} is {d!r}; expected a positive integer")
        if d < 1:
            raise SpecError(f"d_{i} is {d}; widths must be positive integers (>= 1)")
        check_size(d, f"d_{i}")

"""Numbers with their units: the one formatter of counts and bytes, and the one bytes parser.

The ground floor of the house: library error messages (memory guard, refusals) and every
report table use these, so a byte count reads the same everywhere. Integers of any size are
handled exactly (no conversion to float that could overflow).
"""

from __future__ import annotations

import re

from chainorder.errors import SpecError

__all__ = ["BINARY_PREFIXES", "format_bytes", "format_count", "parse_bytes"]

#: Binary prefixes accepted on input and used on output, with their multipliers.
BINARY_PREFIXES: dict[str, int] = {
    "B": 1,
    "KiB": 1024,
    "MiB": 1024**2,
    "GiB": 1024**3,
    "TiB": 1024**4,
    "PiB": 1024**5,
    "EiB": 1024**6,
}

_EXACT_DIGITS = 18  # counts below 10^18 are printed exactly, with separators


def _scientific(n: int, digits: int = 4) -> str:
    """``n`` in scientific notation from its decimal digits (no float, any size)."""
    sign = "-" if n < 0 else ""
    text = str(abs(n))
    exponent = len(text) - 1
    rounded = int(text[:digits].ljust(digits, "0"))
    if len(text) > digits and int(text[digits]) >= 5:
        rounded += 1
    if rounded >= 10**digits:  # 9.9995e… rounds up to 1.000e…+1
        rounded //= 10
        exponent += 1
    mantissa = str(rounded)
    return f"{sign}{mantissa[0]}.{mantissa[1:]}e+{exponent:02d}"


def format_count(n: int) -> str:
    """An exact integer with thousands separators; scientific from 10^18 on.

    Examples
    --------
    >>> format_count(6635520)
    '6,635,520'
    >>> format_count(12 * 10**27)
    '1.200e+28'
    >>> format_count(10**400)
    '1.000e+400'

    Notes
    -----
    O(number of digits); never converts to float, so any size formats.
    """
    if abs(n) < 10**_EXACT_DIGITS:
        return f"{n:,}"
    return _scientific(n)


def format_bytes(n: int) -> str:
    """Bytes with binary prefixes, three significant figures; plain bytes below 1 KiB.

    Examples
    --------
    >>> format_bytes(512), format_bytes(6635520), format_bytes(3 * 1024**3)
    ('512 B', '6.33 MiB', '3 GiB')
    >>> format_bytes(10**30)
    '8.67e+11 EiB'

    Notes
    -----
    O(number of digits); exact integer arithmetic up to the choice of prefix.
    """
    magnitude = abs(n)
    if magnitude < 1024:
        return f"{n} B"
    units = list(BINARY_PREFIXES.items())
    for unit, size in units[1:]:
        if magnitude < size * 1024 or unit == units[-1][0]:
            whole = magnitude // size
            if whole >= 10**15:  # beyond float's exact range: scientific on the integer
                return f"{'-' if n < 0 else ''}{_scientific(whole, 3)} {unit}"
            value = magnitude / size
            return f"{'-' if n < 0 else ''}{value:.3g} {unit}"
    raise AssertionError("unreachable")


_BYTES = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGTPE]i?B?|B)?\s*$", re.IGNORECASE)


def parse_bytes(text: str | int) -> int:
    """A byte count from ``"64MiB"``, ``"2GiB"``, ``"1.5 GiB"`` or plain ``"4096"``.

    Binary prefixes only (``KiB``, ``MiB``, ``GiB``, ``TiB``, ``PiB``, ``EiB``; ``K``/``KB``
    read as KiB and so on, case-insensitive): a byte count is about memory, and memory
    comes in powers of two.

    Parameters
    ----------
    text : str or int
        The size; an ``int`` is taken as bytes.

    Returns
    -------
    int
        Bytes, rounded down to a whole byte.

    Raises
    ------
    SpecError
        Empty, negative, zero, non-numeric or with an unknown unit.

    Examples
    --------
    >>> parse_bytes("64MiB"), parse_bytes("2 GiB"), parse_bytes("4096"), parse_bytes("1.5k")
    (67108864, 2147483648, 4096, 1536)

    Notes
    -----
    O(len(text)).
    """
    if isinstance(text, bool):
        raise SpecError(f"a memory size must be bytes like 64MiB or 2GiB, got {text!r}")
    if isinstance(text, int):
        value = text
    elif isinstance(text, str) and (m := _BYTES.match(text)):
        number, unit = m.group(1), (m.group(2) or "B").upper()
        prefix = unit[0]
        size = 1 if unit == "B" else BINARY_PREFIXES[f"{prefix}iB"]
        whole, _, frac = number.partition(".")
        value = int(whole) * size + (int(frac) * size // 10 ** len(frac) if frac else 0)
    else:
        raise SpecError(
            f"cannot read {text!r} as a memory size; expected bytes like 64MiB, 2GiB or 4096"
        )
    if value <= 0:
        raise SpecError(f"a memory size must be positive, got {text!r}")
    return value

"""The chain model: layer widths d_0..d_L and the structure of every link.

Link ``l`` (1-based, as in the lecture notes) is the Jacobian ``J_l`` of layer ``l``, of shape
``(d_l, d_{l-1})``. Its :class:`Structure` says how it is stored and what products with it
cost: ``dense`` (a full matrix) or ``diagonal`` (an elementwise operation such as tanh, stored
as the vector of its diagonal, which needs ``d_l == d_{l-1}``).

No numerics live here: parsing and validation only.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from chainorder.chain_checks import MAX_WIDTH_DIGITS, as_width, check_dims
from chainorder.errors import SpecError, SpecTypeError

__all__ = ["ELEMENTWISE_WORDS", "MAX_WIDTH_DIGITS", "Chain", "Link", "Structure", "as_chain"]


class Structure(str, enum.Enum):
    """How a link (or a product of links) is stored.

    ``DENSE`` holds ``rows × cols`` numbers; ``DIAGONAL`` holds the ``rows`` numbers of its
    diagonal (square only). Product costs by structure live in :mod:`chainorder.cost`.
    """

    DENSE = "dense"
    DIAGONAL = "diagonal"

    def elements(self, rows: int, cols: int) -> int:
        """Number of stored elements of a ``rows × cols`` array of this structure."""
        return rows if self is Structure.DIAGONAL else rows * cols


#: Words accepted in a spec as an elementwise (diagonal) link at the current width.
ELEMENTWISE_WORDS: tuple[str, ...] = (
    "diag",
    "elementwise",
    "tanh",
    "relu",
    "sigmoid",
    "gelu",
    "softplus",
    "sin",
    "cos",
    "exp",
    "square",
    "identity",
)


@dataclass(frozen=True, slots=True)
class Link:
    """One Jacobian ``J_index`` of shape ``(rows, cols) = (d_index, d_{index-1})``."""

    index: int
    rows: int
    cols: int
    structure: Structure
    name: str

    @property
    def shape(self) -> tuple[int, int]:
        """``(d_l, d_{l-1})``."""
        return (self.rows, self.cols)

    @property
    def elements(self) -> int:
        """Stored elements: ``rows·cols`` if dense, ``rows`` if diagonal."""
        return self.structure.elements(self.rows, self.cols)




@dataclass(frozen=True, slots=True)
class Chain:
    """A chain of Jacobians ``J_L ⋯ J_1`` described by widths and link structures.

    Parameters
    ----------
    dims : tuple of int
        Widths ``d_0..d_L``, each a positive Python int, ``L >= 1``.
    structures : tuple of Structure
        One per link, ``structures[l-1]`` for ``J_l``.
    names : tuple of str
        One label per link (``"dense"``, ``"tanh"``, ...), used for display and by
        :mod:`chainorder.nets` to pick the activation.

    Examples
    --------
    >>> c = Chain.parse("784,512,tanh,512,tanh,10")
    >>> c.dims
    (784, 512, 512, 512, 512, 10)
    >>> [link.structure.value for link in c.links]
    ['dense', 'diagonal', 'dense', 'diagonal', 'dense']
    >>> c.n_links
    5
    """

    dims: tuple[int, ...]
    structures: tuple[Structure, ...]
    names: tuple[str, ...]

    def __post_init__(self) -> None:
        check_dims(self.dims)
        if len(self.structures) != len(self.dims) - 1 or len(self.names) != len(self.structures):
            raise SpecError(
                f"a chain with {len(self.dims)} widths has {len(self.dims) - 1} links, "
                f"got {len(self.structures)} structures and {len(self.names)} names"
            )
        if all(s is Structure.DENSE for s in self.structures):
            return
        for l, s in enumerate(self.structures, start=1):
            if not isinstance(s, Structure):
                raise SpecTypeError(f"structure of link {l} must be a Structure, got {s!r}")
            if s is Structure.DIAGONAL and self.dims[l] != self.dims[l - 1]:
                raise SpecError(
                    f"link {l} is diagonal but has shape ({self.dims[l]}, {self.dims[l - 1]}); "
                    "a diagonal (elementwise) link must be square"
                )

    # construction -------------------------------------------------------------------------
    @classmethod
    def from_dims(
        cls,
        dims: Iterable[int],
        structures: Iterable[Structure | str] | None = None,
        names: Iterable[str] | None = None,
    ) -> Chain:
        """Build a chain from widths and, optionally, link structures.

        Parameters
        ----------
        dims : iterable of int
            ``d_0..d_L`` with ``L >= 1``; positive integers (Python or NumPy ints).
        structures : iterable of Structure or str, optional
            ``"dense"`` or ``"diagonal"`` per link; all dense when omitted.
        names : iterable of str, optional
            Display labels; default to the structure's value.

        Returns
        -------
        Chain

        Raises
        ------
        SpecError
            Fewer than two widths, a width below 1, a non-square diagonal link, or a wrong
            number of structures.
        SpecTypeError
            A width that is not an integer (floats and bools are refused, not rounded).

        Examples
        --------
        >>> Chain.from_dims([30, 35, 15]).n_links
        2
        >>> Chain.from_dims([4, 4, 2], ["diagonal", "dense"]).links[0].elements
        4

        Notes
        -----
        O(L) time and memory.
        """
        values = _materialise(dims)
        if all(type(v) is int for v in values):  # checked by _check_dims in one pass
            widths = tuple(values)
        else:
            widths = tuple(as_width(v, i) for i, v in enumerate(values))
        if structures is None:
            structs = (Structure.DENSE,) * max(len(widths) - 1, 0)
        else:
            structs = tuple(_as_structure(s, l) for l, s in enumerate(structures, start=1))
        labels = tuple(names) if names is not None else tuple(s.value for s in structs)
        return cls(widths, structs, labels)

    @classmethod
    def parse(cls, spec: str | Sequence[int | str]) -> Chain:
        """Parse a compact chain spec.

        Plain numbers are widths; a word from :data:`ELEMENTWISE_WORDS` (``tanh``, ``relu``,
        ``sigmoid``, ``diag``, ...) inserts an elementwise (diagonal) link at the current width.
        Items are separated by commas and/or whitespace.

        Parameters
        ----------
        spec : str or sequence of int/str
            For example ``"784,512,tanh,512,tanh,10"`` or ``[784, 512, "tanh", 10]``.

        Returns
        -------
        Chain

        Raises
        ------
        SpecError
            Empty spec, one width only, a zero/negative/non-integer width, an unknown word, or
            an elementwise word before any width.

        Examples
        --------
        >>> Chain.parse("4 3, relu 2").dims
        (4, 3, 3, 2)
        >>> Chain.parse("tanh,3")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        chainorder.errors.SpecError: 'tanh' at position 1 has no width before it: ...

        Notes
        -----
        O(len(spec)) time.
        """
        items = _tokens(spec)
        if not items:
            raise SpecError("empty chain spec: expected widths d_0..d_L such as 784,512,10")
        dims: list[int] = []
        structs: list[Structure] = []
        names: list[str] = []
        for pos, item in enumerate(items, start=1):
            fast = type(item) is str and item.isdigit() and item.isascii() and len(item) < 99
            if fast and int(item) >= 1:  # the common case, plain digits: no regex
                structs.extend((Structure.DENSE,) if dims else ())
                names.extend(("dense",) if dims else ())
                dims.append(int(item))
            elif isinstance(item, str) and _is_word(item):
                word = item.lower()
                if word not in ELEMENTWISE_WORDS:
                    raise SpecError(
                        f"unknown word {item!r} at position {pos}: expected a positive integer "
                        f"width or one of {', '.join(ELEMENTWISE_WORDS)}"
                    )
                if not dims:
                    raise SpecError(
                        f"{item!r} at position {pos} has no width before it: an elementwise "
                        "link needs the current width (put a number first)"
                    )
                dims.append(dims[-1])
                structs.append(Structure.DIAGONAL)
                names.append(word)
            else:
                width = as_width(item, pos - 1, position=pos)
                if dims:
                    structs.append(Structure.DENSE)
                    names.append("dense")
                dims.append(width)
        if len(dims) < 2:
            raise SpecError(
                f"a chain needs at least two widths d_0, d_1 (one link); got {len(dims)} in "
                f"{_show(spec)!r}"
            )
        return cls(tuple(dims), tuple(structs), tuple(names))

    # views --------------------------------------------------------------------------------
    @property
    def n_links(self) -> int:
        """``L``, the number of links."""
        return len(self.dims) - 1

    @property
    def links(self) -> tuple[Link, ...]:
        """The links ``J_1..J_L`` as :class:`Link` records."""
        d = self.dims
        return tuple(
            Link(l, d[l], d[l - 1], self.structures[l - 1], self.names[l - 1])
            for l in range(1, len(d))
        )

    def link(self, l: int) -> Link:
        """The link ``J_l`` (1-based)."""
        if not 1 <= l <= self.n_links:
            raise IndexError(f"link {l} out of range 1..{self.n_links}")
        return Link(l, self.dims[l], self.dims[l - 1], self.structures[l - 1], self.names[l - 1])

    @property
    def is_dense(self) -> bool:
        """True when every link is dense."""
        return all(s is Structure.DENSE for s in self.structures)

    def spec(self) -> str:
        """The compact spec that :meth:`parse` turns back into this chain.

        Examples
        --------
        >>> Chain.parse("784 512 tanh 10").spec()
        '784,512,tanh,10'
        """
        parts = [str(self.dims[0])]
        for l, s in enumerate(self.structures, start=1):
            if s is Structure.DIAGONAL:
                name = self.names[l - 1]
                parts.append(name if name in ELEMENTWISE_WORDS else "diag")
            else:
                parts.append(str(self.dims[l]))
        return ",".join(parts)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready description: dims, structures and names."""
        return {
            "dims": list(self.dims),
            "structures": [s.value for s in self.structures],
            "names": list(self.names),
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Chain:
        """Inverse of :meth:`to_dict`."""
        try:
            return cls.from_dims(data["dims"], data["structures"], data["names"])  # type: ignore[arg-type]
        except (KeyError, TypeError) as exc:
            raise SpecError(f"malformed chain description: {exc}") from None


def as_chain(value: Chain | str | Sequence[int | str]) -> Chain:
    """Accept a :class:`Chain`, a spec string, or a sequence of widths/words.

    Examples
    --------
    >>> as_chain([30, 35, 15]).dims
    (30, 35, 15)

    Notes
    -----
    O(L) time.
    """
    if isinstance(value, Chain):
        return value
    if isinstance(value, str | list | tuple) or _is_array_like(value):
        return Chain.parse(value)  # type: ignore[arg-type]
    raise SpecTypeError(
        f"expected a Chain, a spec string like '784,512,10' or a sequence of widths; "
        f"got {type(value).__name__}"
    )


# helpers ------------------------------------------------------------------------------------
def _is_array_like(value: object) -> bool:
    return hasattr(value, "__len__") and hasattr(value, "__getitem__") and hasattr(value, "dtype")


def _materialise(dims: Iterable[int]) -> list[object]:
    if isinstance(dims, str):
        raise SpecTypeError("dims must be a sequence of integers; use Chain.parse for a string")
    try:
        return list(dims)
    except TypeError:
        kind = type(dims).__name__
        raise SpecTypeError(f"dims must be a sequence of integers, got {kind}") from None


def _string_tokens(text: str, before: int = 0) -> list[object]:
    """Items of a spec string; an empty comma-separated field is an error naming its position."""
    if not text.strip():
        return []
    out: list[object] = []
    for field_text in text.split(","):
        words = field_text.split()
        if not words:
            raise SpecError(
                f"empty item at position {before + len(out) + 1} in {text.strip()!r}: "
                "expected a width or an elementwise word between the commas"
            )
        out.extend(words)
    return out


def _tokens(spec: str | Sequence[int | str]) -> list[object]:
    if isinstance(spec, str):
        return _string_tokens(spec)
    if _is_array_like(spec):
        return list(spec.tolist())  # type: ignore[union-attr]
    if isinstance(spec, list | tuple):
        out: list[object] = []
        for item in spec:
            if isinstance(item, str):
                out.extend(_string_tokens(item, len(out)))
            else:
                out.append(item)
        return out
    raise SpecTypeError(f"a chain spec must be a string or a sequence, got {type(spec).__name__}")


def _is_word(token: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", token))


def _show(spec: object) -> str:
    return spec if isinstance(spec, str) else ",".join(map(str, spec))  # type: ignore[call-overload]


def _as_structure(value: Structure | str, l: int) -> Structure:
    if isinstance(value, Structure):
        return value
    if isinstance(value, str):
        key = value.strip().lower()
        if key in ("dense", "full"):
            return Structure.DENSE
        if key in ("diagonal", "diag", "elementwise") or key in ELEMENTWISE_WORDS:
            return Structure.DIAGONAL
    raise SpecError(f"structure of link {l} is {value!r}; expected 'dense' or 'diagonal'")

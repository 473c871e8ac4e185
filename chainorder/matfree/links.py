"""The link cost model of a matrix-free Jacobian chain: one small value object per link.

Link ``l`` maps ``d_{l-1}`` inputs to ``d_l`` outputs; its Jacobian ``J_l`` has ``rows = d_l`` and
``cols = d_{l-1}``. A matrix-free link is known through its *tangent model* (a JVP, ``tangent``
multiplications per seed column) and its *adjoint model* (a VJP, ``adjoint`` multiplications per
seed row, reading ``tape`` elements kept from the forward pass). In the GDJCPB model of Naumann
``tangent == adjoint == |E_l|``, the edges of the link's computational graph.

Constructors: :func:`dense` (weights, ``m·n`` per seed), :func:`elementwise` (``d`` per seed, a
diagonal Jacobian), :func:`conv1d` / :func:`conv2d` (the convolution's multiplications per seed,
output shape from the usual arithmetic) and :func:`custom`.

``tape`` counts elements of the dtype kept for the adjoint (parameters such as weights are not
tape: linear layers keep nothing, an elementwise nonlinearity keeps its ``d`` derivatives).
``forward`` is the multiplications of evaluating the link once (for recomputation estimates).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, replace
from typing import Any

from chainorder.errors import SpecError

__all__ = [
    "KINDS",
    "LinkCost",
    "conv1d",
    "conv2d",
    "conv_output_length",
    "custom",
    "dense",
    "elementwise",
]

#: The link kinds.
KINDS: tuple[str, ...] = ("dense", "elementwise", "conv1d", "conv2d", "custom")


@dataclass(frozen=True, slots=True)
class LinkCost:
    """Shape and derivative-model costs of one link ``J_l`` (``rows × cols = d_l × d_{l-1}``).

    Parameters
    ----------
    rows, cols : int
        ``m = d_l`` (output size) and ``n = d_{l-1}`` (input size), both ``>= 1``.
    tangent : int
        Multiplications of one JVP (per seed column), ``>= 0``.
    adjoint : int
        Multiplications of one VJP (per seed row), ``>= 0``.
    tape : int
        Elements the adjoint keeps from the forward pass (parameters excluded).
    forward : int
        Multiplications of one forward evaluation.
    kind : str
        One of :data:`KINDS`.
    params : tuple of (str, value)
        Layer parameters: ``("function", "tanh")`` for an elementwise link, shapes, kernel,
        stride and padding for a convolution (see :meth:`param`).
    given : bool
        The Jacobian is also available as an array (dense, or its diagonal when elementwise):
        preaccumulating it costs nothing.

    Examples
    --------
    >>> link = dense(10, 784)
    >>> link.rows, link.cols, link.tangent, link.adjoint
    (10, 784, 7840, 7840)
    >>> link.preaccumulation
    78400
    >>> elementwise(512, "tanh").preaccumulation  # one JVP with a vector of ones
    512
    """

    rows: int
    cols: int
    tangent: int
    adjoint: int
    tape: int = 0
    forward: int = 0
    kind: str = "custom"
    params: tuple[tuple[str, Any], ...] = ()
    given: bool = False

    def __post_init__(self) -> None:
        for name in ("rows", "cols"):
            _check_int(getattr(self, name), name, minimum=1)
        for name in ("tangent", "adjoint", "tape", "forward"):
            _check_int(getattr(self, name), name, minimum=0)
        if self.kind not in KINDS:
            raise SpecError(
                f"link kind {self.kind!r} is unknown; expected one of {', '.join(KINDS)}"
            )
        if self.kind == "elementwise" and self.rows != self.cols:
            raise SpecError(f"an elementwise link must be square, got {self.rows}×{self.cols}")
        if not isinstance(self.given, bool):
            raise SpecError(f"given must be True or False, got {self.given!r}")

    # views ---------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, cols) = (d_l, d_{l-1})``."""
        return (self.rows, self.cols)

    @property
    def diagonal(self) -> bool:
        """True for an elementwise link (its Jacobian is stored as its diagonal)."""
        return self.kind == "elementwise"

    @property
    def preaccumulation(self) -> int:
        """Multiplications of forming ``J_l`` as an array, by the cheapest leaf action.

        0 when given; ``tangent`` for an elementwise link (one JVP on a vector of ones gives
        the diagonal); otherwise ``min(cols·tangent, rows·adjoint)`` (``|E|·min(m, n)`` in the
        GDJCPB model).
        """
        if self.given:
            return 0
        if self.diagonal:
            return self.tangent
        return min(self.cols * self.tangent, self.rows * self.adjoint)

    @property
    def stored_elements(self) -> int:
        """Elements of ``J_l`` as an array: ``rows`` if elementwise, else ``rows·cols``."""
        return self.rows if self.diagonal else self.rows * self.cols

    def param(self, key: str, default: Any = None) -> Any:
        """The layer parameter ``key`` (``default`` when absent).

        Examples
        --------
        >>> elementwise(4, "relu").param("function")
        'relu'
        """
        for k, v in self.params:
            if k == key:
                return v
        return default

    @property
    def label(self) -> str:
        """Short display word: the function of an elementwise link, else the kind."""
        return str(self.param("function", self.kind)) if self.diagonal else self.kind

    def with_given(self, given: bool = True) -> LinkCost:
        """A copy with ``given`` set."""
        return replace(self, given=bool(given))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of every field (tuples become lists).

        Examples
        --------
        >>> dense(2, 3).to_dict()["tangent"]
        6
        """
        return {
            "kind": self.kind,
            "rows": self.rows,
            "cols": self.cols,
            "tangent": self.tangent,
            "adjoint": self.adjoint,
            "tape": self.tape,
            "forward": self.forward,
            "given": self.given,
            "params": {k: list(v) if isinstance(v, tuple) else v for k, v in self.params},
        }


# constructors ---------------------------------------------------------------------------------
def dense(rows: int, cols: int, *, given: bool = False) -> LinkCost:
    """A dense (weights) link ``y = W x + b`` with ``W`` of shape ``rows × cols``.

    Tangent and adjoint cost ``rows·cols`` per seed; no tape (the layer is linear).

    Examples
    --------
    >>> dense(3, 4)  # doctest: +NORMALIZE_WHITESPACE
    LinkCost(rows=3, cols=4, tangent=12, adjoint=12, tape=0, forward=12, kind='dense',
             params=(), given=False)

    Notes
    -----
    O(1).
    """
    m, n = _check_int(rows, "rows", 1), _check_int(cols, "cols", 1)
    return LinkCost(m, n, m * n, m * n, 0, m * n, "dense", (), given)


def elementwise(size: int, function: str = "elementwise", *, given: bool = False) -> LinkCost:
    """An elementwise link (``tanh``, ``relu``, ...) of width ``size``: ``size`` per seed.

    Its Jacobian is diagonal; the adjoint keeps the ``size`` derivatives as tape.

    Examples
    --------
    >>> elementwise(5, "tanh").tape
    5

    Notes
    -----
    O(1).
    """
    d = _check_int(size, "size", 1)
    return LinkCost(d, d, d, d, d, d, "elementwise", (("function", str(function)),), given)


def conv_output_length(length: int, kernel: int, stride: int, padding: int) -> int:
    """``(length + 2·padding - kernel) // stride + 1``, checked to be at least 1.

    Examples
    --------
    >>> conv_output_length(28, 3, 2, 0)
    13

    Notes
    -----
    O(1).
    """
    out = (length + 2 * padding - kernel) // stride + 1
    if length + 2 * padding < kernel or out < 1:
        raise SpecError(
            f"kernel {kernel} does not fit an input of length {length} with padding {padding}; "
            "expected kernel <= length + 2·padding"
        )
    return out


def conv1d(
    in_channels: int,
    length: int,
    out_channels: int,
    kernel: int,
    stride: int = 1,
    padding: int = 0,
    *,
    given: bool = False,
) -> LinkCost:
    """A 1-D convolution ``(in_channels, length) -> (out_channels, out_length)``.

    Cost per seed = ``out_channels·out_length·in_channels·kernel`` (its multiplications); the
    layer is linear, so no tape.

    Examples
    --------
    >>> c = conv1d(2, 10, 4, 3, stride=2, padding=1)
    >>> c.rows, c.cols, c.tangent, c.param("out_shape")
    (20, 20, 120, (5,))

    Notes
    -----
    O(1).
    """
    ci, co = _check_int(in_channels, "in_channels", 1), _check_int(out_channels, "out_channels", 1)
    n, k = _check_int(length, "length", 1), _check_int(kernel, "kernel", 1)
    s, p = _check_int(stride, "stride", 1), _check_int(padding, "padding", 0)
    out = conv_output_length(n, k, s, p)
    mults = co * out * ci * k
    params = (
        ("in_channels", ci),
        ("in_shape", (n,)),
        ("out_channels", co),
        ("kernel", (k,)),
        ("stride", (s,)),
        ("padding", (p,)),
        ("out_shape", (out,)),
    )
    return LinkCost(co * out, ci * n, mults, mults, 0, mults, "conv1d", params, given)


def conv2d(
    in_channels: int,
    in_shape: tuple[int, int] | int,
    out_channels: int,
    kernel: tuple[int, int] | int,
    stride: tuple[int, int] | int = 1,
    padding: tuple[int, int] | int = 0,
    *,
    given: bool = False,
) -> LinkCost:
    """A 2-D convolution ``(in_channels, H, W) -> (out_channels, H', W')``.

    ``kernel``, ``stride``, ``padding`` and ``in_shape`` are an int (both axes) or a pair. Cost
    per seed = ``out_channels·H'·W'·in_channels·kh·kw``; no tape (linear).

    Examples
    --------
    >>> c = conv2d(1, (28, 28), 8, 3)
    >>> c.rows, c.cols, c.tangent, c.param("out_shape")
    (5408, 784, 48672, (26, 26))

    Notes
    -----
    O(1).
    """
    ci, co = _check_int(in_channels, "in_channels", 1), _check_int(out_channels, "out_channels", 1)
    h, w = _pair(in_shape, "in_shape", 1)
    kh, kw = _pair(kernel, "kernel", 1)
    sh, sw = _pair(stride, "stride", 1)
    ph, pw = _pair(padding, "padding", 0)
    oh, ow = conv_output_length(h, kh, sh, ph), conv_output_length(w, kw, sw, pw)
    mults = co * oh * ow * ci * kh * kw
    params = (
        ("in_channels", ci),
        ("in_shape", (h, w)),
        ("out_channels", co),
        ("kernel", (kh, kw)),
        ("stride", (sh, sw)),
        ("padding", (ph, pw)),
        ("out_shape", (oh, ow)),
    )
    return LinkCost(co * oh * ow, ci * h * w, mults, mults, 0, mults, "conv2d", params, given)


def custom(
    rows: int,
    cols: int,
    tangent: int,
    adjoint: int | None = None,
    tape: int = 0,
    forward: int | None = None,
    *,
    given: bool = False,
) -> LinkCost:
    """A link with user-given costs; ``adjoint`` defaults to ``tangent``, ``forward`` too.

    Examples
    --------
    >>> custom(3, 3, 29).adjoint
    29

    Notes
    -----
    O(1).
    """
    t = _check_int(tangent, "tangent", 0)
    a = t if adjoint is None else _check_int(adjoint, "adjoint", 0)
    f = t if forward is None else _check_int(forward, "forward", 0)
    return LinkCost(rows, cols, t, a, tape, f, "custom", (), given)


# helpers --------------------------------------------------------------------------------------
def _check_int(value: object, name: str, minimum: int) -> int:
    if isinstance(value, bool):
        raise SpecError(f"{name} is a bool ({value!r}); expected an integer >= {minimum}")
    try:
        number = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise SpecError(
            f"{name} is {value!r} ({type(value).__name__}); expected an integer >= {minimum}"
        ) from None
    if number < minimum:
        raise SpecError(f"{name} is {number}; expected an integer >= {minimum}")
    return int(number)


def _pair(value: object, name: str, minimum: int) -> tuple[int, int]:
    if isinstance(value, tuple | list):
        if len(value) != 2:
            raise SpecError(f"{name} is {value!r}; expected an integer or a pair of integers")
        return (_check_int(value[0], name, minimum), _check_int(value[1], name, minimum))
    v = _check_int(value, name, minimum)
    return (v, v)

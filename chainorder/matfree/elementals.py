"""Elementals: layers known through a forward pass, a batched JVP and a batched VJP.

An :class:`Elemental` is the unit a matrix-free plan runs on (the lecture's tangent and
adjoint models of one elemental function):

``forward(x) -> (y, tape)``
    the layer's value and what its derivative models need later (``None`` when nothing);
``jvp(tape, T, out=None) -> J @ T``
    a block of ``s`` tangent columns, ``T`` of shape ``(n, s)`` → ``(m, s)``;
``vjp(tape, A, out=None) -> A @ J``
    a block of ``s`` adjoint rows, ``A`` of shape ``(s, m)`` → ``(s, n)``;
``jacobian(tape)``
    the dense ``(m, n)`` Jacobian (optional, for checks and given-matrix plans);
``tape_elements``, ``workspace(direction, seeds)``
    the tape's size and the temporaries of one call in elements (for the memory model).

``out`` (optional) is an array of the result's shape the caller no longer needs: the result is
written into it (an elementwise link's JVP/VJP then scales the block it was given in place,
``out=T``, and allocates nothing but NumPy's ufunc buffer). Blocks may come in either memory
order: an adjoint block ``A`` is best kept *seeds-last* (``A`` Fortran-ordered, i.e. ``Aᵀ``
C-contiguous), the layout a convolution's VJP works in; :meth:`Dense.vjp` returns that layout
(one BLAS product ``Wᵀ Aᵀ``, no copy) and the convolution's VJP takes and returns it without
transposing.

Implementations: :class:`Dense` (``W x + b``; no tape, the weights are parameters),
:class:`Elementwise` (the activations of :mod:`chainorder.nets`; the tape is the derivative
vector ``f'(x)``, ``d`` numbers) and the convolutions of :mod:`chainorder.matfree.conv`.
Every call allocates its result once, so traced memory follows the model.
"""

from __future__ import annotations

import math
from typing import Any, Protocol, runtime_checkable

import numpy as np

from chainorder.dtypes import as_dtype
from chainorder.errors import SpecError
from chainorder.matfree.conv import Conv1d, Conv2d, geometry_of
from chainorder.nets import ACTIVATIONS

__all__ = [
    "SCALE_WORDS",
    "Dense",
    "Elemental",
    "ElementalChain",
    "Elementwise",
    "elemental_from_link",
]

#: Elementwise words that mean a fixed per-unit scaling ``s ⊙ x`` (as in chainorder.nets).
SCALE_WORDS = ("diag", "diagonal", "elementwise")


@runtime_checkable
class Elemental(Protocol):
    """What the executor needs from one link (see the module notes)."""

    kind: str

    @property
    def shape(self) -> tuple[int, int]: ...

    @property
    def tape_elements(self) -> int: ...

    def forward(self, x: Any) -> tuple[Any, Any]: ...

    def jvp(self, tape: Any, T: Any, out: Any = None) -> Any: ...

    def vjp(self, tape: Any, A: Any, out: Any = None) -> Any: ...

    def jacobian(self, tape: Any) -> Any: ...

    def workspace(self, direction: str, seeds: int) -> int: ...


class Dense:
    """An affine layer ``y = W x + b``: JVP ``W @ T``, VJP ``A @ W``, no tape.

    Examples
    --------
    >>> import numpy as np
    >>> layer = Dense.random(3, 2, np.random.default_rng(0))
    >>> y, tape = layer.forward(np.ones(2))
    >>> y.shape, tape
    ((3,), None)
    >>> bool(np.allclose(layer.vjp(tape, np.eye(3)), layer.jacobian(tape)))
    True

    Notes
    -----
    ``m·n`` multiplications per seed column or row; no workspace.
    """

    kind = "dense"

    def __init__(self, weight: Any, bias: Any) -> None:
        self.weight = np.asarray(weight)
        self.bias = np.asarray(bias)
        if self.weight.ndim != 2 or self.bias.shape != (self.weight.shape[0],):
            raise SpecError(
                f"dense layer needs W (m, n) and b (m,), got {self.weight.shape} and "
                f"{self.bias.shape}"
            )

    @classmethod
    def random(cls, rows: int, cols: int, rng: np.random.Generator, dtype: Any = "float64"):
        """Seeded ``W ~ N(0, 1/n)``, ``b ~ N(0, 0.01)`` (as :class:`chainorder.nets.MLP`)."""
        w = rng.standard_normal((rows, cols)) / math.sqrt(cols)
        b = 0.1 * rng.standard_normal(rows)
        return cls(w.astype(dtype), b.astype(dtype))

    @property
    def shape(self) -> tuple[int, int]:
        """``(m, n)``."""
        return self.weight.shape  # type: ignore[return-value]

    @property
    def tape_elements(self) -> int:
        """0: the VJP needs only the weights."""
        return 0

    def workspace(self, direction: str, seeds: int) -> int:
        """0: one BLAS product straight into the result."""
        return 0

    def forward(self, x: Any) -> tuple[Any, None]:
        """``(W x + b, None)``."""
        y = self.weight @ x
        y += self.bias
        return y, None

    def jvp(self, tape: Any, T: Any, out: Any = None) -> Any:
        """``W @ T`` (one BLAS product; into ``out`` when given)."""
        return np.matmul(self.weight, T, out=out)

    def vjp(self, tape: Any, A: Any, out: Any = None) -> Any:
        """``A @ W``, seeds-last: computed as ``(Wᵀ Aᵀ)ᵀ``, one BLAS product whose result
        ``Aᵀ`` is C-contiguous (so the returned ``(s, n)`` array is Fortran-ordered)."""
        if out is not None:
            np.matmul(self.weight.T, A.T, out=out.T)
            return out
        return np.matmul(self.weight.T, A.T).T

    def jacobian(self, tape: Any) -> Any:
        """A copy of ``W``."""
        return self.weight.copy()


class Elementwise:
    """An elementwise activation ``y = f(x)`` (or a fixed scaling ``s ⊙ x``).

    The tape is the derivative vector ``f'(x)`` (``d`` numbers); the JVP scales rows, the
    VJP scales columns.

    Parameters
    ----------
    name : str
        One of :data:`chainorder.nets.ACTIVATIONS` or ``diag``/``diagonal``/``elementwise``.
    size : int
        ``d``.
    scale : array, optional
        The ``d`` scales of a ``diag`` link (required for those words).

    Examples
    --------
    >>> import numpy as np
    >>> act = Elementwise("tanh", 2)
    >>> y, tape = act.forward(np.array([0.0, 1.0]))
    >>> act.jvp(tape, np.ones((2, 1))).ravel().round(4).tolist()
    [1.0, 0.42]

    Notes
    -----
    ``d`` multiplications per seed column or row; the forward pass allocates ``y`` and the
    tape (``gelu``: one or two extra temporaries of ``d``).
    """

    kind = "elementwise"

    def __init__(self, name: str, size: int, scale: Any = None) -> None:
        word = name.lower()
        if word in SCALE_WORDS:
            if scale is None or np.shape(scale) != (size,):
                raise SpecError(f"elementwise {name!r} needs {size} scales")
            self._scale = np.asarray(scale)
            self._fns = None
        elif word in ACTIVATIONS:
            self._scale = None
            self._fns = ACTIVATIONS[word]
        else:
            raise SpecError(
                f"unknown elementwise {name!r}; expected one of "
                f"{', '.join([*ACTIVATIONS, *SCALE_WORDS])}"
            )
        self.name = word
        self.size = size

    @classmethod
    def random(cls, name: str, size: int, rng: np.random.Generator, dtype: Any = "float64"):
        """Seeded scales ``U[0.5, 1.5]`` for ``diag`` words; the activation otherwise."""
        scale = None
        if name.lower() in SCALE_WORDS:
            scale = rng.uniform(0.5, 1.5, size).astype(dtype)
        return cls(name, size, scale)

    @property
    def shape(self) -> tuple[int, int]:
        """``(d, d)``."""
        return (self.size, self.size)

    @property
    def tape_elements(self) -> int:
        """``d``: the derivative vector."""
        return self.size

    def workspace(self, direction: str, seeds: int) -> int:
        """0 (a broadcast product straight into the result; NumPy's ufunc buffer is counted
        by :func:`chainorder.matfree.schedule.broadcast_buffer`)."""
        return 0

    def forward(self, x: Any) -> tuple[Any, Any]:
        """``(f(x), f'(x))``."""
        if self._fns is None:
            return np.multiply(self._scale, x), self._scale.copy()
        value, derivative = self._fns
        return value(np, x), derivative(np, x)

    def jvp(self, tape: Any, T: Any, out: Any = None) -> Any:
        """``f'(x)[:, None] * T`` (``out=T``: ``T`` scaled in place)."""
        return np.multiply(T, tape[:, None], out=out)

    def vjp(self, tape: Any, A: Any, out: Any = None) -> Any:
        """``A * f'(x)[None, :]`` (``out=A``: ``A`` scaled in place)."""
        return np.multiply(A, tape[None, :], out=out)

    def jacobian(self, tape: Any) -> Any:
        """``diag(f'(x))`` as a dense array."""
        return np.diag(tape)


def elemental_from_link(link: Any, rng: np.random.Generator, dtype: Any = "float64") -> Any:
    """A seeded elemental realising one :class:`~chainorder.matfree.links.LinkCost`.

    ``dense`` → :class:`Dense`, ``elementwise`` → :class:`Elementwise` (its ``function``
    parameter), ``conv1d``/``conv2d`` → the convolution of its parameters. A ``custom`` link
    has no layer behind it: it is stood in for by a random :class:`Dense` of its shape (right
    shape and result; its run time then follows ``m·n`` per seed, not the given cost).

    Examples
    --------
    >>> from chainorder.matfree.links import conv2d, elementwise
    >>> elemental_from_link(conv2d(1, 8, 2, 3), np.random.default_rng(0)).shape
    (72, 64)
    >>> elemental_from_link(elementwise(3, "relu"), np.random.default_rng(0)).name
    'relu'

    Notes
    -----
    O(parameters) time and memory.
    """
    if link.kind in ("dense", "custom"):
        return Dense.random(link.rows, link.cols, rng, dtype)
    if link.kind == "elementwise":
        return Elementwise.random(str(link.param("function", "elementwise")), link.rows, rng, dtype)
    if link.kind == "conv1d":
        return Conv1d.random(geometry_of(link), rng, dtype)
    if link.kind == "conv2d":
        return Conv2d.random(geometry_of(link), rng, dtype)
    raise SpecError(f"no elemental for a link of kind {link.kind!r}")


class ElementalChain:
    """A seeded network of elementals built from link costs (so every spec can run).

    Parameters
    ----------
    links : sequence of LinkCost
        Link 1 first (the input side); ``links[l].cols == links[l-1].rows``.
    seed : int
        Seeds every weight, kernel, bias and scale.
    dtype : str or numpy.dtype

    Examples
    --------
    >>> from chainorder.matfree.links import dense, elementwise
    >>> net = ElementalChain([dense(4, 3), elementwise(4, "tanh"), dense(2, 4)], seed=0)
    >>> x = net.random_input()
    >>> net(x).shape, net.jacobian(x).shape
    ((2,), (2, 3))

    Notes
    -----
    Construction O(parameters); :meth:`jacobian` forms every ``J_l`` densely (a reference,
    O(Σ m_l·n_l) memory).
    """

    def __init__(self, links: Any, seed: int = 0, dtype: Any = "float64") -> None:
        self.links = tuple(links)
        if not self.links:
            raise SpecError("a chain needs at least one link")
        for l in range(1, len(self.links)):
            if self.links[l].cols != self.links[l - 1].rows:
                raise SpecError(
                    f"link {l + 1} takes {self.links[l].cols} inputs but link {l} gives "
                    f"{self.links[l - 1].rows}"
                )
        self.dtype = as_dtype(dtype)
        rng = np.random.default_rng(seed)
        self.layers = [elemental_from_link(link, rng, self.dtype) for link in self.links]

    def __len__(self) -> int:
        return len(self.layers)

    @property
    def dims(self) -> tuple[int, ...]:
        """Widths ``d_0..d_L``."""
        return (self.links[0].cols, *(link.rows for link in self.links))

    def random_input(self, seed: int = 1) -> Any:
        """A seeded ``x_0`` with entries ``N(0, 1)``."""
        rng = np.random.default_rng(seed)
        return rng.standard_normal(self.dims[0]).astype(self.dtype)

    def forward(self, x: Any) -> Any:
        """The output ``x_L``."""
        for layer in self.layers:
            x, _ = layer.forward(x)
        return x

    __call__ = forward

    def tapes(self, x: Any) -> list[Any]:
        """The tape of every layer at ``x`` (``None`` where a layer keeps none)."""
        out = []
        for layer in self.layers:
            x, tape = layer.forward(x)
            out.append(tape)
        return out

    def jacobians(self, x: Any) -> list[Any]:
        """Every ``J_l`` at ``x`` as a dense ``(m_l, n_l)`` array."""
        return [layer.jacobian(t) for layer, t in zip(self.layers, self.tapes(x), strict=True)]

    def jacobian(self, x: Any) -> Any:
        """The explicit product ``J_L ⋯ J_1`` at ``x`` (the reference the executor is checked
        against): every ``J_l`` formed by :meth:`Elemental.jacobian` and multiplied from the
        input side, an elementwise link applied as a row scaling by its derivative vector.
        """
        out = None
        for layer in self.layers:
            x, tape = layer.forward(x)
            if out is None:
                out = layer.jacobian(tape)
            elif layer.kind == "elementwise":
                out = tape[:, None] * out
            else:
                out = layer.jacobian(tape) @ out
        return out

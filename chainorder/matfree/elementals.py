"""Elementals: layers known through a forward pass, a batched JVP and a batched VJP.

An :class:`Elemental` is the unit a matrix-free plan runs on (the lecture's tangent and
adjoint models of one elemental function):

``forward(x) -> (y, tape)``
    the layer's value and what its derivative models need later (``None`` when nothing);
``jvp(tape, T) -> J @ T``
    a block of ``s`` tangent columns, ``T`` of shape ``(n, s)`` → ``(m, s)``;
``vjp(tape, A) -> A @ J``
    a block of ``s`` adjoint rows, ``A`` of shape ``(s, m)`` → ``(s, n)``;
``jacobian(tape)``
    the dense ``(m, n)`` Jacobian (optional, for checks and given-matrix plans);
``tape_elements``, ``workspace(direction, seeds)``
    the tape's size and the temporaries of one call in elements (for the memory model).

Implementations: :class:`Dense` (``W x + b``; no tape, the weights are parameters),
:class:`Elementwise` (the activations of :mod:`chainorder.nets`; the tape is the derivative
vector ``f'(x)``, ``d`` numbers) and the convolutions of :mod:`chainorder.matfree.conv`.
Every call allocates its result once, so traced memory follows the model.
"""

from __future__ import annotations

import math
from typing import Any, Protocol, runtime_checkable

import numpy as np

from chainorder.errors import SpecError
from chainorder.nets import ACTIVATIONS

__all__ = ["SCALE_WORDS", "Dense", "Elemental", "Elementwise"]

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

    def jvp(self, tape: Any, T: Any) -> Any: ...

    def vjp(self, tape: Any, A: Any) -> Any: ...

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

    def jvp(self, tape: Any, T: Any) -> Any:
        """``W @ T``."""
        return self.weight @ T

    def vjp(self, tape: Any, A: Any) -> Any:
        """``A @ W``."""
        return A @ self.weight

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
        """0 (a broadcast product straight into the result)."""
        return 0

    def forward(self, x: Any) -> tuple[Any, Any]:
        """``(f(x), f'(x))``."""
        if self._fns is None:
            return np.multiply(self._scale, x), self._scale.copy()
        value, derivative = self._fns
        return value(np, x), derivative(np, x)

    def jvp(self, tape: Any, T: Any) -> Any:
        """``f'(x)[:, None] * T``."""
        return tape[:, None] * T

    def vjp(self, tape: Any, A: Any) -> Any:
        """``A * f'(x)[None, :]``."""
        return A * tape[None, :]

    def jacobian(self, tape: Any) -> Any:
        """``diag(f'(x))`` as a dense array."""
        return np.diag(tape)

"""Small real networks whose Jacobians are formed from activations (the streamed setting).

:class:`MLP` builds a network from a chain spec: every dense link ``l`` is an affine layer
``x_l = W_l x_{l-1} + b_l`` with seeded random weights, every elementwise link is a real
activation (``tanh``, ``relu``, ``sigmoid``, ``softplus``, ``gelu``, ``sin``, ``cos``,
``exp``, ``square``, ``identity``; ``diag``/``elementwise`` is a fixed per-unit scaling
``s ⊙ x``). It is a :class:`chainorder.execute.JacobianSource`:

``activation(k, x_{k-1})``
    a new array ``x_k``;
``jacobian(l, x_{l-1})``
    ``J_l`` as a *new* array: a copy of ``W_l`` (shape ``(d_l, d_{l-1})``) for a dense
    link, the derivative vector ``f'(x_{l-1})`` for an elementwise one.

Each call allocates exactly one array of the result's size (see
:mod:`chainorder.activations`), so traced memory matches :mod:`chainorder.memory`'s streamed
model. Weights and biases are parameters: created once in the constructor, never counted.

:func:`random_jacobians` gives the seeded Jacobians of the given setting. Both check the bytes
they are about to allocate against the memory limit first (:mod:`chainorder.memory_guard`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from chainorder.activations import ACTIVATIONS, Activation
from chainorder.backend import Backend, get_backend
from chainorder.chain import Chain, Structure, as_chain
from chainorder.checks import as_nonnegative_int
from chainorder.dtypes import as_dtype
from chainorder.errors import SpecError
from chainorder.memory_guard import check_memory

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "as_seed",
    "draw_bytes",
    "jacobian_bytes",
    "parameter_bytes",
    "random_jacobians",
]

_SCALE_WORDS = ("diag", "diagonal", "elementwise")


class MLP:
    """A seeded multilayer network built from a chain spec; a streamed Jacobian source.

    Parameters
    ----------
    spec : Chain, str or sequence
        For example ``"784,512,tanh,512,tanh,10"``.
    seed : int
        Seeds every weight, bias and scale (NumPy ``default_rng``); the same seed gives the
        same numbers on every backend.
    dtype : str or numpy.dtype
        Floating dtype of weights, activations and Jacobians (default float64).
    backend : {"numpy", "cupy"} or Backend
        Where the arrays live.
    max_memory : int or str, optional
        Limit for the parameters about to be allocated (``"2GiB"``); by default a fraction
        of the available memory (:mod:`chainorder.memory_guard`).

    Attributes
    ----------
    chain : Chain
    weights : dict
        ``{l: W_l}`` for dense links (``(d_l, d_{l-1})``, entries ``N(0, 1/d_{l-1})``).
    biases : dict
        ``{l: b_l}`` for dense links (entries ``N(0, 0.01)``).
    scales : dict
        ``{l: s_l}`` for ``diag`` links (entries uniform in ``[0.5, 1.5]``).

    Raises
    ------
    SpecError
        An elementwise word with no activation here, or a negative seed.
    MemoryLimitError
        The parameters would not fit the limit (checked before allocating any).

    Examples
    --------
    >>> import numpy as np
    >>> net = MLP("3,4,tanh,2", seed=0)
    >>> x = np.linspace(-1.0, 1.0, 3)
    >>> net(x).shape
    (2,)
    >>> J2 = net.jacobian(2, net.activation(1, x))  # tanh' at x_1, a diagonal
    >>> J2.shape
    (4,)

    Notes
    -----
    Construction is O(Σ d_l·d_{l-1}) time and memory (the weights).
    """

    def __init__(
        self,
        spec: Chain | str | Sequence[int | str],
        seed: int = 0,
        dtype: object = "float64",
        backend: str | Backend = "numpy",
        *,
        max_memory: int | str | None = None,
    ) -> None:
        self.chain = as_chain(spec)
        self.dtype = as_dtype(dtype)
        seed = as_seed(seed)
        self.backend = backend if isinstance(backend, Backend) else get_backend(backend)
        xp = self.backend.xp
        for link in self.chain.links:
            name = link.name.lower()
            if link.structure is not Structure.DENSE and name not in (*ACTIVATIONS, *_SCALE_WORDS):
                raise SpecError(
                    f"link {link.index} is the elementwise {link.name!r}, which chainorder.nets "
                    f"cannot build; supported: {', '.join([*ACTIVATIONS, *_SCALE_WORDS])}"
                )
        check_memory(
            parameter_bytes(self.chain, self.dtype)
            + draw_bytes(_largest_link(self.chain), self.dtype),
            f"the network {self.chain.spec()} in {self.dtype.name}",
            max_memory,
        )
        rng = np.random.default_rng(seed)
        self.weights: dict[int, Any] = {}
        self.biases: dict[int, Any] = {}
        self.scales: dict[int, Any] = {}
        self._fns: dict[int, tuple[Activation, Activation]] = {}
        complex_dtype = self.dtype.kind == "c"
        for link in self.chain.links:
            l = link.index
            if link.structure is Structure.DENSE:
                w = rng.standard_normal(link.shape) / math.sqrt(link.cols)
                b = 0.1 * rng.standard_normal(link.rows)
                if complex_dtype:
                    w = w + 1j * rng.standard_normal(link.shape) / math.sqrt(link.cols)
                self.weights[l] = xp.asarray(w, dtype=self.dtype)
                self.biases[l] = xp.asarray(b, dtype=self.dtype)
                continue
            name = link.name.lower()
            if name in _SCALE_WORDS:
                self.scales[l] = xp.asarray(rng.uniform(0.5, 1.5, link.rows), dtype=self.dtype)
            else:
                self._fns[l] = ACTIVATIONS[name]

    def __repr__(self) -> str:
        return (
            f"MLP({self.chain.spec()!r}, dtype={self.dtype.name!r}, backend={self.backend.name!r})"
        )

    @property
    def dims(self) -> tuple[int, ...]:
        """Widths ``d_0..d_L``."""
        return self.chain.dims

    @property
    def parameter_bytes(self) -> int:
        """Bytes of weights, biases and scales (not counted by the streamed memory model)."""
        arrays = [*self.weights.values(), *self.biases.values(), *self.scales.values()]
        return sum(int(a.nbytes) for a in arrays)

    # the JacobianSource protocol ---------------------------------------------------------
    def activation(self, k: int, x_prev: Any) -> Any:
        """``x_k`` from ``x_{k-1}``: a new array of ``d_k`` numbers.

        Examples
        --------
        >>> import numpy as np
        >>> MLP("2,relu", seed=0).activation(1, np.array([-1.0, 2.0])).tolist()
        [0.0, 2.0]
        """
        xp = self.backend.xp
        if k in self.weights:
            y = self.weights[k] @ x_prev
            y += self.biases[k]
            return y
        if k in self.scales:
            return xp.multiply(self.scales[k], x_prev)
        return self._fns[k][0](xp, x_prev)

    def jacobian(self, l: int, x_prev: Any) -> Any:
        """``J_l`` formed from ``x_{l-1}`` as a new array (dense matrix or diagonal vector).

        Examples
        --------
        >>> import numpy as np
        >>> MLP("2,square", seed=0).jacobian(1, np.array([1.0, 3.0])).tolist()
        [2.0, 6.0]
        """
        xp = self.backend.xp
        if l in self.weights:
            return self.weights[l].copy()
        if l in self.scales:
            return self.scales[l].copy()
        return self._fns[l][1](xp, x_prev)

    # conveniences --------------------------------------------------------------------------
    def forward(self, x: Any) -> Any:
        """The network's output ``x_L`` at ``x``.

        Notes
        -----
        O(Σ d_l·d_{l-1}) time.
        """
        for k in range(1, self.chain.n_links + 1):
            x = self.activation(k, x)
        return x

    __call__ = forward

    def random_input(self, seed: int = 1) -> Any:
        """A seeded input ``x_0`` (entries ``N(0, 1)``) in the network's namespace and dtype."""
        rng = np.random.default_rng(as_seed(seed))
        return self.backend.asarray(rng.standard_normal(self.chain.dims[0]), dtype=self.dtype)

    def jacobians_at(self, x: Any) -> list[Any]:
        """All of ``J_1..J_L`` at ``x`` (for the given setting, or to compare).

        Examples
        --------
        >>> import numpy as np
        >>> [J.shape for J in MLP("3,4,tanh,2", seed=0).jacobians_at(np.ones(3))]
        [(4, 3), (4,), (2, 4)]
        """
        out = []
        for l in range(1, self.chain.n_links + 1):
            out.append(self.jacobian(l, x))
            if l < self.chain.n_links:
                x = self.activation(l, x)
        return out


def as_seed(seed: object) -> int:
    """``seed`` as a non-negative int (what ``numpy.random.default_rng`` accepts).

    Raises
    ------
    SpecTypeError
        Not an integer (``bool`` and ``float`` included).
    SpecError
        Negative.

    Examples
    --------
    >>> as_seed(7)
    7
    >>> try:
    ...     as_seed(-1)
    ... except ValueError as exc:
    ...     print(exc)
    seed must be a non-negative integer, got -1

    Notes
    -----
    O(1).
    """
    return as_nonnegative_int(seed, "seed")


def draw_bytes(elements: int, dtype: object = "float64") -> int:
    """Bytes of the temporaries made while drawing one seeded array of ``elements`` numbers.

    Real: the float64 draw and its scaled copy (16 bytes per number); complex: also the
    imaginary draw, its scaled copy, ``1j·im`` and the sum (64 bytes per number).

    Examples
    --------
    >>> draw_bytes(1000), draw_bytes(1000, "complex128")
    (16000, 64000)

    Notes
    -----
    O(1).
    """
    return elements * (16 if as_dtype(dtype).kind != "c" else 64)


def jacobian_bytes(spec: Chain | str | Sequence[int | str], dtype: object = "float64") -> int:
    """Bytes of the input Jacobians ``J_1..J_L`` of the chain in ``dtype`` (exact int).

    Examples
    --------
    >>> jacobian_bytes("4,3,tanh,2")  # (12 + 3 + 6) float64 numbers
    168

    Notes
    -----
    O(L); exact for widths of any size.
    """
    chain = as_chain(spec)
    return sum(link.elements for link in chain.links) * as_dtype(dtype).itemsize


def parameter_bytes(spec: Chain | str | Sequence[int | str], dtype: object = "float64") -> int:
    """Bytes of the weights, biases and scales an :class:`MLP` of the chain holds (exact int).

    Examples
    --------
    >>> parameter_bytes("3,4,tanh,2")  # W1 4x3 + b1 4, W3 2x4 + b3 2, float64
    208

    Notes
    -----
    O(L); equals :attr:`MLP.parameter_bytes` of the built network.
    """
    chain = as_chain(spec)
    count = 0
    for link in chain.links:
        if link.structure is Structure.DENSE:
            count += link.rows * link.cols + link.rows
        elif link.name.lower() in _SCALE_WORDS:
            count += link.rows
    return count * as_dtype(dtype).itemsize


def _largest_link(chain: Chain) -> int:
    return max((link.elements for link in chain.links), default=0)


def random_jacobians(
    spec: Chain | str | Sequence[int | str],
    seed: int = 0,
    dtype: object = "float64",
    backend: str | Backend = "numpy",
    *,
    max_memory: int | str | None = None,
) -> list[Any]:
    """Seeded Jacobians for the given setting: ``N(0, 1/d_{l-1})`` dense, ``U(0.5, 1.5)`` diagonals.

    Parameters
    ----------
    spec : Chain, str or sequence
    seed : int
        Non-negative; the same seed gives the same numbers on every backend.
    dtype : str or numpy.dtype
    backend : {"numpy", "cupy"} or Backend
    max_memory : int or str, optional
        Limit for the bytes about to be allocated (``"2GiB"``); by default a fraction of the
        available memory (:mod:`chainorder.memory_guard`).

    Raises
    ------
    MemoryLimitError
        The Jacobians (plus the float64 draws) would not fit; raised before allocating.

    Examples
    --------
    >>> [J.shape for J in random_jacobians("4,3,tanh,2", seed=1)]
    [(3, 4), (3,), (2, 3)]

    Notes
    -----
    O(Σ d_l·d_{l-1}) time and memory.
    """
    chain = as_chain(spec)
    dt = as_dtype(dtype)
    seed = as_seed(seed)
    be = backend if isinstance(backend, Backend) else get_backend(backend)
    check_memory(
        jacobian_bytes(chain, dt) + draw_bytes(_largest_link(chain), dt),
        f"the Jacobians of {chain.spec()} in {dt.name}",
        max_memory,
    )
    rng = np.random.default_rng(seed)
    out = []
    for link in chain.links:
        if link.structure is Structure.DIAGONAL:
            values = rng.uniform(0.5, 1.5, link.rows)
        else:
            values = rng.standard_normal(link.shape) / np.sqrt(link.cols)
            if dt.kind == "c":
                values = values + 1j * rng.standard_normal(link.shape) / np.sqrt(link.cols)
        out.append(be.asarray(values, dtype=dt))
    return out

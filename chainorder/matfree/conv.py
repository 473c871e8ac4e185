"""NumPy convolution layers as matrix-free elementals (no SciPy): im2col and BLAS products.

A :class:`Conv2d` maps an input of ``C × H × W`` numbers (flattened channel-major, the C
order of ``x.reshape(C, H, W)``) to ``F × Ho × Wo`` numbers with ``Ho = (H + 2p_h - k_h) //
s_h + 1`` (likewise ``Wo``). It is linear up to its bias, so its Jacobian does not depend on
the point and the adjoint keeps no tape.

``jvp(tape, T)`` on a block of tangent columns ``T`` (shape ``(n, s)``, seeds-last) is the
convolution of the ``s`` tangents, computed by
:func:`chainorder.matfree.conv_tangent.conv_jvp`: the output pixels in cache-sized tiles
(bands of rows, or runs of one row's columns at many seeds), per tile the windows gathered into
one reused im2col scratch and one BLAS product with the ``F × C·k_h·k_w`` kernel matrix written
straight into the result, which is already laid out as ``(m, s)``.

``vjp(tape, A)`` on a block of adjoint rows ``A`` (shape ``(s, m)``) is the transposed
convolution with the same multiplications, computed by
:func:`chainorder.matfree.conv_adjoint.conv_vjp`: BLAS products with ``Kᵀ`` written into a
polyphase accumulator (each phase's first kernel offset) or into planes whose rows are padded
to the phase width (the other offsets, then each added by one flat 1-D shift), and the phases
written into the result, which is seeds-last (Fortran-ordered ``(s, n)``). On a seeds-last
``A`` (what an adjoint sweep carries) the work goes in bands of output rows over all seeds
(:mod:`chainorder.matfree.conv_banded`); on a seeds-first ``A`` in cache-sized seed blocks.
benchmarks/bench_matfree.py figure D measures both against their former forms and against a
dense product.

:meth:`Conv2d.workspace` states the temporaries of each call in elements, so the memory
model (:mod:`chainorder.matfree.memory`) can include them. :class:`Conv1d` is the
``H = 1`` case.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from chainorder.errors import SpecError
from chainorder.matfree.conv_adjoint import UFUNC_BUFFER, adjoint_workspace, conv_vjp
from chainorder.matfree.conv_banded import plane_kernel
from chainorder.matfree.conv_tangent import conv_jvp, tangent_workspace

__all__ = [
    "UFUNC_BUFFER",
    "Conv1d",
    "Conv2d",
    "ConvGeometry",
    "conv_output_size",
    "conv_workspace",
    "geometry_of",
]


def conv_output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """Output length ``(size + 2·padding - kernel) // stride + 1`` of one spatial axis.

    Raises :class:`SpecError` when the kernel does not fit the padded input.

    Examples
    --------
    >>> conv_output_size(28, 3, 1, 0), conv_output_size(26, 3, 2, 0), conv_output_size(5, 3, 2, 1)
    (26, 12, 3)

    Notes
    -----
    O(1).
    """
    for name, v, least in (("size", size, 1), ("kernel", kernel, 1), ("stride", stride, 1)):
        if not isinstance(v, int) or isinstance(v, bool) or v < least:
            raise SpecError(f"convolution {name} must be an int >= {least}, got {v!r}")
    if not isinstance(padding, int) or isinstance(padding, bool) or padding < 0:
        raise SpecError(f"convolution padding must be an int >= 0, got {padding!r}")
    if size + 2 * padding < kernel:
        raise SpecError(
            f"convolution kernel {kernel} does not fit an input of {size} padded by {padding}"
        )
    return (size + 2 * padding - kernel) // stride + 1


@dataclass(frozen=True, slots=True)
class ConvGeometry:
    """Shapes of a 2-D convolution ``C×H×W → F×Ho×Wo`` with kernel ``kh×kw``.

    Examples
    --------
    >>> g = ConvGeometry(1, 28, 28, 8, 3, 3, 1, 1, 0, 0)
    >>> g.n, g.m, g.mults_per_seed
    (784, 5408, 48672)
    """

    channels: int
    height: int
    width: int
    filters: int
    kh: int
    kw: int
    sh: int = 1
    sw: int = 1
    ph: int = 0
    pw: int = 0

    def __post_init__(self) -> None:
        for name in ("channels", "filters"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise SpecError(f"convolution {name} must be an int >= 1, got {v!r}")
        conv_output_size(self.height, self.kh, self.sh, self.ph)
        conv_output_size(self.width, self.kw, self.sw, self.pw)

    @property
    def out_height(self) -> int:
        """``Ho``."""
        return conv_output_size(self.height, self.kh, self.sh, self.ph)

    @property
    def out_width(self) -> int:
        """``Wo``."""
        return conv_output_size(self.width, self.kw, self.sw, self.pw)

    @property
    def n(self) -> int:
        """Input size ``C·H·W``."""
        return self.channels * self.height * self.width

    @property
    def m(self) -> int:
        """Output size ``F·Ho·Wo``."""
        return self.filters * self.out_height * self.out_width

    @property
    def patch(self) -> int:
        """``C·kh·kw``: the length of one window."""
        return self.channels * self.kh * self.kw

    @property
    def mults_per_seed(self) -> int:
        """Multiplications of one convolution: ``F·Ho·Wo·C·kh·kw``."""
        return self.m * self.patch

    @property
    def padded(self) -> int:
        """``C·(H+2ph)·(W+2pw)``: elements of one padded input."""
        return self.channels * (self.height + 2 * self.ph) * (self.width + 2 * self.pw)


class Conv2d:
    """A 2-D convolution layer ``y = K * x + b`` on a flattened ``C×H×W`` input.

    Parameters
    ----------
    geometry : ConvGeometry
    kernel : numpy.ndarray
        ``(F, C, kh, kw)``.
    bias : numpy.ndarray
        ``(F,)`` (added to every output position).

    Examples
    --------
    >>> import numpy as np
    >>> g = ConvGeometry(2, 5, 5, 3, 3, 3, 2, 2, 1, 1)
    >>> conv = Conv2d.random(g, np.random.default_rng(0))
    >>> x = np.ones(g.n)
    >>> y, tape = conv.forward(x)
    >>> y.shape, tape is None
    ((27,), True)
    >>> J = conv.jacobian(tape)
    >>> bool(np.allclose(conv.jvp(tape, np.eye(g.n)), J))
    True
    >>> bool(np.allclose(conv.vjp(tape, np.eye(g.m)), J))
    True

    Notes
    -----
    ``jvp``/``vjp`` on ``s`` seeds: ``s·F·Ho·Wo·C·kh·kw`` multiplications (one BLAS product per
    band of output rows; VJP: per seed block, one per output row) and the workspace of
    :meth:`workspace` elements.
    """

    kind = "conv2d"

    def __init__(self, geometry: ConvGeometry, kernel: Any, bias: Any) -> None:
        g = geometry
        kernel = np.ascontiguousarray(kernel)  # so that _kmat below is a view, not a copy
        bias = np.asarray(bias)
        if kernel.shape != (g.filters, g.channels, g.kh, g.kw) or bias.shape != (g.filters,):
            raise SpecError(
                f"convolution kernel {kernel.shape} / bias {bias.shape} do not fit "
                f"{(g.filters, g.channels, g.kh, g.kw)} / {(g.filters,)}"
            )
        self.geometry = g
        self.kernel = kernel
        self.bias = bias
        self._kmat = np.ascontiguousarray(kernel.reshape(g.filters, g.patch))
        # rows ordered (kh, kw, C): each kernel offset's VJP contribution is one contiguous block
        self._kmat_offsets = np.ascontiguousarray(
            kernel.transpose(2, 3, 1, 0).reshape(g.kh * g.kw * g.channels, g.filters)
        )
        self._kmat_planes = plane_kernel(g, self._kmat_offsets)  # the seeds-last VJP's

    @classmethod
    def random(cls, geometry: ConvGeometry, rng: np.random.Generator, dtype: Any = "float64"):
        """Seeded kernel ``N(0, 1/(C·kh·kw))`` and bias ``N(0, 0.01)``."""
        g = geometry
        k = rng.standard_normal((g.filters, g.channels, g.kh, g.kw)) / math.sqrt(g.patch)
        b = 0.1 * rng.standard_normal(g.filters)
        return cls(g, k.astype(dtype), b.astype(dtype))

    @property
    def shape(self) -> tuple[int, int]:
        """``(m, n)`` of the Jacobian."""
        return (self.geometry.m, self.geometry.n)

    @property
    def tape_elements(self) -> int:
        """0: the Jacobian does not depend on the point."""
        return 0

    def workspace(self, direction: str, seeds: int) -> int:
        """Peak elements of temporaries during one call on ``seeds`` seeds, above the input
        block and the result (which the caller counts).

        ``"forward"`` (one point, ``seeds = 1``): the im2col matrix ``c = C·kh·kw·Ho·Wo·s``
        lives first next to the padded copy ``p = C·(H+2ph)·(W+2pw)·s`` (only when padding
        > 0), then next to the result ``r = m·s``: ``max(c + p, c + r) - r``. ``"tangent"``:
        the padded copy and one band's im2col scratch
        (:func:`~chainorder.matfree.conv_tangent.tangent_workspace`; the result is allocated
        before the first band). ``"adjoint"``: the temporaries of one seed block of
        :func:`~chainorder.matfree.conv_adjoint.adjoint_workspace` (the result is allocated
        once, before the first block).

        Examples
        --------
        >>> g = ConvGeometry(1, 4, 4, 2, 3, 3)
        >>> Conv2d.random(g, np.random.default_rng(0)).workspace("tangent", 5)
        180
        >>> Conv2d.random(g, np.random.default_rng(0)).workspace("adjoint", 5)
        720

        Notes
        -----
        O(1).
        """
        return conv_workspace(self.geometry, direction, seeds)

    # numerics ------------------------------------------------------------------------------
    def _im2col(self, T: Any) -> Any:
        g = self.geometry
        s = T.shape[1]
        X = T.reshape(g.channels, g.height, g.width, s)
        if g.ph or g.pw:
            X = np.pad(X, ((0, 0), (g.ph, g.ph), (g.pw, g.pw), (0, 0)))
        win = sliding_window_view(X, (g.kh, g.kw), axis=(1, 2))  # (C, H', W', s, kh, kw)
        win = win[:, :: g.sh, :: g.sw][:, : g.out_height, : g.out_width]
        # (C, kh, kw, Ho, Wo, s) -> one copy (the im2col matrix)
        return win.transpose(0, 4, 5, 1, 2, 3).reshape(g.patch, -1)

    def forward(self, x: Any) -> tuple[Any, None]:
        """``(y, None)``: the convolution of ``x`` (``(n,)``) plus the bias; no tape."""
        g = self.geometry
        y = self._kmat @ self._im2col(np.asarray(x).reshape(g.n, 1))  # (F, Ho·Wo)
        y += self.bias[:, None]
        return y.reshape(g.m), None

    def jvp(self, tape: Any, T: Any, out: Any = None) -> Any:
        """``J @ T`` for tangent columns ``T`` of shape ``(n, s)``: the convolution of each
        (C-ordered result; into ``out`` when given)."""
        return conv_jvp(self.geometry, self._kmat, np.asarray(T), out=out)

    def vjp(self, tape: Any, A: Any, out: Any = None) -> Any:
        """``A @ J`` for adjoint rows ``A`` of shape ``(s, m)``: the transposed convolution.

        Same multiplications as the JVP (``s·F·Ho·Wo·C·kh·kw``), in cache-sized seed blocks
        (:func:`chainorder.matfree.conv_adjoint.conv_vjp`); the result is seeds-last
        (Fortran-ordered), and a seeds-last ``A`` is read without transposing.
        """
        return conv_vjp(
            self.geometry, self._kmat_offsets, np.asarray(A), out=out, k_planes=self._kmat_planes
        )

    def jacobian(self, tape: Any) -> Any:
        """The dense ``(m, n)`` Jacobian (the tangent sweep of the identity)."""
        return self.jvp(tape, np.eye(self.geometry.n, dtype=self._kmat.dtype))


class Conv1d(Conv2d):
    """A 1-D convolution ``C×W → F×Wo``: :class:`Conv2d` with ``H = 1``, kernel ``1×k``.

    Examples
    --------
    >>> import numpy as np
    >>> conv = Conv1d.create(2, 10, 4, 3, stride=2, padding=1, rng=np.random.default_rng(0))
    >>> conv.shape
    (20, 20)
    """

    kind = "conv1d"

    @classmethod
    def create(
        cls,
        channels: int,
        length: int,
        filters: int,
        kernel: int,
        stride: int = 1,
        padding: int = 0,
        rng: np.random.Generator | None = None,
        dtype: Any = "float64",
    ) -> Conv1d:
        """A seeded 1-D convolution from its sizes."""
        g = ConvGeometry(channels, 1, length, filters, 1, kernel, 1, stride, 0, padding)
        return cls.random(g, rng or np.random.default_rng(0), dtype)  # type: ignore[return-value]


def geometry_of(link: Any) -> ConvGeometry:
    """The :class:`ConvGeometry` of a ``conv1d``/``conv2d`` link cost.

    Examples
    --------
    >>> from chainorder.matfree.links import conv2d
    >>> geometry_of(conv2d(1, 28, 8, 3, stride=2)).m
    1352

    Notes
    -----
    O(1).
    """
    p = link.param
    if link.kind == "conv1d":
        (length,), (k,), (s,), (pad,) = p("in_shape"), p("kernel"), p("stride"), p("padding")
        return ConvGeometry(p("in_channels"), 1, length, p("out_channels"), 1, k, 1, s, 0, pad)
    if link.kind == "conv2d":
        (h, w), (kh, kw) = p("in_shape"), p("kernel")
        (sh, sw), (ph, pw) = p("stride"), p("padding")
        return ConvGeometry(p("in_channels"), h, w, p("out_channels"), kh, kw, sh, sw, ph, pw)
    raise SpecError(f"a {link.kind} link has no convolution geometry")


def conv_workspace(g: ConvGeometry, direction: str, seeds: int) -> int:
    """Peak temporaries of one convolution call, in elements (see :meth:`Conv2d.workspace`).

    Examples
    --------
    >>> conv_workspace(ConvGeometry(1, 4, 4, 2, 3, 3), "tangent", 5)
    180

    Notes
    -----
    O(1).
    """
    if direction == "forward":
        c = g.patch * g.out_height * g.out_width * seeds
        p, r = (g.padded * seeds if (g.ph or g.pw) else 0), g.m * seeds
        return max(c + p, c + r) - r
    if direction == "tangent":
        return tangent_workspace(g, seeds)
    if direction == "adjoint":
        return adjoint_workspace(g, seeds)
    raise ValueError(f"direction must be forward, tangent or adjoint, got {direction!r}")

"""The tangent (JVP) of a NumPy convolution: im2col in bands of output rows, one BLAS product
per band written straight into the result.

For tangent columns ``T`` (``n × s``, ``n = C·H·W``; the block is seeds-last: ``T`` viewed as
``C × H × W × s`` in C order) of a convolution ``C×H×W → F×Ho×Wo`` with kernel ``kh×kw``,
``J @ T`` is the convolution of each column; its result ``(m, s)`` viewed as ``F × Ho·Wo·s``
is seeds-last too, the layout the next link's tangent consumes, so nothing is transposed.

The product ``F × C·kh·kw`` by ``C·kh·kw × Ho·Wo·s`` has a short inner dimension (``C·kh·kw``,
9–27 for 3×3 kernels) and few rows (``F``), so it does few multiplications per number it
reads: done in one piece (the whole im2col matrix, then one product), both the im2col copy
and the product stream through main memory once the matrix outgrows the cache (9–45 MB at a
few hundred to two thousand seeds). Here the output rows are taken in *bands* of ``r`` rows
with ``r`` chosen so that a band's im2col matrix (``C·kh·kw × r·Wo·s``) fits
:data:`BAND_ELEMENTS` (at least one row per band): per band the ``kh·kw·C`` strided copies
fill one scratch array that is reused (allocated once per call), and one BLAS product writes
the band's ``F × r·Wo·s`` numbers straight into their columns of the result (a 2-D view with
row stride ``Ho·Wo·s``, which BLAS takes as its leading dimension). The scratch stays in the
core's L2 cache between the copy and the product. The multiplications are exactly the
convolution's, ``s·F·Ho·Wo·C·kh·kw``.

When one output row's im2col matrix alone exceeds the budget (a thousand seeds and more), the
row is cut into runs of output columns (:func:`tangent_tile`), each run's product written into
its contiguous columns of the result. Against the single-piece form this takes 0.3–0.8× the
CPU time per multiplication at the seed counts of issue 10's benchmarks
(benchmarks/bench_matfree.py figure D).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["BAND_ELEMENTS", "conv_jvp", "tangent_band", "tangent_tile", "tangent_workspace"]

#: Target elements of one band's im2col matrix (512 KiB of float64; a quarter of a core's L2).
BAND_ELEMENTS = 1 << 16


def tangent_band(g: Any, seeds: int, block: int = BAND_ELEMENTS) -> int:
    """Output rows per band: the most whose im2col matrix fits ``block`` elements (≥ 1).

    Examples
    --------
    >>> from chainorder.matfree.conv import ConvGeometry
    >>> tangent_band(ConvGeometry(1, 28, 28, 4, 3, 3, 2, 2), 784)  # 9·13·784 per row
    1
    >>> tangent_band(ConvGeometry(1, 28, 28, 4, 3, 3, 2, 2), 10)
    13

    Notes
    -----
    O(1).
    """
    return max(1, min(g.out_height, block // (g.patch * g.out_width * max(seeds, 1))))


def tangent_tile(g: Any, seeds: int, block: int = BAND_ELEMENTS) -> tuple[int, int]:
    """``(rows, columns)`` of output pixels per tile: whole rows in bands of
    :func:`tangent_band` rows while one row's im2col matrix fits ``block`` elements; past that
    one row at a time, cut into runs of ``Wo'`` output columns (``C·kh·kw·Wo'·s ≤ block``,
    at least 1), so that the scratch still fits the cache at a thousand seeds or more.

    Examples
    --------
    >>> from chainorder.matfree.conv import ConvGeometry
    >>> tangent_tile(ConvGeometry(3, 24, 24, 8, 3, 3, 2, 2), 1728)  # 27·11·1728 > 2^16
    (1, 1)
    >>> tangent_tile(ConvGeometry(1, 28, 28, 4, 3, 3, 2, 2), 10)
    (13, 13)

    Notes
    -----
    O(1).
    """
    s = max(seeds, 1)
    if g.patch * g.out_width * s <= block:
        return tangent_band(g, seeds, block), g.out_width
    return 1, max(1, min(g.out_width, block // (g.patch * s)))


def tangent_workspace(g: Any, seeds: int, block: int = BAND_ELEMENTS) -> int:
    """Peak elements of :func:`conv_jvp`'s temporaries above the input block and the result.

    The padded copy ``C·(H+2ph)·(W+2pw)·s`` (only when padding > 0) and the tile scratch
    ``C·kh·kw·r·Wo'·s`` (``(r, Wo') = tangent_tile(g, seeds)``) are alive together.

    Examples
    --------
    >>> from chainorder.matfree.conv import ConvGeometry
    >>> tangent_workspace(ConvGeometry(1, 4, 4, 2, 3, 3), 5)  # 9·2·2·5
    180

    Notes
    -----
    O(1).
    """
    padded = g.padded * seeds if (g.ph or g.pw) else 0
    rows, cols = tangent_tile(g, seeds, block)
    return padded + g.patch * rows * cols * seeds


def conv_jvp(
    g: Any, kmat: Any, T: Any, block: int = BAND_ELEMENTS, out: Any = None
) -> Any:
    """``J @ T`` of the convolution ``g`` for tangent columns ``T`` (``(n, s)``) → ``(m, s)``.

    ``kmat`` is the kernel ``(F, C, kh, kw)`` as an ``F × C·kh·kw`` matrix. See the module
    notes for the method. ``T`` may be C-ordered (seeds-last: the windows are copied in
    runs of ``s`` numbers) or Fortran-ordered (seeds-first, e.g. an adjoint sweep's result:
    the same copies gather with stride; no extra array). The result is C-ordered (written
    into ``out`` when given).

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.matfree.conv import Conv2d, ConvGeometry
    >>> g = ConvGeometry(2, 5, 5, 3, 3, 3, 2, 2, 1, 1)
    >>> conv = Conv2d.random(g, np.random.default_rng(0))
    >>> T = np.random.default_rng(1).standard_normal((g.n, 4))
    >>> bool(np.allclose(conv_jvp(g, conv._kmat, T, block=40), conv.jacobian(None) @ T))
    True

    Notes
    -----
    ``s·F·Ho·Wo·C·kh·kw`` multiplications (one BLAS product per band of output rows);
    temporaries of :func:`tangent_workspace` elements.
    """
    T = np.asarray(T)
    s = T.shape[1]
    C, F, kh, kw = g.channels, g.filters, g.kh, g.kw
    ho, wo = g.out_height, g.out_width
    if T.flags.c_contiguous:
        X = T.reshape(C, g.height, g.width, s)
    else:  # seeds-first storage: a view with the seeds' stride outermost
        X = T.T.reshape(s, C, g.height, g.width).transpose(1, 2, 3, 0)
    if g.ph or g.pw:
        X = np.pad(X, ((0, 0), (g.ph, g.ph), (g.pw, g.pw), (0, 0)))
    win = sliding_window_view(X, (kh, kw), axis=(1, 2))  # (C, H', W', s, kh, kw)
    win = win[:, :: g.sh, :: g.sw][:, :ho, :wo].transpose(0, 4, 5, 1, 2, 3)  # C,kh,kw,Ho,Wo,s
    dtype = np.result_type(X.dtype, kmat.dtype)
    own = out is not None and out.flags.c_contiguous
    result = out.reshape(F, ho * wo * s) if own else np.empty((F, ho * wo * s), dtype=dtype)
    band, xw = tangent_tile(g, s, block)
    row = wo * s
    scratch = np.empty(g.patch * band * xw * s, dtype=X.dtype)
    for y0 in range(0, ho, band):
        r = min(ho, y0 + band) - y0
        for x0 in range(0, wo, xw):  # xw == wo unless one row is above the budget (r = 1)
            w = min(wo, x0 + xw) - x0
            cols = scratch[: g.patch * r * w * s].reshape(C, kh, kw, r, w, s)
            np.copyto(cols, win[:, :, :, y0 : y0 + r, x0 : x0 + w])
            at = y0 * row + x0 * s  # the tile's columns of the result: one 2-D view
            np.matmul(kmat, cols.reshape(g.patch, r * w * s), out=result[:, at : at + r * w * s])
    if out is not None and not own:
        np.copyto(out, result.reshape(g.m, s))
        return out
    return result.reshape(g.m, s)

"""The adjoint (VJP) of a NumPy convolution on a *seeds-last* block, in bands of output rows.

An adjoint sweep keeps its block seeds-last (:mod:`chainorder.matfree.execute`): ``A`` of shape
``(s, m)`` Fortran-ordered, so ``Aᵀ`` is a C-contiguous ``F × Ho × Wo·s`` array and one output
row of every filter, ``A[:, f, y, :, :]``, is a contiguous run of ``Wo·s`` numbers. Blocking
over the seeds (as :func:`chainorder.matfree.conv_adjoint.conv_vjp` does for a seeds-first
block) would cut those runs into pieces of ``b`` numbers that must be gathered into a scratch
and scattered back, the slowest part of that form at a few hundred to two thousand seeds.
Here every step works on all ``s`` seeds at once and the work is split by *output rows*:

1. for a band of ``r`` output rows, one stacked BLAS product per column chunk writes
   ``K_all · A_row`` (``K_all``: the ``C·kh·kw × F`` kernel, rows ordered channel, then kernel
   offset) for every offset into its own *plane*: the first offset of each phase (``i < sh``,
   ``j < sw``) into that phase's plane, which is the accumulator of the band's phase rows
   ``y0 .. y0 + r − 1``, the other offsets into planes of their own; every plane has ``r``
   rows of ``Wq·s`` numbers (``Wq = ⌈Wp/sw⌉``), so all planes are equally spaced and one
   product covers them;
2. each other offset ``(i, j)`` is added to its phase's plane by a flat 1-D shift per
   channel (``i // sh`` rows and ``j // sw`` pixels down: ``(i // sh · Wq + j // sw)·s``
   numbers), once from this band's plane and once from the band before's (its last
   ``i // sh`` rows land in this band's first rows). The planes live in two slots used in
   turn, so the band before's products are still there: nothing is carried or copied;
3. the band's finished phase rows are copied into the result, which is seeds-last too
   (``C × H × W × s``): each copy moves runs of ``s`` numbers. Phase rows below the last
   output row's reach get a last band with no products.

The multiplications are exactly the convolution's, ``s·F·Ho·Wo·C·kh·kw`` (no padding
zeros). The two slots of planes are all it allocates, inside the one scratch array of
:func:`chainorder.matfree.conv_adjoint.adjoint_workspace`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "BAND_BUDGET",
    "COLUMN_CHUNK",
    "band_rows",
    "banded_workspace",
    "conv_vjp_banded",
    "plane_kernel",
]

#: Target elements of one band's planes (2 MiB of float64; at least one output row a band).
BAND_BUDGET = 1 << 18

#: Columns of one BLAS product (its output stays in the core's L2 cache).
COLUMN_CHUNK = 4096


def phases(g: Any) -> tuple[int, int]:
    """``(⌈Hp/sh⌉, ⌈Wp/sw⌉)``: rows and columns of one phase of the padded input.

    Examples
    --------
    >>> from chainorder.matfree.conv import ConvGeometry
    >>> phases(ConvGeometry(1, 28, 28, 4, 3, 3, 2, 2, 1, 0))
    (15, 14)

    Notes
    -----
    O(1).
    """
    hp, wp = g.height + 2 * g.ph, g.width + 2 * g.pw
    return -(-hp // g.sh), -(-wp // g.sw)


def offsets(g: Any) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Kernel offsets ``(i, j)``: each phase's first (``i < sh``, ``j < sw``; its product is
    written straight into the accumulator) and the rest (added, shifted).

    Examples
    --------
    >>> from chainorder.matfree.conv import ConvGeometry
    >>> first, rest = offsets(ConvGeometry(1, 5, 5, 1, 3, 3, 2, 2))
    >>> first, len(rest)
    ([(0, 0), (0, 1), (1, 0), (1, 1)], 5)

    Notes
    -----
    O(kh·kw).
    """
    first = [(i, j) for i in range(min(g.sh, g.kh)) for j in range(min(g.sw, g.kw))]
    rest = [(i, j) for i in range(g.kh) for j in range(g.kw) if i >= g.sh or j >= g.sw]
    return first, rest


def band_rows(g: Any, seeds: int, budget: int = BAND_BUDGET) -> int:
    """Output rows per band: the most whose two slots of planes fit ``budget`` elements, at
    least ``max(1, th − 1)`` (``th = ⌈kh/sh⌉``: a band then only ever needs the band before).

    Examples
    --------
    >>> from chainorder.matfree.conv import ConvGeometry
    >>> band_rows(ConvGeometry(1, 32, 32, 8, 3, 3, 2, 2), 1800), band_rows(
    ...     ConvGeometry(1, 32, 32, 8, 3, 3, 2, 2), 10)
    (1, 15)

    Notes
    -----
    O(1).
    """
    th = (g.kh - 1) // g.sh + 1
    plane = 2 * g.channels * g.kh * g.kw * phases(g)[1] * max(seeds, 1)
    return max(1, th - 1, min(g.out_height, budget // plane))


def banded_workspace(g: Any, seeds: int, budget: int = BAND_BUDGET) -> int:
    """Elements :func:`conv_vjp_banded` uses of its scratch: two slots of ``C·kh·kw`` planes of
    ``r·Wq·s`` numbers (``r = band_rows(g, s)``, ``Wq = ⌈Wp/sw⌉``).

    Examples
    --------
    >>> from chainorder.matfree.conv import ConvGeometry
    >>> banded_workspace(ConvGeometry(1, 4, 4, 2, 3, 3), 5)  # 2·9·2·4·5
    720

    Notes
    -----
    O(1).
    """
    r = band_rows(g, seeds, budget)
    return 2 * g.channels * g.kh * g.kw * r * phases(g)[1] * seeds


def plane_kernel(g: Any, kmat_offsets: Any) -> Any:
    """``K_all`` (``C·kh·kw × F``): rows ordered (channel, plane), the planes being the phases'
    first offsets, then the other offsets (:func:`offsets`). Made once per layer.

    Examples
    --------
    >>> from chainorder.matfree.conv import Conv2d, ConvGeometry
    >>> g = ConvGeometry(2, 5, 5, 3, 3, 3, 2, 2)
    >>> plane_kernel(g, Conv2d.random(g, np.random.default_rng(0))._kmat_offsets).shape
    (18, 3)

    Notes
    -----
    O(C·kh·kw·F).
    """
    first, rest = offsets(g)
    K = kmat_offsets.reshape(g.kh, g.kw, g.channels, g.filters)
    planes = [K[i, j] for i, j in first + rest]  # each (C, F)
    return np.ascontiguousarray(np.stack(planes, axis=1).reshape(-1, g.filters))


def _span(lo: int, hi: int, offset: int, stride: int, size: int) -> tuple[int, int]:
    """Phase indices ``q`` in ``[lo, hi)`` with ``0 <= q·stride + offset < size``."""
    first = max(lo, -(offset // stride) if offset < 0 else 0)
    while first < hi and first * stride + offset < 0:
        first += 1
    last = min(hi, (size - 1 - offset) // stride + 1) if size - 1 - offset >= 0 else lo
    return first, max(first, last)


def conv_vjp_banded(
    g: Any, k_all: Any, A: Any, scratch: Any, result: Any, budget: int = BAND_BUDGET
) -> None:
    """``A @ J`` for a seeds-last ``A`` (``Aᵀ`` C-contiguous), written into ``result``
    (``C × H × W × s``, C-contiguous); ``k_all`` is :func:`plane_kernel`; ``scratch`` holds
    at least :func:`banded_workspace` elements. See the module notes.

    Examples
    --------
    >>> from chainorder.matfree.conv import Conv2d, ConvGeometry
    >>> g = ConvGeometry(2, 5, 5, 3, 3, 3, 2, 2, 1, 1)
    >>> conv = Conv2d.random(g, np.random.default_rng(0))
    >>> A = np.asfortranarray(np.random.default_rng(1).standard_normal((4, g.m)))
    >>> out = np.empty((g.channels, g.height, g.width, 4))
    >>> K = plane_kernel(g, conv._kmat_offsets)
    >>> conv_vjp_banded(g, K, A, np.empty(banded_workspace(g, 4)), out)
    >>> bool(np.allclose(out.reshape(g.n, 4).T, A @ conv.jacobian(None)))
    True

    Notes
    -----
    ``s·F·Ho·Wo·C·kh·kw`` multiplications; no allocation beyond ``scratch`` and ``result``.
    """
    s = A.shape[0]
    C, F, kh, kw, sh, sw = g.channels, g.filters, g.kh, g.kw, g.sh, g.sw
    ho, wo = g.out_height, g.out_width
    hq, wq = phases(g)
    first, rest = offsets(g)
    KK, nf = kh * kw, len(first)
    th = (kh - 1) // sh + 1
    r = band_rows(g, s, budget)
    row = wq * s  # numbers in one plane row
    size = C * KK * r * row
    slots = [scratch[k * size : (k + 1) * size].reshape(C, KK, r, row) for k in range(2)]
    for planes in slots:  # the other offsets' padding columns: read, never written
        planes[:, nf:, :, wo * s :] = 0
    src = A.T.reshape(F, ho, wo * s)
    # (plane, its phase's plane, rows down, flat shift within a row) of each other offset
    shifts = [
        (k, first.index((i % sh, j % sw)), i // sh, (j // sw) * s)
        for k, (i, j) in enumerate(rest, start=nf)
    ]
    for a in range(sh):  # phases no kernel offset reaches stay zero
        for c in range(sw):
            if a >= kh or c >= kw:
                result[:, (a - g.ph) % sh :: sh, (c - g.pw) % sw :: sw] = 0
    reached = min(hq, ho + th - 1)  # phase rows some output row reaches
    done = 0  # output rows whose products the previous band made
    for b, y0 in enumerate(range(0, reached, r)):
        planes, prev = slots[b % 2], slots[(b + 1) % 2]
        rp = max(0, min(ho, y0 + r) - y0)  # output rows of this band
        for c0 in range(0, wo * s, COLUMN_CHUNK):  # 1. products into the planes
            c1 = min(wo * s, c0 + COLUMN_CHUNK)
            np.matmul(
                k_all,
                src[:, y0 : y0 + rp, c0:c1].transpose(1, 0, 2),
                out=planes.reshape(C * KK, r, row)[:, :rp, c0:c1].transpose(1, 0, 2),
            )
        planes[:, :nf, :rp, wo * s :] = 0  # the phases' rows: accumulators
        planes[:, :nf, rp:] = 0
        flat, before = planes.reshape(C, KK, r * row), prev.reshape(C, KK, r * row)
        for ch in range(C):  # 2. the other offsets: flat shifts (1-D, no ufunc buffer)
            for k, p, ty, tx in shifts:
                n = min(rp, r - ty)  # rows of this band landing in it
                if n > 0:
                    d, run = ty * row + tx, (n - 1) * row + wo * s
                    flat[ch, p, d : d + run] += flat[ch, k, :run]
                lo, hi = max(0, r - ty), min(done, r)  # rows of the band before
                if y0 and hi > lo:
                    d, run = (lo + ty - r) * row + tx, (hi - lo - 1) * row + wo * s
                    flat[ch, p, d : d + run] += before[ch, k, lo * row : lo * row + run]
        _copy_out(g, first, planes.reshape(C, KK, r, wq, s), result, y0, min(reached, y0 + r), y0)
        done = rp
    if reached < hq:  # 3. phase rows no output row reaches
        for a, c in first:
            y_lo, y_hi = _span(reached, hq, a - g.ph, sh, g.height)
            if y_hi > y_lo:
                Y = y_lo * sh + a - g.ph
                result[:, Y : Y + (y_hi - y_lo - 1) * sh + 1 : sh, (c - g.pw) % sw :: sw] = 0


def _copy_out(g: Any, first: list, grid: Any, result: Any, q_lo: int, q_hi: int, base: int) -> None:
    """Phase rows ``[q_lo, q_hi)`` (local row ``q - base`` of ``grid``) into ``result``."""
    sh, sw = g.sh, g.sw
    wq = grid.shape[3]
    for p, (a, c) in enumerate(first):
        y_lo, y_hi = _span(q_lo, q_hi, a - g.ph, sh, g.height)
        x_lo, x_hi = _span(0, wq, c - g.pw, sw, g.width)
        if y_hi <= y_lo or x_hi <= x_lo:
            continue
        Y, X = y_lo * sh + a - g.ph, x_lo * sw + c - g.pw
        dest = result[:, Y : Y + (y_hi - y_lo - 1) * sh + 1 : sh]
        dest = dest[:, :, X : X + (x_hi - x_lo - 1) * sw + 1 : sw]
        dest[...] = grid[:, p, y_lo - base : y_hi - base, x_lo:x_hi]

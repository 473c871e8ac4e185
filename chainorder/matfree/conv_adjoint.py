"""The adjoint (VJP) of a NumPy convolution: BLAS products written into a polyphase
accumulator, the other kernel offsets added by flat 1-D shifts.

For adjoint rows ``A`` (``s × m``, ``m = F·Ho·Wo``) of a convolution ``C×H×W → F×Ho×Wo`` with
kernel ``kh×kw``, stride ``(sh, sw)`` and padding ``(ph, pw)``, ``A @ J`` is the transposed
convolution. The result is always *seeds-last* (a Fortran-ordered ``(s, n)`` array: ``C × H ×
W × s`` in memory), the layout an adjoint sweep keeps. A seeds-last ``A`` (what the executor
hands over) with more seeds than one block holds goes to
:func:`chainorder.matfree.conv_banded.conv_vjp_banded`: bands of output rows over all seeds,
nothing gathered or scattered per seed block; with few seeds it is one block of the form
below, read in place (step 1 needs no copy). A seeds-first ``A`` (C-ordered) is computed here
block by block over the seeds, ``b`` seeds at a time with ``b``
chosen so that a block's temporaries stay within :data:`BLOCK_ELEMENTS` (about the size of a
core's L2 cache in float64). Offset ``(i, j)`` of the kernel sends output pixel ``(y, x)`` to
padded input pixel ``(y·sh + i, x·sw + j)``, which lies in *phase* ``(i mod sh, j mod sw)`` of
the padded input at phase pixel ``(y + i // sh, x + j // sw)``. The accumulator holds the
phases, ``C × sh × sw × Hq × Wq × b`` with ``Hq = ⌈Hp/sh⌉``, ``Wq = ⌈Wp/sw⌉`` (``Hp = H +
2ph``), seeds last. For each block:

1. the block is turned seeds-last, ``(F, Ho, Wo, b)`` (one copy of ``F·Ho·Wo·b`` numbers);
2. the first offset of each phase (``i < sh``, ``j < sw``: shift 0) is computed by BLAS
   straight into the accumulator: one product ``(C·sh·sw) × F`` by ``F × Wo·b`` per output row
   (the rows stacked in one ``matmul`` call, so NumPy loops over them in C), each writing
   ``Wo·b`` numbers into an accumulator row of ``Wq·b``; the rest of the accumulator is
   zeroed;
3. the other ``kh·kw − min(kh, sh)·min(kw, sw)`` offsets (5 of 9 for a 3×3 kernel at stride 2,
   8 at stride 1) are computed the same way into a scratch whose rows are padded to ``Wq·b``
   with zeros, so that a shift by ``(i // sh, j // sw)`` pixels is one *flat* shift by
   ``(i // sh · Wq + j // sw)·b`` numbers: per channel one 1-D contiguous addition of
   ``((Ho−1)·Wq + Wo)·b`` numbers (the padding zeros land on positions outside the output's
   reach or add nothing);
4. each phase is copied, cropped, into its rows and columns of the seeds-last result (runs
   of ``b`` numbers), which is allocated once.

The products do exactly the JVP's multiplications, ``b·F·Ho·Wo·C·kh·kw`` (no zeros: the
padding columns are never multiplied). Every copy and addition is between contiguous runs, so
NumPy allocates no ufunc buffer (a 2-D strided in-place addition may buffer or copy its
operand depending on sizes and strides in NumPy 2.x, which a memory model cannot follow).

All temporaries of all blocks live in *one* scratch array. Separate arrays per block made
glibc hand the freed top of the heap back to the system after each call (the freed
temporaries together exceeded its trim threshold, twice the largest block freed so far), so
the next call page-faulted its ~2 MiB in again: 440 faults and 3–6× the time of a call at 81
seeds on a 28×28 input. One scratch next to the result stays under that threshold.

Earlier forms (benchmarks/_conv_forms.py, measured in benchmarks/bench_matfree.py figure D):
seeds-first scatter-adds; the whole block seeds-last with strided additions into a padded
accumulator; session 3's seed blocks with each offset copied to a contiguous block and added
as a strided 3-D region (through NumPy's ufunc buffers); and a rejected polyphase *gather*
(per phase a stride-1 correlation of the padded adjoints with the flipped sub-kernel, im2col +
one BLAS product), which gathers ``F`` numbers per kernel tap and input pixel where the JVP
gathers ``C`` per tap and output pixel and multiplies the zero border. On a seeds-first block
this form takes about 1.5–3× the JVP's time per multiplication (the block is turned
seeds-last in pieces of ``b`` seeds, strided gathers and scatters at about 1 ns per number);
the banded form on a seeds-last block takes about the JVP's time (figure D).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainorder.matfree.conv_banded import (
    banded_workspace,
    conv_vjp_banded,
    offsets,
    phases,
    plane_kernel,
)

__all__ = [
    "BLOCK_ELEMENTS",
    "UFUNC_BUFFER",
    "adjoint_block",
    "adjoint_workspace",
    "conv_vjp",
]

#: Elements of one NumPy ufunc buffer (``numpy.getbufsize()``, 8192 by default).
UFUNC_BUFFER = np.getbufsize()

#: Target elements of one seed block's temporaries (2 MiB of float64).
BLOCK_ELEMENTS = 1 << 18


_phases = phases
_offsets = offsets


def _sizes(g: Any) -> tuple[int, int, int]:
    """Per seed: the seeds-last block, the added offsets' blocks (rows padded to the phase
    width ``Wq``), the polyphase accumulator."""
    hq, wq = _phases(g)
    pixels = g.out_height * g.out_width
    added = len(_offsets(g)[1]) * g.channels * g.out_height * wq
    return g.filters * pixels, added, g.channels * g.sh * g.sw * hq * wq


def adjoint_block(g: Any, seeds: int, block: int = BLOCK_ELEMENTS) -> int:
    """Seeds per block of a seeds-first ``A``: the most whose temporaries fit ``block``
    elements (at least 1).

    Examples
    --------
    >>> from chainorder.matfree.conv import ConvGeometry
    >>> adjoint_block(ConvGeometry(1, 28, 28, 4, 3, 3, 2, 2), 207)
    110

    Notes
    -----
    O(1).
    """
    a, c, p = _sizes(g)
    return max(1, min(seeds, block // (c + a + p)))


def adjoint_workspace(g: Any, seeds: int, block: int = BLOCK_ELEMENTS) -> int:
    """Peak elements of :func:`conv_vjp`'s temporaries above the input and the result: its
    one scratch array, sized for both forms (the larger of the two below), whichever runs.

    Seeds-last ``A``: the planes and carry of
    :func:`chainorder.matfree.conv_banded.banded_workspace` (budget ``block``). Seeds-first
    ``A``: with ``b = adjoint_block(g, seeds)`` and per seed ``a = F·Ho·Wo`` (seeds-last block),
    ``c = r·C·Ho·Wq`` (the blocks of the ``r = kh·kw − min(kh, sh)·min(kw, sw)`` added
    offsets, rows padded to the phase width ``Wq = ⌈Wp/sw⌉``) and
    ``p = C·sh·sw·⌈Hp/sh⌉·Wq`` (the polyphase accumulator), one scratch array of
    ``b·(c + a + p)`` elements holds all three (the products read the seeds-last block while
    the phases' first offsets are written into the accumulator). Every addition is between
    1-D contiguous runs, for which NumPy allocates no buffer.

    Examples
    --------
    >>> from chainorder.matfree.conv import ConvGeometry
    >>> g = ConvGeometry(1, 4, 4, 2, 3, 3)
    >>> adjoint_workspace(g, 5), banded_workspace(g, 5)  # max(5·(8·2·4 + 2·2·2 + 16), 720)
    (720, 720)

    Notes
    -----
    O(1).
    """
    b = adjoint_block(g, seeds, block)
    a, c, p = _sizes(g)
    return max(b * (c + a + p), banded_workspace(g, seeds, block))


def conv_vjp(
    g: Any,
    kmat_offsets: Any,
    A: Any,
    block: int = BLOCK_ELEMENTS,
    out: Any = None,
    k_planes: Any = None,
) -> Any:
    """``A @ J`` of the convolution ``g`` for adjoint rows ``A`` (``(s, m)``) → ``(s, n)``.

    ``kmat_offsets`` is the kernel ``(F, C, kh, kw)`` as a ``(kh·kw·C) × F`` matrix (rows
    ordered by kernel offset, then channel). See the module notes for the method. ``A`` may
    be seeds-first (C-ordered) or seeds-last (Fortran-ordered, ``Aᵀ`` C-contiguous: no
    transposing copy, and with a single seed block no copy at all); the result is always
    seeds-last (a Fortran-ordered ``(s, n)`` array, ``Aᵀ`` as ``C × H × W × s``), written
    into ``out`` when given. A seeds-last ``A`` runs
    :func:`chainorder.matfree.conv_banded.conv_vjp_banded` (``k_planes``: its kernel
    matrix, made from ``kmat_offsets`` when not given).

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.matfree.conv import Conv2d, ConvGeometry
    >>> g = ConvGeometry(2, 5, 5, 3, 3, 3, 2, 2, 1, 1)
    >>> conv = Conv2d.random(g, np.random.default_rng(0))
    >>> A = np.random.default_rng(1).standard_normal((4, g.m))
    >>> bool(np.allclose(conv_vjp(g, conv._kmat_offsets, A, block=50), A @ conv.jacobian(None)))
    True
    >>> conv_vjp(g, conv._kmat_offsets, np.asfortranarray(A)).flags.f_contiguous
    True

    Notes
    -----
    ``s·F·Ho·Wo·C·kh·kw`` multiplications (per block two stacked ``matmul`` calls, one BLAS
    product per output row each); temporaries of :func:`adjoint_workspace` elements.
    """
    A = np.asarray(A)
    s = A.shape[0]
    C, F, kh, kw, sh, sw = g.channels, g.filters, g.kh, g.kw, g.sh, g.sw
    ho, wo = g.out_height, g.out_width
    hq, wq = _phases(g)
    sb = adjoint_block(g, s, block)
    a_, c_, p_ = _sizes(g)
    first, rest = _offsets(g)
    K = kmat_offsets.reshape(kh, kw, C, F)
    merged = kh >= sh and kw >= sw  # every phase has a first offset: one product for all
    if merged:  # rows (channel, phase): the accumulator's order
        k_first = [np.ascontiguousarray(K[:sh, :sw].transpose(2, 0, 1, 3)).reshape(-1, F)]
    else:
        k_first = [K[i, j] for i, j in first]
    k_rest = np.ascontiguousarray(np.array([K[i, j] for i, j in rest]).reshape(-1, F))
    dtype = np.result_type(A.dtype, kmat_offsets.dtype)
    if out is not None and out.T.flags.c_contiguous:
        result = out.T.reshape(C, g.height, g.width, s)
    else:
        result = np.empty((C, g.height, g.width, s), dtype=dtype)  # seeds-last
    # one scratch for every block (one allocation: see the notes), sized for both forms
    scratch = np.empty(adjoint_workspace(g, s, block), dtype=dtype)
    seeds_last = bool(A.T.flags.c_contiguous)
    if seeds_last and sb < s:  # seeds-last, several seed blocks: bands of output rows instead
        if k_planes is None:
            k_planes = plane_kernel(g, kmat_offsets)
        conv_vjp_banded(g, k_planes, A, scratch, result, block)
        return _finish(g, result, out)
    if seeds_last:  # one seed block: the block itself is the seeds-last copy (none made)
        source = A.T.reshape(F, ho, wo, s)
    else:
        source = A.reshape(s, F, ho, wo).transpose(1, 2, 3, 0)  # a transposing view
    run = 0  # ((Ho-1)·Wq + Wo)·b: the numbers one offset adds per channel
    for s0 in range(0, s, sb):
        b = min(s, s0 + sb) - s0
        cols = scratch[: b * c_].reshape(len(rest) * C, ho, wq * b)
        if wq > wo and rest and run != ((ho - 1) * wq + wo) * b:
            cols[:, :, wo * b :] = 0  # padding columns: zeroed once, never written again
        run = ((ho - 1) * wq + wo) * b
        if seeds_last:
            at = source
        else:
            at = scratch[sb * c_ : sb * c_ + b * a_].reshape(F, ho, wo, b)
            np.copyto(at, source[..., s0 : s0 + b])
        acc = scratch[sb * (c_ + a_) : sb * (c_ + a_) + b * p_].reshape(C, sh, sw, hq, wq * b)
        outs = [acc.reshape(C * sh * sw, hq, wq * b)] if merged else [
            acc[:, i, j] for i, j in first
        ]
        # one product per output row (Wo·b numbers into rows of Wq·b), stacked: NumPy loops
        # over the rows in C and hands each to BLAS with its leading dimensions
        rows = at.reshape(F, ho, wo * b).transpose(1, 0, 2)
        for k, dest in zip(k_first, outs, strict=True):
            np.matmul(k, rows, out=dest[:, :ho, : wo * b].transpose(1, 0, 2))
        if rest:
            np.matmul(k_rest, rows, out=cols[:, :, : wo * b].transpose(1, 0, 2))
        acc[:, :, :, :ho, wo * b :] = 0  # what the first offsets do not cover
        acc[:, :, :, ho:] = 0
        added = cols.reshape(len(rest), C, ho * wq * b)
        flat = acc.reshape(C, sh, sw, hq * wq * b)
        for ch in range(C):  # one channel at a time: 1-D contiguous additions
            for k, (i, j) in enumerate(rest):
                d = ((i // sh) * wq + j // sw) * b  # a shift by whole pixels: one flat shift
                flat[ch, i % sh, j % sw, d : d + run] += added[k, ch, :run]
        acc = acc.reshape(C, sh, sw, hq, wq, b)
        for a in range(sh):
            y0 = (a - g.ph) % sh  # first result row y with (y + ph) mod sh == a
            ny = len(range(y0, g.height, sh))
            for c in range(sw):
                x0 = (c - g.pw) % sw
                nx = len(range(x0, g.width, sw))
                if not (ny and nx):
                    continue
                view = result[:, y0::sh, x0::sw, s0 : s0 + b]  # runs of b seeds: no transpose
                if a >= kh or c >= kw:  # no kernel offset reaches this phase
                    view[...] = 0
                    continue
                q0, r0 = (y0 + g.ph) // sh, (x0 + g.pw) // sw
                view[...] = acc[:, a, c, q0 : q0 + ny, r0 : r0 + nx]
    return _finish(g, result, out)


def _finish(g: Any, result: Any, out: Any) -> Any:
    """The ``(s, n)`` seeds-last view of ``result`` (``C × H × W × s``), or ``out`` holding it."""
    view = result.reshape(g.n, result.shape[-1]).T
    if out is None:
        return view
    if not np.shares_memory(out, result):
        np.copyto(out, view)
    return out

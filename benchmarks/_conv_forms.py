"""Figure D of benchmarks/bench_matfree.py (convolution JVP and VJP, time per mult) and the
earlier and rejected forms it measures ``Conv2d.jvp`` / ``Conv2d.vjp`` against. Each VJP form
returns ``A @ J`` for adjoint rows ``A`` of shape ``(s, m)`` and does the JVP's
multiplications, except where stated; the JVP form returns ``J @ T`` for tangent columns
``T`` (``(n, s)``)."""

from __future__ import annotations

from functools import partial

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from chainorder.matfree.conv import Conv2d, ConvGeometry
from chainorder.matfree.conv_adjoint import _phases
from chainorder.matfree.measure import round_robin
from chainorder.units import format_count

__all__ = [
    "CONV_CASES",
    "FORMS",
    "figure_d",
    "jvp_one_piece",
    "vjp_polyphase_gather",
    "vjp_polyphase_strided",
    "vjp_seed_blocks",
    "vjp_seeds_first",
    "vjp_single_block",
]


def jvp_one_piece(conv: Conv2d, T: np.ndarray) -> np.ndarray:
    """The JVP before issue 10's session 4: the whole im2col matrix (``C·kh·kw × Ho·Wo·s``) in
    one copy, then one BLAS product."""
    g = conv.geometry
    return (conv._kmat @ conv._im2col(T)).reshape(g.m, T.shape[1])


def vjp_seeds_first(conv: Conv2d, A: np.ndarray) -> np.ndarray:
    """The first VJP: ``Kᵀ·A`` seeds-first (one BLAS product per seed), then ``kh·kw``
    strided scatter-adds over runs of ``Wo`` numbers."""
    g = conv.geometry
    s, ho, wo = A.shape[0], g.out_height, g.out_width
    kmat_t = conv.kernel.reshape(g.filters, g.patch).T
    cols = np.matmul(kmat_t, A.reshape(s, g.filters, ho * wo))
    cols = cols.reshape(s, g.channels, g.kh, g.kw, ho, wo)
    out = np.zeros((s, g.channels, g.height + 2 * g.ph, g.width + 2 * g.pw))
    for i in range(g.kh):
        for j in range(g.kw):
            out[:, :, i : i + g.sh * ho : g.sh, j : j + g.sw * wo : g.sw] += cols[:, :, i, j]
    out = out[:, :, g.ph : g.ph + g.height, g.pw : g.pw + g.width]
    return np.ascontiguousarray(out).reshape(s, g.n)


def vjp_single_block(conv: Conv2d, A: np.ndarray) -> np.ndarray:
    """The second VJP (issue 10 phase 2): the whole block seeds-last, one BLAS product,
    ``kh·kw`` strided additions into a ``C × Hp × Wp × s`` accumulator, turned back."""
    g = conv.geometry
    s, ho, wo = A.shape[0], g.out_height, g.out_width
    at = np.ascontiguousarray(A.T).reshape(g.filters, ho * wo * s)
    cols = (conv._kmat_offsets @ at).reshape(g.kh, g.kw, g.channels, ho, wo, s)
    out = np.zeros((g.channels, g.height + 2 * g.ph, g.width + 2 * g.pw, s))
    for i in range(g.kh):
        for j in range(g.kw):
            out[:, i : i + g.sh * ho : g.sh, j : j + g.sw * wo : g.sw] += cols[i, j]
    crop = out[:, g.ph : g.ph + g.height, g.pw : g.pw + g.width]
    return np.ascontiguousarray(crop.reshape(g.n, s).T)


def vjp_polyphase_gather(conv: Conv2d, A: np.ndarray) -> np.ndarray:
    """Polyphase (sub-pixel) transposed convolution: for each of the ``sh·sw`` phases of the
    padded input, a stride-1 correlation of the zero-bordered adjoints with the flipped
    sub-kernel ``K[..., a::sh, b::sw]``, as im2col + one BLAS product. No inserted zeros are
    multiplied, only the border (the correlation runs over every input pixel); the im2col
    gathers ``F`` numbers per tap and input pixel."""
    g = conv.geometry
    s, ho, wo = A.shape[0], g.out_height, g.out_width
    C, F, kh, kw, sh, sw = g.channels, g.filters, g.kh, g.kw, g.sh, g.sw
    mh, mw = -(-kh // sh) - 1, -(-kw // sw) - 1
    hq, wq = -(-(g.height + 2 * g.ph) // sh), -(-(g.width + 2 * g.pw) // sw)
    Yp = np.zeros((s, F, hq + mh, wq + mw), dtype=A.dtype)
    Yp[:, :, mh : mh + ho, mw : mw + wo] = A.reshape(s, F, ho, wo)
    out = np.zeros((s, C, hq, sh, wq, sw), dtype=A.dtype)
    for a in range(min(sh, kh)):
        ka = len(range(a, kh, sh))
        for b in range(min(sw, kw)):
            kb = len(range(b, kw, sw))
            sub = conv.kernel[:, :, a::sh, b::sw][:, :, ::-1, ::-1]
            kmat = np.ascontiguousarray(sub.transpose(1, 0, 2, 3).reshape(C, F * ka * kb))
            oh, ow = mh - (ka - 1), mw - (kb - 1)
            view = Yp[:, :, oh : oh + hq + ka - 1, ow : ow + wq + kb - 1]
            win = sliding_window_view(view, (ka, kb), axis=(2, 3))
            col = win.transpose(1, 4, 5, 0, 2, 3).reshape(F * ka * kb, s * hq * wq)
            out[:, :, :, a, :, b] = (kmat @ col).reshape(C, s, hq, wq).transpose(1, 0, 2, 3)
    out = out.reshape(s, C, hq * sh, wq * sw)
    out = out[:, :, g.ph : g.ph + g.height, g.pw : g.pw + g.width]
    return np.ascontiguousarray(out).reshape(s, g.n)


def vjp_polyphase_strided(conv: Conv2d, A: np.ndarray, block: int = 1 << 18) -> np.ndarray:
    """The VJP of session 3: seed blocks, one BLAS product per block into contiguous
    offsets' blocks, polyphase accumulator, but each offset added as a 3-D strided region
    (``C × Ho × Wo·b``) — NumPy runs these additions through its ufunc buffers."""
    g = conv.geometry
    s, (C, F, kh, kw, sh, sw) = A.shape[0], (g.channels, g.filters, g.kh, g.kw, g.sh, g.sw)
    ho, wo = g.out_height, g.out_width
    hq, wq = _phases(g)
    per = (F * ho * wo, kh * kw * C * ho * wo, C * sh * sw * hq * wq)
    sb = max(1, min(s, block // (per[1] + max(per[0], per[2]))))
    result = np.zeros((s, C, g.height, g.width))
    blocks = A.reshape(s, F, ho * wo)
    for s0 in range(0, s, sb):
        b = min(s, s0 + sb) - s0
        at = np.ascontiguousarray(blocks[s0 : s0 + b].transpose(1, 2, 0)).reshape(F, -1)
        cols = (conv._kmat_offsets @ at).reshape(kh, kw, C, ho, wo, b)
        acc = np.empty((C, sh, sw, hq, wq, b))
        for i in range(kh):
            for j in range(kw):
                qi, qj = i // sh, j // sw
                phase = acc[:, i % sh, j % sw]
                if qi == 0 and qj == 0:  # the phase's first offset: copied
                    phase[:, :ho, :wo] = cols[i, j]
                    phase[:, ho:] = 0
                    phase[:, :ho, wo:] = 0
                else:
                    phase[:, qi : qi + ho, qj : qj + wo] += cols[i, j]
        for a in range(min(sh, kh)):
            y0 = (a - g.ph) % sh
            ny = len(range(y0, g.height, sh))
            for c in range(min(sw, kw)):
                x0 = (c - g.pw) % sw
                nx = len(range(x0, g.width, sw))
                q0, r0 = (y0 + g.ph) // sh, (x0 + g.pw) // sw
                result[s0 : s0 + b, :, y0::sh, x0::sw] = acc[
                    :, a, c, q0 : q0 + ny, r0 : r0 + nx
                ].transpose(3, 0, 1, 2)
    return result.reshape(s, g.n)


def vjp_seed_blocks(conv: Conv2d, A: np.ndarray) -> np.ndarray:
    """The VJP of session 4 (still what a seeds-first ``A`` gets): cache-sized seed blocks,
    each turned seeds-last, BLAS products into a polyphase accumulator and a row-padded
    scratch, flat 1-D shifts, phases copied out (:func:`chainorder.matfree.conv_adjoint.
    conv_vjp` on a C-ordered ``A``)."""
    return conv.vjp(None, A)  # A seeds-first (C-ordered)


#: Column name → form, in the order figure D prints them.
FORMS = {
    "first (seeds-first)": vjp_seeds_first,
    "phase 2 (one block)": vjp_single_block,
    "polyphase gather": vjp_polyphase_gather,
    "session 3 (strided adds)": vjp_polyphase_strided,
    "session 4 (seed blocks)": vjp_seed_blocks,
}


#: Figure D's convolutions: (C, H, filters, stride, seeds) — figure B's convolutions at the
#: seed counts its plans sweep them with (backwards: the next links' widths; forwards: the
#: identity on the input, n seeds), and the CNN's two at 10 seeds.
CONV_CASES = (
    (1, 28, 4, 2, 81),
    (1, 28, 4, 2, 676),
    (1, 28, 4, 2, 784),
    (3, 24, 8, 2, 122),
    (3, 24, 8, 2, 968),
    (3, 24, 8, 2, 1728),
    (1, 32, 8, 2, 131),
    (1, 32, 8, 2, 1024),
    (1, 32, 8, 2, 1800),
    (1, 28, 4, 1, 614),
    (2, 24, 4, 1, 480),
    (1, 28, 8, 1, 10),
    (8, 26, 16, 2, 10),
)


#: Seeds of figure D's dense comparison (the explicit Jacobian times this many columns).
DENSE_SEEDS = 128


def figure_d(repeat: int) -> tuple[str, None]:
    k = max(repeat, 7)
    forms = list(FORMS)
    lines = [
        "### D. Convolution JVP and VJP, time per multiplication",
        "",
        "One call on a block of seeds (3×3 kernels, no padding, float64, one BLAS thread). "
        "Every form does the JVP's mults (`seeds·F·Ho·Wo·C·9`) except the polyphase gather, "
        "which also multiplies the zero border (its ns/mult is per JVP mult). *JVP one "
        "piece*: the whole im2col matrix, then one BLAS product (the JVP before this session); "
        "*JVP now*: `Conv2d.jvp` (tiles of output pixels — bands of rows, or runs of one row's "
        "columns at many seeds — one reused im2col scratch, each tile's product written "
        "straight into the result). VJP forms: *first*: seeds-first, "
        "`kh·kw` strided scatter-adds over runs of `Wo`; *phase 2*: the whole block "
        "seeds-last, strided additions into a padded accumulator; *polyphase gather*: per "
        "phase a stride-1 correlation of the adjoints with the flipped sub-kernel (im2col + "
        "one BLAS product); *session 3*: cache-sized seed blocks, polyphase accumulator, each "
        "offset added as a strided 3-D region; *session 4*: as session 3, but the offsets' "
        "rows padded to the phase width so that every shift is one flat 1-D shift (what a "
        "seeds-first block still gets); *now*: `Conv2d.vjp` on a seeds-last block (what an "
        "adjoint sweep carries now): with more seeds than one seed block holds, bands of "
        "output rows over all seeds, one BLAS product per column chunk into equally spaced "
        "planes, flat shifts from this band's and the band before's planes, rows copied out "
        "in runs of `s`; with fewer, session 4's form on the block read in place. "
        f"Interleaved, best of {k} CPU times (`thread_time`); "
        "*VJP now / JVP now (wall)*: the same ratio from wall-clock times; *dense*: a BLAS "
        f"product of the explicit Jacobian with {DENSE_SEEDS} (or fewer) seeds, for scale.",
        "",
        "| input | filters | stride | seeds | mults | JVP one piece (ns/mult) | "
        "JVP now (ns/mult) | "
        + " | ".join(f"VJP {f} (ns/mult)" for f in forms)
        + " | VJP now (ns/mult) | VJP now / JVP now | VJP now / JVP now (wall) | "
        "dense J·T (ns/mult) | JVP now / dense | VJP now / dense |",
        "|---|---:|---:|---:|---:|---:|---:|" + "---:|" * len(forms) + "---:|" * 6,
    ]
    rng = np.random.default_rng(0)
    for c, h, f, st, seeds in CONV_CASES:
        g = ConvGeometry(c, h, h, f, 3, 3, st, st, 0, 0)
        conv = Conv2d.random(g, rng)
        T, A = rng.standard_normal((g.n, seeds)), rng.standard_normal((seeds, g.m))
        AC, A = A, np.asfortranarray(A)  # former forms: seeds-first; now: seeds-last
        np.testing.assert_allclose(jvp_one_piece(conv, T), conv.jvp(None, T), atol=1e-12)
        now = conv.vjp(None, A)
        for form in FORMS.values():
            np.testing.assert_allclose(form(conv, AC), now, atol=1e-12)
        calls = [partial(jvp_one_piece, conv, T), partial(conv.jvp, None, T)]
        calls += [partial(form, conv, AC) for form in FORMS.values()]
        calls.append(partial(conv.vjp, None, A))
        J, Td = conv.jacobian(None), np.ascontiguousarray(T[:, :DENSE_SEEDS])
        calls.append(partial(np.matmul, J, Td))
        cpu: list[float] = []
        wall = round_robin(calls, k, cpu=cpu)
        mults = g.mults_per_seed * seeds
        ns = [t / mults * 1e9 for t in cpu[:-1]]
        dense_ns = cpu[-1] / (g.m * g.n * Td.shape[1]) * 1e9
        cells = " | ".join(f"{v:.2f}" for v in ns)
        lines.append(
            f"| {c}×{h}×{h} | {f} | {st} | {seeds} | {format_count(mults)} | {cells} | "
            f"{ns[-1] / ns[1]:.2f} | {wall[-2] / wall[1]:.2f} | {dense_ns:.3f} | "
            f"{ns[1] / dense_ns:.1f} | {ns[-1] / dense_ns:.1f} |"
        )
    return "\n".join(lines), None  # no target: a measurement

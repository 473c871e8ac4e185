"""Matrix-free Jacobian chains (issue 10): predicted against measured on real NumPy layers.

Run (the two OpenBLAS variables unset for this command only)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        python benchmarks/bench_matfree.py --threads 1 --repeat 5 --write

``--write`` replaces the "matfree" section of benchmarks/RESULTS.md; ``--out FILE`` writes the
Markdown to a file of its own; ``--skip ABC`` leaves figures out.

Figures
  A. Input-output Jacobians of a small CNN, an MLP and the hourglass (streamed setting: the
     forward pass is part of every run): the matrix-free optimum against pure tangent (what
     ``jacfwd`` does), pure adjoint (``jacrev``) and the given-matrix plan (every link
     preaccumulated, then the cheapest dense products): predicted mults and peak, measured
     time and tracemalloc peak.
  B. Every plan of seeded random short chains (dense, elementwise, convolution links; given
     setting): Spearman(predicted mults, measured time) per chain and pooled, and the worst
     measured/predicted peak.
  C. Planning time of the generalised DP against the plain DP at L = 100, 400, 1000.
  D. Convolution JVP against the VJP's forms (first, phase 2, polyphase gather, now), time
     per multiplication.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import platform
import random
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _conv_forms import FORMS, jvp_one_piece
from _results import emit, summary_line

from chainorder.matfree.conv import Conv2d, ConvGeometry
from chainorder.matfree.links import conv2d, dense, elementwise
from chainorder.matfree.measure import measure_matrix_free, round_robin
from chainorder.matfree.planning import links_from_chain
from chainorder.matfree.solver import solve_matrix_free
from chainorder.measure import spearman
from chainorder.solvers.dp import solve_dp
from chainorder.testing import random_chain
from chainorder.units import format_bytes, format_count

NETWORKS = {
    "CNN": "1x28x28,conv2d(8,k=3),relu,conv2d(16,k=3,stride=2),relu,10",
    "MLP": "784,512,tanh,512,tanh,10",
    "hourglass": "4096,64,tanh,4096,tanh,64,tanh,4096",
}
NOTES = """### Notes on method

- **Memory** is modelled event by event (the executor replays the same event list the
  model simulates) and includes NumPy's temporaries: the im2col matrix of a convolution's
  JVP; for its VJP the one scratch array of a seed block (the per-offset blocks, then in
  one place the seeds-last block and the polyphase accumulator) and the two ufunc buffers
  of its strided additions, sized by NumPy's buffering rule (`add_buffers`); the one ufunc
  buffer of a broadcasting multiply by a diagonal. What remains is a few KiB of Python objects.
- **Convolution VJP (figure B's miss).** Two forms came before the one now in use, both with
  the JVP's mults (figure D keeps them): the first computed `Kᵀ·A` seeds-first and scattered
  with `kh·kw` strided additions over runs of `Wo`; the second (phase 2) turned the whole
  block seeds-last, one BLAS product, unit-stride additions into a padded `C×Hp×Wp×s`
  accumulator, turned back. In figure D they take 0.7–2.5× (first) and 0.6–2.3× (phase 2) the
  JVP's CPU time per mult — below 1 only at 10 seeds, where the JVP's own fixed costs dominate
  — and the most at high seed counts, where their temporaries outgrow the cache. The VJP now
  (`chainorder/matfree/conv_adjoint.py`) works in seed blocks whose temporaries fit 2^18
  elements, all in *one* scratch array; per block one BLAS product gives each kernel offset's
  contribution, which lands in a polyphase accumulator (`C×sh×sw×⌈Hp/sh⌉×⌈Wp/sw⌉×b`, unit
  stride over columns and seeds whatever the stride); the first offset of each phase is
  copied, not added (5 additions instead of 9 for 3×3 at stride 2), and each phase is written
  into the result. Separate arrays per block had made glibc trim the heap after every call
  (the freed temporaries exceeded its trim threshold, twice the largest block freed), so each
  call page-faulted ~2 MiB back in (440 faults, 3–6× the time at 81 seeds). The polyphase
  *gather* suggested for issue 10 (per phase a stride-1 correlation of the adjoints with the
  flipped sub-kernel, im2col + one BLAS product) was measured and rejected: it multiplies no
  inserted zeros, but its im2col holds `F` numbers per tap and input pixel where the JVP's
  holds `C` per tap and output pixel — `F/C` (1.3–16) times more data — and it also multiplies
  the zero border; figure D shows it 1.3–11× slower per mult than the JVP. The VJP now takes
  0.7–1.4× the JVP's CPU time per mult on figure D's geometries (figure B's convolutions at
  the seed counts its plans use, and the CNN's). The cost model is unchanged (tangent =
  adjoint = the convolution's mults; no per-direction factors).
- **What still separates time from mults on convolution chains.** Figure D's *dense* column is
  a BLAS product `J·T` with the convolution's explicit Jacobian: a dense mult costs 7–12× less
  time than a convolution mult in either direction (≥ 81 seeds), because the convolution's
  product has an inner dimension of `C·9` (9–27) and `F` (4–16) rows — memory-bound — while
  the dense products of figure B's chains run at BLAS speed. Plans of a chain that starts with
  a convolution differ mostly in how they treat it (tangent sweep with `n_0` seeds, adjoint
  sweep with a few rows, or preaccumulation), so plans that give the convolution a larger
  share of their mults are slower than their mults say, whichever direction. That gap is the
  hardware's, not the executor's; pricing it would need a per-kind time model, which the brief
  rules out (mults are the prediction). Figure B's three convolution chains went from Spearman
  0.878 / 0.910 / 0.761 on CPU time (0.830 / 0.712 / 0.759 wall) with the phase-2 VJP
  (previous run, load 9.4) to the values in the table above (this run's load above); the
  target is still missed on CPU time for two of them.
- **Sizes.** Figure B's chains are sized so that the cheapest plan costs ≥ 12 M mults; the
  earlier sizes (widths 16..640, 10–14 pixel images) gave plans of 0.05–0.3 ms, where the
  executor's per-event Python overhead (a few µs per event) and timer noise decide the order
  of near-equal plans.
- **Load.** The machine has 2 cores shared with other work (load average at start above);
  round-robin timing spreads slow spells over all plans but cannot remove them: plans whose
  costs differ by a few percent swap places from run to run. The CPU-time column of figure B
  leaves out the time the measuring thread waited for a core; where it and the wall-clock
  column differ (a dense chain at 0.79 wall, 0.985 CPU), the difference is the load.
"""

NAMES = {"pure tangent": "pure tangent (jacfwd)", "pure adjoint": "pure adjoint (jacrev)"}


def figure_a(repeat: int, networks: dict[str, str]) -> tuple[str, bool]:
    lines = [
        "### A. Input-output Jacobians of real layers (streamed: forward pass included)",
        "",
        "Plans timed round-robin (one run of each per round, best of the rounds); peak "
        "measured by tracemalloc in a separate run, x_0 created inside the run.",
        "",
    ]
    ok = True
    for name, spec in networks.items():
        r = measure_matrix_free(spec, setting="streamed", repeat=repeat)
        r.raise_if_disagree()
        opt = r.row("optimum")
        ok &= r.memory_ok
        lines += [
            f"**{name}** `{spec}` — Jacobian {format_count(r.plans[0].links[-1].rows)} × "
            f"{format_count(r.plans[0].links[0].cols)}; max difference from the explicit "
            f"product {r.max_difference:.1e}.",
            "",
            "| plan | expression | mode | predicted mults | predicted peak | measured peak | "
            "measured / predicted | time (ms) | GFLOP/s | predicted speedup of optimum | "
            "measured speedup |",
            "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for row in r.rows:
            expr = row.expression if len(row.expression) <= 60 else row.expression[:57] + "..."
            lines.append(
                f"| {NAMES.get(row.name, row.name)} | `{expr}` | {row.mode} | "
                f"{row.mults:,} | {format_bytes(row.predicted_bytes)} | "
                f"{format_bytes(row.measured_bytes)} | {row.memory_ratio:.4f} | "
                f"{row.seconds * 1e3:.2f} | {row.gflops:.1f} | {row.mults / opt.mults:.2f}× | "
                f"{row.seconds / opt.seconds:.2f}× |"
            )
        lines.append("")
    lines.append(
        f"**Target** (measured peak within 10 % of predicted): **{'met' if ok else 'NOT met'}**."
    )
    return "\n".join(lines), ok


#: Figure B's sizes: dense widths log-uniform in WIDTHS, convolutions on C×H×H inputs with H
#: in CONV_SIZES. Chosen so that the cheapest plan of every chain costs ≥ 12 M mults (≥ ~1 ms),
#: where timer resolution and the executor's per-event Python overhead are a small share.
WIDTHS = (64, 768)
CONV_SIZES = (24, 28, 32)


def _width(rng: random.Random) -> int:
    return round(math.exp(rng.uniform(math.log(WIDTHS[0]), math.log(WIDTHS[1]))))


def random_short_chain(seed: int, n_links: int = 4) -> list:
    """Seeded dense / elementwise / conv2d links; widths log-uniform in ``WIDTHS``, so that the
    plans' predicted costs spread over an order of magnitude or more."""
    rng = random.Random(seed)
    links: list = []
    if rng.random() < 0.4:  # start with a convolution on a C×H×W input
        c, h = rng.choice([1, 2, 3]), rng.choice(CONV_SIZES)
        links.append(conv2d(c, (h, h), rng.choice([4, 8]), 3, stride=rng.choice([1, 2])))
    while len(links) < n_links:
        width = links[-1].rows if links else _width(rng)
        if links and links[-1].kind != "elementwise" and rng.random() < 0.4:
            links.append(elementwise(width, rng.choice(["tanh", "sigmoid", "relu"])))
        else:
            links.append(dense(_width(rng), width))
    return links


def figure_b(repeat: int, chains: int) -> tuple[str, bool]:
    lines = [
        "### B. Every plan of random short chains (given setting)",
        "",
        "Each chain's every matrix-free plan (every tree and every per-node choice of "
        "tangent sweep, adjoint sweep or dense product) run on seeded layers, timed "
        "round-robin; tapes computed beforehand. Sizes: dense widths log-uniform in "
        f"{WIDTHS[0]}..{WIDTHS[1]}; a convolution (40 % of chains) on a C×H×H input, C in "
        f"1..3, H in {CONV_SIZES}, 4 or 8 filters 3×3, stride 1 or 2; the cheapest plan of "
        "each chain costs ≥ 12 M mults (≥ ~0.5 ms; measured times in the table). Time is "
        "wall-clock (`perf_counter`); *CPU* is the measuring thread's CPU time "
        "(`thread_time`, one BLAS thread) of the same runs, which leaves out the time the "
        "thread waited for a core on this shared machine. *spread*: the costliest plan's "
        "mults over the cheapest's.",
        "",
        "| chain | plans | spread | Spearman(mults, time) | Spearman(mults, CPU) | "
        "optimum (ms) | fastest (ms) | optimum / fastest | worst peak measured / predicted |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    ok = ok_cpu = True
    rhos, pooled_m, pooled_t, conv_rhos, plain_rhos = [], [], [], [], []
    cpu_rhos, pooled_c = [], []
    for seed in range(chains):
        links = random_short_chain(seed)
        r = measure_matrix_free(links, setting="given", every_plan=True, repeat=repeat)
        r.raise_if_disagree()
        rho = r.spearman
        rhos.append(rho)
        (conv_rhos if links[0].kind == "conv2d" else plain_rhos).append(rho)
        opt = r.row("optimum")
        fastest = min(row.seconds for row in r.rows)
        pooled_m += [row.mults / opt.mults for row in r.rows]
        pooled_t += [row.seconds / fastest for row in r.rows]
        fastest_cpu = min(row.cpu_seconds for row in r.rows)
        pooled_c += [row.cpu_seconds / fastest_cpu for row in r.rows]
        cpu_rhos.append(r.spearman_cpu)
        spread = max(row.mults for row in r.rows) / min(row.mults for row in r.rows)
        ok &= rho >= 0.9 and r.memory_ok
        ok_cpu &= r.spearman_cpu >= 0.9 and r.memory_ok
        desc = " → ".join(
            f"{link.label}{'' if link.diagonal else f' {link.rows}×{link.cols}'}" for link in links
        )
        lines.append(
            f"| {desc} | {len(r.rows)} | {spread:.1f} | {rho:.3f} | {r.spearman_cpu:.3f} | "
            f"{opt.seconds * 1e3:.2f} | "
            f"{fastest * 1e3:.2f} | {opt.seconds / fastest:.3f} | {r.worst_memory_ratio:.4f} |"
        )
    pooled = spearman(pooled_m, pooled_t)
    lines += [
        "",
        f"Spearman per chain: min {min(rhos):.3f}, mean {np.mean(rhos):.3f}; pooled over all "
        f"{len(pooled_m)} plans (mults / optimum vs time / fastest): {pooled:.3f}. "
        f"Dense/elementwise chains: min {min(plain_rhos, default=float('nan')):.3f}; chains "
        f"starting with a convolution: min {min(conv_rhos, default=float('nan')):.3f}. "
        f"With CPU time: per chain min {min(cpu_rhos):.3f}, mean {np.mean(cpu_rhos):.3f}; "
        f"pooled {spearman(pooled_m, pooled_c):.3f}.",
        "",
        f"**Target** (Spearman ≥ 0.9 on every chain, every peak within 10 %): wall-clock "
        f"**{'met' if ok else 'NOT met'}**; CPU time **{'met' if ok_cpu else 'NOT met'}**.",
    ]
    return "\n".join(lines), ok


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
        "*JVP now*: `Conv2d.jvp` (bands of output rows, one reused im2col scratch, each band's "
        "product written straight into the result). VJP forms: *first*: seeds-first, "
        "`kh·kw` strided scatter-adds over runs of `Wo`; *phase 2*: the whole block "
        "seeds-last, strided additions into a padded accumulator; *polyphase gather*: per "
        "phase a stride-1 correlation of the adjoints with the flipped sub-kernel (im2col + "
        "one BLAS product); *session 3*: cache-sized seed blocks, polyphase accumulator, each "
        "offset added as a strided 3-D region; *now*: `Conv2d.vjp` (as session 3, but the "
        "offsets' rows padded to the phase width so that every shift is one flat 1-D shift, "
        f"one product per output row). Interleaved, best of {k} CPU times (`thread_time`); "
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
        np.testing.assert_allclose(jvp_one_piece(conv, T), conv.jvp(None, T), atol=1e-12)
        now = conv.vjp(None, A)
        for form in FORMS.values():
            np.testing.assert_allclose(form(conv, A), now, atol=1e-12)
        calls = [partial(jvp_one_piece, conv, T), partial(conv.jvp, None, T)]
        calls += [partial(form, conv, A) for form in FORMS.values()]
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


def figure_c(lengths: tuple[int, ...]) -> tuple[str, bool]:
    lines = [
        "### C. Planning time: generalised DP against the plain DP",
        "",
        "Random chains (widths 1..1024, 30 % elementwise links, seed 0); the plain DP is "
        "`chainorder.solvers.dp.solve_dp` on the same chain, the generalised one "
        "`solve_matrix_free` on its links (every link matrix-free, dense: tangent = adjoint = "
        "m·n; elementwise: d). Best of 3 (one run at L = 1000).",
        "",
        "| L | plain DP (s) | generalised DP (s) | ratio |",
        "|---:|---:|---:|---:|",
    ]
    ok = True
    for L in lengths:
        chain = random_chain(0, L, 1, 1024, diagonal_fraction=0.3)
        links = links_from_chain(chain)
        runs = 1 if L >= 1000 else 3
        t_dp = t_mf = float("inf")
        for _ in range(runs):
            t0 = time.perf_counter()
            solve_dp(chain)
            t_dp = min(t_dp, time.perf_counter() - t0)
            t0 = time.perf_counter()
            solve_matrix_free(links)
            t_mf = min(t_mf, time.perf_counter() - t0)
        ok &= t_mf <= 2 * t_dp
        lines.append(f"| {L} | {t_dp:.3f} | {t_mf:.3f} | {t_mf / t_dp:.2f} |")
    lines += ["", f"**Target** (≤ 2× the plain DP): **{'met' if ok else 'NOT met'}**."]
    return "\n".join(lines), ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None, help="BLAS threads (threadpoolctl)")
    ap.add_argument("--chains", type=int, default=5, help="random chains in figure B")
    ap.add_argument("--lengths", default="100,400,1000", help="chain lengths of figure C")
    ap.add_argument("--small", action="store_true", help="hourglass at 1024 instead of 4096")
    ap.add_argument("--out", type=Path, default=None, help="also write the Markdown here")
    ap.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    ap.add_argument("--skip", default="", help="letters of figures to skip, e.g. 'C'")
    args = ap.parse_args()
    networks = dict(NETWORKS)
    if args.small:
        networks["hourglass"] = "1024,64,tanh,1024,tanh,64,tanh,1024"
    limit: Any = contextlib.nullcontext()
    if args.threads is not None:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            ap.error("--threads needs threadpoolctl; or set OPENBLAS_NUM_THREADS before the run")
        limit = threadpool_limits(limits=args.threads, user_api="blas")
    started = time.time()
    load = os.getloadavg()
    sections: list[str] = []
    verdicts: dict[str, bool] = {}
    with limit:
        for letter, fn in (
            ("A", lambda: figure_a(args.repeat, networks)),
            ("B", lambda: figure_b(args.repeat, args.chains)),
            ("C", lambda: figure_c(tuple(int(v) for v in args.lengths.split(",")))),
            ("D", lambda: figure_d(args.repeat)),
        ):
            if letter in args.skip:
                continue
            print(f"figure {letter} ...", file=sys.stderr, flush=True)
            text, ok = fn()
            sections.append(text)
            if ok is not None:
                verdicts[letter] = ok
    command = " ".join(["python", *sys.argv])
    env_threads = os.environ.get("OPENBLAS_NUM_THREADS")
    threads = args.threads or (f"{env_threads} (OPENBLAS_NUM_THREADS)" if env_threads else "none")
    if env_threads:
        command = f"OPENBLAS_NUM_THREADS={env_threads} {command}"
    head = [
        "## Matrix-free Jacobian chains: predictions against measurements (issue 10)",
        "",
        "Command: `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE " + command + "`",
        "",
        f"Machine: Python {platform.python_version()}, NumPy {np.__version__}, "
        f"{os.cpu_count()} CPU cores ({platform.machine()}); BLAS threads limit: "
        f"{threads}; load average at start {load[0]:.2f}; float64; times are "
        f"best of {args.repeat} after one warm-up; run took {time.time() - started:.0f} s.",
        "",
        summary_line(verdicts),
        "",
    ]
    body = "\n".join(head) + "\n" + "\n\n".join(sections) + "\n\n" + NOTES
    emit("matfree", body, args.out, args.write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Matrix-free Jacobian chains (issue 10): predicted against measured on real NumPy layers.

Run (the two OpenBLAS variables unset for this command only)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        python benchmarks/bench_matfree.py --threads 1 --repeat 5 --write

(``--threads`` needs threadpoolctl; without it set ``OPENBLAS_NUM_THREADS=1`` instead.)

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
  B′ (``--keep-heap``). Figure B again after ``mallopt`` stops glibc from returning freed
     memory to the system (how much of B's gap is page faulting of fresh blocks).
  D. Convolution JVP (one piece, now) and VJP (earlier forms, now), time per multiplication,
     against a dense BLAS product.
  E. Time per multiplication by link kind inside figure B's runs (the executor's event trace),
     and the share of unpriced events (seeds, diagonal expansions).
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
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _conv_forms import figure_d
from _matfree_profile import figure_e
from _results import emit, summary_line

from chainorder.matfree.links import conv2d, dense, elementwise
from chainorder.matfree.measure import measure_matrix_free
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
  model simulates) and includes NumPy's temporaries: the padded copy and one tile's im2col
  scratch of a convolution's JVP; for its VJP one scratch array sized for both of its forms
  (seeds-last: two slots of planes of a band of output rows; seeds-first: a seed block's
  offsets' blocks, seeds-last copy and polyphase accumulator; every addition is 1-D
  contiguous, so NumPy allocates no ufunc buffer); the one ufunc buffer of a broadcasting
  multiply by a diagonal. An elementwise step on a block the run owns and a diagonal
  scaling of an owned full child are done in place: their events allocate nothing (only the
  ufunc buffer, as transient). What remains is a few KiB of Python objects.
- **What this session changed in the executor (issue 10, session 5)** — the same priced
  work, less unpriced work; mults and cost model unchanged (executed mults are counted in
  `tests/test_matfree_exec_inplace.py` and equal every plan's prediction):
  (1) elementwise JVP/VJP scale the block in place (`out=` the block; a `given` input is
  never written) and a `dense` node's diagonal scaling overwrites its full child: no fresh
  block to allocate and fault in; (2) adjoint sweeps keep their block seeds-last (the
  symmetric identity or `diag` they start from handed over as its transpose, a dense VJP
  computed as `(Wᵀ Aᵀ)ᵀ` by one BLAS call, the convolution's VJP reading and writing that
  layout), so no step transposes a block; (3) the convolution's VJP on a seeds-last block
  works in bands of output rows over all seeds (`chainorder/matfree/conv_banded.py`): one
  stacked BLAS product per column chunk into equally spaced planes, the other kernel offsets
  added by flat shifts from this band's and the previous band's planes (two slots, nothing
  carried), finished rows copied out in runs of `s` — no per-seed-block gathers and
  scatters; (4) the convolution's JVP cuts a row into runs of output columns when one row's
  im2col matrix alone exceeds the 2^16-element budget (thousand-seed sweeps); (5) a
  seeds-last block that fits one seed block (~10–100 seeds) runs the seed-block VJP reading
  the block in place (no copy, fewer Python steps than bands).
- **Per link kind (figure E), before → after**, CPU ns per mult summed over every plan of
  figure B's six chains, same harness (`benchmarks/_matfree_profile.py` run on this
  session's starting code, best of 3, and figure E above, best of 5; shared machine, the
  second run the busier: dense 0.035 → 0.037): elementwise JVP 2.13 → 0.92 and VJP 1.79 →
  0.89, diagonal scaling node 1.72 → 0.87 (≈ 60× → 24× a dense mult), conv2d JVP 0.232 →
  0.138 (6.4× → 3.7×), conv2d VJP 0.397 → 0.259 (11× → 7×); per convolution chain the
  VJP 0.784 / 0.314 / 0.406 → 0.425 / 0.235 / 0.254 and the JVP 0.453 / 0.198 / 0.262 →
  0.237 / 0.117 / 0.163. The identity seeds stay unpriced (≈ 6 % of all time: a fresh
  `s × s` block zero-filled by the kernel).
- **Figure B before and after (CPU time, the three convolution chains):** session 4's
  official run 0.939 / 0.928 / 0.857 (B) and 0.940 / 0.959 / 0.899 (B′). This session:
  with the elementwise steps in place and seeds-last blocks only, 0.949 / 0.923 / 0.899
  (`--only-chains 1,3,4`); with everything, a full run at load 4.1 gave 0.966 / 0.975 /
  0.949, and the run above 0.968 / 0.939 / 0.946 (B) and 0.966 / 0.965 / 0.935 (B′): the
  target (≥ 0.9 on every chain) is met in both runs with 0.035–0.05 to spare; a chain's
  value moves by ~0.03 between runs on this machine. What still separates time from
  mults: per mult a convolution costs ~4–7× and an elementwise link ~24× a dense BLAS mult
  (figure E), so plans that sweep a convolution on a thousand-seed identity rank a little
  slower than their mults say; pricing that would need a per-kind time model, which the
  brief rules out. Figure B′ runs the same chains after `mallopt` stops glibc from
  returning freed memory (no page faults for reused blocks): a measurement of how much of
  the remaining gap is the allocator, not a change to the executor or the model; the
  official figure is B.
- **Sizes.** Figure B's chains are sized so that the cheapest plan costs ≥ 12 M mults; the
  earlier sizes (widths 16..640, 10–14 pixel images) gave plans of 0.05–0.3 ms, where the
  executor's per-event Python overhead (a few µs per event) and timer noise decide the order
  of near-equal plans.
- **Load.** The machine has 2 cores shared with other work (load average at start above);
  round-robin timing spreads slow spells over all plans but cannot remove them: plans whose
  costs differ by a few percent swap places from run to run, and a chain's Spearman moves
  by a few hundredths between runs. The CPU-time column leaves out the time the measuring
  thread waited for a core; where it and the wall-clock column differ, the difference is
  the load.
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


#: glibc mallopt parameters and values for ``--keep-heap``: never trim the heap's top, serve
#: blocks up to 32 MiB (the most glibc allows) from the heap, keep 64 MiB spare at its top.
KEEP_HEAP = {"M_TRIM_THRESHOLD": (-1, 2**31 - 1), "M_MMAP_THRESHOLD": (-3, 32 << 20),
             "M_TOP_PAD": (-2, 64 << 20)}


def chains_of(chains: int, only: tuple[int, ...] | None) -> list[list]:
    """Figure B's chains (seeds ``0..chains-1``, or only those in ``only``)."""
    return [random_short_chain(k) for k in range(chains) if only is None or k in only]


def keep_heap() -> str:
    """Tell glibc to keep freed memory (see :data:`KEEP_HEAP`); a one-line description, or
    why it could not. Afterwards a freed block is reused without page faults."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        ok = all(libc.mallopt(code, value) == 1 for code, value in KEEP_HEAP.values())
    except (OSError, AttributeError) as exc:
        return f"not glibc ({exc})"
    if not ok:
        return "mallopt refused a parameter"
    return ", ".join(f"{k}={v}" for k, (_, v) in KEEP_HEAP.items())


def describe(links: list) -> str:
    """``conv2d 1800×1024 → tanh → dense 67×1800 → ...``: how figures B and E name a chain."""
    return " → ".join(
        f"{link.label}{'' if link.diagonal else f' {link.rows}×{link.cols}'}" for link in links
    )


def figure_b(
    repeat: int, chains: int, variant: str = "", only: tuple[int, ...] | None = None
) -> tuple[str, bool]:
    head = "### B. Every plan of random short chains (given setting)"
    if variant:
        head = (
            "### B′. Figure B again, glibc keeping freed memory\n\nThe same chains, plans "
            "and timing, after `mallopt` told glibc not to trim the heap and to serve blocks "
            f"up to 32 MiB from it ({variant}): a block freed by one run is reused by the "
            "next without page faults. Memory is measured by tracemalloc as before (the live "
            "arrays; the process's resident size no longer shrinks)."
        )
    lines = [
        head,
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
    ]
    if variant:
        del lines[2:4]  # the description is B's
    lines += [
        "| chain | plans | spread | Spearman(mults, time) | Spearman(mults, CPU) | "
        "optimum (ms) | fastest (ms) | optimum / fastest | worst peak measured / predicted |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    ok = ok_cpu = True
    rhos, pooled_m, pooled_t, conv_rhos, plain_rhos = [], [], [], [], []
    cpu_rhos, pooled_c = [], []
    for seed in range(chains):
        if only is not None and seed not in only:
            continue
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
        desc = describe(links)
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
    ap.add_argument(
        "--only-chains",
        default=None,
        help="figures B, B′, E: only these chains (seeds, e.g. '1,3,4'), for iterating",
    )
    ap.add_argument("--lengths", default="100,400,1000", help="chain lengths of figure C")
    ap.add_argument("--small", action="store_true", help="hourglass at 1024 instead of 4096")
    ap.add_argument("--out", type=Path, default=None, help="also write the Markdown here")
    ap.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    ap.add_argument("--skip", default="", help="letters of figures to skip, e.g. 'C'")
    ap.add_argument(
        "--keep-heap",
        action="store_true",
        help="after B, run B again with glibc keeping freed memory (figure B′)",
    )
    args = ap.parse_args()
    only = None
    if args.only_chains:
        only = tuple(int(v) for v in args.only_chains.split(","))
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
            ("B", lambda: figure_b(args.repeat, args.chains, only=only)),
            ("B′", lambda: figure_b(args.repeat, args.chains, keep_heap(), only=only)),
            ("C", lambda: figure_c(tuple(int(v) for v in args.lengths.split(",")))),
            ("D", lambda: figure_d(args.repeat)),
            ("E", lambda: figure_e(args.repeat, chains_of(args.chains, only), describe)),
        ):
            if letter in args.skip or (letter == "B′" and not args.keep_heap):
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

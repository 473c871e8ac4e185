"""Benchmark: mults of forward mode, reverse mode and vertex-elimination orders on traced graphs.

For each traced function it records, in scalar multiplications (mults), the two sweeps
(n tangent sweeps, m adjoint sweeps), forward, reverse and Markowitz vertex elimination,
the chain through cut vertices and the best order found by search, checks the chosen
plan's Jacobian against finite differences, and writes a Markdown table.

Run::

    python benchmarks/bench_graph.py --write

``--write`` replaces the "graph" section of benchmarks/RESULTS.md; ``--out FILE`` writes the
Markdown to a file of its own.

``--exec`` measures instead how the compiled Jacobian programs run
(:mod:`chainorder.graph.program`) on the issue-8 benchmark functions of
examples/graph_cases.py: per mode its predicted mults and peak bytes, the measured peak
(tracemalloc) and best wall time (interleaved repeats), Spearman's rank correlation of
predicted mults and time for functions whose plans cost ≥ 10⁶ mults, and the chosen
plan's time over the fastest mode's; ``--exec --write`` replaces the "graph-exec" section::

    python benchmarks/bench_graph.py --exec --write

Where a product added into a held sum does not run as one GEMM (SciPy absent, as in the
default install, or ``CHAINORDER_GEMM_ADD=0``) the run writes the "graph-exec-unfused"
section instead::

    CHAINORDER_GEMM_ADD=0 python benchmarks/bench_graph.py --exec --write

"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples"))

sys.path.insert(0, str(Path(__file__).parent))
from _results import emit, gemm_note, update_section  # noqa: E402

from chainorder.atomic import write_atomic  # noqa: E402
from chainorder.graph import plan_graph, trace, validate_graph  # noqa: E402

RNG = np.random.default_rng(0)


def mlp_factory(widths: list[int]):
    """x ↦ W_L tanh(… tanh(W_1 x + b_1) …) + b_L with fixed weights (constants)."""
    Ws = [RNG.standard_normal((b, a)) / np.sqrt(a) for a, b in itertools.pairwise(widths)]
    bs = [RNG.standard_normal(b) for b in widths[1:]]

    def mlp(x):
        h = x
        for i, (W, b) in enumerate(zip(Ws, bs, strict=True)):
            h = W @ h + b
            if i < len(Ws) - 1:
                h = np.tanh(h)
        return h

    return mlp


def mlp_loss_wrt_weights(W1, W2, x, y):
    """Squared loss of a 2-layer MLP as a function of its weights (n = |W1| + |W2|, m = 1)."""
    z = W2 @ np.tanh(W1 @ x)
    return ((z - y) ** 2).mean()


def shared_two_outputs(x, y):
    """Shared subexpression x·y feeds two outputs."""
    a = x * y
    return np.sin(a) + x, (np.exp(a) * np.cos(x)).sum()


def diamonds(x):
    """Four diamonds h ← sin(h)·cos(h) + h, then a vector and a scalar output."""
    h = x
    for _ in range(4):
        h = np.sin(h) * np.cos(h) + h
    return h, (h * h).mean()


def matrix_dag(A, B):
    """Matrix products with reuse: C = AB, D = tanh(C) Aᵀ; two outputs."""
    C = A @ B
    D = np.tanh(C) @ A.T
    return (D * C).sum(axis=0), D.mean()


def expand(x, w):
    """Few inputs, many outputs: forward mode's home ground."""
    return np.tanh(x[:, None] * w[None, :]).reshape(-1) * 2.0


def cases():
    import kernel_exercise
    import product_rule
    import sqrt_cos
    import tanh_network

    yield "kernel exercise (N=50)", kernel_exercise.f, kernel_exercise.example_args(50), None
    yield "sqrt/cos (lecture 3 §5.3)", sqrt_cos.f, (1.0,), None
    yield "tanh network (lecture 3 §5.1)", tanh_network.loss, (1.0,), None
    yield "(x + x·y)·2", product_rule.f, (4.0, 2.0), None
    yield "MLP 64-32-16-8, wrt x", mlp_factory([64, 32, 16, 8]), (RNG.standard_normal(64),), None
    yield "MLP 8-64-64-64, wrt x", mlp_factory([8, 64, 64, 64]), (RNG.standard_normal(8),), None
    yield (
        "MLP loss wrt weights 16-32-4",
        mlp_loss_wrt_weights,
        (
            RNG.standard_normal((32, 16)),
            RNG.standard_normal((4, 32)),
            RNG.standard_normal(16),
            RNG.standard_normal(4),
        ),
        [0, 1],
    )
    yield (
        "shared x·y, 2 in / 2 out (20)",
        shared_two_outputs,
        (RNG.standard_normal(20), RNG.standard_normal(20)),
        None,
    )
    yield "4 diamonds, 2 outputs (30)", diamonds, (RNG.standard_normal(30),), None
    yield (
        "matrix DAG AB, tanh(AB)Aᵀ (10x10)",
        matrix_dag,
        (RNG.standard_normal((10, 10)), RNG.standard_normal((10, 10))),
        None,
    )
    yield "expand 3 → 120 outputs", expand, (RNG.standard_normal(3), RNG.standard_normal(40)), [0]


COLUMNS = [
    ("forward mode", "fwd sweep"),
    ("reverse mode", "rev sweep"),
    ("forward elimination", "fwd elim"),
    ("reverse elimination", "rev elim"),
    ("Markowitz elimination", "Markowitz"),
    ("chain through cut vertices", "cut chain"),
    ("best found (search)", "best found"),
]


#: What the executor does that the price counts, and what it does not (issue 8, item 2).
EXEC_NOTES = """\
Executor against price (issue 8, items 2 and 4); per-instruction times: `--profile CASE`.

- A rule is never applied to a diagonal factor expanded into a dense size(j) × size(j)
  block: the elimination state multiplies the diagonal into the formed partial instead
  (priced: the dense size, in mults). Before, the kernel exercise's Markowitz and
  cut-chain orders expanded 2,500-long diagonals into 2,500² blocks for broadcast
  subtractions priced at 0 mults (146 ms and 99 MiB for 1.0 M mults, 100× slower per mult
  than the other modes).
- Forming a partial on identity seeds at equal mults (a 0-mult rule: sum, slice,
  broadcast) takes the smaller identity (size(u)² or size(v)² scalars written).
- This benchmark keeps the replays' workspace in the heap (`keep_workspace`, glibc
  `mallopt`; opt-in, as it changes the process's allocator): a fresh 4 KiB page costs a
  fault in which the kernel zero-fills it, and which modes met fresh pages depended on
  what ran before (attention's search order: about 2,000 faults per run, twice its own
  time). A run inside a library call keeps glibc's defaults.
- Tangent blocks become columns without NumPy's copy-then-refuse of a failed in-place
  reshape (a 512 × 512 permuted block: 2.0 → 0.18 ms).

Buffer reuse (liveness), this session; the memory model counts what lives, and every mode
above is measured within 10 % + 64 KiB of it (tests/test_graph_memory.py,
tests/test_graph_inplace.py):

- Every slot of an elimination program is dropped at its last read, not at the end of
  the step that made it.
- A diagonal × dense product whose dense factor dies there, and is an array of the
  program's own (made by a product, a sum, a rule or a former, with no view of it held),
  scales that factor in place: the product aliases it (one buffer in the model), no
  fresh block is written (524,288 scalars: 0.55 → 0.29 ms).
- A rule result that is a broadcast of its block (the VJP of a sum or mean) is added
  straight into a dense sum of the program's own (`apply_add`), never written out.
- An adjoint rule result that is a permuted view of its factor (attention's `k.T`), read
  only by other adjoint rules, stays a view in its block shape (`keep_nd`): no flattening
  copy. Tangent blocks and broadcasts are not kept: a permuted tangent block made the next
  matrix product 2.3× slower, a stride-0 block GP's next product 1.5× slower.
- A Jacobian whose `place` steps write every entry is allocated uninitialised; a formed
  block is placed into it in place (the model had counted a second Jacobian there).
- Gather rules (indexing, broadcast_to, ...) prepare their index map, its selection and
  `np.unique` once per node instead of at every application (a getitem VJP: 30 → 9 µs).
- NumPy loops that ran once per short group: sums over trailing axes by `einsum`
  (512 × 32 × 32 over the last axis: 0.43 → 0.15 ms), max/min weights and broadcast
  elementwise products (JVP and VJP) by `einsum`, broadcast blocks and diagonal factors
  written by `np.repeat`, and a VJP onto a short trailing block (GP's length scales of
  N × N × 2 differences) as one strided product per kept scalar.

Passes no mult prices, dropped this session (issue 8: ρ of attention; the lead's session-6
brief). Attention's elimination orders ran their 31.5 M mults as BLAS products plus memory-bound
passes over 1,024 × 512 blocks (~0.35 ms each), reverse mode its 48.2 M mults nearly all in BLAS:
forward elimination tied with reverse mode (6.25 against 5.90 ms), ρ 0.47–0.77.

- `gemm_add`: a matrix product's rule applied to a formed block and only added into a held
  sum runs as one GEMM accumulating into the sum (`C += A·B`, SciPy's `dgemm` with β = 1
  where SciPy is importable; the same mults, no block for the product; NumPy's `matmul`
  cannot accumulate). Attention's forward elimination: ∂S/∂X = Q̇Kᵀ + QK̇ᵀ in 0.40 ms
  instead of 0.57 + 0.35 ms, its peak 12 → 10.1 MiB; the last product of reverse
  elimination. Where a block is not in a GEMM's layout, the rule and the add run on chunks
  (same numbers, mults and memory; tests/test_graph_fusion.py).
- `form_t`: a Kronecker partial formed only to be transposed (attention's `k.T` in forward
  order) is written straight into the transposed columns: one 512 × 512 block, not two.
- The formed block that is the whole Jacobian is returned, not copied into a new array
  (0.16 ms), where the program's peak comes before the Jacobian's allocation, and always
  where it is a plain matrix product (C-contiguous: the Jacobian *is* that product, and
  the model counts no second Jacobian: the MLP's reverse elimination 40 → 30 KiB
  predicted, 31.3 KiB measured, two instructions fewer).
- ρ and chosen/fastest come from each mode's time over the chosen plan's **in the same
  round**, median over the rounds (modes in a new seeded order every round, batches of
  30 ms), not from best-of times: the MLP's Markowitz order (509,184 mults) and reverse
  elimination (494,080) ran within 2–5 % of each other, and which came first depended on
  the process (best-of, 10 ms batches: ρ 0.96 in three of five runs, 0.62 in two; with the
  paired estimator alone still two of five). With the copy above gone, reverse elimination
  runs 3–4 % ahead in every run (five runs: ρ 0.96 each).
- The "best found (search)" row is the order of least score (mults + peak scalars) among
  the search's and the structured orders, near-ties broken as the chosen row's (least
  peak), an exact tie reported as the structured order: attention's search order (30.9 M
  mults, 12 MiB, 1.2× slower) tied reverse elimination's score within 0.05 %, layer norm's
  (another order) equalled it exactly. Every function's search row is now reverse
  elimination's order, the same program.
- Each timed batch follows one untimed call: the mode timed before it leaves its blocks in
  the caches (layer norm's search row, timed after the 39 ms chain, measured 7.3–7.8 ms
  against 5.0–5.2 ms for the same program as reverse elimination).

Attention, same benchmark, old code and new interleaved (three runs each, ms): forward mode
7.7–8.1 / 8.2–8.8 (a sweep, unchanged: noise), reverse mode 5.87–5.94 / 5.89–6.16, forward
elimination 6.23–6.32 / 4.98–5.22, reverse elimination 5.08–5.13 / 4.43–4.63, Markowitz
14.6–14.8 / 13.6–14.6, search 5.77–5.78 / 4.44–4.86; ρ 0.77, 0.77, 0.88 / 0.93, 0.93, 0.93.
Forward elimination now runs at 0.85–0.89 of reverse mode's time: ρ holds at 0.93 while
that margin exceeds the noise (a run under heavy load, with pytest alongside, had forward
elimination 1.15× reverse mode and ρ 0.77).

Left, not priced in mults: elementwise passes over formed blocks (diagonal scalings, the
divide rule and the add of its result: NumPy has no fused multiply-add, and chunking a
sequence of them to stay in cache measured 5–18 % on three passes and 2.7× slower for a
rule result added by column chunks), the zero-filled Kronecker partials (2 MiB each for
attention), and the per-row GEMMs of a product whose seeds sit inside its block (32 BLAS
calls, 0.49 against 0.63 ms for NumPy's product and add). Softmax cross-entropy's modes
(0.1–0.2 ms, below 10⁶ mults) differ by instruction counts (~10 µs each), not mults: its
reverse elimination holds 1.5 KiB less than reverse mode at equal mults, so the score
chooses it, and it runs more, smaller instructions (chosen/fastest above 1.1).

Earlier sessions (same benchmark): attention forward / reverse mode 12.09 / 7.82 ms,
forward / reverse elimination 8.71 / 8.36 ms, Markowitz 19.94 ms, search 8.12 ms, ρ 0.53;
then 8.83 / 5.88, 6.31 / 4.96, 15.22, 6.34 ms, ρ 0.47 (buffer reuse, in-place products).
"""


def _calls_per_sample(prog, g, sample: float) -> int:
    """Calls of ``prog.run`` that take about ``sample`` seconds (at least 1): a sub-ms
    program is timed over a batch, so that the timer's and the scheduler's noise on a
    shared machine does not rank identical programs apart."""
    prog.run(g)  # warm: the first run allocates its workspace
    t0 = time.perf_counter()
    prog.run(g)
    return max(1, min(1000, int(sample / max(time.perf_counter() - t0, 1e-6))))


def execution(ns) -> str:
    """The "graph-exec" section: compiled programs, predicted against measured."""
    from graph_cases import CASES

    from chainorder.graph.gemmadd import gemm_add_available
    from chainorder.graph.program import compile_jacobian_program
    from chainorder.graph.workspace import keep_workspace
    from chainorder.measure import peak_memory, spearman
    from chainorder.units import format_bytes

    threads = os.environ.get("OPENBLAS_NUM_THREADS", "(default)")
    gemm, env = gemm_note()
    fused = gemm_add_available()

    title = "## Traced graphs: compiled Jacobian programs, predicted against measured"
    lines = [
        title if fused else f"{title}, without the fused GEMM (the default install)",
        "",
        f"Command: `{env}OPENBLAS_NUM_THREADS={threads} python benchmarks/bench_graph.py --exec "
        f"--write` ({ns.repeat} interleaved rounds, the modes in a new seeded order each round, "
        f"each the mean of a batch of calls lasting ≈ {ns.sample * 1e3:g} ms after one untimed "
        "call; *best time*: a mode's best round; ρ and chosen/fastest from each mode's time "
        "over the chosen plan's in the same round, median over the rounds; "
        f"Python {platform.python_version()}, "
        f"NumPy {np.__version__}, {gemm}, {platform.machine()}, {os.cpu_count()} CPUs). "
        "**Machine "
        f"shared** with other jobs while measured (load average {os.getloadavg()[0]:.1f} at "
        "the start): times are noisy, ratios within one run are what to read. One BLAS "
        "thread: with OpenBLAS's threads on an oversubscribed machine a 1 ms run took "
        "100–250 ms after a large one. Per-instruction times of any mode: "
        "`python benchmarks/bench_graph.py --profile attention` "
        "(`JacobianProgram.profile`).",
        "",
        "Each mode runs as a compiled program (a flat list of batched rule applications and "
        "array products over buffer slots). *mults*: predicted = counted at run time. "
        "*peak*: predicted bytes `run` allocates beyond the graph's values, against "
        "tracemalloc. ρ: Spearman(predicted mults, time) across the modes (functions whose "
        "plans cost ≥ 10⁶ mults); *chosen/fastest*: the chosen plan's best time over the "
        f"fastest mode's. Modes predicted above {ns.max_bytes / 2**30:g} GiB are not run; "
        "rows that compile to one program (the same elimination order) are timed once and "
        "show the same time.",
        "",
    ]
    summary = ["| function | max mults | ρ(mults, time) | chosen | chosen/fastest |",
               "|---|---:|---:|---|---:|"]  # fmt: skip
    for name, make in CASES.items():
        if ns.only and ns.only not in name:
            continue
        f, args, wrt = make(1.0)
        g = trace(f, *args, wrt=list(wrt))
        p = plan_graph(g, seed=ns.seed)
        progs = [compile_jacobian_program(p.lin, r.method, r.order) for r in p.rows]
        keys = [str(r.method) if r.method.is_sweep else tuple(r.order) for r in p.rows]
        same = [keys.index(k) for k in keys]  # rows of one program are timed once
        rounds: list[list[float]] = [[] for _ in progs]
        big = [prog.predicted_peak_bytes > ns.max_bytes for prog in progs]
        keep_workspace(max(pr.predicted_peak_bytes for pr, b in zip(progs, big, strict=True)
                           if not b))  # fmt: skip
        calls = [0 if b else _calls_per_sample(prog, g, ns.sample) for prog, b in
                 zip(progs, big, strict=True)]  # fmt: skip
        timed = [i for i in range(len(progs)) if not big[i] and same[i] == i]
        for r in range(ns.repeat):
            random.Random(r).shuffle(timed)  # no mode always follows the same one
            for i in timed:
                prog = progs[i]
                prog.run(g)  # untimed: the previous mode's blocks are out of the caches
                t0 = time.perf_counter()
                for _ in range(calls[i]):
                    prog.run(g)
                rounds[i].append((time.perf_counter() - t0) / calls[i])
        rounds = [rounds[j] for j in same]
        best = [min(t) if t else float("inf") for t in rounds]
        # per round, each mode's time over the chosen plan's in the same round; the median
        # over the rounds ranks the modes (a slow spell of the machine slows a whole round,
        # not one mode's best round)
        ref = rounds[p.rows.index(p.chosen)] or rounds[best.index(min(best))]  # chosen not run
        rel = [statistics.median(a / b for a, b in zip(t, ref, strict=True)) if t else
               float("inf") for t in rounds]  # fmt: skip
        lines += [f"**{name}** (n = {g.n_in}, m = {g.n_out})", "",
                  "| mode | mults | predicted peak | measured peak | measured/predicted | "
                  "best time | time / chosen (median of rounds) |",
                  "|---|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
        for row, prog, t, x in zip(p.rows, progs, best, rel, strict=True):
            if prog.predicted_peak_bytes > ns.max_bytes:
                lines.append(
                    f"| {row.name} | {row.mults:,} | {format_bytes(prog.predicted_peak_bytes)}"
                    " | not run (over --max-bytes) | | | |"
                )
                continue
            meas = peak_memory(lambda prog=prog, g=g: prog.run(g)).peak_bytes
            assert prog.last_mults == prog.predicted_mults == row.mults
            mark = " (chosen)" if row is p.chosen else ""
            lines.append(
                f"| {row.name}{mark} | {row.mults:,} | {format_bytes(prog.predicted_peak_bytes)}"
                f" | {format_bytes(meas)} | {meas / max(prog.predicted_peak_bytes, 1):.2f} | "
                f"{t * 1e3:.2f} ms | {x:.3f} |"
            )
        lines.append("")
        ran = [i for i in range(len(progs)) if not big[i]]
        mults = [p.rows[i].mults for i in ran]
        times = [rel[i] for i in ran]
        rho = spearman(mults, times) if max(mults) >= 10**6 else float("nan")
        ratio = 1.0 / min(times)  # the chosen plan over the fastest mode (medians of rounds)
        summary.append(
            f"| {name} | {max(mults):,} | {'—' if rho != rho else f'{rho:.2f}'} | "
            f"{p.chosen.name} | {ratio:.2f} |"
        )
        print(summary[-1], flush=True)
    if not fused:  # the unfused run: its own section, the notes live in the fused one's
        return "\n".join([*lines, *summary])
    return "\n".join([*lines, *summary, "", EXEC_NOTES])


def profile(name: str, seed: int) -> None:
    """Print each mode's instructions of a graph-exec case with their mults and best times."""
    from graph_cases import CASES

    from chainorder.graph.program import compile_jacobian_program

    f, args, wrt = CASES[name](1.0)
    g = trace(f, *args, wrt=list(wrt))
    p = plan_graph(g, seed=seed)
    for row in p.rows:
        prog = compile_jacobian_program(p.lin, row.method, row.order)
        if prog.predicted_peak_bytes > 2**30:
            continue
        steps = prog.profile(g, repeat=7)
        total = sum(s["seconds"] for s in steps)
        print(f"{row.name}: {row.mults:,} mults, {len(steps)} instructions, {total * 1e3:.2f} ms")
        for s in sorted(steps, key=lambda s: -s["seconds"])[:8]:
            op = g.nx.nodes[s["node"]]["op"] if s["node"] in g.nx else ""
            print(f"  #{s['index']:<3} {s['op']:<9} {op:<10} {s['mults']:>12,} mults "
                  f"{s['alloc']:>10,} scalars {s['seconds'] * 1e3:8.3f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="Markdown file to write")
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--exec", action="store_true", help="compiled programs (graph-exec)")
    parser.add_argument("--repeat", type=int, default=15, help="timed rounds per mode (--exec)")
    parser.add_argument(
        "--sample", type=float, default=0.03, help="seconds of one timed batch (--exec)"
    )
    parser.add_argument(
        "--max-bytes", type=int, default=2**30, help="skip modes predicted above (--exec)"
    )
    parser.add_argument("--only", default=None, help="cases whose name contains this (--exec)")
    parser.add_argument(
        "--profile", metavar="CASE", help="per-instruction times of every mode of CASE"
    )
    ns = parser.parse_args()
    if ns.profile:
        profile(ns.profile, ns.seed)
        return
    if ns.exec:
        if ns.only and ns.write:
            parser.error("--only runs a part of the section: not with --write")
        from chainorder.graph.gemmadd import gemm_add_available

        # without the fused GEMM (no SciPy, or CHAINORDER_GEMM_ADD=0): a section of its own
        emit("graph-exec" if gemm_add_available() else "graph-exec-unfused", execution(ns),
             ns.out, ns.write)  # fmt: skip
        return
    lines = [
        "## Traced graphs: mults of forward, reverse and vertex-elimination orders",
        "",
        "Command: `python benchmarks/bench_graph.py --write` "
        f"(seed {ns.seed}; Python {platform.python_version()}, NumPy {np.__version__}).",
        "",
        "All figures are scalar multiplications (mults). *Sweeps*: n tangent sweeps (forward) "
        "or m adjoint sweeps (reverse), each op costed by its JVP/VJP rule, seeding included. "
        "*Elimination*: the products of a vertex-elimination order on the linearised graph, "
        "priced as the compiled program runs them: a local partial applied by its op's rule "
        "to a formed block, or formed (free from an operand or an elementwise factor, else "
        "by its rule on identity seeds, counted), whichever is cheaper. "
        "'cut chain' eliminates each block between cut vertices, then brackets the chain of "
        "blocks exactly ('—': no cut vertex). 'best found' is exact search for ≤ 9 "
        "intermediates, else the best of 64 randomised Markowitz runs and the other orders. "
        "'check' compares the chosen plan's Jacobian with forward mode, reverse mode and "
        "central finite differences.",
        "",
        "| function | n | m | intermediates | "
        + " | ".join(c[1] for c in COLUMNS)
        + " | chosen | check | plan time |",
        "|---|---:|---:|---:|" + "---:|" * len(COLUMNS) + "---|---|---:|",
    ]
    for name, fn, args, wrt in cases():
        g = trace(fn, *args, wrt=wrt)
        t0 = time.perf_counter()
        p = plan_graph(g, seed=ns.seed)
        dt = time.perf_counter() - t0
        rows = {r.name: r.mults for r in p.rows}
        with np.errstate(all="ignore"):
            ok = validate_graph(p).ok
        cells = [f"{rows[c]:,}" if c in rows else "—" for c, _ in COLUMNS]
        lines.append(
            f"| {name} | {g.n_in} | {g.n_out} | {len(p.lin.intermediates)} | "
            + " | ".join(cells)
            + f" | {p.chosen.name} | {'ok' if ok else 'MISMATCH'} | {dt:.2f} s |"
        )
        print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    if ns.out is not None:
        write_atomic(ns.out, text)
        print(f"written to {ns.out}")
    if ns.write:
        print(f"updated {update_section('graph', text)}")


if __name__ == "__main__":
    main()

"""Planning time of long dense chains: Hu–Shing beside the exact DP and NumPy's routine.

Run:  python benchmarks/bench_long_chains.py [--lengths 100,400,1000,10000,100000,1000000]
                                            [--dp-max 1000] [--numpy-max 400] [--seed 0]
                                            [--plan-lengths 10000,100000,1000000] [--write]

For random dense chains (widths 1..1000, one seeded chain per length) it times, in one process
and on the same dims: ``hu_shing(dims)`` (validation, ordering and the tree, end to end),
chainorder's DP ``solve_dp`` up to ``--dp-max`` links (it refuses more than
``MAX_EXACT_LINKS``), and NumPy's ``numpy.linalg._linalg._multi_dot_matrix_chain_order`` (the
pure-Python O(L³) DP behind ``multi_dot``) up to ``--numpy-max`` links. Nothing is
extrapolated: a routine that was not run shows "-". Where two routines ran, their optimal
numbers of multiplications must agree (the script exits 1 otherwise), and Hu–Shing's tree is
priced independently with ``tree_cost``. Times are the best of ``--repeat`` runs (one run
above 10^5 links).

A second table takes whole long plans through the library, one run each: ``plan(dims)``
(``mode="optimal"``, which picks Hu–Shing above ``HU_SHING_FROM`` links, plus every figure of
the Plan), ``to_json``, ``Plan.from_json`` (which rechecks every figure), ``schedule()`` and
``expression()``; and ``plan(..., mode="bounded")`` on the same widths with every third link
made elementwise, with its certified gap. ``--write`` replaces the ``long-chains`` section of
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time

import numpy as np

from chainorder.chain import Chain
from chainorder.cost import tree_cost
from chainorder.plan import Plan, plan
from chainorder.solvers.dp import MAX_EXACT_LINKS, solve_dp
from chainorder.solvers.hu_shing import hu_shing
from chainorder.units import format_bytes, format_count

sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
from _results import machine_line, numpy_order_cost, update_section

__all__ = ["main"]


def best_time(fn, repeat: int, *args: object) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best, result


def _fmt(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _timed(fn, *args: object) -> tuple[float, object]:
    t0 = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - t0, result


def plan_rows(lengths: list[int], seed: int) -> list[str]:
    """Markdown rows of the whole-plan table (see the module notes)."""
    rows = []
    for L in lengths:
        rng = random.Random(f"{seed}-{L}")
        dims = [rng.randint(1, 1000) for _ in range(L + 1)]
        t_plan, p = _timed(plan, dims)
        t_dump, text = _timed(p.to_json)  # type: ignore[attr-defined]
        t_load, back = _timed(Plan.from_json, text)
        assert back == p, "JSON round trip changed the plan"
        t_steps, steps = _timed(p.schedule)  # type: ignore[attr-defined]
        t_expr, _ = _timed(p.expression)  # type: ignore[attr-defined]
        spec: list[object] = [dims[0]]
        for l in range(1, L + 1):
            spec.append("tanh" if l % 3 == 0 else dims[l])
        t_bound, b = _timed(plan, spec, "bounded")
        gap = b.gap  # type: ignore[attr-defined]
        rows.append(
            f"| {L:,} | {p.method} | {_fmt(t_plan)} | {_fmt(t_dump)} "  # type: ignore[attr-defined]
            f"({format_bytes(len(text))}) | {_fmt(t_load)} | {_fmt(t_steps)} "  # type: ignore[arg-type]
            f"({len(steps):,} steps) | {_fmt(t_expr)} | {_fmt(t_bound)} | {gap:.4%} |"  # type: ignore[arg-type]
        )
        print(rows[-1], flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", default="100,400,1000,10000,100000,1000000")
    parser.add_argument("--dp-max", type=int, default=1000, help="longest chain for solve_dp")
    parser.add_argument("--numpy-max", type=int, default=400, help="longest chain for NumPy")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plan-lengths", default="10000,100000,1000000")
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    lengths = [int(x) for x in args.lengths.split(",")]
    plan_lengths = [int(x) for x in args.plan_lengths.split(",") if x]

    print(f"Python {sys.version.split()[0]}, NumPy {np.__version__}; random widths 1..1000")
    header = (
        f"{'L':>9} | {'Hu–Shing':>10} | {'DP':>10} | {'NumPy':>10} | {'optimal mults':>14} | check"
    )
    print(header)
    print("-" * len(header))
    ok = True
    md = ["| L | Hu–Shing | chainorder DP | NumPy multi_dot order | optimal mults | check |"]
    md.append("|---:|---:|---:|---:|---:|---|")
    for L in lengths:
        rng = random.Random(f"{args.seed}-{L}")
        dims = [rng.randint(1, 1000) for _ in range(L + 1)]
        repeat = args.repeat if L <= 100_000 else 1
        t_hs, (mults, tree) = best_time(hu_shing, repeat, dims)  # type: ignore[misc]
        chain = Chain.from_dims(dims)
        checks = [tree_cost(chain, tree).mults == mults]
        t_dp = t_np = None
        if L <= min(args.dp_max, MAX_EXACT_LINKS):
            t_dp, result = best_time(solve_dp, repeat, chain)
            checks.append(result.mults == mults)  # type: ignore[attr-defined]
        if L <= args.numpy_max:
            t_np, np_mults = best_time(numpy_order_cost, 1, dims)
            checks.append(np_mults == mults)
        ok = ok and all(checks)
        verdict = f"{len(checks)} agree" if all(checks) else "MISMATCH"
        print(
            f"{L:>9} | {_fmt(t_hs):>10} | {_fmt(t_dp):>10} | {_fmt(t_np):>10} | "
            f"{format_count(mults):>14} | {verdict}",
            flush=True,
        )
        md.append(
            f"| {L:,} | {_fmt(t_hs)} | {_fmt(t_dp)} | {_fmt(t_np)} | {format_count(mults)} "
            f"| {verdict} |"
        )
    print("\nwhole plans (one run each):")
    plan_md = [
        "| L | optimal by | plan() | to_json (size) | from_json | schedule() | expression() "
        "| plan(bounded), every 3rd link tanh | its certified gap |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    plan_md += plan_rows(plan_lengths, args.seed)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(f"peak resident memory of this process: {peak / 1024:.0f} MiB")
    print("check: Hu–Shing's tree priced by tree_cost, and the DP / NumPy optima where run")
    if args.write and ok:
        body = (
            "## Long chains: exact planning time (issue 13)\n\n"
            f"{machine_line()}; `python benchmarks/bench_long_chains.py --write`. Random dense "
            "chains, widths uniform in 1..1000 (one seeded chain per length); best of "
            f"{args.repeat} runs up to 10^5 links, one run above. '-' = not run (the DP above "
            f"{args.dp_max} links, NumPy's pure-Python O(L³) order above {args.numpy_max}); "
            "'agree' = Hu–Shing's optimum equals the others' and its tree's priced cost. "
            "`plan()` picks Hu–Shing for dense chains above 500 links.\n\n"
            + "\n".join(md)
            + "\n\nWhole long plans through the library (one run each; `plan()` includes every "
            "figure of the Plan: both memory settings, the pure modes' costs; `from_json` "
            "rechecks them all):\n\n"
            + "\n".join(plan_md)
            + f"\n\nPeak resident memory of the benchmark process: {peak / 1024:.0f} MiB. "
            f"Load average at the end: {os.getloadavg()[0]:.1f} (other processes share "
            "the cores: times are upper bounds).\n"
        )
        print(f"wrote {update_section('long-chains', body)}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

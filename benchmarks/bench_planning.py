"""Planning time of the exact solver against NumPy's and opt_einsum's chain-order routines.

Run:  python benchmarks/bench_planning.py [--lengths 100,400,1000,2000] [--write]

For random dense chains (widths 1..1000, seed 0) it times, in one process and on the same
dims: chainorder's DP (``solve_dp``) and whole ``plan()`` call, NumPy's
``numpy.linalg._linalg._multi_dot_matrix_chain_order`` (the pure-Python DP behind
``multi_dot``), and opt_einsum's ``dp`` path where it finishes in reasonable time. It checks
that every routine reaches the same optimal number of multiplications and prints the ratios.
With ``--write`` the table replaces the "planning" section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _results import machine_line, numpy_order_cost, update_section

from chainorder import Chain, plan, tree_cost
from chainorder.solvers import solve_dp
from chainorder.tree import Tree

__all__ = ["main"]

NUMPY_BUDGET_S = 120.0  # skip NumPy's routine where its O(L³) Python loop would exceed this
OE_BUDGET_S = 60.0


def best_time(fn, repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def opt_einsum_tree(dims: list[int]) -> Tree:
    import opt_einsum as oe

    n = len(dims) - 1
    sym = [oe.get_symbol(i) for i in range(n + 1)]
    eq = ",".join(sym[i + 1] + sym[i] for i in range(n)) + "->" + sym[n] + sym[0]
    shapes = [(dims[i + 1], dims[i]) for i in range(n)]
    path, _ = oe.contract_path(eq, *shapes, shapes=True, optimize="dp")
    operands: list[tuple[int, int, Tree]] = [(l, l, l) for l in range(1, n + 1)]
    for pair in path:
        a, b = (operands[i] for i in pair)
        for i in sorted(pair, reverse=True):
            operands.pop(i)
        later, earlier = (a, b) if a[0] > b[0] else (b, a)
        if earlier[1] + 1 != later[0]:
            raise RuntimeError("opt_einsum contracted non-adjacent factors")
        operands.append((earlier[0], later[1], (later[2], earlier[2])))
    return operands[0][2]


def _has_opt_einsum() -> bool:
    try:
        import opt_einsum  # noqa: F401
    except ImportError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", default="100,400,1000,2000")
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    lengths = [int(x) for x in args.lengths.split(",")]
    rng = np.random.default_rng(0)
    rows = []
    numpy_rate = None  # seconds per L³ from the last NumPy run, to skip hopeless ones
    oe_rate = None  # seconds per L⁴ of opt_einsum's dp (measured: it grows faster than L³)
    for n in lengths:
        dims = rng.integers(1, 1001, n + 1).tolist()
        chain = Chain.from_dims(dims)
        repeat = 5 if n <= 400 else 2
        t_dp, dp = best_time(lambda: solve_dp(chain), repeat)  # noqa: B023
        t_plan, p = best_time(lambda: plan(chain), 1)  # noqa: B023
        assert p.mults == dp.mults
        row = {"L": n, "dp": t_dp, "plan": t_plan, "mults": dp.mults}
        if numpy_rate is None or numpy_rate * n**3 < NUMPY_BUDGET_S:
            t_np, np_cost = best_time(lambda: numpy_order_cost(dims), 1)  # noqa: B023
            numpy_rate = t_np / n**3
            row["numpy"] = t_np
            row["numpy_agrees"] = np_cost == dp.mults
        if _has_opt_einsum() and (oe_rate is None or oe_rate * n**4 < OE_BUDGET_S):
            t_oe, tree = best_time(lambda: opt_einsum_tree(dims), 1)  # noqa: B023
            oe_rate = t_oe / n**4  # skip lengths whose extrapolation exceeds the budget
            row["oe"] = t_oe
            row["oe_agrees"] = tree_cost(chain, tree).mults == dp.mults
        rows.append(row)
        print(_line(row), flush=True)
    table = _markdown(rows)
    print()
    print(table)
    tie_lines = ["| L | chainorder DP, every width 3 | NumPy chain order |", "|---:|---:|---:|"]
    for n in (400, 1000):
        if n > max(lengths):
            continue
        chain = Chain.from_dims([3] * (n + 1))
        t_tie, _ = best_time(lambda: solve_dp(chain), 2)  # noqa: B023
        t_np = "—"
        if numpy_rate is not None and numpy_rate * n**3 < NUMPY_BUDGET_S:
            t_np = _fmt(best_time(lambda: numpy_order_cost([3] * (n + 1)), 1)[0])  # noqa: B023
        tie_lines.append(f"| {n} | {_fmt(t_tie)} | {t_np} |")
        print(f"equal widths L={n}: dp {_fmt(t_tie)}, numpy {t_np}", flush=True)
    ties = "\n".join(tie_lines)
    if args.write:
        cmd = "python benchmarks/bench_planning.py --lengths " + args.lengths + " --write"
        body = (
            "## Planning time (exact DP) vs NumPy's and opt_einsum's chain-order routines\n\n"
            f"Command: `{cmd}`  \nMachine: {machine_line()}\n\n{table}\n\n"
            "Random dense chains, widths uniform in 1..1000 (seed 0); best of 5 (L ≤ 400) or 2 "
            "runs for the DP, one run for the others. \"agrees\" = same optimal number of "
            "multiplications. Ratios are measured in the same process on the same dims.\n\n"
            "Worst case for the DP: equal widths, where every bracketing costs the same and "
            "the tie-break by peak memory is evaluated for every split (the peak tables are "
            f"otherwise filled only from the first tie on):\n\n{ties}"
        )
        update_section("planning", body)
    return 0


def _fmt(t: float | None) -> str:
    if t is None:
        return "—"
    return f"{t * 1e3:.1f} ms" if t < 1 else f"{t:.2f} s"


def _line(row: dict) -> str:
    parts = [f"L={row['L']}", f"dp {_fmt(row['dp'])}", f"plan() {_fmt(row['plan'])}"]
    if "numpy" in row:
        parts.append(
            f"numpy {_fmt(row['numpy'])} ({row['numpy'] / row['dp']:.0f}×, agrees "
            f"{row['numpy_agrees']})"
        )
    if "oe" in row:
        parts.append(
            f"opt_einsum dp {_fmt(row['oe'])} ({row['oe'] / row['dp']:.0f}×, agrees "
            f"{row['oe_agrees']})"
        )
    return "  ".join(parts)


def _markdown(rows: list[dict]) -> str:
    head = (
        "| L | chainorder DP | chainorder plan() | NumPy chain order | NumPy / DP | "
        "opt_einsum dp | opt_einsum / DP | same optimum |\n"
        "|---:|---:|---:|---:|---:|---:|---:|:---|"
    )
    lines = [head]
    for r in rows:
        agree = [("NumPy", r.get("numpy_agrees")), ("opt_einsum", r.get("oe_agrees"))]
        agree_text = ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in agree if v is not None)
        lines.append(
            f"| {r['L']} | {_fmt(r['dp'])} | {_fmt(r['plan'])} | {_fmt(r.get('numpy'))} | "
            + (f"{r['numpy'] / r['dp']:.0f}×" if "numpy" in r else "not run (too slow)")
            + f" | {_fmt(r.get('oe'))} | "
            + (f"{r['oe'] / r['dp']:.0f}×" if "oe" in r else "not run (too slow)")
            + f" | {agree_text or '—'} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())

"""Planning time of long dense chains: Hu–Shing beside the exact DP and NumPy's routine.

Run:  python benchmarks/bench_long_chains.py [--lengths 100,400,1000,10000,100000,1000000]
                                            [--dp-max 1000] [--numpy-max 400] [--seed 0]

For random dense chains (widths 1..1000, one seeded chain per length) it times, in one process
and on the same dims: ``hu_shing(dims)`` (validation, ordering and the tree, end to end),
chainorder's DP ``solve_dp`` up to ``--dp-max`` links (it refuses more than
``MAX_EXACT_LINKS``), and NumPy's ``numpy.linalg._linalg._multi_dot_matrix_chain_order`` (the
pure-Python O(L³) DP behind ``multi_dot``) up to ``--numpy-max`` links. Nothing is
extrapolated: a routine that was not run shows "-". Where two routines ran, their optimal
numbers of multiplications must agree (the script exits 1 otherwise), and Hu–Shing's tree is
priced independently with ``tree_cost``. Times are the best of ``--repeat`` runs (one run
above 10^5 links). Prints only.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from types import SimpleNamespace

import numpy as np

from chainorder.chain import Chain
from chainorder.cost import tree_cost
from chainorder.solvers.dp import MAX_EXACT_LINKS, solve_dp
from chainorder.solvers.hu_shing import hu_shing
from chainorder.units import format_count

__all__ = ["main"]


def best_time(fn, repeat: int, *args: object) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best, result


def numpy_order_cost(dims: list[int]) -> int:
    from numpy.linalg._linalg import _multi_dot_matrix_chain_order

    # the routine reads only .shape; NumPy's chain is A_1..A_L with A_i of shape (p_i, p_{i+1})
    arrays = [SimpleNamespace(shape=(dims[i], dims[i + 1])) for i in range(len(dims) - 1)]
    _, costs = _multi_dot_matrix_chain_order(arrays, return_costs=True)
    return int(costs[0, -1])


def _fmt(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", default="100,400,1000,10000,100000,1000000")
    parser.add_argument("--dp-max", type=int, default=1000, help="longest chain for solve_dp")
    parser.add_argument("--numpy-max", type=int, default=400, help="longest chain for NumPy")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    lengths = [int(x) for x in args.lengths.split(",")]

    print(f"Python {sys.version.split()[0]}, NumPy {np.__version__}; random widths 1..1000")
    header = (
        f"{'L':>9} | {'Hu–Shing':>10} | {'DP':>10} | {'NumPy':>10} | {'optimal mults':>14} | check"
    )
    print(header)
    print("-" * len(header))
    ok = True
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
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(f"peak resident memory of this process: {peak / 1024:.0f} MiB")
    print("check: Hu–Shing's tree priced by tree_cost, and the DP / NumPy optima where run")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

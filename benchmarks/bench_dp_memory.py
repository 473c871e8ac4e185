"""Memory (tracemalloc peak) and time of the exact DP, ``solve_dp``, at long lengths.

Run:  python benchmarks/bench_dp_memory.py [--lengths 3000,4000] [--seed 0] [--write]
      [--before "3000:40.1:410,4000:95.0:720"]

For one seeded random dense chain per length (widths 1..1000) it runs ``solve_dp`` once
under :mod:`tracemalloc` (peak of NumPy's and Python's allocations, in MiB) and times it.
``--before`` adds figures measured the same way on an earlier commit (``L:seconds:MiB``) to
the table, for comparison; nothing is extrapolated. ``--write`` replaces the ``dp-memory``
section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import tracemalloc
from pathlib import Path

from chainorder.chain import Chain
from chainorder.solvers.dp import MAX_EXACT_LINKS, solve_dp

sys.path.insert(0, str(Path(__file__).parent))
from _results import machine_line, update_section

__all__ = ["main"]


def measure(n_links: int, seed: int) -> tuple[float, float, int]:
    """``(seconds, peak MiB, optimal mults)`` of one ``solve_dp`` run."""
    rng = random.Random(f"{seed}-{n_links}")
    chain = Chain.from_dims([rng.randint(1, 1000) for _ in range(n_links + 1)])
    tracemalloc.start()
    t0 = time.perf_counter()
    result = solve_dp(chain)
    seconds = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak / 2**20, result.mults


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", default="3000,4000")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--before", default="", help="L:seconds:MiB,... from an earlier run")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    before = {}
    for item in filter(None, args.before.split(",")):
        n, sec, mib = item.split(":")
        before[int(n)] = (float(sec), float(mib))
    rows = [
        "| L | time | tracemalloc peak | before: time | before: peak |",
        "|---:|---:|---:|---:|---:|",
    ]
    for n in (int(x) for x in args.lengths.split(",")):
        seconds, mib, _ = measure(n, args.seed)
        old = before.get(n)
        rows.append(
            f"| {n:,} | {seconds:.1f} s | {mib:.0f} MiB | "
            + (f"{old[0]:.1f} s | {old[1]:.0f} MiB |" if old else "- | - |")
        )
        print(rows[-1], flush=True)
    if args.write:
        body = (
            "## Exact DP: memory and time at long lengths (issue 13)\n\n"
            f"{machine_line()}; `python benchmarks/bench_dp_memory.py --write`. One seeded "
            "random dense chain per length (widths 1..1000), `solve_dp` run once under "
            "tracemalloc. Tables now: int64 costs (two), an int16 split table, and peak "
            "tables only at the first tie in multiplications (int32 when the peaks fit); "
            "'before' = the same measurement on the previous engine (five int64/int32 tables "
            f"allocated up front). The DP's limit is now {MAX_EXACT_LINKS} links (at most "
            "about 0.9 GB in the worst case); dense chains over 500 links go to Hu–Shing. "
            "Times are from a shared, loaded machine.\n\n" + "\n".join(rows) + "\n"
        )
        print(f"wrote {update_section('dp-memory', body)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

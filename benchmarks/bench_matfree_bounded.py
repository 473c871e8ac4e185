"""Matrix-free chains beyond the exact DP: the segmented solver's time, cost, bound and gap.

Run:  python benchmarks/bench_matfree_bounded.py [--lengths 2000,10000,100000] [--width 256]
      [--seed 0] [--write]

For seeded random chains of three families (dense links, widths 2..64; a mixed chain of
custom, dense, elementwise and given links, widths 1..30; an MLP-like chain of dense links of
widths 64..512 each followed by tanh) it times
:func:`chainorder.matfree.bounded.solve_matrix_free_bounded` and prints its mults, the proven
lower bound and the gap (plan / bound - 1). At lengths the exact DP accepts (<= 4000 links)
it also runs the DP, so the true distance from optimal is shown beside the certified one.
``--write`` replaces the ``matfree-bounded`` section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

from chainorder.matfree.bounded import DEFAULT_WIDTH, solve_matrix_free_bounded
from chainorder.matfree.links import LinkCost, custom, dense, elementwise
from chainorder.matfree.solver import MAX_MATFREE_LINKS, solve_matrix_free

sys.path.insert(0, str(Path(__file__).parent))
from _results import machine_line, update_section

__all__ = ["chain", "main"]


def chain(family: str, n_links: int, seed: int) -> list[LinkCost]:
    """One seeded random chain of ``n_links`` links of ``family`` (dense, mixed or mlp)."""
    rng = random.Random(f"{seed}-{family}-{n_links}")
    links: list[LinkCost] = []
    width = rng.randint(2, 64)
    while len(links) < n_links:
        if family == "dense":
            link = dense(rng.randint(2, 64), width)
        elif family == "mlp":
            link = dense(rng.randint(64, 512), width)
            if len(links) + 1 < n_links:
                links.append(link)
                link = elementwise(link.rows, "tanh")
        else:
            r = rng.random()
            if r < 0.2:
                link = elementwise(width, "tanh")
            elif r < 0.35:
                link = dense(rng.randint(1, 30), width)
            else:
                link = custom(rng.randint(1, 30), width, rng.randint(0, 400), rng.randint(0, 400))
            if rng.random() < 0.1:
                link = link.with_given()
        links.append(link)
        width = link.rows
    return links


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", default="2000,10000,100000")
    parser.add_argument("--width", type=int, default=DEFAULT_WIDTH)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    rows = [
        "| chain | L | time | plan mults | lower bound | certified gap | exact DP | DP time "
        "| true gap |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in (int(x) for x in args.lengths.split(",")):
        for family in ("dense", "mixed", "mlp"):
            links = chain(family, n, args.seed)
            t0 = time.perf_counter()
            plan = solve_matrix_free_bounded(links, width=args.width)
            seconds = time.perf_counter() - t0
            exact = "-"
            if n <= MAX_MATFREE_LINKS:
                t0 = time.perf_counter()
                opt = solve_matrix_free(links).mults
                exact = (
                    f"{opt:,} | {time.perf_counter() - t0:.1f} s | "
                    f"{100 * (plan.mults / opt - 1):.3g} %"
                )
            else:
                exact = "- | - | -"
            rows.append(
                f"| {family} | {n:,} | {seconds:.2f} s | {plan.mults:,} | {plan.lower_bound:,} | "
                f"{100 * plan.gap:.3g} % | {exact} |"
            )
            print(rows[-1], flush=True)
    if args.write:
        body = (
            "## Matrix-free chains beyond the exact DP: segmented plan and certified bound "
            "(issue 13 item 2)\n\n"
            f"{machine_line()}; `python benchmarks/bench_matfree_bounded.py --write` "
            f"(segments of {args.width} links solved exactly, then the chain of segments). "
            "Certified gap = plan / proven lower bound - 1 (Σ_l min(pre_l, minL(l)·T_l, "
            "minR(l)·A_l)); true gap = plan / exact DP optimum - 1 where the DP runs. "
            "Times from a shared, loaded machine.\n\n" + "\n".join(rows) + "\n"
        )
        print(f"wrote {update_section('matfree-bounded', body)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

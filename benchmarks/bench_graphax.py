"""graphax's benchmark tasks: chainorder's elimination counts beside the published ones.

For each task of examples/graphax (NumPy versions of graphax's tasks, Lohoff & Neftci),
count the mults of forward, reverse and Markowitz vertex elimination under graphax's
counting convention (every scalar product of partials, ±1 ones included) and under
chainorder's own (±1 partials free), then search with simulated annealing
(:func:`chainorder.graph.search.anneal_order`, seeded, a time budget per task) and print
a Markdown table beside graphax's published forward / reverse / Markowitz / AlphaGrad
figures. Mults are scalar multiplications.

Usage::

    python benchmarks/bench_graphax.py [--budget 10] [--seed 0] [--write]

``--write`` replaces the "graphax" section of benchmarks/RESULTS.md. Tasks whose ops the
tracer does not yet support are listed as skipped, with the op.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples" / "graphax"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import machine_line, update_section  # noqa: E402
from graphax_tasks import TASKS, linearized, load_task  # noqa: E402

from chainorder.errors import UnsupportedOperationError  # noqa: E402
from chainorder.graph import eliminate, forward_order, markowitz_order, reverse_order  # noqa: E402
from chainorder.graph.search import anneal_order  # noqa: E402

__all__ = ["main", "run"]


def _reach(result, target: int) -> str:
    t = result.seconds_to_reach(target)
    return "never" if t is None else f"{t:.2f}"


def run(budget: float, seed: int) -> tuple[list[str], list[str]]:
    """Table rows and skip notes."""
    rows, skipped = [], []
    for name in TASKS:
        published = load_task(name).GRAPHAX
        try:
            lin = linearized(name)
        except UnsupportedOperationError as exc:
            skipped.append(f"{name}: {str(exc).split(';')[0]}")
            continue
        cells = []
        for conv in ("graphax", "chainorder"):
            fwd = eliminate(lin, forward_order(lin), convention=conv).mults
            rev = eliminate(lin, reverse_order(lin), convention=conv).mults
            mk = eliminate(lin, markowitz_order(lin, convention=conv), convention=conv).mults
            found = anneal_order(lin, seed=seed, time_budget=budget, convention=conv)
            cells.append((fwd, rev, mk, found))
        (gf, gr, gm, ga), (cf, cr, cm, ca) = cells
        pf, pr, pm, pa = published
        rows.append(
            f"| {name} | {len(lin.intermediates)} | {pf} / {pr} / {pm} / **{pa}** "
            f"| {gf} / {gr} / {gm} / **{ga.mults}** | {ga.mults - pa:+d} "
            f"| {_reach(ga, pa)} | {ga.best_seconds:.1f} "
            f"| {cf} / {cr} / {cm} / **{ca.mults}** | {ca.best_seconds:.1f} |"
        )
        print(rows[-1], flush=True)
    return rows, skipped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=10.0, help="seconds of search a task")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    ns = parser.parse_args()
    head = (
        "| task | intermediates | graphax published: fwd / rev / Markowitz / **AlphaGrad** "
        "| chainorder, graphax convention: fwd / rev / Markowitz / **annealed** "
        "| annealed − AlphaGrad | ≤ AlphaGrad after s | found after s "
        "| chainorder convention: fwd / rev / Markowitz / **annealed** | found after s |\n"
        "|---|---:|---|---|---:|---:|---:|---|---:|"
    )
    print(head)
    rows, skipped = run(ns.budget, ns.seed)
    body = "\n".join(
        [
            "## graphax tasks: vertex-elimination mults against graphax / AlphaGrad",
            "",
            f"Command: `python benchmarks/bench_graphax.py --budget {ns.budget:g} "
            f"--seed {ns.seed} --write` ({machine_line()}). Mults = scalar multiplications.",
            "graphax convention: every product of two scalar partials costs 1, ±1 ones "
            "included (eliminating j costs |pred j|·|succ j|); chainorder convention: a ±1 "
            "partial (add, subtract, negate) costs nothing. Annealed: "
            "`anneal_order(lin, seed, time_budget)`, started from the best of forward, "
            "reverse, Markowitz and the chain-through-cut-vertices plan. RoeFlux_3d is "
            "written with scalar components (graphax uses 3-vectors), so its graph and "
            "counts are not graphax's; 'RoeFlux_3d (vectors)' has graphax's vector graph, "
            "and the graphax convention prices slices / concatenates as graphax's index "
            "transforms (free; a transformed block between two stored partials held dense), "
            "which gives graphax's forward and reverse counts; its Markowitz count comes "
            "from AlphaGrad's vertex-game degree, not reproduced (examples/graphax/README.md). "
            "'≤ AlphaGrad after s': seconds until an order at "
            "most AlphaGrad's count was found; 'found after s': seconds from the start of the "
            "search (starting orders included) until the reported order was found; each "
            f"search ran for its {ns.budget:g} s budget.",
            "",
            head,
            *rows,
            "",
            *(f"Skipped — {s}" for s in skipped),
        ]
    )
    if ns.write:
        print(f"wrote {update_section('graphax', body)}")


if __name__ == "__main__":
    main()

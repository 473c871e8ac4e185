"""Plans under a memory budget (issue 11): revolve table, and PyTorch's checkpoint_sequential.

Run::

    python benchmarks/bench_checkpoint.py --write            # everything
    python benchmarks/bench_checkpoint.py --only revolve     # one part

``--write`` replaces the ``checkpoint`` section of benchmarks/RESULTS.md (``--out FILE``
writes the Markdown to a file of its own).

Figures
  A. Revolve table: recomputed steps ``t(l, s) − (l − 1)`` for ``l`` steps and ``s``
     checkpoints (closed form; the generated schedule's advances checked equal), with the √L
     segment schedule's recomputations and stored states next to it.
  B. Cost–memory Pareto fronts (``chainorder.checkpoint.pareto_front``) of the 64-link MLP
     (gradient) and of the hourglass 4096,64,tanh,4096,tanh,64,tanh,4096, with the named
     ``revolve`` strategy at each front point's peak next to it.
  C. Planning time of the memory-limited planner (``plan_with_memory_limit``) on the MLP at
     L = 100, 400, 1000 links, the limit half of the unconstrained reverse sweep's peak.
  D. PyTorch: ``torch.utils.checkpoint.checkpoint_sequential`` for every segment count on a
     64-link MLP (``width,(width,tanh)×31,d_L,tanh``): its gradient (``d_L = 1``) and its
     Jacobian (``d_L = width``, one batched backward pass). For each segment count: PyTorch's
     peak (torch.profiler, the CPU allocator's live bytes), its recomputed links (forward
     hooks in the backward pass) and time; next to it chainorder's cheapest plan whose
     predicted peak fits that level, executed: tracemalloc peak, recomputed links (calls of
     ``activation``), time. Timing is best-of-k, PyTorch and chainorder interleaved.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _adjoint_cell import ADJOINT_KEYS, adjoint_cell
from _results import emit, machine_line

from chainorder.checkpoint import default_forward_cost as forward_cost
from chainorder.checkpoint import pareto_front, plan_with_memory_limit
from chainorder.checkpoint.revolve import revolve_advances, revolve_schedule
from chainorder.checkpoint.segments import segments_schedule, sqrt_segments
from chainorder.checkpoint.strategies import strategy_plan
from chainorder.errors import ChainorderError, InfeasibleMemoryLimitError
from chainorder.execute import compile_plan
from chainorder.measure import peak_memory
from chainorder.nets import MLP
from chainorder.plan import plan
from chainorder.units import format_bytes

__all__ = ["main"]

STEPS = (10, 20, 50, 100, 200, 500, 1000)
SLOTS = (1, 2, 3, 4, 5, 8, 10, 16, 32)


def revolve_table() -> str:
    """Part A: recomputed steps by (steps, checkpoints)."""
    head = (
        "| steps l | "
        + " | ".join(f"s = {s}" for s in SLOTS)
        + " | √L segments: k, stored, recomputed |"
    )
    rows = [head, "|---:|" + "---:|" * (len(SLOTS) + 1)]
    for l in STEPS:
        cells = []
        for s in SLOTS:
            t = revolve_advances(l, s)
            if l <= 200 or s > 1:  # the schedule itself for every cell but the l(l−1)/2 ones
                assert revolve_schedule(l, s).advances == t
            cells.append(f"{t - (l - 1):,}")
        seg = segments_schedule(l)
        cells.append(f"{sqrt_segments(l)}, {seg.max_stored}, {seg.recomputations:,}")
        rows.append(f"| {l:,} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


# ------------------------------------------------------------------------------ D. PyTorch
def mlp_spec(width: int, out: int, links: int = 64) -> list[int | str]:
    """``width,(width,tanh)×(links/2 − 1),out,tanh``: ``links`` links, half of them tanh."""
    return [width, *[width, "tanh"] * (links // 2 - 1), out, "tanh"]


class CountingSource:
    """An MLP whose ``activation`` calls are counted (chainorder's measured recomputations)."""

    def __init__(self, net: object) -> None:
        self.net, self.chain, self.calls = net, net.chain, 0

    def activation(self, k: int, x: object) -> object:
        self.calls += 1
        return self.net.activation(k, x)

    def jacobian(self, l: int, x: object) -> object:
        return self.net.jacobian(l, x)


def best_time(fn, repeat: int) -> float:
    """Best wall time of ``repeat`` calls."""
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def torch_levels(net: object, jacobian: bool, repeat: int) -> list[dict[str, object]]:
    """PyTorch's peak, recomputations and time for every segment count 1..L."""
    from chainorder.checkpoint.torch_baseline import (
        torch_checkpointed,
        torch_peak,
        torch_sequential,
    )

    seq = torch_sequential(net)
    x = net.random_input(seed=1)
    rows = []
    for k in range(1, net.chain.n_links + 1):
        run, peak = torch_peak(lambda k=k: torch_checkpointed(seq, x, k, jacobian=jacobian))
        seconds = best_time(lambda k=k: torch_checkpointed(seq, x, k, jacobian=jacobian), repeat)
        rows.append(
            {
                "segments": k,
                "peak": peak,
                "recomputed": run.recomputations,
                "recomputed_mults": sum(forward_cost(net.chain, l) for l in run.recomputed_links),
                "seconds": seconds,
                "result": run.result,
            }
        )
    return rows


def torch_vs_chainorder(width: int, jacobian: bool, repeat: int, every: int) -> tuple[str, dict]:
    """Part D for one network: a Markdown table and the verdict counts."""
    from chainorder.checkpoint.torch_baseline import (
        torch_checkpointed,
        torch_peak,
        torch_sequential,
    )

    net = MLP(mlp_spec(width, width if jacobian else 1), seed=0)
    n = net.chain.n_links
    seq = torch_sequential(net)
    x = net.random_input(seed=1)
    head = (
        "| segments k | PyTorch peak | PyTorch recomputed (mults) | PyTorch time | "
        "chainorder plan at that limit: predicted / measured peak | chainorder recomputed "
        "(mults) | chainorder time | revolve at that limit: recomputed (mults) |"
    )
    head += (  # the adjoint (VJP) sweep's columns
        " chainorder adjoint (VJP) plan at that limit: predicted / measured peak | adjoint "
        "recomputed (mults) | adjoint time | adjoint plan, arrays only (reserve 0, as "
        "PyTorch's counter): peak: recomputed (mults) |"
    )
    rows = [head, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    tally = {"levels": 0, "feasible": 0, "no_more_recompute": 0, "no_slower": 0}
    tally |= dict.fromkeys(ADJOINT_KEYS, 0)
    for k in range(1, n + 1):
        if k not in (1, n) and k % every:
            continue
        run, peak = torch_peak(lambda k=k: torch_checkpointed(seq, x, k, jacobian=jacobian))
        t_mults = sum(forward_cost(net.chain, l) for l in run.recomputed_links)
        tally["levels"] += 1
        torch_cell = f"| {k} | {format_bytes(peak)} | {run.recomputations} ({t_mults:,}) | "
        adj_cell, *flags = adjoint_cell(net, x, run.result, peak, t_mults, k, seq, repeat, jacobian)
        for key, flag in zip(ADJOINT_KEYS, flags, strict=True):
            tally[key] += flag
        try:
            cp = plan_with_memory_limit(net.chain, peak)
        except InfeasibleMemoryLimitError as exc:
            smallest = exc.smallest_peak_bytes
            t_torch = best_time(
                lambda k=k: torch_checkpointed(seq, x, k, jacobian=jacobian), repeat
            )
            rows.append(
                torch_cell + f"{t_torch * 1e3:.2f} ms | infeasible: needs "
                f"{format_bytes(int(smallest))} with the reserve | - | - | - |" + adj_cell
            )
            print(rows[-1], flush=True)
            continue
        tally["feasible"] += 1
        want = run.result if jacobian else run.result[None, :]
        measured, recomputed, t_ours, t_torch = run_chainorder(
            cp, net, x, want, repeat, lambda k=k: torch_checkpointed(seq, x, k, jacobian=jacobian)
        )
        tally["no_more_recompute"] += cp.recompute_mults <= t_mults
        tally["no_slower"] += t_ours <= t_torch
        try:
            rv = strategy_plan(net.chain, "revolve", memory_limit=peak)
            rv_cell = f"{rv.recomputations} ({rv.recompute_mults:,})"
        except ChainorderError:
            rv_cell = "infeasible"
        rows.append(
            torch_cell + f"{t_torch * 1e3:.2f} ms | {format_bytes(cp.peak_bytes)} / "
            f"{format_bytes(measured)} | {recomputed} ({cp.recompute_mults:,}) | "
            f"{t_ours * 1e3:.2f} ms | {rv_cell} |" + adj_cell
        )
        print(rows[-1], flush=True)
    # chainorder's own range: its lowest peak and no limit (PyTorch unsegmented beside, k = 1)
    lowest = pareto_front(net.chain)[0]
    free = plan_with_memory_limit(net.chain, 2**40)
    for label, cp in (("chainorder's lowest peak", lowest), ("chainorder, no limit", free)):
        ref = torch_checkpointed(seq, x, 1, jacobian=jacobian).result
        want = ref if jacobian else ref[None, :]
        measured, recomputed, t_ours, t_torch = run_chainorder(
            cp, net, x, want, repeat, lambda: torch_checkpointed(seq, x, 1, jacobian=jacobian)
        )
        rows.append(
            f"| {label} | - | - | (k = 1: {t_torch * 1e3:.2f} ms) | {format_bytes(cp.peak_bytes)}"
            f" / {format_bytes(measured)} | {recomputed} ({cp.recompute_mults:,}) | "
            f"{t_ours * 1e3:.2f} ms | - | - | - | - | - |"
        )
    return "\n".join(rows), tally


def run_chainorder(cp, net, x, want, repeat: int, torch_fn) -> tuple[int, int, float, float]:
    """Execute ``cp``: (measured peak bytes, recomputations, best time, PyTorch's best time),
    the two timed interleaved after checking chainorder's result against ``want``."""
    f = compile_plan(cp)
    got = f(net, x.copy())
    assert np.allclose(got, want, rtol=1e-10, atol=1e-12), "chainorder and PyTorch disagree"
    measured = peak_memory(lambda: f(net, lambda: x.copy())).peak_bytes
    recomputed = f.last_recomputations
    t_torch = t_ours = math.inf
    for _ in range(repeat):  # interleaved, best of each
        t_torch = min(t_torch, best_time(torch_fn, 1))
        t_ours = min(t_ours, best_time(lambda: f(net, x), 1))
    return measured, recomputed, t_ours, t_torch


# ------------------------------------------------------------------------- B. Pareto fronts
HOURGLASS = "4096,64,tanh,4096,tanh,64,tanh,4096"


def pareto_table(spec: object, shown: int = 12) -> str:
    """Part B for one chain: the front (subsampled to ``shown`` points) and revolve beside it."""
    t0 = time.perf_counter()
    front = pareto_front(spec)
    seconds = time.perf_counter() - t0
    picks = sorted({round(i * (len(front) - 1) / max(shown - 1, 1)) for i in range(shown)})
    rows = [
        f"{len(front)} points in {seconds:.2f} s (searched: {front[0].searched}); "
        f"{len(picks)} shown. Peaks are the model's (array data, no bookkeeping reserve).",
        "",
        "| peak | recomputed (mults) | Jacobian mults | total mults | plan | "
        "revolve at that peak: recomputed (mults) |",
        "|---:|---:|---:|---:|---|---:|",
    ]
    revolve_cheaper = 0
    for i in picks:
        cp = front[i]
        try:
            rv = strategy_plan(spec, "revolve", memory_limit=cp.peak_bytes, reserve=0)
            rv_cell = f"{rv.recomputations} ({rv.recompute_mults:,})"
            revolve_cheaper += rv.cost < cp.cost
        except ChainorderError:
            rv_cell = "infeasible"
        rows.append(
            f"| {format_bytes(cp.peak_bytes)} | {cp.recomputations} ({cp.recompute_mults:,}) | "
            f"{cp.jacobian_mults:,} | {cp.total_mults:,} | {cp.strategy} | {rv_cell} |"
        )
    rows += [
        "",
        f"The revolve strategy is cheaper than the planner's point at {revolve_cheaper} of the "
        f"{len(picks)} peaks shown"
        + (
            " (above 24 links the planner places reverse-sweep checkpoints among 32 positions "
            "only, so it is not exact there)."
            if revolve_cheaper
            else "."
        ),
    ]
    return "\n".join(rows)


# ------------------------------------------------------------------------- C. planning time
def planning_times(lengths: tuple[int, ...], width: int = 64) -> str:
    """Part C: seconds of ``plan_with_memory_limit`` and of the revolve strategy."""
    rows = [
        "| L | limit | planner time | plan: recomputed (mults), peak | revolve time | "
        "revolve: recomputed (mults) |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for n in lengths:
        spec = mlp_spec(width, 1, n)
        limit = plan(spec, "reverse").peak_bytes("streamed") // 2
        t0 = time.perf_counter()
        try:
            cp = plan_with_memory_limit(spec, limit, reserve=0)
            cell = (
                f"{time.perf_counter() - t0:.2f} s | {cp.recomputations} "
                f"({cp.recompute_mults:,}), {format_bytes(cp.peak_bytes)}"
            )
        except (ChainorderError, RecursionError) as exc:
            cell = f"failed after {time.perf_counter() - t0:.2f} s: {type(exc).__name__} | -"
        t0 = time.perf_counter()
        rv = strategy_plan(spec, "revolve", memory_limit=limit, reserve=0)
        rv_seconds = time.perf_counter() - t0
        rows.append(
            f"| {n:,} | {format_bytes(limit)} | {cell} | {rv_seconds:.2f} s | "
            f"{rv.recomputations} ({rv.recompute_mults:,}) |"
        )
        print(rows[-1], flush=True)
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["revolve", "pareto", "planning", "torch"])
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--every", type=int, default=1, help="PyTorch: every n-th segment count")
    parser.add_argument("--lengths", default="100,400,1000")
    parser.add_argument("--threads", type=int, default=1, help="BLAS and PyTorch threads")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    if args.threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=args.threads, user_api="blas")
        if args.only in (None, "torch"):
            import torch

            torch.set_num_threads(args.threads)
    parts = [
        "## Plans under a memory budget: revolve, Pareto fronts, PyTorch (issue 11)\n",
        f"{machine_line()}; `python benchmarks/bench_checkpoint.py --write`; "
        f"{args.threads or 'default'} BLAS / PyTorch thread(s). The machine was shared with "
        "other jobs (2 cores, load around 8): times are noisy; PyTorch and chainorder are "
        "timed interleaved in the same run (best of each).\n",
    ]
    if args.only in (None, "revolve"):
        parts += [
            "### Revolve: recomputed steps for l steps and s checkpoints\n",
            "`t(l, s) − (l − 1)` with `t(l, s) = r·l − C(s+r, s+1)` (closed form; the generated "
            "schedule's advances checked equal for every cell); the last column is the √L "
            "segment schedule (Chen et al.): segments, states stored at most, recomputed steps.\n",
            revolve_table(),
            "",
        ]
    if args.only in (None, "pareto"):
        for name, spec in (
            (f"64-link MLP (gradient, width {args.width})", mlp_spec(args.width, 1)),
            ("hourglass " + HOURGLASS, HOURGLASS),
        ):
            parts += [f"### Cost–memory front: {name}\n", pareto_table(spec), ""]
    if args.only in (None, "planning"):
        lengths = tuple(int(v) for v in args.lengths.split(","))
        parts += [
            "### Planning time of the memory-limited planner\n",
            f"MLP `{args.width},({args.width},tanh)…,1,tanh`, the limit half the reverse "
            "sweep's peak (model peaks: no bookkeeping reserve).\n",
            planning_times(lengths, args.width),
            "",
        ]
    if args.only in (None, "torch"):
        verdicts = []
        for label, jac in (("gradient (d_L = 1)", False), (f"Jacobian (d_L = {args.width})", True)):
            table, tally = torch_vs_chainorder(args.width, jac, args.repeat, args.every)
            verdicts.append((label, tally))
            parts += [
                f"### PyTorch checkpoint_sequential vs chainorder: 64-link MLP, {label}\n",
                "PyTorch peak: torch.profiler's CPU allocator counter (live tensor bytes); "
                "chainorder peak: predicted, and measured with tracemalloc (NumPy buffers). "
                "Recomputed: PyTorch's module evaluations during backward (hooks); "
                "chainorder's `activation` calls beyond the first sweep. The chainorder plan is "
                "`plan_with_memory_limit(chain, PyTorch's peak)` (by default a plan fits when "
                "its predicted peak plus its own executor bookkeeping — array headers, slot "
                "lists, about 2 KiB fixed — does, so that the measured peak stays under the "
                "level; the revolve column likewise), "
                "executed; both results are "
                "checked equal before any time counts. chainorder's streamed model forms each "
                "Jacobian `J_l` (a dense layer's is 64×64, 32 KiB) while PyTorch's backward "
                "applies `W_lᵀ` without forming anything: for the gradient this floor alone is "
                "above most of PyTorch's levels."
                " The last four columns are chainorder's adjoint sweep "
                "(`chainorder.checkpoint.adjoint.plan_adjoint_with_memory_limit(chain, "
                "PyTorch's peak)`, run by `run_adjoint`): VJPs `a_{l-1} = a_l·J_l` on an "
                "`m × d_l` block (`m = d_L`) with nested checkpoints from the exact Pareto DP, "
                "no `J_l` formed; predicted footprint (arrays + the executor's bookkeeping "
                "bound) / tracemalloc peak (which counts NumPy's array headers; PyTorch's "
                "counter does not); the result checked equal to PyTorch's and the "
                "`activation` calls equal to L − 1 + predicted recomputations before timing "
                "(interleaved, best of each). The last column plans on the arrays alone, the "
                "quantity PyTorch's counter measures (a model figure, not measured).\n",
                table,
                "",
            ]
        lines = []
        for label, t in verdicts:
            lines.append(
                f"- {label}: {t['levels']} PyTorch levels; chainorder fits {t['feasible']}; of "
                f"those it recomputes no more (mults) at {t['no_more_recompute']} and is no "
                f"slower at {t['no_slower']}."
            )
            lines.append(
                f"- {label}, chainorder's adjoint (VJP) sweep: fits {t['adjoint_feasible']} "
                f"of the {t['levels']} levels; of those it recomputes no more (mults) at "
                f"{t['adjoint_no_more_recompute']} and is no slower at "
                f"{t['adjoint_no_slower']}. Planned on the arrays alone (no bookkeeping "
                f"reserve, what PyTorch's allocator counter measures) it recomputes no more "
                f"at {t['adjoint_data_no_more_recompute']} of the {t['levels']}."
            )
        parts += ["### Verdict\n", *lines, ""]
    emit("checkpoint", "\n".join(parts), args.out, args.write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Frameworks suite (issue 12, point 4): chainorder.torch / chainorder.jax against jacfwd/jacrev.

Run::

    python benchmarks/bench_frameworks.py --repeat 7 --threads 1 --write

``--write`` replaces the "frameworks" section of benchmarks/RESULTS.md; ``--out FILE`` writes the
Markdown to a file of its own; ``--full`` runs the transformer block at the issue's 64 tokens
(16 by default: 64 takes minutes per method on two cores); ``--cases a,b`` runs a subset;
``--dtypes float32`` one dtype; ``--threads 1`` runs PyTorch on one thread (on a crowded
machine its idle worker threads spin and inflate both clocks by many times, unevenly).

Every method of a case runs on the same weights and input (PyTorch and JAX built from one set
of NumPy parameters), is checked against ``torch.func.jacrev`` before its time counts, and is
timed in interleaved rounds (best of ``--repeat``). Targets (issue 12): ``chainorder.torch`` ≤
1.05× the faster of ``torch.func.jacfwd``/``jacrev`` on every case, ≤ 0.5× on the hourglass,
peak memory ≤ the smaller pure mode's + 10 %; the same for ``jax.jit(chainorder.jax)`` against
``jax.jit(jax.jacfwd)``/``jacrev`` where :mod:`chainorder.jax` exists.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _results import emit, machine_line, summary_line

from chainorder.frameworks.models import case_names
from chainorder.frameworks.suite import FrameworkResult, iter_results
from chainorder.units import format_bytes, format_count

PURE = {
    "chainorder.torch auto": ("torch.func.jacfwd", "torch.func.jacrev"),
    "jax.jit(chainorder.jax)": ("jax.jit(jax.jacfwd)", "jax.jit(jax.jacrev)"),
}
NOTES = """### Notes on method

- One process, one run: every ratio compares methods timed in the same interleaved rounds
  (best of the rounds), on the wall clock and on the process's CPU time (all its threads;
  less sensitive to other jobs). In each round a method runs a batch of calls lasting at least
  50 ms (a call of a few ms is repeated; the batch's mean per call counts), so one scheduler
  tick or one spin of XLA's idle threads does not decide a row; each round starts one method
  later than the last, so no method always runs right after the same (large) one. The load
  average at the start is in the header (2 cores); the targets are judged on these ratios as
  they came out, not re-run until they pass.
- Every Jacobian is compared with `torch.func.jacrev`'s (normwise relative difference,
  tolerance 1e-4 in float32, 1e-9 in float64) before its time counts.
- `chainorder.torch auto` is `chainorder.torch.jacobian(model)`: its first call (warm-up, not
  timed) plans and, where the plan predicts candidates within 20 % of each other, times each
  once and keeps the fastest; the timed calls run the kept plan. A plan that is one pure
  sweep runs as the framework's own `jacfwd`/`jacrev` (for JAX the same jaxpr, tested), so on
  those rows the ratio is the same program timed twice.
- Predicted mults are the matrix-free model's derivative work for the plan each method runs
  (jacfwd = one tangent sweep, jacrev = one adjoint sweep); forward evaluations excluded.
- `chainorder.torch` runs a tangent sweep as the transpose of the pullback (`vjp` of the
  linear map `u -> Jᵀu`): PyTorch's forward-mode rule for a matrix product under `vmap` adds
  the (zero) tangent of the constant weight and copies the batched block, which profiled at
  58 % of the hourglass plan's CPU time (`aten::add`, `aten::copy_`) against 39 % for
  `aten::mm`. A pure forward plan still runs as `torch.func.jacfwd` itself.
- Peak memory: PyTorch on CPU from the profiler's allocator events (`torch.profiler`,
  `profile_memory=True`, highest `Total Allocated` above the start of the call); on CUDA
  `torch.cuda.max_memory_allocated`; JAX from XLA's `memory_analysis()` of the compiled
  function (temp + output bytes). PyTorch and JAX figures are not comparable with each other.
"""


def _ms(s: float | None) -> str:
    return "–" if s is None else f"{s * 1e3:.1f}"


def _pure(by: dict, r: FrameworkResult) -> list[FrameworkResult]:
    pure = [by.get((r.case, r.dtype, r.device, m)) for m in PURE.get(r.method, ())]
    return [p for p in pure if p is not None and p.seconds is not None]


def _ratio(mine: float | None, others: list[float | None]) -> float | None:
    values = [v for v in others if v]
    return mine / min(values) if mine is not None and values else None


def _x(v: float | None) -> str:
    return "" if v is None else f"{v:.2f}×"


def _table(rows: list[FrameworkResult]) -> list[str]:
    lines = [
        "| case | dtype | method | wall ms | CPU ms | wall / faster pure | CPU / faster pure | "
        "peak | peak / smaller pure | predicted mults | plan | status |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    by = {(r.case, r.dtype, r.device, r.method): r for r in rows}
    for r in rows:
        pure = _pure(by, r)
        plan = f"{r.mode}: `{r.expression}`" if r.expression else r.mode
        lines.append(
            f"| {r.case} | {r.dtype} {r.device} | {r.method} | {_ms(r.seconds)} | "
            f"{_ms(r.cpu_seconds)} | {_x(_ratio(r.seconds, [p.seconds for p in pure]))} | "
            f"{_x(_ratio(r.cpu_seconds, [p.cpu_seconds for p in pure]))} | "
            f"{format_bytes(r.peak_bytes) if r.peak_bytes is not None else '–'} | "
            f"{_x(_ratio(r.peak_bytes, [p.peak_bytes for p in pure]))} | "
            f"{format_count(r.predicted_mults) if r.predicted_mults else '–'} | {plan} | "
            f"{r.status} |"
        )
    return lines


def _verdicts(rows: list[FrameworkResult]) -> dict[str, bool]:
    by = {(r.case, r.dtype, r.device, r.method): r for r in rows}
    out: dict[str, bool] = {}
    for method in PURE:
        mine = [r for r in rows if r.method == method and r.seconds is not None and _pure(by, r)]
        if not mine:
            continue
        short = method.split()[0]
        for clock in ("cpu_seconds", "seconds"):
            ratios = [_ratio(getattr(r, clock), [getattr(p, clock) for p in _pure(by, r)])
                      for r in mine]  # fmt: skip
            what = "CPU time" if clock == "cpu_seconds" else "wall clock"
            out[f"{short} ≤ 1.05× the faster pure mode on every case ({what})"] = all(
                x is not None and x <= 1.05 for x in ratios
            )
            hour = [x for r, x in zip(mine, ratios, strict=True) if r.case == "hourglass"]
            if hour:
                out[f"{short} ≤ 0.5× on the hourglass ({what})"] = all(
                    x is not None and x <= 0.5 for x in hour
                )
        peaks = [_ratio(r.peak_bytes, [p.peak_bytes for p in _pure(by, r)]) for r in mine]
        out[f"{short} peak ≤ the smaller pure mode's + 10 %"] = all(
            x is None or x <= 1.1 for x in peaks
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--full", action="store_true", help="transformer at 64 tokens")
    ap.add_argument("--cases", default="", help=f"subset of {','.join(case_names())}")
    ap.add_argument("--dtypes", default="float32,float64")
    ap.add_argument("--threads", type=int, default=None,
                    help="PyTorch intra-op threads (torch.set_num_threads); JAX keeps its own")
    ap.add_argument("--out", type=Path, default=None, help="also write the Markdown here")
    ap.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = ap.parse_args()
    cases = tuple(c for c in args.cases.split(",") if c) or None
    dtypes = tuple(d for d in args.dtypes.split(",") if d)
    import torch

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    load = os.getloadavg()[0]
    rows: list[FrameworkResult] = []
    for r in iter_results(cases, repeat=args.repeat, full=args.full, dtypes=dtypes):
        rows.append(r)
        print(f"{r.case} {r.dtype} {r.device} {r.method}: {_ms(r.seconds)} ms wall, "
              f"{_ms(r.cpu_seconds)} ms CPU, {r.status}", file=sys.stderr)  # fmt: skip
    versions = f"PyTorch {torch.__version__} ({torch.get_num_threads()} threads)"
    try:
        import jax

        versions += f", JAX {jax.__version__}"
    except ImportError:
        versions += ", JAX not installed"
    body = "\n".join(
        [
            "## Frameworks suite: chainorder.torch / chainorder.jax against jacfwd and jacrev",
            "",
            f"{machine_line()}; {versions}; {platform.system()}; load average at start "
            f"{load:.2f}; best of {args.repeat} "
            f"interleaved rounds; transformer at {64 if args.full else 16} tokens × 128.",
            f"Command: `python benchmarks/bench_frameworks.py --repeat {args.repeat}"
            + (" --full" if args.full else "")
            + (f" --cases {args.cases}" if args.cases else "")
            + (f" --dtypes {args.dtypes}" if args.dtypes != "float32,float64" else "")
            + (f" --threads {args.threads}" if args.threads is not None else "")
            + "`",
            "",
            *_table(rows),
            "",
            summary_line(_verdicts(rows)),
            "",
            NOTES,
        ]
    )
    emit("frameworks", body, args.out, args.write)


if __name__ == "__main__":
    main()

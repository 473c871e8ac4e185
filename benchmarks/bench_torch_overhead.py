"""chainorder.torch's per-call overhead: aten operations dispatched and time per call, before
(every sweep through ``torch.func``) and after the direct route (issue 12: a GPU call of the
suite's sizes is bound by kernel launches, one per aten operation, not by mults).

A CPU proxy for the GPU's launch overhead: for each case, a ``TorchDispatchMode`` counts the
aten operations one call dispatches (every operation that would be a kernel launch on a GPU,
views included), and the process's CPU time per call is taken at the suite's sizes and at
small, overhead-dominated sizes (``hourglass-256``: 256,16,tanh,256,tanh,16,tanh,256;
``wide-out-64``: 4,64,tanh,64,tanh,98). Methods: ``torch.func.jacfwd``, ``torch.func.jacrev``,
``chainorder.torch auto`` with ``direct=False`` (the executor before the direct route: every
sweep through ``torch.func``, a pure plan as torch.func's own function) and ``chainorder.torch
auto`` (the direct route where every operation has a rule; its first call times the
candidates within 20 % and keeps the fastest). Every Jacobian is checked against
``torch.func.jacrev``'s before it counts.

Timing: ``--repeat`` rounds; in a round every method runs a batch of calls lasting at least
20 ms of CPU time, in a new random order; per round each method's CPU time per call over the
faster pure mode's in that round; the table gives the median ratio over the rounds.

``--device cuda`` runs the same on a GPU (wall clock, synchronised after every call; TF32
off) and writes its own section, ``torch-overhead-gpu``.

Usage::

    python benchmarks/bench_torch_overhead.py [--repeat 5] [--cases ...]
        [--dtypes float32,float64] [--write]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import emit, machine_line

SMALL = {
    "hourglass-256": [256, 16, 256, 16, 256],
    "wide-out-64": [4, 64, 64, 98],
}
SUITE = ("mlp-wide-in", "mlp-wide-out", "hourglass", "residual", "transformer", "cnn", "loss")
METHODS = ("torch.func.jacfwd", "torch.func.jacrev", "auto, torch.func route", "auto, direct")


def _mlp(widths, dtype):
    import torch

    torch.manual_seed(0)
    layers = []
    for i in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1], dtype=dtype))
        if i < len(widths) - 2:
            layers.append(torch.nn.Tanh())
    net = torch.nn.Sequential(*layers).eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net, torch.randn(widths[0], dtype=dtype)


def _case(name: str, dtype, device: str = "cpu"):
    import torch

    if name in SMALL:
        net, x = _mlp(SMALL[name], dtype)
        return net.to(device), x.to(device)
    from chainorder.frameworks.models import make_model

    m = make_model(name, tokens=16)
    return m.torch_module(dtype, device), torch.from_numpy(m.input()).to(device, dtype)


_NO_KERNEL = ("_unsafe_view", "empty", "empty_like", "empty_strided", "lift_fresh")


def count_ops(fn) -> tuple[int, int]:
    """Aten operations one call of ``fn`` dispatches, all of them and those that are not views
    (metadata only) or allocations: the ones a GPU runs as kernels."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class Count(TorchDispatchMode):
        n = kernels = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            Count.n += 1
            if not func.is_view and func._overloadpacket.__name__ not in _NO_KERNEL:
                Count.kernels += 1
            return func(*args, **(kwargs or {}))

    with Count():
        fn()
    return Count.n, Count.kernels


def _batch(fn, floor: float = 0.02, cuda: bool = False) -> float:
    """Seconds per call over a batch lasting at least ``floor`` seconds: the process's CPU
    time, or on a GPU the wall clock with the device synchronised before and after."""
    import torch

    clock = time.perf_counter if cuda else time.process_time
    if cuda:
        torch.cuda.synchronize()
    k, start = 0, clock()
    while True:
        fn()
        k += 1
        if cuda:
            torch.cuda.synchronize()
        spent = clock() - start
        if spent >= floor:
            return spent / k


def run_case(name: str, dtype, repeat: int, rng: random.Random, device: str = "cpu") -> list[dict]:
    import torch

    import chainorder.torch as ct

    net, x = _case(name, dtype, device)
    before = ct.jacobian(net, direct=False)
    after = ct.jacobian(net)
    calls = {
        "torch.func.jacfwd": lambda: torch.func.jacfwd(net)(x),
        "torch.func.jacrev": lambda: torch.func.jacrev(net)(x),
        "auto, torch.func route": lambda: before(x),
        "auto, direct": lambda: after(x),
    }
    ref = torch.func.jacrev(net)(x)
    scale = float(ref.abs().max()) or 1.0
    tol = 1e-4 if dtype == torch.float32 else 1e-9
    rows = {}
    for m, fn in calls.items():
        J = fn()  # the first call plans (and may time the candidates): not counted
        err = float((J - ref).abs().max()) / scale
        if err > tol:
            raise SystemExit(f"{name} {m}: Jacobian differs from jacrev's by {err:.2e}")
        fn()
        ops, kernels = count_ops(fn)
        rows[m] = {"case": name, "method": m, "ops": ops, "kernels": kernels, "cpu": [], "err": err}
    rows["auto, torch.func route"]["program"] = _program(before)
    rows["auto, direct"]["program"] = _program(after)
    for _ in range(repeat):
        order = list(calls)
        rng.shuffle(order)
        for m in order:
            rows[m]["cpu"].append(_batch(calls[m], cuda=device == "cuda"))
    fwd, rev = rows["torch.func.jacfwd"]["cpu"], rows["torch.func.jacrev"]["cpu"]
    faster = fwd if statistics.median(fwd) < statistics.median(rev) else rev
    for r in rows.values():
        r["ratio"] = statistics.median(a / b for a, b in zip(r["cpu"], faster, strict=True))
    return list(rows.values())


def _program(jac) -> str:
    planned = jac.last
    c = planned.candidate
    return f"{c.name}: `{c.plan.expression()}` ({c.program})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--cases", default="", help=f"subset of {','.join([*SMALL, *SUITE])}")
    ap.add_argument("--dtypes", default="float32,float64")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument(
        "--device", default="cpu", help="cpu, or cuda: times are then wall clock, synchronised"
    )
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    if args.device == "cuda":  # full float32 products, as in the frameworks suite on GPUs
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    cases = [c for c in args.cases.split(",") if c] or [*SMALL, *SUITE]
    rng = random.Random(0)
    rows = []
    for dt in args.dtypes.split(","):
        for name in cases:
            for r in run_case(name, getattr(torch, dt), args.repeat, rng, args.device):
                r["dtype"] = dt
                rows.append(r)
            print(f"{name} {dt} done", file=sys.stderr)
    load = os.getloadavg()[0]
    gpu = args.device == "cuda"
    clock = "wall" if gpu else "CPU"
    where = f"; {torch.cuda.get_device_name()}, wall clock, synchronised" if gpu else ""
    lines = [
        f"## chainorder.torch per-call overhead: aten operations and {clock} time per call"
        + (" (GPU)" if gpu else ""),
        "",
        f"{machine_line()}{where}; PyTorch {torch.__version__} ({args.threads} thread); "
        f"load average at the end {load:.2f}; "
        f"{args.repeat} interleaved rounds; transformer at 16 tokens × 128.",
        f"Command: `python benchmarks/bench_torch_overhead.py --repeat {args.repeat}"
        + (f" --cases {args.cases}" if args.cases else "")
        + (f" --dtypes {args.dtypes}" if args.dtypes != "float32,float64" else "")
        + (" --device cuda" if gpu else "")
        + "`",
        "",
        f"| case | dtype | method | aten ops per call | of which kernels | {clock} ms per call "
        f"(median) | {clock} / faster pure (median of rounds) | program that ran |",
        "|---|---|---|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['case']} | {r['dtype']} | {r['method']} | {r['ops']:,} | {r['kernels']:,} | "
            f"{1e3 * statistics.median(r['cpu']):.3f} | {r['ratio']:.2f}× | "
            f"{r.get('program', '')} |"
        )
    lines += ["", *_summary(rows, clock)]
    section = "torch-overhead-gpu" if gpu else "torch-overhead"
    emit(section, "\n".join(lines) + "\n" + NOTES, args.out, args.write)


def _summary(rows: list[dict], clock: str = "CPU") -> list[str]:
    """Per case and dtype: ``chainorder.torch auto`` before -> after (kernels, CPU ratio)."""
    out = [
        "Summary, `chainorder.torch auto` before (torch.func route) → after (direct route): "
        f"kernels per call, all aten operations per call, {clock} time over the faster pure "
        "mode.",
        "",
    ]
    by = {(r["case"], r["dtype"], r["method"]): r for r in rows}
    for case, dtype in dict.fromkeys((r["case"], r["dtype"]) for r in rows):
        a, b = by[case, dtype, "auto, torch.func route"], by[case, dtype, "auto, direct"]
        out.append(
            f"- {case} {dtype}: {a['kernels']} → {b['kernels']} kernels, {a['ops']} → "
            f"{b['ops']} operations, {a['ratio']:.2f}× → {b['ratio']:.2f}×"
        )
    worst = max(by[k]["ratio"] for k in by if k[2] == "auto, direct")
    out += [
        "",
        f"Largest {clock} ratio of `auto, direct` over the faster pure mode: {worst:.2f}×.",
    ]
    return out


NOTES = """
### Notes on method

- Aten operations: a `TorchDispatchMode` counting every call that reaches the dispatcher in one
  call of the Jacobian function after its first (planning) call: the operations a GPU would
  launch as kernels, views and allocations included; "of which kernels" leaves out views
  (`is_view`, `_unsafe_view`) and bare allocations (`empty*`), which launch nothing. Functorch's
  own Python work is in the time, not in the counts.
- `auto, torch.func route` is `chainorder.torch.jacobian(model, direct=False)`: every sweep
  through `torch.func` (`vjp`, `vmap`, `jvp`), a pure plan as `torch.func.jacfwd`/`jacrev`
  itself: the executor before the direct route. `auto, direct` is
  `chainorder.torch.jacobian(model)`; the program column names what its first call kept.
- CPU time per call: `time.process_time` over a batch of at least 20 ms, median over rounds;
  the ratio is per round against the faster pure mode of the same round.
- Why a CPU proxy: on the H200 of the gpu section a call of these sizes took 1.1–3.6 ms
  whatever its mults (torch.func.jacrev of the hourglass: 4.3 G mults in 1.2–1.4 ms), i.e. it
  was bound by dispatch, Python work and kernel launches, which the kernel count and the CPU
  time per call measure here. The direct route has not run on a GPU yet (no device this
  session): the gpu section's figures are from the torch.func route.
"""


if __name__ == "__main__":
    main()

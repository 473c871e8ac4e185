"""One-off check (not a benchmark section, not a test): issue 12's peak target for
chainorder.torch on the transformer block at the issue's 64 tokens × 128, CPU, one thread.

For float32 and float64: the first call of ``chainorder.torch.jacobian(net)`` (``method="auto"``,
default measuring) under ``torch.no_grad()`` as the frameworks suite calls it; which candidates
were timed, which tied, their measured peaks, the kept one and why; then the measured peak of
the kept per-call path against ``torch.func.jacfwd`` / ``jacrev`` (``torch_peak_bytes``, the
suite's measure) and its process CPU time against the faster pure mode, in interleaved pairs
(kept, pure, kept, pure, ...; ratio per pair, median).

    PYTHONPATH=$PWD python benchmarks/check_torch_peak_tie.py [--pairs 3] [--tokens 64]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import chainorder.torch as ct
from chainorder.frameworks.models import make_model
from chainorder.torch.memory import torch_peak_bytes
from chainorder.units import format_bytes


def _cpu(fn) -> float:
    start = time.process_time()
    with torch.no_grad():
        out = fn()
    del out
    return time.process_time() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--dtypes", default="float32,float64")
    a = ap.parse_args()
    torch.set_num_threads(1)
    for dtype in a.dtypes.split(","):
        check(dtype, a.tokens, a.pairs)


def check(dtype: str, tokens: int, pairs: int) -> None:
    m = make_model("transformer", tokens=tokens)
    net = m.torch_module(getattr(torch, dtype))
    x = torch.from_numpy(m.input()).to(getattr(torch, dtype))
    jac = ct.jacobian(net)
    start = time.perf_counter()
    with torch.no_grad():
        J = jac(x)
    first = time.perf_counter() - start
    p = jac.last
    print(f"== transformer {tokens} tokens, {dtype}: first call {first:.1f} s wall")
    for c in p.candidates:
        meas = "-" if c.measured_peak_bytes is None else format_bytes(c.measured_peak_bytes)
        print(
            f"   {c.name:<10} {c.program:<18} CPU {c.cpu_seconds:8.3f} s  "
            f"predicted peak {format_bytes(c.peak_bytes):>10}  measured {meas:>10}"
        )
    print(f"   kept: {p.chosen} ({p.candidate.program}) — {p.reason}")
    pure = {
        "jacfwd": lambda: torch.func.jacfwd(net)(x),
        "jacrev": lambda: torch.func.jacrev(net)(x),
    }
    with torch.no_grad():
        ref = pure["jacrev"]()
        err = float((J - ref).abs().max() / ref.abs().max())
        del ref
        peaks = {name: torch_peak_bytes(fn, "cpu")[0] for name, fn in pure.items()}
        mine = torch_peak_bytes(lambda: jac(x), "cpu")[0]
    low = min(peaks, key=peaks.get)
    print(
        f"   Jacobian vs jacrev: max rel diff {err:.2e}; measured peak: kept "
        f"{format_bytes(mine)}, jacfwd {format_bytes(peaks['jacfwd'])}, jacrev "
        f"{format_bytes(peaks['jacrev'])}; ratio to the smaller ({low}) "
        f"{mine / peaks[low]:.3f} (target <= 1.10)"
    )
    scores = {c.name: c.cpu_seconds for c in p.candidates if c.cpu_seconds is not None}
    faster = min(("jacfwd", "jacrev"), key=lambda n: scores.get(n, float("inf")))
    ratios = []
    for _ in range(pairs):
        t_mine = _cpu(lambda: jac(x))
        t_pure = _cpu(pure[faster])
        ratios.append(t_mine / t_pure)
        print(f"   pair: kept {t_mine:.3f} s CPU, {faster} {t_pure:.3f} s CPU")
    print(
        f"   time vs the faster pure mode ({faster}, by the first call's timings): median "
        f"{statistics.median(ratios):.3f}x over {pairs} interleaved pairs"
    )
    del J


if __name__ == "__main__":
    main()

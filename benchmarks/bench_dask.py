"""Jacobian chains bigger than a worker's memory on a Dask LocalCluster (issue 13 item 5).

Run:  python benchmarks/bench_dask.py [--chains 20000,200,20000,200,20000 ...]
          [--workers 2] [--memory-per-worker 2GiB] [--threads-per-worker 1]
          [--chunk-size 64MiB] [--timeout 240] [--seed 0] [--write]

For each chain (dense links) one LocalCluster of worker processes with the given memory
limit (Dask spills to disk beyond it) holds seeded Jacobians (persisted before any clock)
and runs, one after the other on the same Jacobians:

* ``chainorder`` — the optimal plan's lazy product (:func:`chainorder.evaluate` on dask
  arrays: one ``da.matmul`` per product in the plan's order, blocks of the chunking rule);
* ``left-to-right`` — ``J_L @ ⋯ @ J_1`` as Python evaluates it, ``((J_L J_{L-1}) ⋯) J_1``;
* ``da.einsum`` — one blockwise contraction of all links, ``optimize=True`` so each block
  task contracts its blocks in NumPy's optimised order (the default ``optimize=False`` loops
  over every index of a block task and does not finish at these sizes).

Per method: the multiplications (exact for the two bracketings; einsum's block tasks are not
a bracketing), the predicted time and per-worker bytes where chainorder has a plan for it,
the measured wall time to persist the product (the Jacobian held, distributed, possibly
spilled), each worker's peak process memory (Dask's SystemMonitor samples, every 100 ms)
and the relative difference of ``J·V`` (``V`` seeded, 4 columns) from the chain applied to
``V`` block by block in NumPy. A method over ``--timeout`` seconds is cancelled and shown as
such. ``--write`` replaces the "dask" section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import functools
import operator
import sys
import time

import numpy as np
from _results import machine_line, update_section

from chainorder.chain import Chain
from chainorder.dask_backend import predict_memory
from chainorder.dask_run import (
    dask_client,
    evaluate_plan,
    measure_product,
    random_dask_jacobians,
    worker_flop_rate,
)
from chainorder.plan import plan
from chainorder.units import format_bytes, format_count, parse_bytes

__all__ = ["main"]

DEFAULT_CHAINS = ["20000,200,20000,200,20000", "200,12000,12000,12000"]


def _einsum(Js):
    import dask.array as da

    letters = "abcdefghijklmnopqrstuvwxyz"
    n = len(Js)
    # J_l is (d_l, d_{l-1}); index i stands for d_i
    terms = [letters[l] + letters[l - 1] for l in range(n, 0, -1)]
    subs = ",".join(terms) + "->" + letters[n] + letters[0]
    return da.einsum(subs, *reversed(Js), optimize=True)


def run_chain(spec: str, args: argparse.Namespace) -> list[dict]:
    chain = Chain.from_dims([int(x) for x in spec.split(",")])
    best = plan(chain, "optimal")
    ltr = plan(chain, "reverse")  # ((J_L J_{L-1}) ⋯) J_1, what J_L @ ⋯ @ J_1 computes
    limit = parse_bytes(args.memory_per_worker)
    rows = []
    with dask_client(
        args.workers,
        limit,
        threads_per_worker=args.threads_per_worker,
        local_directory=args.local_directory,
    ) as client:
        threads = args.workers * args.threads_per_worker
        est = {
            "chainorder": predict_memory(
                best,
                workers=args.workers,
                threads_per_worker=args.threads_per_worker,
                chunk_bytes=args.chunk_size,
            ),
            "left-to-right": predict_memory(
                ltr,
                workers=args.workers,
                threads_per_worker=args.threads_per_worker,
                chunk_bytes=args.chunk_size,
            ),
        }
        rate = worker_flop_rate(client, max(est["chainorder"].chunk_lengths))
        t0 = time.perf_counter()
        Js = client.persist(random_dask_jacobians(chain, args.seed, "float64", args.chunk_size))
        import distributed

        distributed.wait(Js)
        made = time.perf_counter() - t0
        inputs = sum(int(np.prod(J.shape)) * 8 for J in Js)
        print(
            f"{spec}: Jacobians {format_bytes(inputs)} made in {made:.1f} s; "
            f"{rate / 1e9:.1f} GFLOP/s per thread",
            file=sys.stderr,
        )
        methods = [
            ("chainorder", best, lambda: evaluate_plan(best, Js, args.chunk_size)),
            ("left-to-right", ltr, lambda: functools.reduce(operator.matmul, reversed(Js))),
            ("da.einsum", None, lambda: _einsum(Js)),
        ]
        for label, p, build in methods:
            if label not in args.methods:
                continue
            row = {
                "chain": spec,
                "method": label,
                "expression": p.expression() if p else "one blockwise einsum",
                "mults": format_count(p.mults) if p else "-",
                "predicted_s": f"{p.flops / (rate * threads):.2g}" if p else "-",
                "predicted_worker": format_bytes(est[label].per_worker_bytes) if p else "-",
                "inputs": format_bytes(inputs),
            }
            try:
                m = measure_product(client, label, build, Js, timeout=args.timeout)
            except TimeoutError:
                row.update(time=f"> {args.timeout:.0f} s (cancelled)", peaks="-", diff="-")
            except Exception as exc:  # e.g. KilledWorker: a worker ran out of memory
                row.update(time=f"failed: {type(exc).__name__}", peaks="-", diff="-")
            else:
                row.update(
                    time=f"{m.seconds:.1f} s",
                    peaks=" / ".join(format_bytes(x) for x in m.worker_peak_bytes),
                    diff=f"{m.rel_diff:.1e}",
                )
            print(row, file=sys.stderr)
            rows.append(row)
            client.run(lambda: __import__("gc").collect())
    return rows


def table(rows: list[dict], args: argparse.Namespace) -> str:
    head = (
        "| chain | method | order | mults | predicted time | time | predicted per worker "
        "| measured peak per worker | J·V rel. diff |\n|---|---|---|---|---|---|---|---|---|\n"
    )
    body = "".join(
        f"| {r['chain']} | {r['method']} | {r['expression']} | {r['mults']} | "
        f"{r['predicted_s']}{' s' if r['predicted_s'] != '-' else ''} | {r['time']} | "
        f"{r['predicted_worker']} | {r['peaks']} | {r['diff']} |\n"
        for r in rows
    )
    return (
        f"### Dask: chains bigger than a worker ({args.workers} workers × "
        f"{args.threads_per_worker} thread, {args.memory_per_worker} each, spilling to disk; "
        f"blocks of {args.chunk_size}; float64)\n\n"
        f"Machine: {machine_line()}. Command: `python benchmarks/bench_dask.py "
        f"--timeout {args.timeout:.0f} --write` (one run; cancelled methods ran longer than the "
        "timeout).\n\n"
        "Time: wall seconds to persist the product on the cluster (inputs persisted before). "
        "Peak: each worker's largest process memory (RSS) sampled by Dask's SystemMonitor "
        "every 100 ms (includes ~100 MiB of interpreter and Dask). Predicted per worker: "
        "threads × largest task + the plan's peak of live arrays / workers "
        "(chainorder.dask_backend); above 60 % of the limit Dask spills to disk, so measured "
        "peaks stay near that threshold while the time pays for the disk. Predicted time: "
        "FLOPs / (FLOP/s of one worker thread on a block product × threads). Check: J·V "
        "(V seeded, 4 columns) against the chain applied to V block by block in NumPy.\n\n"
        + head
        + body
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chains", nargs="+", default=DEFAULT_CHAINS)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads-per-worker", type=int, default=1)
    ap.add_argument("--memory-per-worker", default="2GiB")
    ap.add_argument("--chunk-size", default="64MiB")
    ap.add_argument("--timeout", type=float, default=240.0, help="seconds per method")
    ap.add_argument("--methods", default="chainorder,left-to-right,da.einsum")
    ap.add_argument("--local-directory", default=None, help="where workers spill")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = ap.parse_args(argv)
    args.methods = args.methods.split(",")
    rows = [row for spec in args.chains for row in run_chain(spec, args)]
    text = table(rows, args)
    print(text)
    if args.write:
        print(f"updated {update_section('dask', text)}", file=sys.stderr)
    bad = [r for r in rows if r["diff"] not in ("-",) and float(r["diff"]) > 1e-9]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

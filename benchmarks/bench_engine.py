"""Benchmark: ``chainorder.jacobian(f)`` against JAX (jit and not) and torch.func (issue 8).

For each function of :mod:`engine_functions` it measures, in seconds:

* chainorder **first call**: a new ``jacobian(f)`` object called once (trace + plan +
  compile + run), best of :data:`FIRST_TRIES` new objects, each after ``gc.collect()``;
* chainorder **re-run**: the same object called at new argument values (replay of the
  compiled program, best of k);
* JAX ``jax.jit(jax.jacfwd)`` and ``jax.jit(jax.jacrev)``, the faster of the two: compile
  plus first call (best of :data:`FIRST_TRIES` new jitted closures, each after
  ``gc.collect()``), and a re-run (best of k); JAX without jit (best of k, faster mode);
* ``torch.func.jacfwd`` / ``jacrev`` (faster, best of k), when PyTorch is installed.

Ratios are chainorder / JAX jit (re-run against re-run, first call against compile + first
call). Every Jacobian is checked against JAX's (x64). One run on a shared machine: the figures
are noisy; repeats are interleaved and the best is kept.

Run::

    python benchmarks/bench_engine.py [--write] [--repeat K] [--only NAME]

``--write`` replaces the "engine" section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path

# one thread for every framework: on a shared 2-core machine, multi-threaded BLAS contends
# (a 100 × 100 solve took 54 ms with OpenBLAS threads and 0.12 ms with one)
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
# One core for the whole process, so every framework runs single-core: XLA's flags below do
# not stop its CPU client from using both cores (CPU time ≈ 2× wall), and NPROC=1, which
# does, made JAX's jitted softmax jacrev 25× slower (9–13 ms against 0.4 ms). Threads the
# frameworks start later inherit the affinity. (Linux; elsewhere the process is left alone.)
if hasattr(os, "sched_setaffinity") and "--all-cores" not in sys.argv:
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    os.environ.setdefault("NPROC", "2")  # XLA sizes its pool by the affinity: 1 is slow
os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)

import numpy as np  # noqa: E402  (after the thread settings)

sys.path.insert(0, str(Path(__file__).parent))
from _results import emit, gemm_note, machine_line  # noqa: E402
from engine_functions import CASES, Case, NumpyNS, TorchNS  # noqa: E402

import chainorder  # noqa: E402

#: First calls (chainorder: trace + plan + compile + run; JAX: jit compile + run) are the
#: best of this many fresh objects.
FIRST_TRIES = 2

#: A framework's mode whose sweep chainorder predicts to need more than this is not run.
SKIP_BYTES = 4 * 2**30


#: What changed in the executor this session, and the before/after figures measured for it.
ENGINE_NOTES = """\
Executor speed (issue 8, item 4), this session: the compiled programs reuse buffers by
liveness (a diagonal × dense product scales its dying factor in place, a broadcast VJP is
added straight into its sum, a transposed adjoint block stays a view, slots are dropped
at their last read) and the NumPy rules no longer run loops once per short group (sums
over trailing axes, max/min and broadcast products by `einsum`, broadcasts written by
`np.repeat`, a length-scale VJP by strided products); see the graph-exec section's notes.
`jacobian(f)` keeps the forward values NumPy ufuncs compute (arrays of 64 KiB or more) in
buffers between calls and writes each call's values into them (`reuse=True`, the default;
`explain()` states the bytes held, at most the graph's values; `reuse=False` opts out):
GP N = 400 met 3,100–5,900 fresh pages (page faults) per call before, depending on what
glibc's heap kept from earlier calls, and none now. Per-call engine overhead otherwise:
replaying the forward values costs 0.04 ms of attention's call, the layout 0.003 ms.
Paired before/after on this shared machine (CPU time per call, each call right after JAX's
jitted jacrev (and jacfwd where run) as in this benchmark, medians of 21, alternating
processes): attention 32×16 9.3–10.1 → 7.3–8.0 ms, best 8.5–9.4 → 6.9–7.5 ms (the quiet run
before this session: 9.25 ms against JAX's 3.53 ms, 2.62×); GP N = 400 best 21–24 → 18.5 ms
against jacrev's 7.6–7.8 ms. GP's compiled program alone 11.3 → 7.1 ms (warm); the solve's
VJP still refactorises K (2.0 ms: NumPy exposes no LU factors) and the forward replay is
NumPy's own loops over N × N × 2 differences (the calls the user's function makes).
"""


def _best(fn, k: int) -> float:
    best = float("inf")
    for _ in range(k):
        t = time.perf_counter()
        out = fn()
        _block(out)
        best = min(best, time.perf_counter() - t)
    return best


def _first_call(make, call, tries: int = FIRST_TRIES) -> tuple[float, object]:
    """Best seconds of ``call(make())`` over ``tries`` fresh objects (each traces, plans or
    compiles anew), each timed after a full garbage collection, so that no first call pays
    for the cyclic collector's pass over what earlier cases left; and the last result."""
    best, out = float("inf"), None
    for _ in range(tries):
        obj = make()
        gc.collect()
        t = time.perf_counter()
        out = call(obj)
        best = min(best, time.perf_counter() - t)
    return best, out


#: "numpy" (the host) or "cupy" (chainorder on CuPy arrays; JAX and torch on the GPU too).
BACKEND = "numpy"


def _block(out):
    """``out`` once every array in it is computed (JAX arrays; on the GPU, the device)."""
    leaves = out if isinstance(out, tuple | list) else [out]
    for leaf in leaves:
        if isinstance(leaf, tuple | list):
            _block(leaf)
        elif hasattr(leaf, "block_until_ready"):
            leaf.block_until_ready()
    if BACKEND == "cupy":
        import cupy

        cupy.cuda.runtime.deviceSynchronize()  # CuPy's and torch's queued kernels
    return out


def _host(a) -> np.ndarray:
    """A NumPy copy of a NumPy, JAX, CuPy or torch array."""
    if hasattr(a, "detach"):
        return a.detach().cpu().numpy()
    if type(a).__module__.startswith("cupy"):
        return a.get()
    return np.asarray(a)


def _flat(out) -> np.ndarray:
    leaves = out if isinstance(out, tuple | list) else [out]
    parts = []
    for leaf in leaves:
        parts.append(_flat(leaf) if isinstance(leaf, tuple | list) else _host(leaf).ravel())
    return np.concatenate(parts)


def _moved(args: tuple, rng: np.random.Generator, argnums) -> tuple:
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    return tuple(
        a + 0.01 * rng.standard_normal(np.shape(a)) if i in nums else a for i, a in enumerate(args)
    )


def run_case(case: Case, k: int, rng: np.random.Generator) -> dict:
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    args = case.args(rng)
    new = _moved(args, rng, case.argnums)
    host_new = new
    if BACKEND == "cupy":  # chainorder's arguments on the device (the data arguments too)
        import cupy

        args = tuple(cupy.asarray(a) for a in args)
        new = tuple(cupy.asarray(a) for a in new)
    row: dict = {"case": case}
    row["first"], (jf, ours) = _first_call(
        lambda: chainorder.jacobian(case.make(NumpyNS(np)), argnums=case.argnums),
        lambda jf: (jf, _block(jf(*args))),
    )
    entry = jf.last
    row["method"] = entry.row.name
    row["mults"] = entry.row.mults

    f_jax = case.make(NumpyNS(jnp))
    jargs = tuple(jnp.asarray(_host(a)) for a in args)  # JAX's default device
    jnew = tuple(jnp.asarray(a) for a in host_new)
    jit_first, jit_rerun, nojit, jitted_runs = {}, {}, {}, {}
    sweep_peak = {m.method: m.peak_bytes for m in jf.plan.rows if m.method.is_sweep}
    row["skipped"] = []
    for mode, transform in (("jacfwd", jax.jacfwd), ("jacrev", jax.jacrev)):
        peak = sweep_peak["forward" if mode == "jacfwd" else "reverse"]
        if peak > SKIP_BYTES:  # the sweep itself would not fit in this machine's memory
            row["skipped"].append(f"{mode} (its sweep's predicted peak {peak / 2**30:.1f} GiB)")
            continue
        jit_first[mode], (jitted, theirs) = _first_call(
            lambda transform=transform: jax.jit(
                transform(case.make(NumpyNS(jnp)), argnums=case.argnums)
            ),
            lambda jitted: (jitted, _block(jitted(*jargs))),
        )
        jitted_runs[mode] = jitted
        plain = transform(f_jax, argnums=case.argnums)
        nojit[mode] = _best(lambda plain=plain: plain(*jnew), max(1, k // 3))
    # re-runs interleaved (ours, then each JAX mode, k rounds), best of each
    ours_best = float("inf")
    for _ in range(k):
        ours_best = min(ours_best, _best(lambda: jf(*new), 1))
        for mode, jitted in jitted_runs.items():
            t_mode = _best(lambda jitted=jitted: jitted(*jnew), 1)
            jit_rerun[mode] = min(jit_rerun.get(mode, float("inf")), t_mode)
    row["rerun"] = ours_best
    assert jf.last.traces == 1, "the re-run traced again"
    ref = _flat(theirs)
    err = float(np.abs(_flat(ours) - ref).max() / max(1.0, np.abs(ref).max()))
    row["error"] = err
    best = min(jit_rerun, key=jit_rerun.get)
    row["jax_mode"] = best
    row["jit_first"] = jit_first[best]
    row["jit_rerun"] = jit_rerun[best]
    row["nojit"] = min(nojit.values())
    row["torch"] = _torch(case, host_new, k, [m for m in ("jacfwd", "jacrev") if m in jit_rerun])
    return row


def _torch(case: Case, args: tuple, k: int, modes: list[str]) -> float | None:
    try:
        import torch
        from torch.func import jacfwd, jacrev
    except ImportError:
        return None
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    f = case.make(TorchNS())
    device = "cuda" if BACKEND == "cupy" else "cpu"
    targs = tuple(torch.as_tensor(a, device=device) for a in args)
    times = []
    for name, transform in (("jacfwd", jacfwd), ("jacrev", jacrev)):
        if name not in modes:
            continue
        jf = transform(f, argnums=case.argnums)
        try:
            jf(*targs)
        except Exception:  # an op torch.func cannot transform: no figure
            continue
        times.append(_best(lambda jf=jf: jf(*targs), k))
    return min(times) if times else None


def _ms(t: float | None) -> str:
    return "—" if t is None else f"{t * 1e3:,.2f}"


def table(rows: list[dict]) -> str:
    lines = [
        "| function | chosen plan (mults; MFLOP) | chainorder first call ms "
        "| JAX jit compile+first ms | first-call ratio | chainorder re-run ms "
        "| JAX jit re-run ms (mode) | re-run ratio (target) | JAX no-jit ms | torch.func ms "
        "| max rel. error vs JAX |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    notes = []
    for r in rows:
        c = r["case"]
        notes += [f"{c.name}: JAX {s} not run." for s in r["skipped"]]
        mflop = 2 * r["mults"] / 1e6  # FLOPs = 2 per multiply-add (chainorder.units)
        target = 2.0 if mflop >= 10 else 5.0
        ratio = r["rerun"] / r["jit_rerun"]
        first = r["first"] / r["jit_first"]
        lines.append(
            f"| {c.name} ({c.what}) | {r['method']} ({r['mults']:,}; {mflop:,.1f}) "
            f"| {_ms(r['first'])} | {_ms(r['jit_first'])} "
            f"| {first:.2f}× {'✓' if first < 1 else '✗'} | {_ms(r['rerun'])} "
            f"| {_ms(r['jit_rerun'])} ({r['jax_mode']}) "
            f"| {ratio:.2f}× (≤ {target:g}×) {'✓' if ratio <= target else '✗'} "
            f"| {_ms(r['nojit'])} | {_ms(r['torch'])} | {r['error']:.1e} |"
        )
    return "\n".join(lines + (["", *notes] if notes else []))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    ap.add_argument("--out", type=Path, default=None, help="write the Markdown to this file")
    ap.add_argument("--repeat", type=int, default=7, help="best of K re-runs (7)")
    ap.add_argument("--only", default=None, help="run the functions whose name contains this")
    ap.add_argument("--all-cores", action="store_true",
                    help="do not pin the process to one core (it is pinned by default)")
    ap.add_argument("--backend", choices=("numpy", "cupy"), default="numpy",
                    help="cupy: chainorder on CuPy arrays, JAX and torch on the GPU")
    ns = ap.parse_args(argv)
    global BACKEND
    BACKEND = ns.backend
    rng = np.random.default_rng(0)
    rows = []
    for case in CASES:
        if ns.only and ns.only.lower() not in case.name.lower():
            continue
        rows.append(run_case(case, ns.repeat, rng))
        print(table(rows[-1:]).splitlines()[2], file=sys.stderr)
    if BACKEND == "cupy":
        body = _gpu_body(rows, ns.repeat)
        emit("engine-gpu", body, ns.out, ns.write)
        return 0
    from chainorder.graph.gemmadd import gemm_add_available

    gemm, env = gemm_note()
    fused = gemm_add_available()
    title = "## chainorder.jacobian() against JAX and torch.func (`bench_engine.py`)"
    body = (
        (title if fused else f"{title}, without the fused GEMM") + "\n\n"
        f"Command: `{env}python benchmarks/bench_engine.py --write`. "
        f"{machine_line()}; {gemm}; JAX x64 on CPU; every framework on one core: the process is "
        "pinned to one CPU (`os.sched_setaffinity`; `--all-cores` leaves it), OpenBLAS and "
        "torch single-threaded; XLA's CPU client otherwise used both cores (runs before "
        "this session's last one compared chainorder on one core with JAX on two). One "
        "run: "
        "figures are noisy (best of "
        f"{ns.repeat} interleaved re-runs). Ratios are chainorder / jitted JAX (the faster of "
        "jacfwd and jacrev); < 1 means chainorder is faster. Targets (issue 8): re-run within "
        "2× of jitted JAX where the Jacobian costs ≥ 10 MFLOP (the chosen plan's mults × 2), "
        "5× below; first call (trace + plan + compile + run) faster than JAX's jit compile + "
        f"first call. First calls: best of {FIRST_TRIES} fresh objects (a new "
        "`jacobian(f)`; a new `jax.jit` of a new closure, which compiles again), each "
        "after `gc.collect()`: without it, a first call that happened to set off the "
        "cyclic collector's full pass over everything earlier cases left (JAX, torch) paid "
        "≈ 150 ms for it (layer norm: 237 ms instead of 74 ms). "
        "torch.func: the faster of jacfwd/jacrev, best of k. No GPU on this "
        f"machine: CuPy not measured. Load average at the start: {os.getloadavg()[0]:.1f}."
        "\n\n" + table(rows) + ("\n\n" + ENGINE_NOTES if fused else "")
    )
    emit("engine" if fused else "engine-unfused", body, ns.out, ns.write)
    return 0


def _gpu_body(rows: list[dict], repeat: int) -> str:
    import cupy
    import jax

    name = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
    return (
        "## chainorder.jacobian() on a GPU: CuPy against JAX and torch.func on the same GPU "
        "(`bench_engine.py --backend cupy`)\n\n"
        f"{name}; CuPy {cupy.__version__}, JAX {jax.__version__} "
        f"({jax.devices()[0].platform}), x64; best of {repeat} interleaved re-runs, each "
        "ended by a device synchronisation. chainorder traces and plans on the host (first "
        "call) and replays on CuPy arrays; ratios as in the CPU table (chainorder / jitted "
        "JAX, the faster of jacfwd and jacrev; targets as there).\n\n" + table(rows)
    )


if __name__ == "__main__":
    raise SystemExit(main())

"""Run the frameworks suite: JAX and PyTorch Jacobians of the same models, timed in one run.

For every case (:mod:`chainorder.frameworks.models`), dtype (float32, float64) and device (CPU,
and CUDA where PyTorch sees one) the methods are ``torch.func.jacfwd``, ``torch.func.jacrev``,
``chainorder.torch`` (``method="auto"``), ``jax.jit(jax.jacfwd)``, ``jax.jit(jax.jacrev)`` and
``jax.jit(chainorder.jax.jacobian)`` (when :mod:`chainorder.jax` exists). Each method is called
once (warm-up, compilation, chainorder's planning and measuring) and its Jacobian compared with
``torch.func.jacrev``'s (normwise, :func:`chainorder.measure.tolerance`); only methods that
match are timed: ``repeat`` rounds, the methods back to back in every round (each
framework's three methods next to each other; frameworks and methods in a new, seeded random
order each round, so that no method always follows the same one), each a batch
of calls lasting at least :data:`BATCH_SECONDS` (its mean per call counts; a batch of several
calls starts after one untimed call of the same method). Every round's wall-clock and
process CPU time (every thread of this process; less sensitive than the wall clock to other
jobs on a shared machine) is kept on the row (``rounds``, ``cpu_rounds``), so that a ratio
can be taken within each round; ``seconds`` and ``cpu_seconds`` are the best rounds.

Peak memory, after timing, one more call each: PyTorch on CPU from the profiler's allocator
events (``torch.profiler``, ``profile_memory=True``: the highest ``Total Allocated`` above the
start), PyTorch on CUDA from ``torch.cuda.max_memory_allocated``; JAX from XLA's
``memory_analysis()`` of the compiled function (``temp + output`` bytes). The PyTorch figures
come from :func:`chainorder.torch.memory.torch_peak_bytes` (imported here).
"""

from __future__ import annotations

import contextlib
import math
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from chainorder.frameworks.devices import devices_wanted as _devices
from chainorder.frameworks.devices import full_float32_on_gpus, jax_device
from chainorder.frameworks.models import Model, case_names, make_model
from chainorder.torch.memory import torch_peak_bytes

__all__ = [
    "METHODS",
    "FrameworkResult",
    "bench_rows",
    "count_rows",
    "iter_results",
    "torch_peak_bytes",
]

#: The methods of every case, in the order they run.
METHODS: tuple[str, ...] = (
    "torch.func.jacrev",
    "torch.func.jacfwd",
    "chainorder.torch auto",
    "jax.jit(jax.jacrev)",
    "jax.jit(jax.jacfwd)",
    "jax.jit(chainorder.jax)",
)
_DTYPES = ("float32", "float64")


@dataclass
class FrameworkResult:
    """One method on one case, dtype and device. ``None`` where a figure does not apply."""

    case: str
    description: str
    dtype: str
    device: str
    method: str
    status: str
    seconds: float | None = None
    cpu_seconds: float | None = None
    peak_bytes: int | None = None
    memory_source: str = ""
    rel_diff: float | None = None
    predicted_mults: int | None = None
    predicted_flops: int | None = None
    predicted_peak_bytes: int | None = None
    expression: str = ""
    mode: str = ""
    pure_call: str = ""  # the framework function a pure plan runs as (auto rows), else ""
    program: str = ""  # otherwise what runs the plan (chainorder.torch: "direct", ...)
    rounds: list[float] = field(default_factory=list)  # wall seconds per call, per round
    cpu_rounds: list[float] = field(default_factory=list)  # CPU seconds per call, per round


def count_rows(cases: tuple[str, ...] | None = None) -> int:
    """Rows :func:`iter_results` yields (for a progress bar).

    Examples
    --------
    >>> count_rows(("cnn",)) % len(METHODS)
    0

    Notes
    -----
    O(1) (cases × dtypes × devices × methods, multiplied).
    """
    _require_torch()
    return len(cases or case_names()) * len(_DTYPES) * len(_devices()) * len(METHODS)


def _require_torch() -> None:
    import importlib.util

    from chainorder.errors import SpecError

    if importlib.util.find_spec("torch") is None:
        raise SpecError(
            "the frameworks suite needs PyTorch (and JAX for its rows): "
            "pip install 'jacobian-chainorder[bench]'"
        )


def _jax_peak(jitted: Any, x: Any) -> int | None:
    try:
        stats = jitted.lower(x).compile().memory_analysis()
    except Exception:  # memory_analysis is backend dependent
        return None
    if stats is None:
        return None
    return int(stats.temp_size_in_bytes + stats.output_size_in_bytes)


def _methods(model: Model, dtype: str, device: str, jax_ok: bool) -> dict[str, Any]:
    """Method name → (call, kind) where call() returns the Jacobian as a NumPy array."""
    import numpy as np
    import torch

    import chainorder.torch as ct

    tdt = getattr(torch, dtype)
    net = model.torch_module(tdt, device)
    xt = torch.from_numpy(model.input()).to(device=device, dtype=tdt)
    auto = ct.jacobian(net)
    calls: dict[str, Any] = {
        "torch.func.jacrev": (lambda: torch.func.jacrev(net)(xt), "torch"),
        "torch.func.jacfwd": (lambda: torch.func.jacfwd(net)(xt), "torch"),
        "chainorder.torch auto": (lambda: auto(xt), "torch"),
    }
    calls["_auto"] = auto
    calls["_input"] = xt
    jdev = jax_device(device) if jax_ok else None
    if jdev is not None:
        import jax

        f = model.jax_function(dtype)  # jit runs where its (committed) input lives
        xj = jax.device_put(jax.numpy.asarray(model.input(), dtype=dtype), jdev)
        calls["jax.jit(jax.jacrev)"] = (jax.jit(jax.jacrev(f)), "jax", xj)
        calls["jax.jit(jax.jacfwd)"] = (jax.jit(jax.jacfwd(f)), "jax", xj)
        try:
            import chainorder.jax as cj

            jac = cj.jacobian(f)
            calls["jax.jit(chainorder.jax)"] = (jax.jit(jac), "jax", xj)
            calls["_jax_auto"] = (jac, xj)
        except ImportError:
            pass
    del np
    return calls


def _run(entry: Any) -> Any:
    if entry[1] == "jax":
        return entry[0](entry[2]).block_until_ready()
    import torch

    with torch.no_grad():
        out = entry[0]()
    if out.is_cuda:
        torch.cuda.synchronize()
    return out


#: A timed batch lasts at least this long (seconds): a call of a few ms is repeated within the
#: batch, so one scheduler tick or one spin of XLA's idle threads does not decide its time.
BATCH_SECONDS = 0.05


def _batch_size(entry: Any) -> int:
    """Calls per timed batch: enough for :data:`BATCH_SECONDS`, from one untimed warm call."""
    start = time.perf_counter()
    _run(entry)
    return max(1, min(100, math.ceil(BATCH_SECONDS / max(time.perf_counter() - start, 1e-6))))


def _host(a: Any) -> Any:
    import numpy as np

    return a.detach().cpu().numpy() if hasattr(a, "detach") else np.asarray(a)


def iter_results(
    cases: tuple[str, ...] | None = None,
    *,
    repeat: int = 3,
    seed: int = 0,
    full: bool = False,
    dtypes: tuple[str, ...] = _DTYPES,
    devices: tuple[str, ...] | None = None,
) -> Iterator[FrameworkResult]:
    """Run the suite; yield one :class:`FrameworkResult` per case, dtype, device and method.

    Parameters
    ----------
    cases : tuple of str, optional
        A subset of :func:`~chainorder.frameworks.models.case_names`.
    repeat : int
        Timed rounds (methods interleaved), best kept.
    seed : int
        Parameters and inputs.
    full : bool
        The transformer at 64 tokens (the issue's size; minutes per method on two cores)
        instead of 16.
    dtypes : tuple of str
        Subset of ``("float32", "float64")``.
    devices : tuple of str, optional
        Subset of ``("cpu", "cuda")`` (default: the CPU and, where torch sees one, the GPU;
        JAX runs on the GPU where it has a GPU backend).

    Yields
    ------
    FrameworkResult

    Examples
    --------
    Every case is a full-size model (the issue's sizes, six methods each), so the run is
    skipped in doctests; rows come in :data:`METHODS` order for each dtype and device:

    >>> rows = list(iter_results(("cnn",), repeat=1, dtypes=("float64",)))  # doctest: +SKIP
    >>> [r.method for r in rows[: len(METHODS)]] == list(METHODS)  # doctest: +SKIP
    True

    Notes
    -----
    Time: (repeat + 2) runs of every method per case, dtype and device.
    """
    from chainorder.measure import max_relative_difference, tolerance

    try:
        import jax

        jax_ok = True
    except ImportError:
        jax_ok = False
    if "cuda" in _devices(devices):
        full_float32_on_gpus(jax_ok)
    for name in cases or case_names():
        model = make_model(name, seed, tokens=64 if full else 16)
        for dtype in dtypes:
            x64 = jax.enable_x64(dtype == "float64") if jax_ok else contextlib.nullcontext()
            with x64:
                for device in _devices(devices):
                    yield from _case(model, dtype, device, jax_ok, repeat, tolerance(dtype),
                                     max_relative_difference)  # fmt: skip


def _case(model, dtype, device, jax_ok, repeat, tol, reldiff) -> Iterator[FrameworkResult]:
    calls = _methods(model, dtype, device, jax_ok)
    auto, xt = calls.pop("_auto"), calls.pop("_input")
    jax_auto = calls.pop("_jax_auto", None)
    planned = auto.plan_for(xt)
    predicted = {
        "torch.func.jacrev": planned.baselines["jacrev"],
        "torch.func.jacfwd": planned.baselines["jacfwd"],
        "jax.jit(jax.jacrev)": planned.baselines["jacrev"],
        "jax.jit(jax.jacfwd)": planned.baselines["jacfwd"],
    }
    results: dict[str, FrameworkResult] = {}
    reference = None
    for method in METHODS:
        r = FrameworkResult(model.name, model.description, dtype, device, method, "ok")
        results[method] = r
        if method not in calls:
            r.status = "not installed" if device == "cpu" else "no JAX GPU backend"
            continue
        try:
            J = _host(_run(calls[method]))
        except Exception as exc:  # a framework error is a row, not a crash of the suite
            r.status = f"error: {type(exc).__name__}"
            calls.pop(method)
            continue
        if reference is None:
            reference = J
        r.rel_diff = reldiff(J.reshape(reference.shape), reference)
        if not r.rel_diff <= tol:
            r.status = "mismatch"
            calls.pop(method)
        del J
    batch = {method: _batch_size(entry) for method, entry in calls.items()}
    for i in range(repeat):  # interleaved rounds: every method once per round, back to back
        for method, entry in _round_order(calls, i):
            k = batch[method]
            if k > 1:  # a short call: one untimed call first, so the batch starts warm
                _run(entry)
            start, cpu = time.perf_counter(), time.process_time()
            for _ in range(k):
                _run(entry)
            r = results[method]
            r.rounds.append((time.perf_counter() - start) / k)
            r.cpu_rounds.append((time.process_time() - cpu) / k)
    for method in calls:  # the best round of each (the per-round figures stay on the row)
        r = results[method]
        r.seconds, r.cpu_seconds = min(r.rounds), min(r.cpu_rounds)
    for method, entry in calls.items():
        r = results[method]
        if entry[1] == "jax":
            r.peak_bytes, r.memory_source = _jax_peak(entry[0], entry[2]), "XLA memory_analysis"
        else:
            r.peak_bytes, r.memory_source = torch_peak_bytes(lambda e=entry: _run(e), device)
    for method, r in results.items():
        if method in predicted:
            c = predicted[method]
        elif method == "chainorder.torch auto":
            c = next(c for c in planned.baselines.values() if c.name == planned.chosen)
            r.expression, r.mode = c.plan.expression(), c.plan.mode
            if c.program.startswith("torch.func.jac"):  # the framework's own function
                r.pure_call = c.program
            else:  # the program that runs the plan (chainorder.torch.jacobian.program_of)
                r.program = c.program
        elif method == "jax.jit(chainorder.jax)" and jax_auto is not None:
            prep = jax_auto[0].prepared(jax_auto[1])  # cached by the warm-up call's trace
            c = prep.plan
            r.expression, r.mode = c.plan.expression(), c.plan.mode
            r.pure_call = _pure_call(c.plan, "jax")
        else:
            c = None
        if c is not None:
            r.predicted_mults, r.predicted_flops = c.mults, c.plan.flops
            r.predicted_peak_bytes = c.peak_bytes
            r.mode = r.mode or c.plan.mode
        yield r


def _round_order(calls: dict[str, Any], i: int) -> list[tuple[str, Any]]:
    """Round ``i``'s order: each framework's methods (its chainorder method and the two pure
    modes it is compared with) back to back, so that a ratio is taken between timings made
    within a fraction of a second of each other; the frameworks, and the methods within each,
    in a new seeded order every round (a method that runs right after a large one finds its
    caches and allocator cold, so no method may always follow the same one; a rotation
    would keep every method's predecessor)."""
    rng = random.Random(i)
    groups: dict[str, list[tuple[str, Any]]] = {}
    for method, entry in calls.items():
        groups.setdefault(entry[1], []).append((method, entry))
    order = list(groups.values())
    rng.shuffle(order)
    for group in order:
        rng.shuffle(group)
    return [item for group in order for item in group]


def _pure_call(plan: Any, prefix: str) -> str:
    """``prefix.jacfwd``/``prefix.jacrev`` when ``plan`` is one sweep from the identity over
    the whole chain (then both chainorder front ends run the framework's own function)."""
    if plan.pure_sweep is None:
        return ""
    return f"{prefix}.{'jacfwd' if plan.pure_sweep == 'tangent' else 'jacrev'}"


def bench_rows(repeat: int = 3, seed: int = 0, full: bool = False) -> Iterator[Any]:
    """The suite as :class:`chainorder.bench_rows.BenchRow` s (``chainorder bench``).

    The ``setting`` column holds ``dtype device``; GFLOP/s is the model's FLOPs over the time.

    Raises
    ------
    SpecError
        PyTorch is not installed.

    Examples
    --------
    Runs the whole suite (full-size models, skipped in doctests):

    >>> rows = list(bench_rows(repeat=1))  # doctest: +SKIP
    >>> len(rows) == count_rows(), {r.suite for r in rows}  # doctest: +SKIP
    (True, {'frameworks'})

    Notes
    -----
    As :func:`iter_results`.
    """
    from chainorder.bench_rows import BenchRow

    _require_torch()
    for r in iter_results(repeat=repeat, seed=seed, full=full):
        rate = r.predicted_flops / r.seconds / 1e9 if r.predicted_flops and r.seconds else None
        yield BenchRow(
            "frameworks", r.case, r.description, f"{r.dtype} {r.device}", r.method,
            r.expression, r.mode, r.predicted_mults, r.predicted_flops, r.predicted_peak_bytes,
            r.peak_bytes, r.seconds, rate, r.rel_diff, r.status,
        )  # fmt: skip

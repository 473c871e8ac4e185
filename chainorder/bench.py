"""Named benchmark suites: run plans and baselines on the same data, one row per method.

Suites (:data:`SUITES`)
    ``mlp``        784,512,tanh,512,tanh,10 in both settings; in the streamed setting also
                   JAX ``jacfwd``/``jacrev`` and PyTorch ``torch.func.jacfwd``/``jacrev`` on
                   the same network at the same input (when installed).
    ``hourglass``  4096,64,4096,64,4096 in both settings.
    ``widening``   32,128,512,1024,2048;  ``narrowing``: 2048,1024,512,128,32.
    ``random``     5 seeded random dense chains, L = 6, widths 64–1024, every bracketing.
    ``smoke``      tiny chains for tests (seconds).
    ``all``        every suite but ``smoke``.

Every dense chain in the given setting is also multiplied by ``numpy.linalg.multi_dot``
and by chainorder in multi_dot's own order. A baseline's time is reported only after its
Jacobian matched chainorder's forward-mode Jacobian within :func:`chainorder.measure.tolerance`;
otherwise its row says ``mismatch``. Baselines that are not installed give a row saying
``not installed``.

Rows come out one at a time from :func:`iter_suite` (for progress bars);
:func:`run_suite` collects them into a :class:`BenchResult`. Rendering lives in
:mod:`chainorder.report.bench_tables`.
"""

from __future__ import annotations

import contextlib
import os
import platform
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from chainorder.chain import Chain, Structure, as_chain
from chainorder.dtypes import as_dtype
from chainorder.errors import SpecError
from chainorder.execute import compile_plan
from chainorder.measure import max_relative_difference, time_call, tolerance
from chainorder.memory import Setting
from chainorder.nets import MLP
from chainorder.plan import Plan
from chainorder.solvers.multi_dot import multi_dot_tree
from chainorder.tree import all_trees
from chainorder.validate import (
    blas_info,
    candidate_plans,
    random_jacobians,
    run_plan,
)

__all__ = [
    "SUITES",
    "BenchCase",
    "BenchResult",
    "BenchRow",
    "count_rows",
    "iter_suite",
    "random_dense_specs",
    "run_suite",
    "suite_cases",
    "suite_names",
]


@dataclass(frozen=True, slots=True)
class BenchCase:
    """One chain in one setting: which plans to run and which baselines to compare."""

    name: str
    spec: str
    setting: Setting
    all_trees: bool = False
    frameworks: bool = False  # JAX / PyTorch jacfwd & jacrev (streamed MLPs)


def random_dense_specs(
    count: int = 5, n_links: int = 6, low: int = 64, high: int = 1024, seed: int = 0
) -> list[str]:
    """Seeded random dense chain specs (widths uniform in ``low..high``).

    Examples
    --------
    >>> random_dense_specs(2, 3, 10, 20, seed=1)
    ['15,15,18,20', '10,11,19,20']

    Notes
    -----
    O(count · L).
    """
    rng = np.random.default_rng(seed)
    return [
        ",".join(str(int(w)) for w in rng.integers(low, high + 1, n_links + 1))
        for _ in range(count)
    ]


_MLP = "784,512,tanh,512,tanh,10"
_HOURGLASS = "4096,64,4096,64,4096"
_WIDENING = "32,128,512,1024,2048"
_NARROWING = "2048,1024,512,128,32"
_G, _S = Setting.GIVEN, Setting.STREAMED

#: Suite name → its cases (``all`` is assembled in :func:`suite_cases`).
SUITES: dict[str, tuple[BenchCase, ...]] = {
    "mlp": (BenchCase("mlp", _MLP, _G), BenchCase("mlp", _MLP, _S, frameworks=True)),
    "hourglass": (BenchCase("hourglass", _HOURGLASS, _G), BenchCase("hourglass", _HOURGLASS, _S)),
    "widening": (BenchCase("widening", _WIDENING, _G), BenchCase("widening", _WIDENING, _S)),
    "narrowing": (BenchCase("narrowing", _NARROWING, _G), BenchCase("narrowing", _NARROWING, _S)),
    "random": tuple(
        BenchCase(f"random-{i}", spec, _G, all_trees=True)
        for i, spec in enumerate(random_dense_specs(5, 6, 64, 1024, seed=2024), start=1)
    ),
    "smoke": (
        BenchCase("smoke-mlp", "12,16,tanh,8,sigmoid,4", _S, frameworks=True),
        BenchCase("smoke-mlp", "12,16,tanh,8,sigmoid,4", _G),
        BenchCase("smoke-dense", "8,16,4,12", _G, all_trees=True),
    ),
}


def suite_names() -> tuple[str, ...]:
    """Names accepted by :func:`run_suite` (``all`` included).

    Examples
    --------
    >>> suite_names()
    ('all', 'hourglass', 'mlp', 'narrowing', 'random', 'smoke', 'widening')
    """
    return tuple(sorted([*SUITES, "all"]))


def suite_cases(name: str) -> tuple[BenchCase, ...]:
    """The cases of suite ``name``; :class:`SpecError` lists the valid names.

    Examples
    --------
    >>> [c.setting.value for c in suite_cases("mlp")]
    ['given', 'streamed']
    """
    if name == "all":
        keys = ("mlp", "hourglass", "widening", "narrowing", "random")
        return tuple(c for key in keys for c in SUITES[key])
    if name not in SUITES:
        raise SpecError(f"unknown suite {name!r}; expected one of: {', '.join(suite_names())}")
    return SUITES[name]


@dataclass(frozen=True, slots=True)
class BenchRow:
    """One measured method on one case. ``None`` where a figure does not apply.

    Units: mults (scalar multiplications), FLOPs (2 per multiply-add), bytes of the dtype,
    seconds (best of repeat), GFLOP/s (predicted FLOPs / best time).
    """

    suite: str
    case: str
    chain: str
    setting: str
    method: str
    expression: str
    mode: str
    predicted_mults: int | None
    predicted_flops: int | None
    predicted_peak_bytes: int | None
    measured_peak_bytes: int | None
    time_s: float | None
    gflop_per_s: float | None
    rel_diff: float | None
    status: str

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for JSON/CSV)."""
        return asdict(self)


@dataclass(frozen=True)
class BenchResult:
    """All rows of one suite run and the conditions they were measured under."""

    suite: str
    rows: tuple[BenchRow, ...]
    repeat: int
    seed: int
    dtype: str
    environment: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with units."""
        return {
            "suite": self.suite,
            "repeat": self.repeat,
            "seed": self.seed,
            "dtype": self.dtype,
            "environment": dict(self.environment),
            "units": {
                "predicted_mults": "scalar multiplications",
                "predicted_flops": "floating-point operations, 2 per multiply-add",
                "bytes": f"{self.dtype} bytes",
                "time_s": f"seconds, best of {self.repeat} after one warm-up run",
                "gflop_per_s": "predicted FLOPs / best time / 1e9",
                "rel_diff": "normwise max|J - J_forward| / max|J_forward|",
            },
            "rows": [r.to_dict() for r in self.rows],
        }


def environment(blas_threads: int | None = None) -> dict[str, str]:
    """Machine, library versions and the BLAS kernel, for the record.

    Examples
    --------
    >>> "numpy" in environment()
    True
    """
    env = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "blas": blas_info(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
        "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE", "(unset)"),
    }
    if blas_threads is not None:
        env["blas_threads_limit"] = str(blas_threads)
    return env


def count_rows(name: str) -> int:
    """Number of rows :func:`iter_suite` yields for ``name`` (for a progress bar).

    Examples
    --------
    >>> count_rows("mlp")
    10
    """
    total = 0
    for case in suite_cases(name):
        chain = as_chain(case.spec)
        if case.all_trees:
            total += len(all_trees(chain.n_links))
        else:
            total += 3
        if case.setting is Setting.GIVEN and chain.is_dense and chain.n_links >= 2:
            total += 2
        if case.frameworks:
            total += 4
    return total


def _limit_threads(n: int | None) -> contextlib.AbstractContextManager[Any]:
    if n is None:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        raise SpecError("--threads needs threadpoolctl: pip install threadpoolctl") from None
    return threadpool_limits(limits=n, user_api="blas")


def iter_suite(
    name: str,
    *,
    repeat: int = 3,
    seed: int = 0,
    dtype: object = "float64",
    measure_memory: bool = True,
    frameworks: bool = True,
) -> Iterator[BenchRow]:
    """Run suite ``name`` and yield one :class:`BenchRow` per method as it finishes.

    Parameters
    ----------
    name : str
        One of :func:`suite_names`.
    repeat : int
        Timed runs per method (best reported), after one warm-up run.
    seed : int
        Seeds Jacobians, networks and inputs.
    dtype : str
        Element type (float64 by default).
    measure_memory : bool
        Also measure each chainorder plan's peak memory (one extra traced run).
    frameworks : bool
        Try the JAX / PyTorch baselines where the suite asks for them.

    Yields
    ------
    BenchRow

    Examples
    --------
    >>> rows = list(iter_suite("smoke", repeat=1, frameworks=False))
    >>> rows[0].method, rows[0].status
    ('chainorder forward', 'ok')

    Notes
    -----
    Each case's data is created once and shared by every method of that case.
    """
    dt = as_dtype(dtype)
    tol = tolerance(dt)
    for case in suite_cases(name):
        chain = as_chain(case.spec)
        if case.setting is Setting.GIVEN:
            data: Any = random_jacobians(chain, seed, dt)
            net = x = None
        else:
            net = MLP(chain, seed=seed, dtype=dt)
            x = net.random_input(seed + 1)
            data = (net, x)
        reference: Any = None
        for label, p in candidate_plans(chain, dt, case.all_trees):
            timing, peak, result = run_plan(
                p, case.setting, data, repeat=repeat, measure_memory=measure_memory
            )
            if reference is None:
                reference = result
            diff = max_relative_difference(result, reference)
            del result
            yield BenchRow(
                name,
                case.name,
                chain.spec(),
                case.setting.value,
                f"chainorder {label}",
                p.expression(),
                p.mode.value,
                p.mults,
                p.flops,
                p.peak_bytes(case.setting),
                peak if peak >= 0 else None,
                timing.best,
                p.flops / timing.best / 1e9,
                diff,
                "ok" if diff <= tol else "mismatch",
            )
        if case.setting is Setting.GIVEN and chain.is_dense and chain.n_links >= 2:
            yield from _multi_dot_rows(name, case, chain, dt, data, reference, repeat, tol)
        if case.frameworks:
            for framework in ("jax", "torch"):
                for fn_mode in ("jacfwd", "jacrev"):
                    yield _framework_row(
                        name,
                        case,
                        chain,
                        framework,
                        fn_mode,
                        net,
                        x,
                        reference,
                        repeat,
                        tol,
                        enabled=frameworks,
                    )
        del data, reference


def _multi_dot_rows(
    suite: str,
    case: BenchCase,
    chain: Chain,
    dt: np.dtype,
    jacobians: list[Any],
    reference: Any,
    repeat: int,
    tol: float,
) -> Iterator[BenchRow]:
    tree = multi_dot_tree(chain.dims)
    p = Plan.from_tree(chain, tree, "multi_dot order", dt)
    f = compile_plan(p)
    timing = time_call(lambda: f(jacobians), repeat=repeat)
    result = f(jacobians)
    diff = max_relative_difference(result, reference)
    del result
    yield BenchRow(
        suite,
        case.name,
        chain.spec(),
        case.setting.value,
        "chainorder in multi_dot's order",
        p.expression(),
        p.mode.value,
        p.mults,
        p.flops,
        p.peak_bytes(Setting.GIVEN),
        None,
        timing.best,
        p.flops / timing.best / 1e9,
        diff,
        "ok" if diff <= tol else "mismatch",
    )
    arrays = jacobians[::-1]
    timing = time_call(lambda: np.linalg.multi_dot(arrays), repeat=repeat)
    result = np.linalg.multi_dot(arrays)
    diff = max_relative_difference(result, reference)
    del result
    ok = diff <= tol
    yield BenchRow(
        suite,
        case.name,
        chain.spec(),
        case.setting.value,
        "numpy.linalg.multi_dot",
        p.expression(),
        p.mode.value,
        p.mults,
        p.flops,
        None,
        None,
        timing.best if ok else None,
        p.flops / timing.best / 1e9 if ok else None,
        diff,
        "ok" if ok else "mismatch: time not reported",
    )


def _framework_row(
    suite: str,
    case: BenchCase,
    chain: Chain,
    framework: str,
    fn_mode: str,
    net: MLP | None,
    x: Any,
    reference: Any,
    repeat: int,
    tol: float,
    *,
    enabled: bool,
) -> BenchRow:
    method = f"{framework} {'torch.func.' if framework == 'torch' else 'jax.'}{fn_mode}"

    def row(time_s: float | None, diff: float | None, status: str) -> BenchRow:
        return BenchRow(
            suite,
            case.name,
            chain.spec(),
            case.setting.value,
            method,
            "",
            fn_mode[3:],
            None,
            None,
            None,
            None,
            time_s,
            None,
            diff,
            status,
        )

    if not enabled:
        return row(None, None, "skipped (--no-frameworks)")
    assert net is not None
    try:
        call = _JAX(net, x, fn_mode) if framework == "jax" else _TORCH(net, x, fn_mode)
    except ImportError:
        return row(None, None, "not installed")
    except _Unsupported as exc:
        return row(None, None, f"n/a: {exc}")
    result = call()
    diff = max_relative_difference(np.asarray(result), reference)
    if not diff <= tol:
        return row(None, diff, "mismatch: time not reported")
    timing = time_call(call, repeat=repeat)
    return row(timing.best, diff, "ok")


class _Unsupported(Exception):
    pass


def _layers(net: MLP) -> list[tuple[str, Any, Any]]:
    out = []
    for link in net.chain.links:
        l = link.index
        if link.structure is Structure.DENSE:
            out.append(("dense", np.asarray(net.weights[l]), np.asarray(net.biases[l])))
        elif l in net.scales:
            out.append(("scale", np.asarray(net.scales[l]), None))
        else:
            out.append((link.name.lower(), None, None))
    return out


def _network_function(
    net: MLP, to_array: Callable[[Any], Any], acts: dict[str, Any], framework: str
) -> Callable[[Any], Any]:
    """The MLP's forward function written with a framework's arrays and activations."""
    layers = []
    for kind, a, b in _layers(net):
        if kind == "dense":
            layers.append((kind, to_array(a), to_array(b)))
        elif kind == "scale":
            layers.append((kind, to_array(a), None))
        elif kind in acts:
            layers.append((kind, acts[kind], None))
        else:
            raise _Unsupported(f"no {framework} activation for {kind!r}")

    def f(v: Any) -> Any:
        for kind, a, b in layers:
            v = a @ v + b if kind == "dense" else (a * v if kind == "scale" else a(v))
        return v

    return f


def _JAX(net: MLP, x: Any, fn_mode: str) -> Callable[[], Any]:
    import jax  # optional: the "bench" extra

    if net.dtype == np.float64:
        jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    acts = {
        "tanh": jnp.tanh,
        "relu": jax.nn.relu,
        "sigmoid": jax.nn.sigmoid,
        "softplus": jax.nn.softplus,
        "gelu": lambda v: jax.nn.gelu(v, approximate=True),
        "sin": jnp.sin,
        "cos": jnp.cos,
        "exp": jnp.exp,
        "square": jnp.square,
        "identity": lambda v: v,
    }
    f = _network_function(net, jnp.asarray, acts, "JAX")
    jac = jax.jit(jax.jacfwd(f) if fn_mode == "jacfwd" else jax.jacrev(f))
    xj = jnp.asarray(np.asarray(x))

    def call() -> Any:
        return np.asarray(jac(xj).block_until_ready())

    return call


def _TORCH(net: MLP, x: Any, fn_mode: str) -> Callable[[], Any]:
    import torch  # optional: the "bench" extra
    import torch.func

    acts = {
        "tanh": torch.tanh,
        "relu": torch.relu,
        "sigmoid": torch.sigmoid,
        "softplus": torch.nn.functional.softplus,
        "gelu": lambda v: torch.nn.functional.gelu(v, approximate="tanh"),
        "sin": torch.sin,
        "cos": torch.cos,
        "exp": torch.exp,
        "square": torch.square,
        "identity": lambda v: v,
    }
    f = _network_function(net, torch.from_numpy, acts, "PyTorch")
    jac = torch.func.jacfwd(f) if fn_mode == "jacfwd" else torch.func.jacrev(f)
    xt = torch.from_numpy(np.asarray(x).copy())

    def call() -> Any:
        with torch.no_grad():
            return jac(xt).numpy()

    return call


def run_suite(
    name: str,
    *,
    repeat: int = 3,
    seed: int = 0,
    dtype: object = "float64",
    measure_memory: bool = True,
    frameworks: bool = True,
    blas_threads: int | None = None,
    on_row: Callable[[BenchRow], None] | None = None,
) -> BenchResult:
    """Run suite ``name`` and collect its rows (see :func:`iter_suite` for the parameters).

    ``blas_threads`` limits NumPy's BLAS threads (needs threadpoolctl); ``on_row`` is called
    after every row (progress bars).

    Examples
    --------
    >>> r = run_suite("smoke", repeat=1, frameworks=False)
    >>> sorted({row.case for row in r.rows})
    ['smoke-dense', 'smoke-mlp']

    Notes
    -----
    Time: the suite's arithmetic × (repeat + 2) runs per method.
    """
    if repeat < 1:
        raise SpecError(f"repeat must be at least 1, got {repeat}")
    cases = suite_cases(name)  # validates the name before anything runs
    del cases
    rows = []
    with _limit_threads(blas_threads):
        env = environment(blas_threads)
        for row in iter_suite(
            name,
            repeat=repeat,
            seed=seed,
            dtype=dtype,
            measure_memory=measure_memory,
            frameworks=frameworks,
        ):
            rows.append(row)
            if on_row is not None:
                on_row(row)
    return BenchResult(name, tuple(rows), repeat, seed, as_dtype(dtype).name, env)

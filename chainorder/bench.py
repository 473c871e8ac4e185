"""Named benchmark suites: run plans and baselines on the same data, one row per method.

Suites (:data:`SUITES`)
    ``mlp``        784,512,tanh,512,tanh,10 in both settings; in the streamed setting also
                   JAX ``jacfwd``/``jacrev`` and PyTorch ``torch.func.jacfwd``/``jacrev`` on
                   the same network at the same input (when installed).
    ``hourglass``  4096,64,4096,64,4096 in both settings.
    ``widening``   32,128,512,1024,2048;  ``narrowing``: 2048,1024,512,128,32.
    ``random``     5 seeded random dense chains, L = 6, widths 64–1024, every bracketing.
    ``matfree``    matrix-free chains on real layers (issue 10): the small CNN, the MLP and the
                   hourglass; optimum, pure tangent (jacfwd), pure adjoint (jacrev) and the
                   given-matrix plan (:mod:`chainorder.matfree.bench_suite`).
    ``smoke``      tiny chains for tests (seconds), a small matrix-free CNN included.
    ``frameworks`` JAX and PyTorch Jacobians of real models, ``chainorder.torch`` and
                   ``chainorder.jax`` next to jacfwd/jacrev (:mod:`chainorder.frameworks.suite`;
                   needs the bench extra; not part of ``all``).
    ``all``        every suite but ``smoke``.

Every dense chain in the given setting is also multiplied by ``numpy.linalg.multi_dot``
and by chainorder in multi_dot's own order (:mod:`chainorder.baselines`). A baseline's time
is reported only after its Jacobian matched chainorder's forward-mode Jacobian within
:func:`chainorder.measure.tolerance`; otherwise its row says ``mismatch``. Baselines that are
not installed give a row saying ``not installed``.

Each case is one :class:`chainorder.runner.ValidationRun` (the runner of ``validate``): its
:class:`~chainorder.runner.PlanMeasurement` s become rows here, nothing is measured twice.
Every case plans and checks its memory (``max_memory``) before the first array of the suite
is created. Rows come out one at a time from :func:`iter_suite` (for progress bars);
:func:`run_suite` collects them into a :class:`BenchResult`. Rendering lives in
:mod:`chainorder.report.bench_tables`.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from chainorder.baselines import (
    FRAMEWORK_METHODS,
    Baseline,
    framework_baselines,
    multi_dot_baselines,
)
from chainorder.bench_rows import BenchResult, BenchRow
from chainorder.chain import as_chain
from chainorder.dtypes import as_dtype
from chainorder.errors import SpecError
from chainorder.matfree import bench_suite as mf
from chainorder.measure import environment, tolerance
from chainorder.memory import Setting
from chainorder.memory_guard import resolve_limit
from chainorder.nets import as_seed
from chainorder.runner import ValidationRun, check_count
from chainorder.tree import all_trees

__all__ = [
    "SUITES",
    "BenchCase",
    "BenchResult",
    "BenchRow",
    "count_rows",
    "environment",
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
    matrix_free: bool = False  # matrix-free plans on real layers (chainorder.matfree)


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
    "matfree": tuple(
        BenchCase(name, spec, setting, matrix_free=True)
        for name, spec in (("cnn", mf.CNN), ("mlp", mf.MLP), ("hourglass", mf.HOURGLASS))
        for setting in (_G, _S)
    ),
    "smoke": (
        BenchCase("smoke-mlp", "12,16,tanh,8,sigmoid,4", _S, frameworks=True),
        BenchCase("smoke-mlp", "12,16,tanh,8,sigmoid,4", _G),
        BenchCase("smoke-dense", "8,16,4,12", _G, all_trees=True),
        BenchCase(
            "smoke-cnn", "1x8x8,conv2d(2,k=3),relu,conv2d(3,k=3,stride=2),4", _G, matrix_free=True
        ),
    ),
}


def suite_names() -> tuple[str, ...]:
    """Names accepted by :func:`run_suite` (``all`` included).

    Examples
    --------
    >>> suite_names()  # doctest: +NORMALIZE_WHITESPACE
    ('all', 'frameworks', 'hourglass', 'matfree', 'mlp', 'narrowing', 'random', 'smoke',
     'widening')
    """
    return tuple(sorted([*SUITES, "all", "frameworks"]))


def suite_cases(name: str) -> tuple[BenchCase, ...]:
    """The cases of suite ``name``; :class:`SpecError` lists the valid names.

    Examples
    --------
    >>> [c.setting.value for c in suite_cases("mlp")]
    ['given', 'streamed']
    """
    if name == "all":
        keys = ("mlp", "hourglass", "widening", "narrowing", "random", "matfree")
        return tuple(c for key in keys for c in SUITES[key])
    if name == "frameworks":  # models, not chains: chainorder.frameworks.suite
        return ()
    if name not in SUITES:
        raise SpecError(f"unknown suite {name!r}; expected one of: {', '.join(suite_names())}")
    return SUITES[name]


def count_rows(name: str) -> int:
    """Number of rows :func:`iter_suite` yields for ``name`` (for a progress bar).

    Examples
    --------
    >>> count_rows("mlp")
    10
    """
    if name == "frameworks":
        from chainorder.frameworks.suite import count_rows as framework_rows

        return framework_rows()
    total = 0
    for case in suite_cases(name):
        if case.matrix_free:
            total += mf.MATFREE_ROWS
            continue
        chain = as_chain(case.spec)
        if case.all_trees:
            total += len(all_trees(chain.n_links))
        else:
            total += 3
        if case.setting is Setting.GIVEN and chain.is_dense and chain.n_links >= 2:
            total += 2
        if case.frameworks:
            total += len(FRAMEWORK_METHODS)
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
    max_memory: int | str | None = None,
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
    max_memory : int or str, optional
        Limit for the bytes any case will allocate (``"2GiB"``); every case is checked
        before the first array is created (default: a fraction of the available memory).

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
    Each case's data is created once and shared by every method of that case, and released
    before the next case.

    Raises
    ------
    SpecError
        Unknown suite, repeat outside 1..MAX_REPEAT, negative seed.
    MemoryLimitError
        A case would not fit the memory limit (raised before anything is allocated).
    """
    if name == "frameworks":
        from chainorder.frameworks.suite import bench_rows

        yield from bench_rows(repeat=repeat, seed=seed)
        return
    dt = as_dtype(dtype)
    tol = tolerance(dt)
    cases = suite_cases(name)
    # every case plans and checks its memory before the suite creates its first array
    runs = [
        None
        if case.matrix_free
        else ValidationRun(
            case.spec,
            setting=case.setting,
            dtype=dt,
            repeat=repeat,
            seed=seed,
            all_trees=case.all_trees,
            measure_memory=measure_memory,
            max_memory=max_memory,
        )
        for case in cases
    ]
    for case in cases:
        if case.matrix_free:
            mf.check_case(case.spec, case.setting, dt.name, max_memory)
    for case, run in zip(cases, runs, strict=True):
        if run is None:  # matrix-free: chainorder.matfree.bench_suite
            yield from mf.matfree_rows(
                BenchRow, name, case.name, case.spec, case.setting, repeat=repeat, seed=seed,
                dtype=dt.name, measure_memory=measure_memory, max_memory=max_memory,
            )  # fmt: skip
            continue
        for m in run.measurements():
            yield BenchRow.of_plan(name, case.name, m, tol)
        baselines: list[Iterator[Baseline]] = []
        if case.setting is Setting.GIVEN and run.chain.is_dense and run.chain.n_links >= 2:
            baselines.append(multi_dot_baselines(run, tol))
        if case.frameworks:
            baselines.append(framework_baselines(run, tol, enabled=frameworks))
        for b in itertools.chain(*baselines):
            yield BenchRow.of_baseline(name, case.name, run, b)
        run.release()


def run_suite(
    name: str,
    *,
    repeat: int = 3,
    seed: int = 0,
    dtype: object = "float64",
    measure_memory: bool = True,
    frameworks: bool = True,
    max_memory: int | str | None = None,
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
    ['smoke-cnn', 'smoke-dense', 'smoke-mlp']

    Notes
    -----
    Time: the suite's arithmetic × (repeat + 2) runs per method.
    """
    check_count("repeat", repeat, 1)
    as_seed(seed)
    resolve_limit(max_memory)
    if blas_threads is not None:
        check_count("blas_threads", blas_threads, 1, 1 << 16)
    suite_cases(name)  # bad arguments fail before anything runs
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
            max_memory=max_memory,
        ):
            rows.append(row)
            if on_row is not None:
                on_row(row)
    return BenchResult(name, tuple(rows), repeat, seed, as_dtype(dtype).name, env)

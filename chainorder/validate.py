"""Check every prediction of a plan on real numbers.

:func:`validate` runs forward, reverse and the optimal plan (or every bracketing of a short
chain) on seeded data and records, per plan, the predicted multiplications, FLOPs and peak
memory next to the measured best wall time, peak memory and GFLOP/s, and how far its
Jacobian is from the forward-mode one.

What is compared (bytes of the plan's dtype)
    ``given``: the predicted peak counts the input Jacobians plus live intermediates; the
    measured peak is the bytes the evaluation allocated at its peak (``tracemalloc`` or the
    CuPy pool) **plus** the bytes of the input Jacobians, which exist before measuring.
    ``streamed``: a seeded :class:`chainorder.nets.MLP` of the chain is run at a seeded
    input; the measured peak is everything the evaluation allocated (the input ``x_0`` is
    created inside the measured region; weights before it, as the model does not count them).
Agreement
    Each plan's Jacobian against the forward-mode Jacobian
    (:func:`chainorder.measure.max_relative_difference`); the report passes when the largest
    is at most :func:`chainorder.measure.tolerance` of the dtype (or the ``rtol``
    given). Any two plans then differ by at most twice that.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chainorder.backend import Backend, get_backend
from chainorder.chain import Chain, Structure, as_chain
from chainorder.dtypes import as_dtype
from chainorder.errors import JacobianMismatchError, SpecError
from chainorder.execute import compile_plan
from chainorder.measure import (
    Timing,
    gflops,
    max_relative_difference,
    peak_memory,
    time_call,
    tolerance,
)
from chainorder.memory import Setting, as_setting
from chainorder.nets import MLP
from chainorder.plan import Plan, plan
from chainorder.tree import all_trees as every_tree
from chainorder.tree import forward_tree, reverse_tree

__all__ = [
    "MAX_ALL_TREES_LINKS",
    "PlanMeasurement",
    "ValidationReport",
    "blas_info",
    "candidate_plans",
    "random_jacobians",
    "run_plan",
    "validate",
]

#: ``--all-trees`` enumerates Catalan(L-1) bracketings: 429 for 8 links.
MAX_ALL_TREES_LINKS = 8


def random_jacobians(
    spec: Chain | str | Sequence[int | str],
    seed: int = 0,
    dtype: object = "float64",
    backend: str | Backend = "numpy",
) -> list[Any]:
    """Seeded Jacobians for the given setting: ``N(0, 1/d_{l-1})`` dense, ``U(0.5, 1.5)`` diagonals.

    Examples
    --------
    >>> [J.shape for J in random_jacobians("4,3,tanh,2", seed=1)]
    [(3, 4), (3,), (2, 3)]

    Notes
    -----
    O(Σ d_l·d_{l-1}) time and memory; the same seed gives the same numbers on every backend.
    """
    chain = as_chain(spec)
    dt = as_dtype(dtype)
    be = backend if isinstance(backend, Backend) else get_backend(backend)
    rng = np.random.default_rng(seed)
    out = []
    for link in chain.links:
        if link.structure is Structure.DIAGONAL:
            values = rng.uniform(0.5, 1.5, link.rows)
        else:
            values = rng.standard_normal(link.shape) / np.sqrt(link.cols)
            if dt.kind == "c":
                values = values + 1j * rng.standard_normal(link.shape) / np.sqrt(link.cols)
        out.append(be.asarray(values, dtype=dt))
    return out


def blas_info() -> str:
    """The BLAS NumPy runs on (library, version, kernel, threads) via threadpoolctl if installed.

    Examples
    --------
    >>> isinstance(blas_info(), str)
    True
    """
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (install threadpoolctl to record the BLAS kernel)"
    parts = [
        f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture', '?')} kernel, "
        f"{p.get('num_threads')} threads)"
        for p in threadpool_info()
        if p.get("user_api") == "blas"
    ]
    return "; ".join(parts) or "no BLAS found by threadpoolctl"


@dataclass(frozen=True)
class PlanMeasurement:
    """Predicted and measured figures of one plan (times in s, memory in bytes)."""

    label: str
    plan: Plan = field(repr=False)
    setting: Setting
    time: Timing
    measured_peak_bytes: int
    rel_diff: float

    @property
    def predicted_peak_bytes(self) -> int:
        """Bytes predicted by :mod:`chainorder.memory` for :attr:`setting`."""
        return self.plan.peak_bytes(self.setting)

    @property
    def memory_ratio(self) -> float:
        """``measured / predicted`` peak memory."""
        pred = self.predicted_peak_bytes
        return self.measured_peak_bytes / pred if pred else float("nan")

    @property
    def gflops(self) -> float:
        """Predicted FLOPs of the products over the best measured time, in GFLOP/s."""
        return gflops(self.plan.flops, self.time.best)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures with units in the key names."""
        return {
            "label": self.label,
            "expression": self.plan.expression(),
            "mode": self.plan.mode.value,
            "predicted_mults": self.plan.mults,
            "predicted_flops": self.plan.flops,
            "predicted_peak_bytes": self.predicted_peak_bytes,
            "measured_peak_bytes": self.measured_peak_bytes,
            "memory_ratio": _finite(self.memory_ratio),
            "time_best_s": self.time.best,
            "time_median_s": self.time.median,
            "gflop_per_s": _finite(self.gflops),
            "rel_diff_vs_forward": _finite(self.rel_diff),
        }


@dataclass(frozen=True)
class ValidationReport:
    """Everything :func:`validate` measured, and whether the Jacobians agree."""

    chain: Chain
    setting: Setting
    backend: str
    dtype: np.dtype
    seed: int
    repeat: int
    tolerance: float
    rows: tuple[PlanMeasurement, ...]
    blas: str

    @property
    def max_difference(self) -> float:
        """Largest normwise relative difference of any plan's Jacobian from forward mode's."""
        return max((r.rel_diff for r in self.rows), default=0.0)

    @property
    def ok(self) -> bool:
        """True when every plan agrees with forward mode within :attr:`tolerance`."""
        return bool(self.max_difference <= self.tolerance)

    def raise_if_disagree(self) -> None:
        """Raise :class:`~chainorder.errors.JacobianMismatchError` unless :attr:`ok`.

        The message names the worst plan, its difference and the tolerance.
        """
        if self.ok:
            return
        worst = max(self.rows, key=lambda r: r.rel_diff)
        raise JacobianMismatchError(
            f"the Jacobian of {worst.label} ({worst.plan.expression()}) differs from forward "
            f"mode's by {worst.rel_diff:.2e} (normwise relative), beyond the tolerance "
            f"{self.tolerance:.0e} for {self.dtype.name}"
        )

    @property
    def memory_compared(self) -> str:
        """One sentence saying what the measured peak memory includes."""
        if self.setting is Setting.GIVEN:
            return (
                "measured peak = bytes allocated during evaluation + bytes of the input "
                "Jacobians (created before measuring); predicted = inputs + live intermediates"
            )
        return (
            "measured peak = bytes allocated during the streamed evaluation (x_0, activations, "
            "formed Jacobians, products); network weights are created before and not counted"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready report."""
        return {
            "chain": self.chain.spec(),
            "dims": list(self.chain.dims),
            "setting": self.setting.value,
            "backend": self.backend,
            "dtype": self.dtype.name,
            "seed": self.seed,
            "repeat": self.repeat,
            "tolerance": self.tolerance,
            "max_rel_diff": _finite(self.max_difference),
            "ok": self.ok,
            "memory_compared": self.memory_compared,
            "blas": self.blas,
            "units": {
                "mults": "scalar multiplications",
                "flops": "floating-point operations, 2 per multiply-add",
                "bytes": f"{self.dtype.name}, {self.dtype.itemsize} bytes per element",
                "time": "seconds, best of repeat after one warm-up run",
                "gflop_per_s": "predicted FLOPs / best time / 1e9",
            },
            "plans": [r.to_dict() for r in self.rows],
        }

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), indent=indent)


def _finite(value: float) -> float | None:
    return value if np.isfinite(value) else None


def run_plan(
    p: Plan,
    setting: Setting | str,
    data: Any,
    *,
    repeat: int = 5,
    warmup: int = 1,
    backend: Backend | None = None,
    measure_memory: bool = True,
) -> tuple[Timing, int, Any]:
    """Time one plan, measure its peak memory, and return its Jacobian.

    ``data`` is the list of Jacobians (``given``) or ``(source, x)`` (``streamed``).
    Returns ``(timing, measured_peak_bytes, jacobian)``; the peak follows the conventions of
    the module notes (inputs added in the ``given`` setting), ``-1`` when not measured.

    Examples
    --------
    >>> p = plan("3,4,tanh,2")
    >>> t, peak, J = run_plan(p, "given", random_jacobians(p.chain), repeat=1)
    >>> J.shape, peak >= p.peak_bytes("given")
    ((2, 3), True)

    Notes
    -----
    ``warmup + repeat + 1`` evaluations.
    """
    setting = as_setting(setting)
    f = compile_plan(p, setting)
    if setting is Setting.GIVEN:
        jacobians = data
        be = backend or _backend_of(jacobians[0])

        def call() -> Any:
            return f(jacobians)

        inputs = sum(int(j.nbytes) for j in jacobians)
        timing = time_call(call, repeat=repeat, warmup=warmup, backend=be)
        if measure_memory:
            m = peak_memory(call, be)
            return timing, m.peak_bytes + inputs, m.result
        return timing, -1, call()
    source, x = data
    be = backend or _backend_of(x)
    timing = time_call(lambda: f(source, x), repeat=repeat, warmup=warmup, backend=be)
    if measure_memory:
        m = peak_memory(lambda: f(source, x.copy), be)  # x_0 created inside, owned by f
        return timing, m.peak_bytes, m.result
    return timing, -1, f(source, x)


def _backend_of(array: Any) -> Backend:
    from chainorder.backend import namespace_of

    return namespace_of([array])


def candidate_plans(
    chain: Chain, dtype: object = "float64", all_trees: bool = False
) -> Iterator[tuple[str, Plan]]:
    """``(label, plan)`` pairs that :func:`validate` runs, forward mode first.

    Without ``all_trees``: forward, reverse, optimal. With it: every bracketing, labelled
    ``forward``/``reverse``/``optimal`` (joined by ``=`` when they coincide) or ``tree k``.

    Examples
    --------
    >>> [label for label, _ in candidate_plans(Chain.from_dims([8, 16, 4, 12]), all_trees=True)]
    ['forward = optimal', 'reverse']

    Notes
    -----
    O(L³) for the optimal plan, plus O(L) per bracketing.
    """
    n = chain.n_links
    dtype = as_dtype(dtype)
    best = plan(chain, "optimal", dtype)
    if not all_trees:
        yield "forward", plan(chain, "forward", dtype)
        yield "reverse", plan(chain, "reverse", dtype)
        yield "optimal", best
        return
    if n > MAX_ALL_TREES_LINKS:
        raise SpecError(
            f"--all-trees runs every bracketing (Catalan(L-1) of them) and is limited to "
            f"{MAX_ALL_TREES_LINKS} links; this chain has {n}"
        )
    fwd, rev = forward_tree(n), reverse_tree(n)
    trees = every_tree(n)
    # forward first: it is the reference every other Jacobian is compared with
    trees.sort(key=lambda t: t != fwd)
    for number, tree in enumerate(trees, start=1):
        known = (("forward", fwd), ("reverse", rev), ("optimal", best.tree))
        names = [name for name, t in known if t == tree]
        label = " = ".join(names) if names else f"tree {number}"
        yield label, Plan.from_tree(chain, tree, names[0] if names else "custom", dtype)


def validate(
    spec: Chain | str | Sequence[int | str],
    *,
    setting: Setting | str = Setting.GIVEN,
    backend: str | Backend = "numpy",
    dtype: object = "float64",
    repeat: int = 5,
    warmup: int = 1,
    seed: int = 0,
    all_trees: bool = False,
    rtol: float | None = None,
    measure_memory: bool = True,
) -> ValidationReport:
    """Run plans of ``spec`` on real Jacobians and set measurements next to predictions.

    Parameters
    ----------
    spec : Chain, str or sequence
        The chain, e.g. ``"784,512,tanh,512,tanh,10"``.
    setting : {"given", "streamed"}
        ``given``: seeded random Jacobians (:func:`random_jacobians`); ``streamed``: a
        seeded :class:`~chainorder.nets.MLP` at a seeded input.
    backend : {"numpy", "cupy"}
    dtype : str or numpy.dtype
    repeat, warmup : int
        Timed and untimed runs per plan; the best time is reported.
    seed : int
        Seeds the data (weights, Jacobians, input).
    all_trees : bool
        Every bracketing instead of forward, reverse and optimal (at most
        :data:`MAX_ALL_TREES_LINKS` links).
    rtol : float, optional
        Agreement tolerance; :func:`chainorder.measure.tolerance` of the dtype by default.
    measure_memory : bool
        Skip the (slower, traced) memory run when false; peaks are then reported as -1.

    Returns
    -------
    ValidationReport

    Raises
    ------
    SpecError, DtypeError, UnknownSettingError, ExecutionError
        Bad chain, dtype, setting or backend (e.g. ``cupy`` without CuPy), or ``all_trees``
        on a chain that is too long.

    Examples
    --------
    >>> r = validate("30,35,15,5,10,20,25", repeat=1)
    >>> [row.label for row in r.rows], r.ok
    (['forward', 'reverse', 'optimal'], True)
    >>> [row.plan.mults for row in r.rows]
    [40500, 47500, 15125]

    Notes
    -----
    ``(repeat + warmup + 1)`` evaluations per plan; memory of one result per plan at a time
    plus the forward-mode reference.
    """
    chain = as_chain(spec)
    dt = as_dtype(dtype)
    st = as_setting(setting)
    be = backend if isinstance(backend, Backend) else get_backend(backend)
    if repeat < 1:
        raise SpecError(f"repeat must be at least 1, got {repeat}")
    tol = tolerance(dt) if rtol is None else float(rtol)
    candidates = list(candidate_plans(chain, dt, all_trees))
    if st is Setting.GIVEN:
        data: Any = random_jacobians(chain, seed, dt, be)
    else:
        net = MLP(chain, seed=seed, dtype=dt, backend=be)
        data = (net, net.random_input(seed + 1))
    rows: list[PlanMeasurement] = []
    reference: Any = None
    for label, p in candidates:
        timing, peak, result = run_plan(
            p, st, data, repeat=repeat, warmup=warmup, backend=be, measure_memory=measure_memory
        )
        if reference is None:
            reference = result
        diff = max_relative_difference(result, reference)
        del result
        rows.append(PlanMeasurement(label, p, st, timing, peak, diff))
    return ValidationReport(
        chain,
        st,
        be.name,
        dt,
        seed,
        repeat,
        tol,
        tuple(rows),
        blas_info() if not be.is_gpu else f"CuPy {be.xp.__version__}",
    )

"""The one runner behind ``validate`` and ``bench``: plans of one chain measured on one set of data.

:class:`ValidationRun` checks its arguments, plans the candidates and checks the memory the
run will need before creating any array; :meth:`ValidationRun.measurements` then yields one
:class:`PlanMeasurement` per plan (predicted next to measured). :func:`chainorder.validate`
collects them into a report; :mod:`chainorder.bench` maps them to benchmark rows. The
measuring conventions are those of :mod:`chainorder.validate`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chainorder.backend import Backend, get_backend, namespace_of
from chainorder.chain import Chain, as_chain
from chainorder.dtypes import as_dtype
from chainorder.errors import SpecError, SpecTypeError
from chainorder.execute import compile_plan
from chainorder.measure import Timing, gflops, max_relative_difference, peak_memory, time_call
from chainorder.memory import Setting, as_setting
from chainorder.memory_guard import check_memory, memory_errors, resolve_limit
from chainorder.nets import (
    MLP,
    as_seed,
    draw_bytes,
    jacobian_bytes,
    parameter_bytes,
    random_jacobians,
)
from chainorder.plan import Plan, plan
from chainorder.tree import all_trees as every_tree
from chainorder.tree import forward_tree, reverse_tree

__all__ = [
    "MAX_ALL_TREES_LINKS",
    "MAX_REPEAT",
    "PlanMeasurement",
    "ValidationRun",
    "candidate_plans",
    "check_count",
    "check_rtol",
    "finite_or_none",
    "run_plan",
]

#: ``--all-trees`` enumerates Catalan(L-1) bracketings: 429 for 8 links.
MAX_ALL_TREES_LINKS = 8

#: Most timed runs per plan: beyond it a run would take hours for nothing.
MAX_REPEAT = 10_000


def check_count(name: str, value: object, low: int, high: int = MAX_REPEAT) -> int:
    """``value`` as an int in ``low..high``; :class:`SpecError` (one line) otherwise.

    Examples
    --------
    >>> check_count("repeat", 3, 1)
    3
    >>> try:
    ...     check_count("repeat", 0, 1)
    ... except ValueError as exc:
    ...     print(exc)
    repeat must be an integer from 1 to 10000, got 0

    Notes
    -----
    O(1).
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise SpecTypeError(f"{name} must be an integer from {low} to {high}, got {value!r}")
    if not low <= value <= high:
        raise SpecError(f"{name} must be an integer from {low} to {high}, got {value}")
    return int(value)


def check_rtol(rtol: object) -> float | None:
    """``rtol`` as a positive finite float (or None); :class:`SpecError` otherwise.

    Examples
    --------
    >>> check_rtol(1e-6), check_rtol(None)
    (1e-06, None)
    >>> try:
    ...     check_rtol(float("nan"))
    ... except ValueError as exc:
    ...     print(exc)
    rtol must be positive and finite, got nan

    Notes
    -----
    O(1).
    """
    if rtol is None:
        return None
    if isinstance(rtol, bool) or not isinstance(rtol, (int, float, np.floating, np.integer)):
        raise SpecTypeError(f"rtol must be a positive finite number, got {rtol!r}")
    value = float(rtol)
    if not (value > 0 and math.isfinite(value)):
        raise SpecError(f"rtol must be positive and finite, got {rtol}")
    return value


@dataclass(frozen=True)
class PlanMeasurement:
    """Predicted and measured figures of one plan (times in s, memory in bytes)."""

    label: str
    plan: Plan = field(repr=False)
    setting: Setting
    time: Timing
    measured_peak_bytes: int
    rel_diff: float
    finite: bool = True  # every entry of the plan's Jacobian is finite (no overflow)

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
            "memory_ratio": finite_or_none(self.memory_ratio),
            "time_best_s": self.time.best,
            "time_median_s": self.time.median,
            "gflop_per_s": finite_or_none(self.gflops),
            "rel_diff_vs_forward": finite_or_none(self.rel_diff),
            "finite": self.finite,
        }


def finite_or_none(value: float) -> float | None:
    """``value``, or None when it is not finite (JSON has no NaN or infinity).

    Examples
    --------
    >>> finite_or_none(1.5), finite_or_none(float("nan"))
    (1.5, None)

    Notes
    -----
    O(1).
    """
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


class ValidationRun:
    """The one runner of ``validate`` and ``bench``: plans of one chain on one set of data.

    The constructor checks every argument, plans the candidates (:func:`candidate_plans`) and
    checks the bytes the run will allocate against the memory limit (:attr:`required_bytes`,
    from the plans' own predictions) — all before any array exists. :meth:`measurements`
    then creates the seeded data once, runs every plan on it (:func:`run_plan`) and yields
    one :class:`PlanMeasurement` per plan, forward mode first. Afterwards :attr:`data` and
    :attr:`reference` (forward mode's Jacobian) stay available for baselines.

    Parameters are those of :func:`validate`.

    Examples
    --------
    >>> run = ValidationRun("30,35,15,5,10,20,25", repeat=1, measure_memory=False)
    >>> [m.label for m in run.measurements()], run.reference.shape
    (['forward', 'reverse', 'optimal'], (25, 30))

    Notes
    -----
    Construction: O(L³) planning, no arrays. :meth:`measurements`: ``repeat + warmup + 1``
    evaluations per plan.
    """

    def __init__(
        self,
        spec: Chain | str | Sequence[int | str],
        *,
        setting: Setting | str = Setting.GIVEN,
        backend: str | Backend = "numpy",
        dtype: object = "float64",
        repeat: int = 5,
        warmup: int = 1,
        seed: int = 0,
        all_trees: bool = False,
        measure_memory: bool = True,
        max_memory: int | str | None = None,
    ) -> None:
        self.chain = as_chain(spec)
        self.dtype = as_dtype(dtype)
        self.setting = as_setting(setting)
        self.repeat = check_count("repeat", repeat, 1)
        self.warmup = check_count("warmup", warmup, 0)
        self.seed = as_seed(seed)
        self.backend = backend if isinstance(backend, Backend) else get_backend(backend)
        self.measure_memory = bool(measure_memory)
        resolve_limit(max_memory)  # a bad limit fails before the planning
        self.max_memory = max_memory
        self.candidates = list(candidate_plans(self.chain, self.dtype, all_trees))
        self.what = f"{self.chain.spec()} in the {self.setting.value} setting ({self.dtype.name})"
        check_memory(
            self.required_bytes,
            f"{self.what} (its data, the largest plan's predicted peak, the reference Jacobian "
            "and the comparison's temporaries)",
            max_memory,
        )
        self.data: Any = None
        self.reference: Any = None

    @property
    def required_bytes(self) -> int:
        """Predicted bytes at the run's peak (exact int), from the plans' own predictions.

        The data ``D`` (``given``: the Jacobians; ``streamed``: the network's parameters and
        the input) stays allocated throughout. On top of it, the largest of: the draws that
        create it (:func:`chainorder.nets.draw_bytes`); the largest predicted peak of a
        plan (``given``: inputs included, so not added twice) plus the forward-mode
        Jacobian ``R`` kept as reference; and the comparison, ``R`` + the result + two
        temporaries of its size.
        """
        itemsize = self.dtype.itemsize
        result = self.chain.dims[-1] * self.chain.dims[0] * itemsize
        largest = max((link.elements for link in self.chain.links), default=0)
        draw = draw_bytes(largest, self.dtype)
        peak = max(p.peak_bytes(self.setting) for _, p in self.candidates)
        if self.setting is Setting.GIVEN:
            data = jacobian_bytes(self.chain, self.dtype)
            return max(data + draw, peak + result, data + 4 * result)
        data = parameter_bytes(self.chain, self.dtype) + self.chain.dims[0] * itemsize
        return data + max(draw, peak + result, 4 * result)

    def make_data(self) -> Any:
        """The seeded data (created once): Jacobians, or ``(network, x_0)`` when streamed."""
        if self.data is None:
            if self.setting is Setting.GIVEN:
                self.data = random_jacobians(
                    self.chain, self.seed, self.dtype, self.backend, max_memory=self.max_memory
                )
            else:
                net = MLP(
                    self.chain, self.seed, self.dtype, self.backend, max_memory=self.max_memory
                )
                self.data = (net, net.random_input(self.seed + 1))
        return self.data

    def measurements(self) -> Iterator[PlanMeasurement]:
        """Run every candidate plan on the data and yield its measurement as it finishes."""
        with memory_errors(self.what):
            data = self.make_data()
            for label, p in self.candidates:
                # overflow is reported as non-finite entries, not as warnings
                with np.errstate(all="ignore"):
                    timing, peak, result = run_plan(
                        p,
                        self.setting,
                        data,
                        repeat=self.repeat,
                        warmup=self.warmup,
                        backend=self.backend,
                        measure_memory=self.measure_memory,
                    )
                    if self.reference is None:
                        self.reference = result
                    finite = bool(self.backend.xp.isfinite(result).all())
                    diff = max_relative_difference(result, self.reference)
                del result
                yield PlanMeasurement(label, p, self.setting, timing, peak, diff, finite)

    def release(self) -> None:
        """Drop the data and the reference (the next case of a suite needs the memory)."""
        self.data = None
        self.reference = None

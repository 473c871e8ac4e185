"""One issue-12 case measured: ``jax.jit(chainorder.jax.jacobian)`` against jit(jacfwd)/jit(jacrev).

:func:`measure_case` builds the case of :mod:`chainorder.jax.bench_cases`, compiles the three
Jacobians, checks them against each other before any time counts, then times them interleaved
(best of ``repeats``, ``block_until_ready``) and reads XLA's ``memory_analysis()`` of each
compiled function. Each timed run follows an untimed run of the same function (a run right after
a different, larger one measures that one's aftermath: caches, thread wake-ups). Benchmark
scripts print these figures; nothing here asserts a speed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

__all__ = ["CaseFigures", "measure_case"]


@dataclass(frozen=True)
class CaseFigures:
    """Seconds (best of k) and allocated bytes (XLA temp + output) of the three Jacobians."""

    name: str
    dtype: str
    scale: int
    chosen: str
    mode: str
    predicted_ratio: float
    seconds: dict[str, float]
    bytes: dict[str, int]
    first_call_timings: dict[str, float]

    @property
    def ratio(self) -> float:
        """Auto's time over the faster pure mode's."""
        return self.seconds["auto"] / min(self.seconds["jacfwd"], self.seconds["jacrev"])

    @property
    def memory_ratio(self) -> float:
        """Auto's bytes over the smaller pure mode's."""
        return self.bytes["auto"] / max(1, min(self.bytes["jacfwd"], self.bytes["jacrev"]))

    def line(self) -> str:
        """One table row."""
        ms = {k: v * 1e3 for k, v in self.seconds.items()}
        return (
            f"| {self.name} | {self.dtype} | {self.scale} | {self.chosen} ({self.mode}) | "
            f"{ms['auto']:.2f} | {ms['jacfwd']:.2f} | {ms['jacrev']:.2f} | {self.ratio:.2f} | "
            f"{self.predicted_ratio:.2f} | {self.memory_ratio:.2f} |"
        )


def measure_case(
    name: str, dtype: str = "float32", scale: int = 1, repeats: int = 5
) -> CaseFigures:
    """Measure one case (see the module notes).

    Raises
    ------
    JacobianMismatchError
        The three Jacobians disagree (rtol 1e-3 in float32, 1e-9 in float64).

    Examples
    --------
    >>> fig = measure_case("wide_in", scale=64, repeats=1)
    >>> fig.chosen, sorted(fig.seconds)
    ('optimal', ['auto', 'jacfwd', 'jacrev'])

    Notes
    -----
    Three compilations, ``repeats + 1`` runs of each; the first call of the auto Jacobian
    may time its close candidates too.
    """
    import jax
    import numpy as np

    import chainorder.jax as cjax
    from chainorder.errors import JacobianMismatchError
    from chainorder.jax.bench_cases import make_case

    f, x = make_case(name, dtype, scale=scale)
    jac = cjax.jacobian(f)
    prep = jac.prepared(x)
    fns = {"auto": jac, "jacfwd": jax.jacfwd(f), "jacrev": jax.jacrev(f)}
    comp = {k: jax.jit(fn).lower(x).compile() for k, fn in fns.items()}
    outs = {k: np.asarray(c(x)) for k, c in comp.items()}
    tol = 1e-3 if np.dtype(dtype).itemsize <= 4 else 1e-9
    for k, out in outs.items():
        if not np.allclose(out, outs["jacfwd"], rtol=tol, atol=tol):
            raise JacobianMismatchError(f"{name}: {k} differs from jax.jacfwd beyond {tol}")
    best = dict.fromkeys(comp, float("inf"))
    for _ in range(repeats):
        for k, c in comp.items():
            jax.block_until_ready(c(x))  # untimed: no run is timed right after another one
            t0 = time.perf_counter()
            jax.block_until_ready(c(x))
            best[k] = min(best[k], time.perf_counter() - t0)
    nbytes = {}
    for k, c in comp.items():
        m = c.memory_analysis()
        nbytes[k] = int(m.temp_size_in_bytes + m.output_size_in_bytes)
    pure = min(prep.plans["forward"].mults, prep.plans["reverse"].mults)
    return CaseFigures(
        name,
        str(np.dtype(dtype)),
        scale,
        prep.chosen,
        prep.plan.plan.mode,
        prep.plan.mults / pure if pure else 1.0,
        best,
        nbytes,
        dict(prep.timings),
    )

"""Compile candidate plans: XLA's figures (FLOPs, bytes) and one timing on the first call.

:func:`compiled_plan` jits and compiles one named plan of a
:class:`~chainorder.jax.api.Prepared` for its argument shapes (cached on it);
:func:`xla_figures` reads XLA's ``cost_analysis()`` FLOPs and ``memory_analysis()`` bytes of
that compiled function (what ``explain()`` shows and the tests check the predictions against);
:func:`time_candidates` runs point 3 of issue 12: each candidate is run once to warm up, then
timed ``repeats`` times with ``block_until_ready``, the candidates interleaved (the order
reversed every other round) so that a noisy machine affects them alike, each timed run of a
short candidate right after an untimed run of the same one; the best time of each counts.
Inside a trace (``jax.jit`` of the Jacobian) the timed runs use random arrays of the call's
shapes and dtypes.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["XlaFigures", "compiled_plan", "concrete_args", "time_candidates", "xla_figures"]


@dataclass(frozen=True, slots=True)
class XlaFigures:
    """XLA's figures of one compiled plan: FLOPs and bytes the run allocates.

    ``peak_bytes`` = ``temp_size_in_bytes + output_size_in_bytes`` of ``memory_analysis()``:
    the buffers the compiled Jacobian allocates besides its arguments.
    """

    flops: float
    peak_bytes: int
    temp_bytes: int
    output_bytes: int


def concrete_args(args: Sequence[Any]) -> list[Any]:
    """The call's flat leaves, with random arrays of the same shape/dtype for tracers.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> concrete_args([jnp.ones(2)])[0].tolist()
    [1.0, 1.0]

    Notes
    -----
    O(size of the arguments).
    """
    import jax
    import numpy as np

    rng = np.random.default_rng(0)
    out = []
    with jax.ensure_compile_time_eval():
        for leaf in jax.tree_util.tree_leaves(args):
            if isinstance(leaf, jax.core.Tracer):
                value = 0.5 * rng.standard_normal(leaf.shape)
                out.append(jax.numpy.asarray(value.astype(leaf.dtype)))
            else:
                out.append(jax.numpy.asarray(leaf))
    return out


def compiled_plan(prep: Any, name: str) -> Any:
    """The jitted, compiled Jacobian of plan ``name`` as a function of the flat leaves: the
    ``(d_L, d_0)`` matrix, or for a pure sweep what runs, ``jax.jacfwd``/``jacrev`` itself.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from chainorder.jax.api import jacobian
    >>> x = jnp.array([0.1, 0.2, 0.3])
    >>> prep = jacobian(lambda x: jnp.tanh(x @ jnp.ones((3, 2))), measure=False).prepared(x)
    >>> compiled_plan(prep, "forward")(x).shape
    (2, 3)
    >>> compiled_plan(prep, "forward") is prep.compiled["forward"]
    True

    Notes
    -----
    One XLA compilation per plan and argument structure (cached on ``prep``).
    """
    import jax

    from chainorder.jax.build import pure_sweep, run_plan

    hit = prep.compiled.get(name)
    if hit is None:
        plan = prep.plans[name].plan
        pure = pure_sweep(plan) if prep.fn is not None else None

        def fn(*xs: Any) -> Any:
            if pure is not None:  # what run() executes for a pure sweep: jacfwd/jacrev itself
                args = jax.tree_util.tree_unflatten(prep.args_tree, xs)
                return pure(prep.fn, argnums=prep.argnums)(*args)
            return run_plan(plan, prep.prog, prep.segs, xs, prep.dtype)

        # staged like the call it stands for (not under ensure_compile_time_eval: that would
        # run the operations on constants while tracing, so the compiled program would differ
        # from the one ``jax.jit`` of the Jacobian compiles, barriers included)
        hit = jax.jit(fn).lower(*prep.leaf_specs).compile()
        prep.compiled[name] = hit
    return hit


def xla_figures(prep: Any, name: str) -> XlaFigures:
    """XLA's FLOPs and allocated bytes of plan ``name`` (compiled for ``prep``'s shapes).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from chainorder.jax.api import jacobian
    >>> x, w = jnp.ones(3, dtype=jnp.float32), jnp.ones((3, 2), dtype=jnp.float32)
    >>> prep = jacobian(lambda x: jnp.tanh(x @ w), measure=False).prepared(x)
    >>> xla_figures(prep, "forward").output_bytes  # the 2×3 float32 Jacobian
    24

    Notes
    -----
    One compilation (cached).
    """
    c = compiled_plan(prep, name)
    cost = c.cost_analysis()
    if isinstance(cost, list | tuple):
        cost = cost[0] if cost else {}
    mem = c.memory_analysis()
    temp, out = int(mem.temp_size_in_bytes), int(mem.output_size_in_bytes)
    return XlaFigures(float(cost.get("flops", 0.0)), temp + out, temp, out)


def time_candidates(
    prep: Any, names: Sequence[str], args: Sequence[Any], repeats: int = 5, budget: float = 2.0
) -> dict[str, float]:
    """Best seconds of each named plan of ``prep`` (compiled, warm) over up to ``repeats``
    interleaved rounds; after two rounds it stops once ``budget`` seconds are spent, so a
    function whose Jacobian takes seconds is timed twice, not ``repeats`` times.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from chainorder.jax.api import jacobian
    >>> x = jnp.array([0.1, 0.2, 0.3])
    >>> prep = jacobian(lambda x: jnp.tanh(x @ jnp.ones((3, 2))), measure=False).prepared(x)
    >>> t = time_candidates(prep, ["forward", "reverse"], (x,), repeats=2)
    >>> sorted(t), all(s > 0 for s in t.values())
    (['forward', 'reverse'], True)

    Notes
    -----
    One compilation and 2 to ``repeats + 1`` timed runs per candidate (plus an untimed one
    before each timed run of a candidate that takes under 50 ms).
    """
    import jax

    leaves, order = concrete_args(args), list(names)
    with jax.ensure_compile_time_eval():
        runs = {name: compiled_plan(prep, name) for name in names}
        for c in runs.values():
            jax.block_until_ready(c(*leaves))
        best = {name: float("inf") for name in names}
        start = time.perf_counter()
        for r in range(repeats):
            for name in order if r % 2 == 0 else order[::-1]:  # no one always goes first
                if best[name] < 0.05:  # a short run: the same function first, untimed
                    jax.block_until_ready(runs[name](*leaves))
                t0 = time.perf_counter()
                jax.block_until_ready(runs[name](*leaves))
                best[name] = min(best[name], time.perf_counter() - t0)
            if r >= 1 and time.perf_counter() - start > budget:
                break
    return best

"""Time candidate plans once, compiled, on the first call (point 3 of issue 12).

Each candidate is jitted and compiled on the call's arguments (or, inside a trace, on random
arrays of the same shapes and dtypes), run once to warm up, then timed ``repeats`` times with
``block_until_ready``, the candidates interleaved so that a noisy machine affects them alike;
the best time of each counts.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

__all__ = ["concrete_args", "time_candidates"]


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

    out = []
    key = jax.random.PRNGKey(0)
    for leaf in jax.tree_util.tree_leaves(args):
        if isinstance(leaf, jax.core.Tracer):
            key, sub = jax.random.split(key)
            out.append(jax.random.normal(sub, leaf.shape, leaf.dtype) * 0.5)
        else:
            out.append(jax.numpy.asarray(leaf))
    return out


def time_candidates(
    prep: Any, names: Sequence[str], args: Sequence[Any], repeats: int = 3
) -> dict[str, float]:
    """Best-of-``repeats`` seconds of each named plan of ``prep`` (compiled, warm).

    Notes
    -----
    One compilation and ``repeats + 1`` runs per candidate.
    """
    import jax

    with jax.ensure_compile_time_eval():
        return _time(prep, names, concrete_args(args), repeats)


def _time(prep: Any, names: Sequence[str], leaves: list[Any], repeats: int) -> dict[str, float]:
    import jax

    from chainorder.jax.build import run_plan

    compiled = {}
    for name in names:
        plan = prep.plans[name].plan

        def fn(*xs: Any, plan: Any = plan) -> Any:
            return run_plan(plan, prep.prog, prep.segs, xs, prep.dtype)

        c = jax.jit(fn).lower(*leaves).compile()
        jax.block_until_ready(c(*leaves))
        compiled[name] = c
    best = {name: float("inf") for name in names}
    for _ in range(repeats):
        for name in names:
            t0 = time.perf_counter()
            jax.block_until_ready(compiled[name](*leaves))
            best[name] = min(best[name], time.perf_counter() - t0)
    return best

"""The inactive operands of the differentiated segments, as XLA should see them under ``jit``.

A plan's sweeps read values that do not depend on the differentiated inputs: weights, biases,
masks (the closed-over constants and what the function computes from them). Under ``jax.jit``
XLA sees the closed-over ones as constants and two of its compile-time rewrites then break the
plan's promise that the program does the priced work, no more and no slower:

* **layout.** ``x @ W.T`` traces with ``W.T`` already transposed into a new constant
  (``[k, o]``, row major). A tangent sweep over a block of seeds (``jax.vmap`` of ``jax.jvp``,
  the seeds on the result's last axis) then becomes a product whose first operand is that
  constant contracted along its leading axis; XLA's CPU backend runs that form with Eigen's
  transposed GEMM instead of its YNNPACK kernel (float64, 4096×64·64×4096: 150 ms against
  91 ms on one thread). Held as ``transpose(barrier(transpose(W)))`` the operand reaches the
  product with its contracted axis last and XLA folds the outer transpose into the product's
  dimension numbers: the fast kernel, for tangent and adjoint sweeps alike.
* **folding.** Products of constants alone (a ``given`` plan's weight-only Jacobians, formed
  from identity seeds) are left to XLA's constant folder once the seeds are constants too; it
  took over a minute for one 4096×64 block when the first-call timing compiled the plans with
  everything constant evaluated while tracing. Behind the barrier they stay run-time work, as
  priced (and :func:`chainorder.jax.timing.compiled_plan` now compiles staged, like ``jit``).

:func:`opaque_operands` puts every inactive operand of the segments' operations behind one
``jax.lax.optimization_barrier`` (the transposed ones transposed before it, so XLA folds that
transpose of a constant at compile time and the run-time program holds both layouts' data
once). Outside ``jit`` the barrier returns its operands.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chainorder.jax.program import Lit
from chainorder.jax.segments import Segment

__all__ = ["inactive_operands", "opaque_operands", "preferred_order"]


def inactive_operands(segs: Sequence[Segment]) -> list[int]:
    """Ids the segments' operations read that no segment operation produces (and that are not
    the differentiated inputs), in order of first use.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from chainorder.jax.program import trace_program
    >>> from chainorder.jax.segments import segment_program
    >>> w = jnp.ones((3, 4))
    >>> prog, _ = trace_program(lambda x: jnp.tanh(x @ w), (jnp.ones(3),))
    >>> ids = inactive_operands(segment_program(prog, prog.inputs))
    >>> [prog.avals[v][0] for v in ids]  # the weight
    [(3, 4)]

    Notes
    -----
    O(operations of the segments).
    """
    produced = {v for seg in segs[:1] for v in seg.ins}
    for seg in segs:
        for op in seg.ops:
            produced.update(op.outs)
    out: dict[int, None] = {}
    for seg in segs:
        for op in seg.ops:
            for a in op.ins:
                if not isinstance(a, Lit) and a not in produced:
                    out.setdefault(a)
    return list(out)


def preferred_order(segs: Sequence[Segment], inactive: set[int]) -> dict[int, tuple[int, ...]]:
    """Axis orders in which inactive ``dot_general`` operands should be stored: free axes
    first, contracted axes last (only where that differs from their order; no batch axes).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from chainorder.jax.program import trace_program
    >>> from chainorder.jax.segments import segment_program
    >>> w = jnp.ones((3, 4))
    >>> prog, _ = trace_program(lambda x: x @ w, (jnp.ones(3),))  # w contracted on axis 0
    >>> segs = segment_program(prog, prog.inputs)
    >>> list(preferred_order(segs, set(inactive_operands(segs))).values())
    [(1, 0)]

    Notes
    -----
    O(operations of the segments).
    """
    orders: dict[int, tuple[int, ...]] = {}
    for seg in segs:
        for op in seg.ops:
            if op.name != "dot_general" or len(op.ins) != 2:
                continue
            (lc, rc), (lb, rb) = op.eqn.params["dimension_numbers"]
            if lb or rb:
                continue
            for j, contracted in ((0, lc), (1, rc)):
                a, other = op.ins[j], op.ins[1 - j]
                if isinstance(a, Lit) or a not in inactive or a in orders:
                    continue
                if isinstance(other, Lit) or other in inactive:
                    continue
                ndim = len(op.eqn.invars[j].aval.shape)
                order = (*(d for d in range(ndim) if d not in contracted), *contracted)
                if order != tuple(range(ndim)):
                    orders[a] = tuple(int(d) for d in order)
    return orders


def opaque_operands(
    env: dict[int, Any], segs: Sequence[Segment], tangent: Sequence[Segment] | None = None
) -> None:
    """Replace the segments' inactive operands in ``env`` by run-time values (see the module
    notes): one ``optimization_barrier`` over all of them, those of :func:`preferred_order`
    in the segments ``tangent`` (default: all) stored transposed before it and viewed in their
    own order after it. Adjoint sweeps and forward evaluations take either layout at the same
    speed, but a forward product fused with its bias may copy a reordered operand back, so
    only the segments that tangent sweeps run should be given.

    Examples
    --------
    >>> import jax, jax.numpy as jnp
    >>> from chainorder.jax.program import trace_program
    >>> from chainorder.jax.segments import segment_program
    >>> w = jnp.arange(6.0).reshape(3, 2)
    >>> prog, _ = trace_program(lambda x: x @ w, (jnp.ones(3),))
    >>> env = dict(prog.consts)
    >>> opaque_operands(env, segment_program(prog, prog.inputs))
    >>> bool(jnp.array_equal(env[next(iter(prog.consts))], w))
    True

    Notes
    -----
    One barrier; a transpose of each reordered operand (folded by XLA when it is a constant).
    """
    import numpy as np
    from jax import lax

    ids = [v for v in inactive_operands(segs) if v in env]
    if not ids:
        return
    orders = preferred_order(segs if tangent is None else tangent, set(ids))
    stored = tuple(lax.transpose(env[v], orders[v]) if v in orders else env[v] for v in ids)
    for v, value in zip(ids, lax.optimization_barrier(stored), strict=True):
        if v in orders:
            value = lax.transpose(value, tuple(int(d) for d in np.argsort(orders[v])))
        env[v] = value

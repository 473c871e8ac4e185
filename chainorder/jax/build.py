"""Run a matrix-free plan over the segments of a traced function with ``jax.jvp``/``jax.vjp``.

Every node of a :class:`~chainorder.matfree.MatrixFreePlan` becomes JAX operations:

``tangent``  ``jax.vmap`` of ``jax.jvp`` of the composed segments ``split..hi`` at ``x_{split-1}``
             over the columns of the block (the identity, or the right child's array);
``adjoint``  ``jax.vmap`` of the pullback of ``jax.vjp`` of segments ``lo..split-1`` at
             ``x_{lo-1}`` over the rows of the block (the identity, or the left child's array);
``diagonal`` one ``jax.jvp`` with a vector of ones (an elementwise segment's diagonal);
``dense``    :func:`chainorder.execute_links.multiply_stored` (``@``, or a diagonal scaling).

The cut values ``x_l`` come from one forward evaluation of the program. The result is the dense
``(d_L, d_0)`` Jacobian, laid out by :func:`jacfwd_layout` as ``jax.jacfwd`` lays it out. Only
``jax`` functions are used, so the whole computation can be jitted and vmapped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chainorder.execute_links import multiply_stored
from chainorder.jax.layout import opaque_operands
from chainorder.jax.program import Program, read, run_ops
from chainorder.jax.segments import Segment
from chainorder.matfree.plan import MatrixFreePlan

__all__ = ["forward_cuts", "jacfwd_layout", "pure_sweep", "run_plan", "segment_fn"]


def _flat(values: Sequence[Any], dtype: Any) -> Any:
    import jax.numpy as jnp

    parts = [jnp.reshape(jnp.asarray(v), (-1,)).astype(dtype) for v in values]
    return parts[0] if len(parts) == 1 else jnp.concatenate(parts)


def _unflat(prog: Program, ids: Sequence[int], flat: Any) -> list[Any]:
    import jax.numpy as jnp

    out, start = [], 0
    for vid in ids:
        shape, dtype = prog.avals[vid]
        n = prog.size(vid)
        out.append(jnp.reshape(flat[start : start + n], shape).astype(dtype))
        start += n
    return out


def segment_fn(prog: Program, segs: Sequence[Segment], env: dict[int, Any], dtype: Any) -> Any:
    """The function ``x_{lo-1} -> x_hi`` (flat vectors) of consecutive segments ``segs``.

    Values that do not depend on the inputs are read from ``env`` (the forward evaluation).

    Examples
    --------
    >>> import jax, jax.numpy as jnp
    >>> from chainorder.jax.api import jacobian
    >>> f = lambda x: jnp.tanh(x @ jnp.ones((3, 2)))
    >>> x = jnp.array([0.1, 0.2, 0.3])
    >>> prep = jacobian(f, measure=False).prepared(x)  # two segments: the matmul, the tanh
    >>> env, _ = forward_cuts(prep.prog, prep.segs, [x], prep.dtype, upto=0)
    >>> g = segment_fn(prep.prog, prep.segs, env, prep.dtype)  # x_0 -> x_2
    >>> bool(jnp.allclose(g(x), f(x)))
    True

    Notes
    -----
    The segments' operations, once per call.
    """

    def g(x: Any) -> Any:
        local = dict(env)
        y = x
        for vid, val in zip(segs[0].ins, _unflat(prog, segs[0].ins, x), strict=True):
            local[vid] = val
        for k, seg in enumerate(segs):
            if k:
                (vid,) = seg.ins
                local[vid] = _unflat(prog, seg.ins, y)[0]
            run_ops(seg.ops, local)
            y = _flat([read(local, a) for a in seg.outs], dtype)
        return y

    return g


def forward_cuts(
    prog: Program,
    segs: Sequence[Segment],
    args: Sequence[Any],
    dtype: Any,
    upto: int | None = None,
) -> tuple[dict[int, Any], dict[int, Any]]:
    """The environment and the flat cut values ``x_0 .. x_upto`` (default: all, ``x_L``).

    The operations that do not depend on the differentiated inputs (parameter reshapes,
    broadcasts) always run; the active ones only through segment ``upto``, so a plan whose
    sweeps all start from ``x_0`` evaluates no forward pass of its own.

    Examples
    --------
    >>> import jax, jax.numpy as jnp
    >>> from chainorder.jax.api import jacobian
    >>> f = lambda x: jnp.tanh(x @ jnp.ones((3, 2)))
    >>> x = jnp.array([0.1, 0.2, 0.3])
    >>> prep = jacobian(f, measure=False).prepared(x)  # two segments: the matmul, the tanh
    >>> _, cuts = forward_cuts(prep.prog, prep.segs, [x], prep.dtype)
    >>> [cuts[l].shape for l in sorted(cuts)]  # x_0, x @ w, tanh
    [(3,), (2,), (2,)]
    >>> [round(v, 4) for v in cuts[1].tolist()]
    [0.6, 0.6]

    Notes
    -----
    The forward evaluation of segments ``1..upto``.
    """
    L = len(segs)
    upto = L if upto is None else upto
    env: dict[int, Any] = dict(prog.consts)
    for vid, val in zip(prog.inputs, args, strict=True):
        env[vid] = val
    in_segment = {id(op) for seg in segs for op in seg.ops}
    run_ops((op for op in prog.ops if id(op) not in in_segment), env, lenient=True)
    cuts = {0: _flat([env[v] for v in segs[0].ins], dtype)}
    for l in range(1, upto + 1):
        run_ops(segs[l - 1].ops, env)
        cuts[l] = _flat([read(env, a) for a in segs[l - 1].outs], dtype)
    return env, cuts


def _dense(block: Any) -> Any:
    import jax.numpy as jnp

    return jnp.diag(block) if block.ndim == 1 else block


def run_plan(
    plan: MatrixFreePlan,
    prog: Program,
    segs: Sequence[Segment],
    args: Sequence[Any],
    dtype: Any,
) -> Any:
    """The ``(d_L, d_0)`` Jacobian of the segmented program at ``args``, as ``plan`` says.

    Parameters
    ----------
    plan : MatrixFreePlan
        Over the links of ``segs`` (same count and shapes).
    prog, segs : Program, sequence of Segment
    args : sequence
        The flat positional leaves of the function's arguments.
    dtype : dtype
        The dtype of the flat blocks.

    Examples
    --------
    >>> import jax, jax.numpy as jnp
    >>> from chainorder.jax.api import jacobian
    >>> f = lambda x: jnp.tanh(x @ jnp.ones((3, 2)))
    >>> x = jnp.array([0.1, 0.2, 0.3])
    >>> prep = jacobian(f, measure=False).prepared(x)  # two segments: the matmul, the tanh
    >>> J = run_plan(prep.plans["reverse"].plan, prep.prog, prep.segs, [x], prep.dtype)
    >>> J.shape, bool(jnp.allclose(J, jax.jacfwd(f)(x)))
    ((2, 3), True)

    Notes
    -----
    The plan's sweeps and products, plus one forward evaluation and one more forward per
    sweep (the primal of ``jvp``/``vjp``, shared by the seeds).
    """
    import jax
    import jax.numpy as jnp

    starts = [0]
    for node in plan.nodes:
        if node.action == "tangent":
            starts.append(node.split - 1)
        elif node.action in ("adjoint", "diagonal"):
            starts.append(node.lo - 1)
    env, x = forward_cuts(prog, segs, args, dtype, max(starts))
    env = dict(env)  # the sweeps read the weights as run-time values in a fast layout
    swept = {l for n in plan.nodes if n.action == "tangent" for l in range(n.split, n.hi + 1)}
    opaque_operands(env, segs, [segs[l - 1] for l in sorted(swept)])
    arrays: dict[int, Any] = {}
    for i, node in enumerate(plan.nodes):
        if node.action == "diagonal":
            g = segment_fn(prog, segs[node.lo - 1 : node.lo], env, dtype)
            x0 = x[node.lo - 1]
            arrays[i] = jax.jvp(g, (x0,), (jnp.ones_like(x0),))[1]
        elif node.action == "tangent":
            g = segment_fn(prog, segs[node.split - 1 : node.hi], env, dtype)
            x0 = x[node.split - 1]
            if node.right >= 0:
                block, axis = _dense(arrays.pop(node.right)), 1  # seeds are its columns
            else:  # the identity's rows, as jax.jacfwd seeds them
                block, axis = jnp.eye(x0.shape[0], dtype=dtype), 0

            def push(t: Any, g: Any = g, x0: Any = x0) -> Any:
                return jax.jvp(g, (x0,), (t,))[1]

            arrays[i] = jax.vmap(push, in_axes=axis, out_axes=1)(block)
        elif node.action == "adjoint":
            g = segment_fn(prog, segs[node.lo - 1 : node.split - 1], env, dtype)
            y, pull = jax.vjp(g, x[node.lo - 1])
            if node.left >= 0:
                block = _dense(arrays.pop(node.left))
            else:
                block = jnp.eye(y.shape[0], dtype=dtype)
            arrays[i] = jax.vmap(lambda c, pull=pull: pull(c)[0])(block)
        elif node.action == "dense":
            arrays[i] = multiply_stored(arrays.pop(node.left), arrays.pop(node.right))
        else:  # "given" never occurs: segments are not given as arrays
            raise ValueError(f"unexpected plan action {node.action!r}")
    return _dense(arrays.pop(len(plan.nodes) - 1))


def pure_sweep(plan: MatrixFreePlan) -> Any:
    """``jax.jacfwd`` / ``jax.jacrev`` when ``plan`` is one tangent / adjoint sweep over the
    whole chain from the identity (then it runs as that: the same program), else None.

    Examples
    --------
    >>> from chainorder.matfree import pure_adjoint_plan
    >>> from chainorder.matfree.links import custom
    >>> pure_sweep(pure_adjoint_plan([custom(3, 4, 12), custom(2, 3, 6)])).__name__
    'jacrev'

    Notes
    -----
    O(1).
    """
    import jax

    if plan.pure_sweep is None:
        return None
    return jax.jacfwd if plan.pure_sweep == "tangent" else jax.jacrev


def jacfwd_layout(
    jac: Any,
    prog: Program,
    out_ids: Sequence[Any],
    wrt_ids: Sequence[int],
    out_tree: Any,
    arg_trees: Sequence[Any],
    tuple_argnums: bool,
) -> Any:
    """Split the dense Jacobian into ``jax.jacfwd``'s pytree of blocks.

    Block ``(o, i)`` has shape ``out_o.shape + in_i.shape`` and the output leaf's dtype; the
    outer structure is the output pytree, the inner the differentiated arguments' pytree (a
    tuple over them when ``argnums`` is a tuple).

    Examples
    --------
    >>> import jax, jax.numpy as jnp
    >>> from chainorder.jax.api import jacobian
    >>> f = lambda x: jnp.tanh(x @ jnp.ones((3, 2)))
    >>> x = jnp.array([0.1, 0.2, 0.3])
    >>> prep = jacobian(f, measure=False).prepared(x)  # two segments: the matmul, the tanh
    >>> J = run_plan(prep.plan.plan, prep.prog, prep.segs, [x], prep.dtype)
    >>> args = (prep.prog, prep.prog.outputs, prep.wrt, prep.out_tree, prep.arg_trees)
    >>> jacfwd_layout(J, *args, False).shape, type(jacfwd_layout(J, *args, True)).__name__
    ((2, 3), 'tuple')

    Notes
    -----
    O(size of the Jacobian) (reshapes and slices).
    """
    import jax
    import jax.numpy as jnp

    def shape_dtype(a: Any) -> tuple[tuple[int, ...], Any]:
        if isinstance(a, int):
            return prog.avals[a]
        v = jnp.asarray(a.value)
        return tuple(v.shape), v.dtype

    in_shapes = [prog.avals[v][0] for v in wrt_ids]
    in_sizes = [prog.size(v) for v in wrt_ids]
    per_out = []
    r = 0
    for a in out_ids:
        oshape, odtype = shape_dtype(a)
        m = 1
        for s in oshape:
            m *= int(s)
        blocks, c = [], 0
        for ishape, n in zip(in_shapes, in_sizes, strict=True):
            blocks.append(jnp.reshape(jac[r : r + m, c : c + n], oshape + ishape).astype(odtype))
            c += n
        r += m
        inner, k = [], 0
        for tree in arg_trees:
            n_leaves = tree.num_leaves
            inner.append(jax.tree_util.tree_unflatten(tree, blocks[k : k + n_leaves]))
            k += n_leaves
        per_out.append(tuple(inner) if tuple_argnums else inner[0])
    return jax.tree_util.tree_unflatten(out_tree, per_out)

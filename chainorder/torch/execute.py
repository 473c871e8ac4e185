"""Run a matrix-free plan on a traced PyTorch program.

Sweeps and diagonals whose segments all have batched rules run on the **direct route**
(:mod:`chainorder.torch.direct`: one torch call per operation on the whole block, forward
values from one shared forward pass). The others (``direct=False``, or a segment with a
convolution or an operation without a rule) run through ``torch.func``, the **torch.func
route**, each node of the :class:`~chainorder.matfree.MatrixFreePlan` as one call:

``tangent`` sweep over links ``k..j`` on ``s`` seeds
    ``J·t`` for the ``s`` columns of the block (the identity, or the right child's array),
    ``g`` = segments ``k..j`` composed, as the transpose of the pullback: with
    ``pull = vjp(g, x_{k-1})[1]`` (linear in ``u``), ``push = vjp(pull, 0)[1]`` and
    ``vmap(push)`` over the columns. Same products as ``vmap(jvp(g))``, without the zero
    tangent PyTorch's forward mode adds (and copies) for every product with a weight. Through
    a convolution (whose double backward costs more) ``vmap(jvp(g))``.
``adjoint`` sweep over links ``i..k-1`` on ``s`` seeds
    ``vmap(vjp(g, x_{i-1})[1])`` over the ``s`` rows of the block (the identity, or the left
    child's array).
``diagonal``
    One JVP of an elementwise segment on a tensor of ones: the Jacobian's diagonal.
``dense``
    ``left @ right`` (a diagonal factor scales rows or columns).

Blocks are 2-D: ``J_j ⋯ J_i`` as a ``d_j × d_{i-1}`` matrix; the root is reshaped to
``out_shape + in_shape`` (the layout of :func:`torch.func.jacrev`). Each sweep evaluates its
segments once more outside ``vmap``'s batch; the plan's mults count the derivative work,
:func:`forward_mults` the rest.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from chainorder.matfree.plan import MatrixFreePlan

__all__ = ["forward_mults", "needed_cuts", "run_plan", "transposed_tangent"]


def needed_cuts(plan: MatrixFreePlan) -> frozenset[int]:
    """The cut values ``x_l`` the plan's sweeps and diagonals start from.

    Examples
    --------
    >>> from chainorder.matfree import dense, elementwise, plan_matrix_free, pure_tangent_plan
    >>> needed_cuts(pure_tangent_plan([dense(4, 3), elementwise(4, "tanh")]))
    frozenset({0})
    >>> sorted(needed_cuts(plan_matrix_free("4096,64,tanh,4096,tanh,64,tanh,4096")))
    [0, 5, 6]

    Notes
    -----
    O(nodes).
    """
    out = {0}
    for node in plan.nodes:
        if node.action == "tangent":
            out.add(node.split - 1)
        elif node.action in ("adjoint", "diagonal"):
            out.add(node.lo - 1)
    return frozenset(out)


def forward_mults(plan: MatrixFreePlan, chain: Any = None, direct: bool = True) -> int:
    """Mults of the evaluations a run makes besides the plan's derivative work.

    One forward pass through segment :func:`chainorder.torch.direct.forward_extent`; on the
    direct route nothing more. A node on the ``torch.func`` route (``direct=False``, a
    segment without batched rules, or ``chain`` None) also evaluates its segments outside
    ``vmap``'s batch: an adjoint sweep once; a tangent sweep run as the transpose of the
    pullback (:func:`transposed_tangent`; assumed when ``chain`` is None) once, and pulls one
    seed back through them; a ``jvp`` (other tangent sweeps, diagonals) twice.

    Examples
    --------
    >>> from chainorder.matfree import dense, elementwise, pure_tangent_plan
    >>> forward_mults(pure_tangent_plan([dense(4, 3), elementwise(4, "tanh")]))
    32

    Notes
    -----
    O(nodes · L).
    """
    from chainorder.torch.direct import forward_extent, node_is_direct

    if chain is None:
        last = max(needed_cuts(plan))
    else:
        last = forward_extent(plan, chain, direct)
    total = sum(link.forward for link in plan.links[:last])
    for node in plan.nodes:
        if chain is not None and direct and node.swept() and node_is_direct(chain, node):
            continue
        swept = [plan.links[l - 1] for l in node.swept()]
        if node.action == "diagonal":  # jvp evaluates the primal twice (PyTorch's flop registry)
            total += 2 * sum(link.forward for link in swept)
        elif node.action == "adjoint":
            total += sum(link.forward for link in swept)
        elif node.action == "tangent" and (chain is None or transposed_tangent(chain, node)):
            total += sum(link.forward + link.adjoint for link in swept)  # and one seed pulled
        elif node.action == "tangent":  # jvp: the primal twice
            total += 2 * sum(link.forward for link in swept)
    return total


def transposed_tangent(chain: Any, node: Any) -> bool:
    """Whether a tangent sweep runs as the transpose of the pullback (:func:`run_plan`):
    yes unless it crosses a convolution, whose double backward costs more than its JVP.

    Examples
    --------
    >>> import torch
    >>> from chainorder.matfree import pure_tangent_plan
    >>> from chainorder.torch.graph import build_chain, trace
    >>> net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Tanh())
    >>> chain = build_chain(trace(net), [torch.ones(3)])
    >>> sweep = next(n for n in pure_tangent_plan(chain.links).nodes if n.action == "tangent")
    >>> transposed_tangent(chain, sweep)  # no convolution crossed
    True

    Notes
    -----
    O(nodes of the swept segments).
    """
    return not any(
        "conv" in c.label.lower() for l in node.swept() for c in chain.segments[l - 1].costs
    )


def run_plan(plan: MatrixFreePlan, chain: Any, args: Sequence[Any], direct: bool = True) -> Any:
    """The Jacobian of ``chain`` at ``args`` computed in the order of ``plan``.

    Parameters
    ----------
    plan : MatrixFreePlan
        A plan over ``chain.links``.
    chain : chainorder.torch.graph.TorchChain
    args : sequence
        The program's arguments.
    direct : bool
        Run every sweep and diagonal whose segments all have batched rules on the direct
        route (:mod:`chainorder.torch.direct`: one torch call per operation, forward values
        from one shared forward pass); False: every one through ``torch.func``.

    Returns
    -------
    torch.Tensor
        Shape ``out_shape + in_shape``.

    Examples
    --------
    >>> import torch
    >>> from chainorder.matfree import pure_adjoint_plan
    >>> from chainorder.torch.graph import build_chain, trace
    >>> net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Tanh()).double()
    >>> x = torch.ones(3, dtype=torch.float64)
    >>> chain = build_chain(trace(net), [x])
    >>> plan = pure_adjoint_plan(chain.links)
    >>> J = torch.func.jacrev(net)(x)
    >>> all(bool(torch.allclose(run_plan(plan, chain, [x], d), J)) for d in (True, False))
    True

    Notes
    -----
    ``plan.mults`` multiplications of derivative work plus :func:`forward_mults`.
    """
    import torch

    from chainorder.torch.direct import forward_pass, node_is_direct

    env, cache = forward_pass(plan, chain, args, direct)
    x0 = args[chain.argnums]
    xs = {0: x0}
    for l, seg in enumerate(chain.segments, start=1):
        if seg.nodes[-1].name in env:
            xs[l] = env[seg.nodes[-1].name]
    key = ("routes", id(plan), direct)
    if chain.memo.get(key, (None,))[0] is not plan:
        sweeps = ("tangent", "adjoint", "diagonal")
        routes = [n.action in sweeps and direct and node_is_direct(chain, n) for n in plan.nodes]
        chain.memo[key] = (plan, routes)
    routes = chain.memo[key][1]
    results: list[Any] = []
    for node, on_direct in zip(plan.nodes, routes, strict=True):
        if on_direct:
            results.append(_direct(plan, node, chain, env, cache, results, x0))
        elif node.action == "diagonal":
            seg, x = node.lo, xs[node.lo - 1]
            ones = torch.ones_like(x)
            _, t = torch.func.jvp(lambda v, s=seg: chain.run(env, s, s, v), (x,), (ones,))
            results.append(t.reshape(-1))
        elif node.action == "tangent":
            results.append(_tangent(plan, node, chain, env, xs, results, x0))
        elif node.action == "adjoint":
            results.append(_adjoint(plan, node, chain, env, xs, results, x0))
        elif node.action == "dense":
            results.append(_product(results[node.left], results[node.right], node))
        else:  # "given": the chain's links are never given
            raise AssertionError(f"internal error: action {node.action!r} on a traced chain")
        for child in (node.left, node.right):
            if child >= 0:
                results[child] = None  # free as soon as the parent exists
    root = results[-1]
    if plan.root.diagonal:
        root = torch.diag(root)
    return _shaped(root, (*chain.out_shape, *chain.in_shape))


def _shaped(t: Any, shape: tuple[int, ...]) -> Any:
    """``t.reshape(shape)``, or ``t`` itself when it has that shape (no view dispatched)."""
    return t if tuple(t.shape) == tuple(shape) else t.reshape(shape)


def _direct(plan, node, chain, env, cache, results, x0) -> Any:
    """One sweep or diagonal on the direct route; blocks as in the plan (``d × s`` after a
    tangent sweep, ``s × d`` after an adjoint sweep)."""
    import torch

    from chainorder.torch.direct import adjoint_block, diagonal_block, tangent_block

    if node.action == "diagonal":
        return diagonal_block(chain, env, cache, node.lo, x0.device)
    if node.action == "tangent":
        k, j = node.split, node.hi
        n_in = plan.links[k - 1].cols
        if node.right < 0:
            block = torch.eye(n_in, dtype=x0.dtype, device=x0.device)
        else:
            block = _block(results, node.right, n_in, x0).T
        block = _shaped(block, (block.shape[0], *chain.cut_shape(k - 1)))
        out = tangent_block(chain, env, cache, k, j, block)
        return _shaped(out, (out.shape[0], math.prod(out.shape[1:]))).T
    i, k = node.lo, node.split
    m_out = plan.links[node.hi - 1].rows
    block = _block(results, node.left, m_out, x0)
    block = _shaped(block, (block.shape[0], *chain.cut_shape(k - 1)))
    out = adjoint_block(chain, env, cache, i, k - 1, block)
    return _shaped(out, (out.shape[0], math.prod(out.shape[1:])))


def _block(results: list[Any], child: int, size: int, like: Any) -> Any:
    import torch

    if child < 0:
        return torch.eye(size, dtype=like.dtype, device=like.device)
    block = results[child]
    return torch.diag(block) if block.dim() == 1 else block


def _tangent(plan, node, chain, consts, xs, results, x0) -> Any:  # the torch.func route
    import torch

    k, j = node.split, node.hi
    n_in = plan.links[k - 1].cols
    if node.right < 0:  # the identity is symmetric: no transposed (copied) tangents
        seeds = n_in
        tangents = torch.eye(n_in, dtype=x0.dtype, device=x0.device)
    else:
        block = _block(results, node.right, n_in, x0)  # d_{k-1} × s
        seeds = block.shape[1]
        tangents = block.T
    tangents = tangents.reshape(seeds, *chain.cut_shape(k - 1))

    if not transposed_tangent(chain, node):

        def jvp(t: Any) -> Any:
            return torch.func.jvp(lambda v: chain.run(consts, k, j, v), (xs[k - 1],), (t,))[1]

        return torch.func.vmap(jvp)(tangents).reshape(seeds, -1).T
    # J·t as the transpose of the VJP: u -> Jᵀu is linear, its VJP at any u is t -> J·t.
    # PyTorch's forward-mode rule for a product with a constant weight adds a zero tangent
    # and copies the batched block (about 2.6× the time of the product itself); the
    # transposed pullback is the plain product. Contiguous seeds keep vmap on one matmul.
    tangents = tangents.contiguous()
    _, pull = torch.func.vjp(lambda v: chain.run(consts, k, j, v), xs[k - 1])
    u0 = torch.zeros(chain.cut_shape(j), dtype=x0.dtype, device=x0.device)
    _, push = torch.func.vjp(lambda u: pull(u)[0], u0)
    out = torch.func.vmap(lambda t: push(t)[0])(tangents)  # s × out_shape
    return out.reshape(seeds, -1).T


def _adjoint(plan, node, chain, consts, xs, results, x0) -> Any:
    import torch

    i, k = node.lo, node.split
    m_out = plan.links[node.hi - 1].rows
    block = _block(results, node.left, m_out, x0)  # s × d_{k-1}
    seeds = block.shape[0]
    cotangents = block.reshape(seeds, *chain.cut_shape(k - 1))
    _, pull = torch.func.vjp(lambda v: chain.run(consts, i, k - 1, v), xs[i - 1])
    out = torch.func.vmap(pull)(cotangents)[0]  # s × in_shape
    return out.reshape(seeds, -1)


def _product(left: Any, right: Any, node: Any) -> Any:
    if left.dim() == 1 and right.dim() == 1:
        return left * right
    if left.dim() == 1:
        return left[:, None] * right
    if right.dim() == 1:
        return left * right[None, :]
    return left @ right

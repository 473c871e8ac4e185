"""The direct route: sweeps made of explicit batched rules, one torch call per operation.

Where every node of the swept segments has a rule (:mod:`chainorder.torch.rules`), a sweep
pushes its whole block of seeds through each node with one batched call (``T @ Wᵀ`` through
a Linear, ``T * f'`` through an activation, ...) using the forward values of **one** forward
pass, shared by every sweep of the plan. The ``torch.func`` route (:mod:`~.execute`) wraps each
sweep in ``vjp``/``vmap``/``jvp``, which dispatches several times as many aten operations
(functorch's batching and forward-mode machinery) and re-evaluates the swept segments; on a GPU
each operation is a kernel launch, and at the suite's sizes the launches, not the mults, set
the time.

What the direct route computes, in mults: the plan's derivative work (``seeds × tangent`` or
``adjoint`` per swept segment, the dense products) plus one forward pass through segment
:func:`forward_extent` (the last segment whose rules read forward values); nothing is evaluated
twice. Blocks are seeds-first: ``(s, *shape)``.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "adjoint_block",
    "diagonal_block",
    "forward_extent",
    "forward_pass",
    "node_is_direct",
    "tangent_block",
]


def node_is_direct(chain: Any, node: Any) -> bool:
    """Whether plan ``node`` (a sweep or diagonal) can run on the direct route: every node of
    the segments it sweeps has a batched rule.

    Examples
    --------
    >>> import torch
    >>> from chainorder.matfree import pure_adjoint_plan
    >>> from chainorder.torch.graph import build_chain, trace
    >>> net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Tanh())
    >>> chain = build_chain(trace(net), [torch.ones(3)])
    >>> node_is_direct(chain, pure_adjoint_plan(chain.links).root)
    True

    Notes
    -----
    O(nodes of the swept segments).
    """
    swept = list(node.swept())
    return bool(swept) and all(chain.direct(l) for l in swept)


def forward_extent(plan: Any, chain: Any, direct: bool = True) -> int:
    """The last segment the run's one forward pass evaluates (0: constants only).

    The direct nodes need the values of every swept segment whose rules read them (an
    activation's derivative, LayerNorm's statistics; a Linear only its weight); the other
    nodes (the ``torch.func`` route) need the cut value their sweep starts from.

    Examples
    --------
    >>> import torch
    >>> from chainorder.matfree import pure_tangent_plan
    >>> from chainorder.torch.graph import build_chain, trace
    >>> net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    >>> chain = build_chain(trace(net), [torch.ones(3)])
    >>> forward_extent(pure_tangent_plan(chain.links), chain)  # tanh's derivative: through 2
    2
    >>> forward_extent(pure_tangent_plan(chain.links), chain, direct=False)  # from x_0
    0

    Notes
    -----
    O(nodes of the plan's segments).
    """
    last = 0
    for node in plan.nodes:
        if node.action not in ("tangent", "adjoint", "diagonal"):
            continue
        if direct and node_is_direct(chain, node):
            reads = [l for l in node.swept() if chain.reads_values(l)]
            last = max([last, *reads])
        elif node.action == "tangent":
            last = max(last, node.split - 1)
        else:
            last = max(last, node.lo - 1)
    return last


def forward_pass(plan: Any, chain: Any, args: Any, direct: bool = True) -> tuple[dict, dict]:
    """The run's one forward pass: ``(env, cache)``.

    ``env`` holds the constants, the cut values the ``torch.func`` route's nodes start from
    and the values that rules without a ``prepare`` step read (a product of two dependent
    values); every other dependent value is dropped as soon as the pass has used it. ``cache``
    holds the derivatives the direct nodes' rules prepare (``1 - y²`` of a tanh, LayerNorm's
    statistics), computed while their inputs are alive.

    Examples
    --------
    >>> import torch
    >>> from chainorder.matfree import pure_adjoint_plan
    >>> from chainorder.torch.graph import build_chain, trace
    >>> net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    >>> chain = build_chain(trace(net), [torch.ones(3)])
    >>> env, cache = forward_pass(pure_adjoint_plan(chain.links), chain, [torch.ones(3)])
    >>> [name for name in cache], [n for n in env if n.startswith("_")]  # tanh's 1 - y²
    (['_1'], [])

    Notes
    -----
    One evaluation of the program through :func:`forward_extent`.
    """
    key = ("forward", id(plan), direct)
    if chain.memo.get(key, (None,))[0] is not plan:
        chain.memo[key] = (plan, *_layout(plan, chain, direct))
    _, last, keep, prep, late = chain.memo[key]
    cache: dict[str, Any] = {}

    def hook(node: Any, env: dict[str, Any]) -> None:
        rule = prep.get(node.name)
        if rule is not None:
            args, out = _inputs(chain, node, env)
            cache[node.name] = rule.prepare(args, out)

    env = chain.values(args, last, keep, hook, late)
    return env, cache


def _layout(plan: Any, chain: Any, direct: bool) -> tuple[int, frozenset, dict, frozenset]:
    """The forward pass's extent, the values it keeps, the rules it prepares and those of
    them that read their inputs (derived once per plan)."""
    keep: set[str] = set()
    prep: dict[str, Any] = {}
    for node in plan.nodes:
        if node.action not in ("tangent", "adjoint", "diagonal"):
            continue
        if direct and node_is_direct(chain, node):
            for l in node.swept():
                for n in chain.segments[l - 1].nodes:
                    rule = chain.rules[n.name]
                    if rule.prepare is not None:
                        prep[n.name] = rule
                    elif rule.values:
                        keep.update(a.name for a in n.all_input_nodes)
        else:
            cut = node.split - 1 if node.action == "tangent" else node.lo - 1
            if cut > 0:
                keep.add(chain.segments[cut - 1].nodes[-1].name)
    late = frozenset(name for name, rule in prep.items() if not rule.output_only)
    return forward_extent(plan, chain, direct), frozenset(keep), prep, late


def _inputs(chain: Any, node: Any, env: dict[str, Any]) -> tuple[Any, Any]:
    """The node's positional arguments and value: forward values where the pass reached it,
    shape-only tensors otherwise (rules that read only shapes)."""
    import torch.fx

    meta = chain.meta

    def value(n: Any) -> Any:
        v = env.get(n.name)
        return meta[n.name] if v is None else v

    args = torch.fx.node.map_arg(node.args, value)
    out = env.get(node.name)
    return args, meta[node.name] if out is None else out


def _prepared(rule: Any, node: Any, args: Any, out: Any, cache: dict[str, Any]) -> Any:
    if rule.prepare is None:
        return None
    if node.name not in cache:
        cache[node.name] = rule.prepare(args, out)
    return cache[node.name]


def _nodes(chain: Any, first: int, last: int) -> list[Any]:
    return [n for seg in chain.segments[first - 1 : last] for n in seg.nodes]


def _last_use(nodes: list[Any]) -> dict[str, int]:
    """Position of the last node (in ``nodes``) reading each value."""
    out: dict[str, int] = {}
    for i, node in enumerate(nodes):
        for n in node.all_input_nodes:
            out[n.name] = i
    return out


def tangent_block(chain: Any, env: dict[str, Any], cache: dict[str, Any], first: int,
                  last: int, block: Any) -> Any:  # fmt: skip
    """Push the tangent ``block`` (``(s, *x_{first-1}.shape)``) through segments
    ``first..last``: ``(s, *x_last.shape)``. ``env``: forward values and constants; ``cache``:
    the rules' prepared derivatives of this call (filled on first use).

    Examples
    --------
    >>> import torch
    >>> from chainorder.torch.graph import build_chain, trace
    >>> net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Tanh()).double()
    >>> x = torch.ones(3, dtype=torch.float64)
    >>> chain = build_chain(trace(net), [x])
    >>> T = tangent_block(chain, chain.values([x], 2), {}, 1, 2, torch.eye(3).double())
    >>> bool(torch.allclose(T.T, torch.func.jacfwd(net)(x)))
    True

    Notes
    -----
    One batched call per rule operation: ``s ×`` the segments' tangent mults.
    """
    if ("range", first, last) not in chain.memo:
        nodes = _nodes(chain, first, last)
        chain.memo["range", first, last] = (nodes, _last_use(nodes))
    nodes, dying = chain.memo["range", first, last]
    tans = {chain.segments[first - 1].start: block}
    for i, node in enumerate(nodes):
        rule = chain.rules[node.name]
        args, out = _inputs(chain, node, env)
        parts = [tans[node.args[p].name] for p in rule.deps]
        prep = _prepared(rule, node, args, out, cache)
        tans[node.name] = rule.tangent(args, out, prep, parts)
        for n in node.all_input_nodes:
            if dying.get(n.name) == i:
                tans.pop(n.name, None)
    return tans[nodes[-1].name]


def adjoint_block(chain: Any, env: dict[str, Any], cache: dict[str, Any], first: int,
                  last: int, block: Any) -> Any:  # fmt: skip
    """Pull the cotangent ``block`` (``(s, *x_last.shape)``) back through segments
    ``last..first``: ``(s, *x_{first-1}.shape)``.

    Examples
    --------
    >>> import torch
    >>> from chainorder.torch.graph import build_chain, trace
    >>> net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Tanh()).double()
    >>> x = torch.ones(3, dtype=torch.float64)
    >>> chain = build_chain(trace(net), [x])
    >>> A = adjoint_block(chain, chain.values([x], 2), {}, 1, 2, torch.eye(2).double())
    >>> bool(torch.allclose(A, torch.func.jacrev(net)(x)))
    True

    Notes
    -----
    One batched call per rule operation (plus one addition where a value has several users):
    ``s ×`` the segments' adjoint mults.
    """
    nodes = _nodes(chain, first, last)
    cots = {nodes[-1].name: block}
    for node in reversed(nodes):
        g = cots.pop(node.name, None)
        if g is None:  # a dependent value that does not reach the output
            continue
        rule = chain.rules[node.name]
        args, out = _inputs(chain, node, env)
        prep = _prepared(rule, node, args, out, cache)
        for p, c in zip(rule.deps, rule.adjoint(args, out, prep, g), strict=True):
            name = node.args[p].name
            cots[name] = cots[name] + c if name in cots else c
    return cots[chain.segments[first - 1].start]


def diagonal_block(
    chain: Any, env: dict[str, Any], cache: dict[str, Any], l: int, device: Any = None
) -> Any:
    """The diagonal of elementwise segment ``l``'s Jacobian (flat): the rule's prepared
    derivative where the segment is one activation, else the tangent of a block of ones.

    Examples
    --------
    >>> import torch
    >>> from chainorder.torch.graph import build_chain, trace
    >>> net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Tanh())
    >>> x = torch.ones(3)
    >>> chain = build_chain(trace(net), [x])
    >>> d = diagonal_block(chain, chain.values([x], 2), {}, 2)
    >>> bool(torch.allclose(d, 1 - net(x) ** 2))
    True

    Notes
    -----
    One to three torch calls of ``d_l`` elements.
    """
    import torch

    seg = chain.segments[l - 1]
    if len(seg.nodes) == 1 and chain.rules[seg.nodes[0].name].elementwise:
        node = seg.nodes[0]
        rule = chain.rules[node.name]
        args, out = _inputs(chain, node, env)
        d = _prepared(rule, node, args, out, cache)
        d = d if d.dtype == out.dtype else d.to(out.dtype)
        return d if d.dim() == 1 else d.reshape(-1)
    x = env[seg.start] if seg.start in env else chain.meta[seg.start]
    device = _device(env, chain) if device is None else device  # (the call's input's)
    ones = torch.ones((1, *seg.in_shape), dtype=x.dtype, device=device)
    return tangent_block(chain, env, cache, l, l, ones).reshape(-1)


def _device(env: dict[str, Any], chain: Any) -> Any:
    return next(v.device for v in env.values() if hasattr(v, "device") and v.device.type != "meta")

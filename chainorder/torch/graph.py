"""From a PyTorch function or module to a chain of segments: trace, evaluate, price, cut.

:func:`trace` runs :func:`torch.fx.symbolic_trace`; :func:`build_chain` evaluates the graph
once on example arguments (recording every node's output), marks the nodes that depend on the
differentiated argument, prices each with :func:`chainorder.torch.pricing.price_node` and cuts
the graph at its **cut points**: dependent tensor nodes that every path from the input to the
output passes through (in the fx order, no dependent value made before the node is used after
it). Between two cut points lies one segment, a link ``x_{l-1} -> x_l`` of the matrix-free chain
(:class:`chainorder.matfree.LinkCost`): its JVP/VJP cost per seed is the sum of its nodes'.
A segment of one elementwise node with equal input and output shapes, whose other nodes
leave elements in place (reshapes, additions), is an ``elementwise`` link (diagonal Jacobian);
segments costing nothing (reshapes, additions of constants) are merged into a neighbour.
Values that do not depend on the input (parameters, other arguments, shapes) are constants,
evaluated again on every call (:meth:`TorchChain.forward`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from chainorder.errors import DtypeError, SpecError, TraceError
from chainorder.matfree.links import LinkCost, custom, elementwise
from chainorder.torch.pricing import OpCost, keeps_positions, price_node

__all__ = ["DTYPES", "Segment", "TorchChain", "build_chain", "trace"]

#: The dtypes of the differentiated argument (those the cost model knows the bytes of).
DTYPES: tuple[str, ...] = ("float16", "float32", "float64")


def trace(f: Callable[..., Any]) -> Any:
    """``torch.fx.symbolic_trace(f)`` with a one-line :class:`TraceError` when it fails.

    Examples
    --------
    >>> import torch
    >>> gm = trace(torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Tanh()))
    >>> [n.op for n in gm.graph.nodes]
    ['placeholder', 'call_module', 'call_module', 'output']

    Notes
    -----
    O(size of the traced program).
    """
    import torch.fx

    if not callable(f):
        raise TraceError(f"expected a function or nn.Module, got {type(f).__name__}")
    try:
        return torch.fx.symbolic_trace(f)
    except Exception as exc:  # fx raises many kinds (TraceError, TypeError, ...)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TraceError(
            f"torch.fx cannot trace {getattr(f, '__name__', type(f).__name__)}: {first} "
            "(data-dependent control flow is not traceable)"
        ) from None


@dataclass(frozen=True)
class Segment:
    """Link ``l`` of the chain: the fx nodes from cut point ``l-1`` (exclusive) to ``l``."""

    index: int
    nodes: tuple[Any, ...]
    start: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    costs: tuple[OpCost, ...]
    link: LinkCost

    @property
    def label(self) -> str:
        """The operations of the segment, e.g. ``Linear+tanh``."""
        words = [c.label for c in self.costs if c.tangent or c.adjoint]
        return "+".join(words) if words else "reshape"

    @property
    def products(self) -> int:
        """Mults per seed in matrix products and convolutions (FlopCounterMode's share)."""
        return sum(c.products for c in self.costs)


class TorchChain:
    """A traced program cut into segments; evaluates segments for the executor."""

    def __init__(
        self,
        gm: Any,
        argnums: int,
        segments: Sequence[Segment],
        dependent: frozenset[str],
        rules: dict[str, Any] | None = None,
        meta: dict[str, Any] | None = None,
    ):
        self.gm = gm
        #: node name -> its batched rule (:func:`chainorder.torch.rules.compile_node`) or None
        self.rules = dict(rules or {})
        #: what the executor derives once from a plan or a range (keyed by the plan's id)
        self.memo: dict[Any, Any] = {}
        #: node name -> a shape-only ("meta") tensor of its value (rules that read shapes only)
        self.meta = dict(meta or {})
        self.argnums = argnums
        self.segments = tuple(segments)
        self.links = tuple(s.link for s in self.segments)
        self.dependent = dependent
        self._placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
        self._nodes = [n for n in gm.graph.nodes if n.op not in ("placeholder", "output")]
        self.n_args = len(self._placeholders)
        self._constants_alone = all(
            not any(i.name in dependent for i in n.all_input_nodes)
            for n in self._nodes
            if n.name not in dependent
        )

    def direct(self, l: int) -> bool:
        """Whether every node of segment ``l`` (1-based) has a batched rule."""
        return all(self.rules.get(n.name) is not None for n in self.segments[l - 1].nodes)

    def reads_values(self, l: int) -> bool:
        """Whether a rule of segment ``l`` reads forward values (not only shapes)."""
        return any(
            getattr(self.rules.get(n.name), "values", True) for n in self.segments[l - 1].nodes
        )

    def values(
        self,
        args: Sequence[Any],
        last: int,
        keep: frozenset[str] | None = None,
        hook: Callable[[Any, dict[str, Any]], None] | None = None,
        late: frozenset[str] = frozenset(),
    ) -> dict[str, Any]:
        """Every value (constants, and the dependent nodes of segments ``1..last``) by name.

        With ``keep``, a dependent value is dropped as soon as the pass no longer reads it,
        unless its name is in ``keep``; ``hook(node, env)`` runs after each evaluation (the
        direct route computes its rules' derivatives there): after the node's dead inputs
        are dropped, or before for the nodes in ``late`` (whose hook reads their inputs).

        Notes
        -----
        One evaluation of the program up to segment ``last`` (all of it when a constant is
        computed from a dependent value).
        """
        if len(args) != self.n_args:
            raise TraceError(f"the function takes {self.n_args} arguments, got {len(args)}")
        env: dict[str, Any] = {p.name: a for p, a in zip(self._placeholders, args, strict=True)}
        if ("values", last) not in self.memo:
            inside = {n.name for s in self.segments[:last] for n in s.nodes}
            run = [
                n
                for n in self._nodes
                if not (self._constants_alone and n.name in self.dependent and n.name not in inside)
            ]
            final: dict[str, int] = {}
            for i, node in enumerate(run):
                for n in node.all_input_nodes:
                    final[n.name] = i
            inputs = [[n.name for n in node.all_input_nodes] for node in run]
            self.memo["values", last] = (run, final, inputs)
        run, final, inputs = self.memo["values", last]
        for i, node in enumerate(run):
            env[node.name] = _evaluate(self.gm, node, env)
            if hook is not None and node.name in late:
                hook(node, env)
            if keep is not None:
                for name in inputs[i]:
                    if name in self.dependent and final.get(name) == i and name not in keep:
                        env.pop(name, None)
            if hook is not None and node.name not in late:
                hook(node, env)
            if keep is not None and node.name not in final and node.name not in keep:
                env.pop(node.name, None)  # read by nothing after it (the hook has run)
        return env

    @property
    def in_shape(self) -> tuple[int, ...]:
        """Shape of the differentiated argument."""
        return self.segments[0].in_shape

    @property
    def out_shape(self) -> tuple[int, ...]:
        """Shape of the output."""
        return self.segments[-1].out_shape

    def cut_shape(self, l: int) -> tuple[int, ...]:
        """Shape of ``x_l``, the value at cut ``l`` (0: the argument)."""
        return self.in_shape if l == 0 else self.segments[l - 1].out_shape

    @property
    def forward_mults(self) -> int:
        """Mults of one evaluation of the priced nodes."""
        return sum(link.forward for link in self.links)

    def forward(
        self, args: Sequence[Any], needed: frozenset[int] | None = None
    ) -> tuple[dict[str, Any], dict[int, Any]]:
        """The constants and the values ``x_l`` at the cut points ``l`` in ``needed``.

        Constants are the values that do not depend on the argument (parameters, other
        arguments, shapes). ``needed`` (default: every ``0..L``) are the cut values a plan
        starts its sweeps from; when that is only ``x_0`` and no constant is computed from a
        dependent value, nothing but the constants is evaluated.

        Notes
        -----
        One evaluation of the program, or of its constants only.
        """
        if len(args) != self.n_args:
            raise TraceError(f"the function takes {self.n_args} arguments, got {len(args)}")
        if needed is None:
            needed = frozenset(range(len(self.segments) + 1))
        env: dict[str, Any] = {p.name: a for p, a in zip(self._placeholders, args, strict=True)}
        if needed <= {0} and self._constants_alone:
            for node in self._nodes:
                if node.name not in self.dependent:
                    env[node.name] = _evaluate(self.gm, node, env)
            return env, {0: args[self.argnums]}
        ends = {s.nodes[-1].name: s.index for s in self.segments}
        xs = {0: args[self.argnums]}
        for node in self._nodes:
            if len(xs) == len(needed) and self._constants_alone and node.name in self.dependent:
                continue  # past the last needed cut: constants only
            env[node.name] = _evaluate(self.gm, node, env)
            if ends.get(node.name) in needed:
                xs[ends[node.name]] = env[node.name]
        consts = {k: v for k, v in env.items() if k not in self.dependent}
        return consts, xs

    def run(self, consts: dict[str, Any], first: int, last: int, x: Any) -> Any:
        """Apply segments ``first..last`` (1-based) to ``x`` (the value at cut ``first-1``)."""
        env = _Overlay(consts)
        for seg in self.segments[first - 1 : last]:
            env[seg.start] = x
            for node in seg.nodes:
                env[node.name] = _evaluate(self.gm, node, env)
            x = env[seg.nodes[-1].name]
        return x


class _Overlay(dict):
    """New values over a shared mapping of constants (never copied)."""

    def __init__(self, base: dict[str, Any]):
        super().__init__()
        self.base = base

    def __missing__(self, key: str) -> Any:
        return self.base[key]


def _evaluate(gm: Any, node: Any, env: dict[str, Any]) -> Any:
    import torch.fx

    args = torch.fx.node.map_arg(node.args, lambda n: env[n.name])
    kwargs = torch.fx.node.map_arg(node.kwargs, lambda n: env[n.name])
    if node.op == "call_module":
        return gm.get_submodule(node.target)(*args, **kwargs)
    if node.op == "call_function":
        return node.target(*args, **kwargs)
    if node.op == "call_method":
        return getattr(args[0], node.target)(*args[1:], **kwargs)
    if node.op == "get_attr":
        value = gm
        for part in node.target.split("."):
            value = getattr(value, part)
        return value
    raise TraceError(f"unexpected fx node {node.op} {node.name}")


def _has_tensor(value: Any) -> bool:
    import torch

    if isinstance(value, torch.Tensor):
        return True
    if isinstance(value, list | tuple):
        return any(_has_tensor(v) for v in value)
    return False


def build_chain(gm: Any, args: Sequence[Any], argnums: int = 0) -> TorchChain:
    """Evaluate, price and cut ``gm`` on ``args`` (see the module notes).

    Parameters
    ----------
    gm : torch.fx.GraphModule
    args : sequence
        Example arguments (the shapes the chain is priced for).
    argnums : int
        The argument differentiated.

    Returns
    -------
    TorchChain

    Raises
    ------
    TraceError
        The output is not one tensor depending on the argument, or the argument is not a
        floating tensor.
    UnsupportedOperationError
        A dependent node without a cost rule.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    >>> chain = build_chain(trace(net), [torch.zeros(3)])
    >>> [(s.label, s.link.rows, s.link.cols, s.link.tangent) for s in chain.segments]
    [('Linear', 4, 3, 12), ('Tanh', 4, 4, 4), ('Linear', 2, 4, 8)]

    Notes
    -----
    One evaluation of the program; O(nodes) beyond it.
    """
    import torch
    import torch.fx

    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
    if len(args) != len(placeholders):
        raise TraceError(f"the function takes {len(placeholders)} arguments, got {len(args)}")
    if not 0 <= argnums < len(args):
        raise SpecError(f"argnums is {argnums}; expected 0..{len(args) - 1}")
    x = args[argnums]
    if not isinstance(x, torch.Tensor):
        raise TraceError(
            f"argument {argnums} must be a floating tensor, got {type(x).__name__}"
        )
    dtype = str(x.dtype).removeprefix("torch.")
    if dtype not in DTYPES:
        raise DtypeError(
            f"argument {argnums} has dtype {dtype}; chainorder.torch differentiates "
            f"{', '.join(DTYPES)} tensors (cast it, e.g. x.float())"
        )
    env: dict[str, Any] = {p.name: a for p, a in zip(placeholders, args, strict=True)}
    dependent = {placeholders[argnums].name}
    order: dict[str, int] = {}
    costs: dict[str, OpCost] = {}
    rules: dict[str, Any] = {}
    output = None
    for pos, node in enumerate(gm.graph.nodes):
        order[node.name] = pos
        if node.op == "placeholder":
            continue
        if node.op == "output":
            output = node
            continue
        env[node.name] = value = _evaluate(gm, node, env)
        inputs = node.all_input_nodes
        if any(n.name in dependent for n in inputs) and _has_tensor(value):
            dependent.add(node.name)
            flags = tuple(isinstance(a, torch.fx.Node) and a.name in dependent for a in node.args)
            a = torch.fx.node.map_arg(node.args, lambda n: env[n.name])
            kw = torch.fx.node.map_arg(node.kwargs, lambda n: env[n.name])
            module = gm.get_submodule(node.target) if node.op == "call_module" else None
            costs[node.name] = price_node(node.op, node.target, a, kw, value, flags, module)
            rules[node.name] = _rule(gm, node, a, kw, value, flags, dependent)
    result = output.args[0] if output is not None else None
    if not isinstance(result, torch.fx.Node) or not isinstance(env.get(result.name), torch.Tensor):
        raise TraceError("the function must return one tensor (tuples are not supported)")
    if result.name not in dependent or result.name == placeholders[argnums].name:
        raise TraceError(f"the output does not depend on argument {argnums} through any operation")
    segments = _segments(gm, env, dependent, order, costs, result)
    meta = {
        name: torch.empty(env[name].shape, dtype=env[name].dtype, device="meta")
        for name in dependent
        if isinstance(env.get(name), torch.Tensor)
    }
    return TorchChain(gm, argnums, segments, frozenset(dependent), rules, meta)


def _rule(gm, node, args, kwargs, value, flags, dependent) -> Any:
    """The node's batched rule, or None (no rule, or a dependent value it cannot see)."""
    import torch.fx

    from chainorder.torch.rules import compile_node

    direct = {a.name for a in node.args if isinstance(a, torch.fx.Node) and a.name in dependent}
    if {n.name for n in node.all_input_nodes if n.name in dependent} != direct:
        return None  # a dependent value inside a list or a keyword argument
    deps = tuple(i for i, f in enumerate(flags) if f)
    try:
        return compile_node(gm, node, tuple(args), dict(kwargs), value, deps)
    except Exception:  # an unusual signature: no batched rule, the torch.func route runs it
        return None


def _segments(gm, env, dependent, order, costs, result) -> list[Segment]:
    """Cut at the cut points (see the module notes), then merge segments that cost nothing."""
    import torch

    nodes = [n for n in gm.graph.nodes if n.name in dependent and n.op != "placeholder"]
    nodes = [n for n in nodes if order[n.name] <= order[result.name]]
    start = next(n for n in gm.graph.nodes if n.name in dependent and n.op == "placeholder")
    reach = order[start.name]
    for u in start.users:
        reach = max(reach, order[u.name])
    groups: list[list[Any]] = [[]]
    cuts = [start]
    for node in nodes:
        groups[-1].append(node)
        pos = order[node.name]
        if reach <= pos and isinstance(env[node.name], torch.Tensor) and node is not result:
            cuts.append(node)
            groups.append([])
        for u in node.users:
            if u.name in dependent or u.op == "output":
                reach = max(reach, order[u.name])
    cuts.append(result)
    groups = [g for g in groups if g]
    merged: list[tuple[Any, list[Any], Any]] = []  # (start cut, nodes, end cut)
    for i, group in enumerate(groups):
        if _free(group, costs) and merged:
            merged[-1][1].extend(group)
            merged[-1] = (merged[-1][0], merged[-1][1], group[-1])
        elif merged and _free(merged[-1][1], costs):  # a free segment before: absorb it
            first, body, _ = merged.pop()
            merged.append((first, body + group, group[-1]))
        else:
            merged.append((cuts[i], list(group), group[-1]))
    out = []
    for index, (first, group, last) in enumerate(merged, start=1):
        in_shape = tuple(env[first.name].shape)
        out_shape = tuple(env[last.name].shape)
        seg_costs = tuple(costs[n.name] for n in group)
        out.append(
            Segment(index, tuple(group), first.name, in_shape, out_shape, seg_costs,
                    _link(seg_costs, in_shape, out_shape))
        )  # fmt: skip
    return out


def _free(group: list[Any], costs: dict[str, OpCost]) -> bool:
    return all(costs[n.name].tangent == 0 and costs[n.name].adjoint == 0 for n in group)


def _link(seg_costs: tuple[OpCost, ...], in_shape, out_shape) -> LinkCost:
    rows, cols = math.prod(out_shape), math.prod(in_shape)
    priced = [c for c in seg_costs if c.tangent or c.adjoint]
    diagonal = all(keeps_positions(c) for c in seg_costs)  # no transpose, no max pool
    if len(priced) == 1 and priced[0].elementwise and in_shape == out_shape and diagonal:
        return elementwise(rows, priced[0].label)
    return custom(
        rows,
        cols,
        sum(c.tangent for c in seg_costs),
        sum(c.adjoint for c in seg_costs),
        tape=sum(c.tape for c in seg_costs),
        forward=sum(c.forward for c in seg_costs),
    )

"""The batched rules themselves, one builder per kind of operation (:mod:`~.rules` picks).

Each builder returns the ``tangent(args, out, prep, tans)`` / ``adjoint(args, out, prep, g)``
functions (and ``prepare(args, out)`` where a derivative is computed from forward values) of
a :class:`chainorder.torch.rules.Rule`; blocks are seeds-first ``(s, *shape)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FROM_OUTPUT",
    "Rule",
    "batch_norm_scale",
    "binary",
    "conv",
    "layer_norm",
    "linear",
    "matmul",
    "mm_last",
    "neg_dim",
    "permute",
    "reduce",
    "reshape",
    "scale",
    "softmax",
    "unary_prepare",
]


@dataclass
class Rule:
    """How one node moves blocks: ``tangent(args, out, prep, tans)`` and ``adjoint(args, out,
    prep, g)``.

    ``args`` are the node's evaluated positional arguments, ``out`` its forward value, ``prep``
    what :attr:`prepare` computed from them once per call (``None`` without it), ``tans`` the
    tangent blocks of the dependent arguments (``deps``, positions in ``args``) and ``g`` the
    cotangent block of the output; ``adjoint`` returns one block per dependent argument.
    ``elementwise``: a diagonal Jacobian whose entries ``prep`` holds (shape of ``out``).
    ``values``: the rule reads forward values (the forward pass must reach the node).
    ``output_only``: ``prepare`` reads the output alone.
    """

    label: str
    deps: tuple[int, ...]
    tangent: Callable[..., Any]
    adjoint: Callable[..., Any]
    prepare: Callable[..., Any] | None = None
    elementwise: bool = False
    values: bool = False
    #: ``prepare`` reads only the output value (the forward pass may drop the inputs first)
    output_only: bool = False


# ---------------------------------------------------------------------------- block helpers
def _lift(t: Any, ndim: int) -> Any:
    """``(s, *shape)`` with unit axes after the seeds so that ``shape`` has ``ndim`` axes (for
    broadcasting against values of ``ndim`` axes)."""
    extra = ndim - (t.dim() - 1)
    if extra <= 0:
        return t
    return t.reshape(t.shape[0], *([1] * extra), *t.shape[1:])


def _unbroadcast(g: Any, shape: tuple[int, ...]) -> Any:
    """Sum a ``(s, *broadcast_shape)`` block down to ``(s, *shape)``."""
    extra = g.dim() - 1 - len(shape)
    if extra > 0:
        g = g.sum(dim=tuple(range(1, 1 + extra)))
    if tuple(g.shape[1:]) != tuple(shape):
        g = g.sum_to_size(g.shape[0], *shape)
    return g


def _to(t: Any, out: Any) -> Any:
    """A tangent ``t`` broadcast to ``(s, *out.shape)``."""
    t = _lift(t, out.dim())
    if tuple(t.shape[1:]) != tuple(out.shape):
        t = t.expand(t.shape[0], *out.shape)
    return t


def neg_dim(d: int, ndim: int) -> int:
    return d - ndim if d >= 0 else d


# ---------------------------------------------------------------------------- rule builders
def mm_last(t: Any, w: Any) -> Any:
    """``t @ w`` for a 2-D ``w`` as one ``mm`` over ``t``'s folded leading axes (``matmul`` of
    a non-contiguous 3-D block would broadcast ``w`` into a ``bmm``)."""
    if t.dim() <= 2:
        return t @ w
    return (t.reshape(-1, t.shape[-1]) @ w).reshape(*t.shape[:-1], w.shape[-1])


def linear(weight: Callable[[Any], Any]) -> tuple[Callable, Callable]:
    def tangent(args, out, prep, tans):
        return mm_last(tans[0], weight(args).t())

    def adjoint(args, out, prep, g):
        return [mm_last(g, weight(args))]

    return tangent, adjoint


#: activations whose derivative :func:`unary_prepare` computes from the output alone
FROM_OUTPUT = frozenset("tanh Tanh sigmoid Sigmoid relu ReLU exp".split())


def unary_prepare(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """The activation's derivative from the forward values, one kernel where the output
    gives it: ``1 - y²`` (tanh) and ``y - y²`` (sigmoid) as one ``addcmul``, ``y > 0`` (relu),
    ``y`` (exp); other functions by one ``torch.func.jvp`` on a tensor of ones."""
    import torch

    ones: dict[Any, Any] = {}  # a 0-d one per (dtype, device), made once

    def prepare(args, out):
        if name in ("tanh", "Tanh"):
            key = (out.dtype, out.device)
            if key not in ones:
                ones[key] = torch.ones((), dtype=out.dtype, device=out.device)
            return torch.addcmul(ones[key], out, out, value=-1)
        if name in ("sigmoid", "Sigmoid"):
            return torch.addcmul(out, out, out, value=-1)
        if name in ("relu", "ReLU"):
            return out > 0
        if name == "exp":
            return out

        x = args[0]
        return torch.func.jvp(lambda v: fn(v, *args[1:]), (x,), (torch.ones_like(x),))[1]

    return prepare


def scale() -> tuple[Callable, Callable]:
    def tangent(args, out, prep, tans):
        return _to(tans[0], out) * prep

    def adjoint(args, out, prep, g):
        return [_unbroadcast(g * prep, tuple(args[0].shape))]

    return tangent, adjoint


def binary(name: str, deps: tuple[int, ...]) -> Rule | None:
    if name in ("add", "sub"):
        sign = -1 if name == "sub" else 1

        def tangent(args, out, prep, tans):
            if len(deps) == 2:
                a, b = _lift(tans[0], out.dim()), _lift(tans[1], out.dim())
                return _to(a + b if sign > 0 else a - b, out)
            t = tans[0] if sign > 0 or deps[0] == 0 else -tans[0]
            return _to(t, out)

        def adjoint(args, out, prep, g):
            res = []
            for pos in deps:
                part = -g if (sign < 0 and pos == 1) else g
                res.append(_unbroadcast(part, tuple(args[pos].shape)))
            return res

        return Rule(name, deps, tangent, adjoint)
    if name == "mul" and len(deps) == 2:

        def tangent(args, out, prep, tans):
            a, b = args[0], args[1]
            return _lift(tans[0], out.dim()) * b + a * _lift(tans[1], out.dim())

        def adjoint(args, out, prep, g):
            a, b = args[0], args[1]
            return [_unbroadcast(g * b, tuple(a.shape)), _unbroadcast(g * a, tuple(b.shape))]

        return Rule(name, deps, tangent, adjoint, values=True)
    if name in ("mul", "truediv", "div") and (name == "mul" or deps == (0,)):
        other = 1 - deps[0]
        divide = name != "mul"

        def tangent(args, out, prep, tans):
            t = _lift(tans[0], out.dim())
            return t / args[other] if divide else t * args[other]

        def adjoint(args, out, prep, g):
            c = args[other]
            return [_unbroadcast(g / c if divide else g * c, tuple(args[deps[0]].shape))]

        return Rule(name, deps, tangent, adjoint)
    return None


def matmul(name: str, deps: tuple[int, ...], args: tuple[Any, ...]) -> Rule | None:
    a, b = args[0], args[1]
    if a.dim() < 2 or b.dim() < 2:
        if len(deps) == 1 and a.dim() == 1 and b.dim() == 2 and deps == (0,):
            return Rule(name, deps, lambda A, o, p, t: t[0] @ A[1],
                        lambda A, o, p, g: [g @ A[1].t()])  # fmt: skip
        if len(deps) == 1 and a.dim() == 2 and b.dim() == 1 and deps == (1,):
            return Rule(name, deps, lambda A, o, p, t: t[0] @ A[0].t(),
                        lambda A, o, p, g: [g @ A[0]])  # fmt: skip
        return None

    def tangent(args, out, prep, tans):
        x, y = args[0], args[1]
        parts = []
        for pos, t in zip(deps, tans, strict=True):
            t = _lift(t, out.dim())
            parts.append(t @ y if pos == 0 else x @ t)
        return parts[0] if len(parts) == 1 else parts[0] + parts[1]

    def adjoint(args, out, prep, g):
        x, y = args[0], args[1]
        res = []
        for pos in deps:
            part = g @ y.transpose(-1, -2) if pos == 0 else x.transpose(-1, -2) @ g
            res.append(_unbroadcast(part, tuple(args[pos].shape)))
        return res

    return Rule(name, deps, tangent, adjoint, values=len(deps) == 2)


def permute(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Rule | None:
    if kwargs:
        return None
    nd = args[0].dim()
    if name == "t":
        perm = list(range(nd))[::-1] if nd == 2 else list(range(nd))
    elif name == "permute":
        dims = args[1] if len(args) == 2 and isinstance(args[1], list | tuple) else args[1:]
        perm = [d % nd for d in dims]
    else:
        if len(args) != 3:
            return None
        perm = list(range(nd))
        i, j = args[1] % nd, args[2] % nd
        perm[i], perm[j] = perm[j], perm[i]
    fwd = [0] + [p + 1 for p in perm]
    inv = [0] * (nd + 1)
    for k, p in enumerate(fwd):
        inv[p] = k
    return Rule(name, (0,), lambda A, o, p, t: t[0].permute(fwd),
                lambda A, o, p, g: [g.permute(inv)])  # fmt: skip


def reduce(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Rule | None:
    if set(kwargs) - {"dim", "keepdim"}:
        return None
    x = args[0]
    dim = args[1] if len(args) > 1 else kwargs.get("dim")
    keep = bool(args[2] if len(args) > 2 else kwargs.get("keepdim", False))
    nd = x.dim()
    if dim is None or (isinstance(dim, list | tuple) and len(dim) == 0):
        dims = tuple(range(nd))
    elif isinstance(dim, int):
        dims = (dim % nd,)
    elif isinstance(dim, list | tuple) and all(isinstance(d, int) for d in dim):
        dims = tuple(sorted(d % nd for d in dim))
    else:
        return None
    count = 1
    for d in dims:
        count *= int(x.shape[d])
    mean = name == "mean"
    shifted = tuple(d + 1 for d in dims)

    def tangent(args, out, prep, tans):
        t = tans[0].sum(dim=shifted, keepdim=keep) if dims else tans[0]
        return t / count if mean else t

    def adjoint(args, out, prep, g):
        if not keep:
            for d in shifted:
                g = g.unsqueeze(d)
        g = g.expand(g.shape[0], *args[0].shape)
        return [g / count if mean else g]

    return Rule(name, (0,), tangent, adjoint)


def softmax(log: bool, dim: int) -> Rule:
    """softmax: ``y·(T - Σ y·T)``, the same symmetric map both ways, as PyTorch's own softmax
    backward kernel on the whole block; log_softmax: ``T - Σ p·T`` / ``G - p·ΣG``."""
    import torch

    def prepare(args, out):
        return out.exp() if log else out

    def tangent(args, out, prep, tans):
        t = tans[0]
        if log:
            return t - (prep * t).sum(dim=dim, keepdim=True)
        return torch._softmax_backward_data(t, prep.expand(t.shape), dim, t.dtype)

    def adjoint(args, out, prep, g):
        if log:
            return [g - prep * g.sum(dim=dim, keepdim=True)]
        return [torch._softmax_backward_data(g, prep.expand(g.shape), dim, g.dtype)]

    label = "log_softmax" if log else "softmax"
    return Rule(label, (0,), tangent, adjoint, prepare, values=True, output_only=True)


def layer_norm(shape: tuple[int, ...], params: Callable[[Any], tuple[Any, Any]], eps: float):
    """LayerNorm ``y = x̂·w + b``: its Jacobian is ``diag(w)·P`` with ``P`` symmetric
    (``rstd·(I - 11ᵀ/n - x̂x̂ᵀ/n)`` per normalised row), so both blocks are PyTorch's own
    layer-norm backward kernel over the whole block (``x`` and the statistics broadcast over
    the seeds): the adjoint with the weight, the tangent without it, then ``·w``."""
    import torch

    def prepare(args, out):
        _, mean, rstd = torch.native_layer_norm(args[0], list(shape), None, None, eps)
        return args[0], mean, rstd

    def pull(block, prep, weight):
        x, mean, rstd = prep
        s = block.shape[0]
        return torch.ops.aten.native_layer_norm_backward(
            block,
            x.expand(s, *x.shape),
            list(shape),
            mean.expand(s, *mean.shape).contiguous(),
            rstd.expand(s, *rstd.shape).contiguous(),
            weight,
            None,
            [True, False, False],
        )[0]

    def tangent(args, out, prep, tans):
        weight = params(args)[0]
        v = pull(tans[0].contiguous(), prep, None)
        return v if weight is None else v * weight

    def adjoint(args, out, prep, g):
        return [pull(g.contiguous(), prep, params(args)[0])]

    return tangent, adjoint, prepare


def conv(d: int, weight: Callable[[Any], Any], stride, padding, dilation, groups: int):
    """Convolution of ``d`` spatial axes with a constant kernel: the tangent block is one
    convolution of the block (seeds folded into the batch axis), the adjoint block one
    ``convolution_backward`` for the input gradient (what autograd runs)."""
    import torch

    fn = {1: torch.nn.functional.conv1d, 2: torch.nn.functional.conv2d}.get(
        d, torch.nn.functional.conv3d
    )
    k = d + 1  # trailing axes of one image: channels and the d spatial axes

    def tangent(args, out, prep, tans):
        t = tans[0]
        folded = t.reshape(-1, *t.shape[-k:])
        y = fn(folded, weight(args), None, stride, padding, dilation, groups)
        return y.reshape(*t.shape[: t.dim() - k], *y.shape[-k:])

    def adjoint(args, out, prep, g):
        x = args[0]
        folded = g.reshape(-1, *g.shape[-k:])
        size = (folded.shape[0], *x.shape[-k:])
        dummy = folded.new_empty(1).expand(size)  # read for its shape only
        gx = torch.ops.aten.convolution_backward(
            folded, dummy, weight(args), None, stride, padding, dilation, False, [0] * d,
            groups, [True, False, False],
        )[0]  # fmt: skip
        return [gx.reshape(g.shape[0], *x.shape)]

    return tangent, adjoint


def batch_norm_scale(module: Any) -> Callable[[Any, Any], Any]:
    """The ``prepare`` of an eval-mode BatchNorm: its diagonal ``γ/√(running_var + ε)`` over
    the output's shape (channels on axis 1: BatchNorm takes batches only)."""
    import torch

    def prepare(args: Any, out: Any) -> Any:
        factor = torch.rsqrt(module.running_var + module.eps)
        if module.weight is not None:
            factor = factor * module.weight
        shape = [1] * out.dim()
        shape[1] = -1
        return factor.to(out.dtype).reshape(shape).expand(out.shape)

    return prepare


def reshape(name: str, out: Any) -> Rule:
    return Rule(
        name,
        (0,),
        lambda A, o, p, t: t[0].reshape(t[0].shape[0], *o.shape),
        lambda A, o, p, g: [g.reshape(g.shape[0], *A[0].shape)],
    )

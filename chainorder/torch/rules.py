"""Explicit tangent and adjoint rules for fx nodes, applied to a whole block of seeds at once.

The direct executor (:mod:`chainorder.torch.direct`) pushes a block of ``s`` tangents (shape
``(s, *value.shape)``, seeds first) through a node as **one** batched torch call per operation,
or pulls a block of ``s`` cotangents back through it, using the forward values of one forward
pass. :func:`compile_node` returns a :class:`Rule` for the nodes it knows and ``None`` for the
others (indexing, concatenation, convolutions with padding modes or string padding, unknown
operations), whose segments keep the ``torch.func`` route.

=============================================  ==========================  =========================
operation                                      tangent block               adjoint block
=============================================  ==========================  =========================
Linear, F.linear (constant weight, + bias)     ``T @ Wᵀ``                  ``G @ W``
Conv1d/2d/3d, F.conv* (zero padding)           conv of the block           convolution_backward
matmul/mm/bmm/@ with a constant ``C``          ``T @ C`` / ``C @ T``       ``G @ Cᵀ`` / ``Cᵀ @ G``
matmul of two dependent values                 ``Ta @ b + a @ Tb``         ``G @ bᵀ``, ``aᵀ @ G``
tanh, sigmoid, relu, exp, gelu, ... (unary)    ``T * f'``                  ``G * f'``
``**`` a constant                              ``T * p·x^(p-1)``           ``G * p·x^(p-1)``
``*`` ``/`` a constant, ``*`` two values       ``T*c``, ``Ta*b + a*Tb``    ``G*c``; ``G*b``, ``G*a``
``+`` ``-`` neg (broadcasting)                 sums                        sums reduced to shape
reshape, view, flatten, squeeze, Flatten, ...  ``T.reshape``               ``G.reshape``
transpose, permute, t                          ``T.permute``               inverse permutation
sum, mean (all or some dims)                   reduction                   broadcast back
softmax                                        ``y·(T - Σ y·T)``           ``y·(G - Σ y·G)``
log_softmax (``p = exp(y)``)                   ``T - Σ p·T``               ``G - p·Σ G``
LayerNorm, F.layer_norm                        normalised-input rule       its transpose
BatchNorm1d/2d/3d (eval)                       ``T * γ/√(var+ε)``          ``G * γ/√(var+ε)``
AvgPool*, AdaptiveAvgPool* (modules)           the pool of the block       ATen's pool backward
MaxPool*, AdaptiveMaxPool* (modules)           gather at the maxima        scatter-add there
=============================================  ==========================  =========================

``f'`` is computed once per call from the forward values (``1 - y²`` for tanh, ``y(1-y)`` for
sigmoid, ``y > 0`` for relu, ``y`` for exp; other unary functions by one ``torch.func.jvp`` on a
tensor of ones) and shared by every seed. The matrix products are those
:mod:`chainorder.torch.pricing` prices (``seeds × products``), so FlopCounterMode counts exactly
the plan's product mults.
"""

from __future__ import annotations

import operator
from typing import Any

from chainorder.torch import rulebook as rk
from chainorder.torch.pool_rules import AVG_POOLS, MAX_POOLS, pool_rule
from chainorder.torch.pricing import _name
from chainorder.torch.rulebook import Rule

__all__ = ["Rule", "compile_node", "direct_operations"]

_RESHAPES = frozenset(
    "view reshape flatten unflatten squeeze unsqueeze contiguous clone Flatten Unflatten "
    "Identity".split()
)
_PERMUTES = frozenset("transpose swapaxes swapdims permute t".split())
_UNARY = frozenset(
    "tanh relu sigmoid exp sin cos gelu silu elu leaky_relu softplus hardtanh mish selu celu "
    "log sqrt rsqrt abs square log1p expm1 relu6 hardswish hardsigmoid Tanh ReLU Sigmoid GELU "
    "SiLU ELU LeakyReLU Softplus Hardtanh Mish SELU CELU ReLU6 Hardswish Hardsigmoid".split()
)
_MATMUL = frozenset("matmul mm bmm".split())


def direct_operations() -> tuple[str, ...]:
    """Names of the operations with an explicit batched rule (the others use ``torch.func``).

    Examples
    --------
    >>> {"Linear", "tanh", "LayerNorm", "matmul"} <= set(direct_operations())
    True
    >>> "Conv2d" in direct_operations(), "cat" in direct_operations()
    (True, False)

    Notes
    -----
    O(R log R) for R names.
    """
    names = _RESHAPES | _PERMUTES | _UNARY | _MATMUL
    names |= {"Linear", "linear", "add", "sub", "neg", "mul", "truediv", "div", "pow", "sum"}
    names |= {"mean", "softmax", "log_softmax", "Softmax", "LogSoftmax", "LayerNorm"}
    names |= {"layer_norm", "Dropout", "Conv1d", "Conv2d", "Conv3d", "conv1d", "conv2d", "conv3d"}
    names |= {"BatchNorm1d", "BatchNorm2d", "BatchNorm3d"} | AVG_POOLS | MAX_POOLS
    return tuple(sorted(names))


# ---------------------------------------------------------------------------- the dispatcher
def compile_node(gm: Any, node: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                 out: Any, deps: tuple[int, ...]) -> Rule | None:  # fmt: skip
    """The batched :class:`Rule` of ``node``, or ``None`` where it has none.

    Parameters
    ----------
    gm : torch.fx.GraphModule
    node : torch.fx.Node
    args, kwargs : tuple, dict
        The node's evaluated arguments (example values: shapes and Python constants are read
        from them once).
    out : torch.Tensor
        The node's value.
    deps : tuple of int
        Positions of the arguments that depend on the differentiated input (no dependent
        keyword arguments: those have no rule).

    Returns
    -------
    Rule or None

    Examples
    --------
    >>> import torch
    >>> from chainorder.torch.graph import trace
    >>> gm = trace(torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Tanh()))
    >>> node = list(gm.graph.nodes)[1]
    >>> x = torch.ones(3)
    >>> rule = compile_node(gm, node, (x,), {}, gm(x), (0,))
    >>> rule.tangent((x,), None, None, [torch.eye(3)]).shape  # 3 seeds through Linear(3, 2)
    torch.Size([3, 2])

    Notes
    -----
    O(1) (a few Python checks); the rules run once per node per call.
    """
    import torch

    if not deps or not isinstance(out, torch.Tensor):
        return None
    module = gm.get_submodule(node.target) if node.op == "call_module" else None
    name = type(module).__name__ if module is not None else _name(node.target)
    if node.op == "call_function" and node.target is operator.getitem:
        return None
    if module is not None:
        return _module_rule(module, name, args, kwargs, out)
    if deps != (0,) and name not in ("add", "sub", "mul", "matmul", "mm", "bmm"):
        return None
    if name == "linear" and len(args) >= 2:
        t, a = rk.linear(lambda A: A[1])
        return Rule(name, deps, t, a)
    if name in ("conv1d", "conv2d", "conv3d") and not kwargs and len(args) >= 2:
        d = int(name[4])
        rest = list(args[3:7])
        stride, padding, dilation, groups = rest + [1, 0, 1, 1][len(rest) :]
        if isinstance(padding, str):
            return None
        t, a = rk.conv(d, lambda A: A[1], _tuple(stride, d), _tuple(padding, d),
                       _tuple(dilation, d), int(groups))  # fmt: skip
        return Rule(name, deps, t, a)
    if kwargs.get("inplace") is False:  # F.relu(x, inplace=False) and the like
        kwargs = {k: v for k, v in kwargs.items() if k != "inplace"}
    if name in _UNARY and len(args) == 1 and not kwargs and out.shape == args[0].shape:
        fn = node.target if node.op == "call_function" else getattr(torch.Tensor, node.target)
        t, a = rk.scale()
        prep = rk.unary_prepare(name, fn)
        return Rule(name, deps, t, a, prep, True, True, name in rk.FROM_OUTPUT)
    if name == "pow" and len(args) == 2 and isinstance(args[1], int | float) and not kwargs:
        t, a = rk.scale()
        p = args[1]
        return Rule(
            name,
            deps,
            t,
            a,
            lambda A, o: A[0] * p if p == 2 else A[0].pow(p - 1).mul_(p),
            True,
            True,
        )
    if name in ("neg",) and not kwargs:
        return Rule(name, deps, lambda A, o, p, t: -t[0], lambda A, o, p, g: [-g])
    if name in ("add", "sub", "mul", "truediv", "div") and len(args) == 2 and not kwargs:
        return rk.binary(name, deps)
    if name in _MATMUL and len(args) == 2 and not kwargs:
        return rk.matmul(name, deps, args)
    if name in _RESHAPES and not kwargs:
        return rk.reshape(name, out)
    if name in _PERMUTES:
        return rk.permute(name, args, kwargs)
    if name in ("sum", "mean"):
        return rk.reduce(name, args, kwargs)
    if name in ("softmax", "log_softmax") and set(kwargs) <= {"dim"}:
        dim = args[1] if len(args) > 1 else kwargs.get("dim")
        return rk.softmax(name == "log_softmax", rk.neg_dim(dim, out.dim())) if isinstance(
            dim, int) else None  # fmt: skip
    if name == "layer_norm" and set(kwargs) <= {"weight", "bias", "eps"}:
        shape = tuple(args[1])
        eps = kwargs.get("eps", args[4] if len(args) > 4 else 1e-5)

        def params(A, kw=kwargs):
            return (A[2] if len(A) > 2 else kw.get("weight"), None)

        t, a, prep = rk.layer_norm(shape, params, eps)
        return Rule(name, deps, t, a, prep, values=True)
    return None


def _tuple(v: Any, d: int) -> tuple[int, ...]:
    return tuple(int(x) for x in v) if isinstance(v, list | tuple) else (int(v),) * d


def _module_rule(module: Any, name: str, args, kwargs, out) -> Rule | None:
    if kwargs or len(args) != 1:
        return None
    if name == "Linear":
        t, a = rk.linear(lambda A, m=module: m.weight)
        return Rule(name, (0,), t, a)
    if name in ("Conv1d", "Conv2d", "Conv3d"):
        if module.padding_mode != "zeros" or isinstance(module.padding, str):
            return None
        d = int(name[4])
        t, a = rk.conv(d, lambda A, m=module: m.weight, module.stride, module.padding,
                       module.dilation, module.groups)  # fmt: skip
        return Rule(name, (0,), t, a)
    if name in _UNARY and out.shape == args[0].shape:
        t, a = rk.scale()
        prep = rk.unary_prepare(name, module)
        return Rule(name, (0,), t, a, prep, True, True, name in rk.FROM_OUTPUT)
    if name in _RESHAPES or (name == "Dropout" and not (module.training and module.p > 0)):
        return rk.reshape(name, out)
    if name in ("Softmax", "LogSoftmax") and module.dim is not None:
        return rk.softmax(name == "LogSoftmax", rk.neg_dim(module.dim, out.dim()))
    if name in AVG_POOLS or name in MAX_POOLS:
        return pool_rule(name, module)
    if name in ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d"):
        if module.training or module.running_var is None:
            return None  # (priced as unsupported: the batch's statistics)
        t, a = rk.scale()
        return Rule(name, (0,), t, a, rk.batch_norm_scale(module), True, False, True)
    if name == "LayerNorm":
        t, a, prep = rk.layer_norm(
            tuple(module.normalized_shape), lambda A, m=module: (m.weight, None), module.eps
        )
        return Rule(name, (0,), t, a, prep, values=True)
    return None

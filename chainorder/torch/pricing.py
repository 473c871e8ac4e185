"""Cost rules for the operations of a torch.fx graph: mults of one JVP and one VJP per seed.

Every node that depends on the differentiated input gets an :class:`OpCost`:

``tangent`` / ``adjoint``
    Multiplications of pushing one tangent column through the node (JVP) and one cotangent
    row back through it (VJP).
``products``
    The part of ``tangent`` (and of ``adjoint``) spent in matrix products and convolutions:
    what :class:`torch.utils.flop_counter.FlopCounterMode` counts (2 FLOPs per multiply-add),
    so the tests measure it exactly.
``forward``
    Multiplications of evaluating the node once (a sweep evaluates its links once more).
``tape``
    Elements the VJP keeps from the forward pass (parameters excluded).
``elementwise``
    The node's Jacobian is diagonal (same input and output shape).

Rules (``n`` = elements of the output, ``k`` = the contracted size):

=====================================  ==========================  =============================
operation                              tangent = adjoint           products
=====================================  ==========================  =============================
Linear, F.linear                       ``n·in_features``           all
Conv1d/2d/3d, F.conv1d/2d/3d           ``n·in_channels/groups·K``  all
matmul/mm/bmm/@ (one / two inputs)     ``n·k`` / ``2·n·k``          all
tanh, relu, sigmoid, gelu, ... (unary) ``n``                       0
``*`` ``/`` by a constant / two inputs ``n`` / ``2·n``             0
``**`` a constant exponent, square     ``n``                       0
softmax, log_softmax                   ``2·n``                     0
LayerNorm, F.layer_norm                ``4·n`` (estimate)          0
BatchNorm1d/2d/3d (eval: a diagonal)   ``n``                       0
AvgPool*, AdaptiveAvgPool*, F.avg_pool ``n`` (a sum, one scaling)  0
MaxPool*, AdaptiveMaxPool*, F.max_pool 0 (a selection)             0
mse_loss, mean                         elements of the input       0
+ - neg, sum, reshapes, permutes, ...  0                           0
=====================================  ==========================  =============================

The elementwise counts are the multiplications of the textbook derivative (``tanh'`` as
``1 - y²`` kept on the tape, ...); FlopCounterMode does not count them, the benchmarks time them.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import Any

from chainorder.errors import UnsupportedOperationError

__all__ = ["OpCost", "keeps_positions", "price_node", "supported_operations"]


@dataclass(frozen=True, slots=True)
class OpCost:
    """Mults per seed of one node's JVP and VJP, and what it keeps (see the module notes).

    Examples
    --------
    >>> OpCost("tanh", 5, 5, 5, 5, 0, True).products
    0
    """

    label: str
    tangent: int
    adjoint: int
    forward: int
    tape: int
    products: int
    elementwise: bool = False


_UNARY_NAMES = frozenset(
    "tanh relu sigmoid exp sin cos gelu silu elu leaky_relu softplus hardtanh mish selu "
    "celu log sqrt rsqrt abs square log1p expm1 relu6 hardswish hardsigmoid".split()
)
_ZERO_NAMES = frozenset(
    "view reshape flatten permute transpose contiguous squeeze unsqueeze expand expand_as t "
    "unflatten getitem split chunk clone identity add sub neg iadd isub sum cat stack "
    "dropout movedim swapaxes narrow select".split()
)
_MUL_NAMES = frozenset("mul truediv div imul itruediv".split())
_MATMUL_NAMES = frozenset("matmul mm bmm".split())
_SOFTMAX_NAMES = frozenset(("softmax", "log_softmax"))
_UNARY_MODULES = frozenset(
    "Tanh ReLU Sigmoid GELU SiLU ELU LeakyReLU Softplus Hardtanh Mish SELU CELU ReLU6 "
    "Hardswish Hardsigmoid".split()
)
_ZERO_MODULES = frozenset(("Flatten", "Unflatten", "Identity", "Dropout"))
#: pooling functions and modules: averages (``n`` mults) and selections (none)
_POOL_NAMES = frozenset(
    "avg_pool1d avg_pool2d avg_pool3d adaptive_avg_pool1d adaptive_avg_pool2d "
    "adaptive_avg_pool3d max_pool1d max_pool2d max_pool3d adaptive_max_pool1d "
    "adaptive_max_pool2d adaptive_max_pool3d AvgPool1d AvgPool2d AvgPool3d AdaptiveAvgPool1d "
    "AdaptiveAvgPool2d AdaptiveAvgPool3d MaxPool1d MaxPool2d MaxPool3d AdaptiveMaxPool1d "
    "AdaptiveMaxPool2d AdaptiveMaxPool3d".split()
)
_BATCH_NORMS = frozenset(("BatchNorm1d", "BatchNorm2d", "BatchNorm3d"))
#: free operations that leave every element where it is (in C order), so that a segment of
#: them and one elementwise operation keeps a diagonal Jacobian; a transpose or a max pool of
#: the same shape does not
_POSITION_KEEPING = frozenset(
    "view reshape flatten unflatten squeeze unsqueeze contiguous clone identity dropout add "
    "sub neg iadd isub Flatten Unflatten Identity Dropout".split()
)


def supported_operations() -> tuple[str, ...]:
    """Names of the operations with a cost rule (functions, methods and modules).

    Examples
    --------
    >>> "Linear" in supported_operations() and "matmul" in supported_operations()
    True

    Notes
    -----
    O(R log R) for R names (sorted).
    """
    names = set(_UNARY_NAMES | _ZERO_NAMES | _MUL_NAMES | _MATMUL_NAMES | _SOFTMAX_NAMES)
    names |= _UNARY_MODULES | _ZERO_MODULES | _POOL_NAMES | _BATCH_NORMS
    names |= {"Linear", "linear", "Conv1d", "Conv2d", "Conv3d", "conv1d", "conv2d", "conv3d"}
    names |= {"LayerNorm", "layer_norm", "Softmax", "LogSoftmax", "pow", "mse_loss", "mean"}
    return tuple(sorted(names))


def keeps_positions(cost: OpCost) -> bool:
    """Whether the priced operation maps each element to the same position (an elementwise
    operation, a reshape, an addition): a segment of such operations whose one priced operation
    is elementwise, with equal input and output shapes, has a diagonal Jacobian.

    Examples
    --------
    >>> free = [OpCost(name, 0, 0, 0, 0, 0) for name in ("reshape", "t")]
    >>> [keeps_positions(c) for c in free]
    [True, False]

    Notes
    -----
    O(1).
    """
    return cost.elementwise or cost.label in _POSITION_KEEPING


def _name(target: Any) -> str:
    if isinstance(target, str):
        return target
    name = getattr(target, "__name__", str(target))
    return name.strip("_") if name.startswith("__") else name


def _numel(value: Any) -> int:
    return int(value.numel()) if hasattr(value, "numel") else 1


def price_node(
    op: str,
    target: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    value: Any,
    dependent: tuple[bool, ...],
    module: Any = None,
) -> OpCost:
    """Price one fx node from its evaluated arguments and output.

    Parameters
    ----------
    op, target : str, object
        The fx node's ``op`` (``call_module``, ``call_function``, ``call_method``) and target.
    args, kwargs : tuple, dict
        The evaluated arguments (tensors and Python values).
    value : object
        The node's output.
    dependent : tuple of bool
        For each positional argument, whether it depends on the differentiated input.
    module : torch.nn.Module, optional
        The called module (``call_module``).

    Returns
    -------
    OpCost

    Raises
    ------
    UnsupportedOperationError
        An operation without a rule (:func:`supported_operations` lists them).

    Examples
    --------
    >>> import operator
    >>> class T:  # anything with numel() stands for a tensor
    ...     def __init__(self, n): self.n = n
    ...     def numel(self): return self.n
    >>> price_node("call_function", operator.mul, (T(6), 2.0), {}, T(6), (True, False))
    OpCost(label='mul', tangent=6, adjoint=6, forward=6, tape=0, products=0, elementwise=True)

    Notes
    -----
    O(1).
    """
    n = _numel(value)
    if op == "call_module":
        return _price_module(module, args, value, n)
    name = _name(target)
    if op == "call_method" and name in ("size", "dim", "numel"):
        return OpCost(name, 0, 0, 0, 0, 0)
    if name in _UNARY_NAMES or name in ("square",):
        return OpCost(name, n, n, n, n, 0, True)
    if name in _ZERO_NAMES or target is operator.getitem:
        return OpCost(name, 0, 0, 0, 0, 0)
    if name in _MUL_NAMES:
        both = sum(dependent[:2]) == 2
        return OpCost(name, (1 + both) * n, (1 + both) * n, n, 2 * n if both else 0, 0, not both)
    if name == "pow":
        if len(dependent) > 1 and dependent[1]:
            raise UnsupportedOperationError("pow with a tensor exponent that depends on the input")
        return OpCost(name, n, n, n, n, 0, True)
    if name in _MATMUL_NAMES:
        k = int(args[0].shape[-1])
        d = sum(dependent[:2])
        tape = sum(_numel(a) for a in args[:2]) if d == 2 else 0
        return OpCost(name, d * n * k, d * n * k, n * k, tape, d * n * k)
    if name in _SOFTMAX_NAMES:
        return OpCost(name, 2 * n, 2 * n, 2 * n, n, 0)
    if name == "linear":
        w = args[1] if len(args) > 1 else kwargs["weight"]
        m = n * int(w.shape[-1])
        return OpCost(name, m, m, m, 0, m)
    if name in ("conv1d", "conv2d", "conv3d"):
        w = args[1] if len(args) > 1 else kwargs["weight"]
        m = n * math.prod(int(s) for s in w.shape[1:])
        return OpCost(name, m, m, m, 0, m)
    if name == "layer_norm":
        return OpCost(name, 4 * n, 4 * n, 4 * n, 2 * n, 0)
    if name in ("mse_loss", "mean"):
        size = _numel(args[0])
        return OpCost(name, size, size, size, size if name == "mse_loss" else 0, 0)
    if name in _POOL_NAMES:
        return _pool(name, value, n)
    raise UnsupportedOperationError(
        f"no cost rule for {op} {name!r}; supported: {', '.join(supported_operations())}"
    )


def _price_module(module: Any, args: tuple[Any, ...], value: Any, n: int) -> OpCost:
    kind = type(module).__name__
    if kind == "Linear":
        m = n * int(module.in_features)
        return OpCost(kind, m, m, m, 0, m)
    if kind in ("Conv1d", "Conv2d", "Conv3d"):
        per = int(module.in_channels) // int(module.groups) * math.prod(module.kernel_size)
        return OpCost(kind, n * per, n * per, n * per, 0, n * per)
    if kind in _UNARY_MODULES:
        return OpCost(kind, n, n, n, n, 0, True)
    if kind in _ZERO_MODULES:
        if kind == "Dropout" and module.training and module.p > 0:
            raise UnsupportedOperationError(
                "Dropout in training mode makes the Jacobian random; call model.eval() first"
            )
        return OpCost(kind, 0, 0, 0, 0, 0)
    if kind == "LayerNorm":
        return OpCost(kind, 4 * n, 4 * n, 4 * n, 2 * n, 0)
    if kind in ("Softmax", "LogSoftmax"):
        return OpCost(kind, 2 * n, 2 * n, 2 * n, n, 0)
    if kind in _POOL_NAMES:
        return _pool(kind, value, n)
    if kind in _BATCH_NORMS:
        if module.training or module.running_var is None:
            raise UnsupportedOperationError(
                f"{kind} in training mode (or without running statistics) normalises with the "
                "batch's own statistics and updates its running ones at every evaluation; "
                "call model.eval() first"
            )
        return OpCost(kind, n, n, n, 0, 0, True)  # γ/√(running var + ε): a diagonal
    raise UnsupportedOperationError(
        f"no cost rule for module {kind}; supported: {', '.join(supported_operations())} "
        "(a custom module is traced through unless torch.fx treats it as a leaf)"
    )


def _pool(name: str, value: Any, n: int) -> OpCost:
    """An average pool: one scaling per output element (its sum is adds); a max pool: a
    selection, no mults, the positions of the maxima kept (``n`` elements)."""
    if not hasattr(value, "numel"):
        raise UnsupportedOperationError(f"{name} with return_indices=True (a tuple output)")
    if "max" in name.lower():
        return OpCost(name, 0, 0, 0, n, 0)
    return OpCost(name, n, n, n, 0, 0)

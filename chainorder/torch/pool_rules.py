"""Batched rules for pooling modules: average pools as linear maps, max pools as selections.

Blocks are seeds-first ``(s, *shape)`` as in :mod:`chainorder.torch.rulebook`.

- ``AvgPool1d/2d/3d``, ``AdaptiveAvgPool1d/2d/3d``: the tangent block is the same pool of the
  block (seeds folded into the batch axis: one call), the adjoint block one call of ATen's
  backward of the pool (the transpose; it reads the input's shape only). A 1-D pool runs as the
  2-D pool of a height-1 image, as PyTorch itself runs it.
- ``MaxPool1d/2d/3d``, ``AdaptiveMaxPool1d/2d/3d``: the positions of the maxima are found once
  per call from the forward input (the pool with ``return_indices=True``, no multiplication);
  the tangent block gathers them, the adjoint block scatter-adds into them.

The pricing (:mod:`chainorder.torch.pricing`) counts ``n`` mults per seed for an average pool
(one scaling per output element) and none for a max pool, which is what these rules multiply.
"""

from __future__ import annotations

import math
from typing import Any

from chainorder.torch.rulebook import Rule

__all__ = ["AVG_POOLS", "MAX_POOLS", "pool_rule"]

#: pooling modules with a batched rule, by kind
AVG_POOLS = frozenset("AvgPool1d AvgPool2d AvgPool3d AdaptiveAvgPool1d AdaptiveAvgPool2d "
                      "AdaptiveAvgPool3d".split())  # fmt: skip
MAX_POOLS = frozenset("MaxPool1d MaxPool2d MaxPool3d AdaptiveMaxPool1d AdaptiveMaxPool2d "
                      "AdaptiveMaxPool3d".split())  # fmt: skip


def _nd(value: Any, d: int) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, tuple | list) else (int(value),) * d


def pool_rule(name: str, module: Any) -> Rule | None:
    """The batched :class:`Rule` of pooling module ``module`` (kind ``name``), or None.

    Examples
    --------
    >>> import torch
    >>> pool = torch.nn.AvgPool1d(2)
    >>> x = torch.arange(8.0).reshape(1, 1, 8)
    >>> rule = pool_rule("AvgPool1d", pool)
    >>> rule.tangent((x,), pool(x), None, [x[None]]).tolist()  # one seed: the pool of it
    [[[[0.5, 2.5, 4.5, 6.5]]]]

    Notes
    -----
    O(1) to build; each rule is one or two torch calls per block.
    """
    d = int(name[-2])
    if name in AVG_POOLS:
        return _avg_pool(name, module, d)
    if name in MAX_POOLS and not module.return_indices:
        return _max_pool(name, module, d)
    return None


def _avg_pool(name: str, module: Any, d: int) -> Rule:
    import torch

    F, aten = torch.nn.functional, torch.ops.aten
    dd = max(d, 2)  # a 1-D pool runs as a 2-D pool of height 1
    adaptive = name.startswith("Adaptive")
    if not adaptive:
        kernel, pad = _nd(module.kernel_size, d), _nd(module.padding, d)
        stride = _nd(module.stride, d) if module.stride else kernel
        if d == 1:
            kernel, stride, pad = (1, *kernel), (1, *stride), (0, *pad)
        extra = (module.ceil_mode, module.count_include_pad,
                 getattr(module, "divisor_override", None))  # fmt: skip

    def lifted(shape: tuple[int, ...]) -> tuple[int, ...]:  # (B, C, L) -> (B, C, 1, L)
        return (*shape[:-1], 1, shape[-1]) if d == 1 else shape

    def planes(t: Any, shape: tuple[int, ...]) -> Any:  # seeds and batch in one leading axis
        return t.reshape(lifted((-1, *shape[-(d + 1) :])))

    def tangent(args, out, prep, tans):
        t = tans[0]
        folded = planes(t, tuple(args[0].shape))
        if adaptive:
            size = lifted(tuple(out.shape[-d:]))
            y = (F.adaptive_avg_pool2d if dd == 2 else F.adaptive_avg_pool3d)(folded, size)
        else:
            y = (F.avg_pool2d if dd == 2 else F.avg_pool3d)(folded, kernel, stride, pad, *extra)
        return y.reshape(t.shape[0], *out.shape)

    def adjoint(args, out, prep, g):
        x = args[0]
        folded = planes(g, tuple(out.shape))
        size = lifted((folded.shape[0], *x.shape[-(d + 1) :]))
        dummy = folded.new_empty(1).expand(size)  # read for its shape only
        if adaptive:
            back = aten._adaptive_avg_pool2d_backward if dd == 2 else (
                aten._adaptive_avg_pool3d_backward)  # fmt: skip
            gx = back(folded.contiguous(), dummy)
        else:
            back = aten.avg_pool2d_backward if dd == 2 else aten.avg_pool3d_backward
            gx = back(folded, dummy, kernel, stride, pad, *extra)
        return [gx.reshape(g.shape[0], *x.shape)]

    return Rule(name, (0,), tangent, adjoint)


def _max_pool(name: str, module: Any, d: int) -> Rule:
    import torch

    F = torch.nn.functional
    if name.startswith("Adaptive"):
        pool = getattr(F, f"adaptive_max_pool{d}d")

        def with_indices(x: Any) -> Any:
            return pool(x, module.output_size, return_indices=True)
    else:
        pool = getattr(F, f"max_pool{d}d")

        def with_indices(x: Any) -> Any:
            return pool(x, module.kernel_size, module.stride, module.padding, module.dilation,
                        module.ceil_mode, return_indices=True)  # fmt: skip

    def prepare(args: Any, out: Any) -> Any:  # where the maxima are, flat within each plane
        return with_indices(args[0])[1]

    def tangent(args, out, prep, tans):
        t = tans[0]
        src = t.reshape(t.shape[0], -1, math.prod(args[0].shape[-d:]))
        idx = prep.reshape(1, src.shape[1], -1).expand(t.shape[0], -1, -1)
        return src.gather(2, idx).reshape(t.shape[0], *out.shape)

    def adjoint(args, out, prep, g):
        x = args[0]
        src = g.reshape(g.shape[0], -1, math.prod(out.shape[-d:]))
        idx = prep.reshape(1, src.shape[1], -1).expand(g.shape[0], -1, -1)
        gx = g.new_zeros(g.shape[0], src.shape[1], math.prod(x.shape[-d:]))
        return [gx.scatter_add_(2, idx, src).reshape(g.shape[0], *x.shape)]

    return Rule(name, (0,), tangent, adjoint, prepare, values=True)

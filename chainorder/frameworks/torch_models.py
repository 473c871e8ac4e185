"""PyTorch versions of the frameworks suite's models (:mod:`chainorder.frameworks.models`).

Built from standard layers so that torch.fx traces them: ``nn.Sequential`` of ``Linear``,
``Tanh``, ``Conv2d``, ``ReLU``, ``Flatten``; small modules with a residual ``+`` for the
residual block and the transformer (explicit attention: ``matmul``, ``softmax``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["build_torch"]


def _set(layer: Any, weight: np.ndarray, bias: np.ndarray) -> Any:
    import torch

    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(weight))
        layer.bias.copy_(torch.from_numpy(bias))
    return layer


def _linear(params: dict[str, np.ndarray], key: str) -> Any:
    import torch

    w = params[f"w{key}"]
    layer = torch.nn.Linear(w.shape[1], w.shape[0], dtype=torch.float64)
    return _set(layer, w, params[f"b{key}"])


def _norm(params: dict[str, np.ndarray], key: str) -> Any:
    import torch

    g = params[f"{key}_g"]
    layer = torch.nn.LayerNorm(g.shape[0], dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(g))
        layer.bias.copy_(torch.from_numpy(params[f"{key}_b"]))
    return layer


def build_torch(model: Any) -> Any:
    """The ``nn.Module`` of ``model`` (float64 parameters).

    Examples
    --------
    >>> import torch
    >>> from chainorder.frameworks.models import make_model
    >>> net = build_torch(make_model("cnn"))
    >>> net(torch.zeros(1, 28, 28, dtype=torch.float64)).shape
    torch.Size([10])

    Notes
    -----
    O(number of parameters).
    """
    import torch

    p = model.params
    if model.kind == "mlp":
        layers: list[Any] = []
        n = len(model.widths) - 1
        for i in range(n):
            layers.append(_linear(p, str(i)))
            if i < n - 1:
                layers.append(torch.nn.Tanh())
        net = torch.nn.Sequential(*layers)
        return _Loss(net, torch.from_numpy(p["target"])) if "target" in p else net
    if model.kind == "residual":
        return _Residual(_norm(p, "ln"), _linear(p, "0"), _linear(p, "1"))
    if model.kind == "transformer":
        return _Block(p)
    if model.kind == "cnn":
        convs = []
        for i in range(2):
            w = p[f"c{i}"]
            conv = torch.nn.Conv2d(
                w.shape[1], w.shape[0], 3, stride=1 + i, dtype=torch.float64
            )
            convs.append(_set(conv, w, p[f"cb{i}"]))
        return torch.nn.Sequential(
            convs[0], torch.nn.ReLU(), convs[1], torch.nn.ReLU(), torch.nn.Flatten(0),
            _linear(p, "0"),
        )  # fmt: skip
    raise AssertionError(f"unknown model kind {model.kind}")


def _Loss(net: Any, target: Any) -> Any:
    import torch

    class Loss(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net
            self.register_buffer("target", target)

        def forward(self, x: Any) -> Any:
            return ((self.net(x) - self.target) ** 2).mean()

    return Loss()


def _Residual(norm: Any, first: Any, second: Any) -> Any:
    import torch

    class Residual(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.norm, self.first, self.second = norm, first, second

        def forward(self, x: Any) -> Any:
            return x + self.second(torch.tanh(self.first(self.norm(x))))

    return Residual()


def _Block(p: dict[str, np.ndarray]) -> Any:
    import torch

    heads = 4

    class Block(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln1, self.ln2 = _norm(p, "ln1"), _norm(p, "ln2")
            self.q, self.k, self.v, self.o = (_linear(p, w) for w in "qkvo")
            self.up, self.down = _linear(p, "0"), _linear(p, "1")

        def forward(self, x: Any) -> Any:
            t, d = x.shape
            hd = d // heads
            scale = 1.0 / math.sqrt(p["wq"].shape[0] // heads)
            h = self.ln1(x)
            q = self.q(h).reshape(t, heads, hd).transpose(0, 1)
            k = self.k(h).reshape(t, heads, hd).transpose(0, 1)
            v = self.v(h).reshape(t, heads, hd).transpose(0, 1)
            a = torch.softmax((q @ k.transpose(1, 2)) * scale, dim=-1)
            x = x + self.o((a @ v).transpose(0, 1).reshape(t, d))
            return x + self.down(torch.tanh(self.up(self.ln2(x))))

    return Block()

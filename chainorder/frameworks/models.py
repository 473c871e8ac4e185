"""The models of the frameworks suite (issue 12, point 4), the same weights in PyTorch and JAX.

Each :class:`Model` draws its parameters once with NumPy (seeded, ``1/sqrt(fan_in)`` scale) and
builds an ``nn.Module`` (traceable by torch.fx) and a pure JAX function from them, so both
frameworks differentiate the same function at the same input. Cases (:data:`CASES`):

``mlp-wide-in``     784,512,tanh,512,tanh,10 (few outputs: reverse mode's case)
``mlp-wide-out``    10,512,tanh,512,tanh,784 (few inputs: forward mode's case)
``hourglass``       4096,64,tanh,4096,tanh,64,tanh,4096 (a mixed order wins)
``residual``        x + W₂·tanh(W₁·LayerNorm(x) + b₁) + b₂ on 256 features, 1024 hidden
``transformer``     pre-LayerNorm block on 64 tokens × 128: 4-head attention + MLP (256),
                    both with residuals; d output / d input (8192 × 8192)
``cnn``             1×28×28, conv 8 (3×3), relu, conv 16 (3×3, stride 2), relu, flatten, 10
``loss``            mean squared error of mlp-wide-in against a fixed target: a scalar
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["CASES", "Model", "case_names", "make_model"]

#: Case name → one-line description.
CASES: dict[str, str] = {
    "mlp-wide-in": "784,512,tanh,512,tanh,10",
    "mlp-wide-out": "10,512,tanh,512,tanh,784",
    "hourglass": "4096,64,tanh,4096,tanh,64,tanh,4096",
    "residual": "256 + MLP(LayerNorm, 1024, tanh) residual block",
    "transformer": "64×128 tokens, LN + 4-head attention + LN + MLP(256), residuals",
    "cnn": "1x28x28,conv2d(8,k=3),relu,conv2d(16,k=3,stride=2),relu,10",
    "loss": "mean((mlp-wide-in(x) - target)²), a scalar",
}


def case_names() -> tuple[str, ...]:
    """The suite's cases in order.

    Examples
    --------
    >>> case_names()[:3]
    ('mlp-wide-in', 'mlp-wide-out', 'hourglass')

    Notes
    -----
    O(number of cases).
    """
    return tuple(CASES)


@dataclass(frozen=True)
class Model:
    """One case: its parameters (NumPy, float64), input shape and framework builders."""

    name: str
    description: str
    in_shape: tuple[int, ...]
    params: dict[str, np.ndarray]
    kind: str
    widths: tuple[int, ...] = ()

    def input(self, seed: int = 0) -> np.ndarray:
        """A seeded standard normal input (float64)."""
        return np.random.default_rng(seed + 1).standard_normal(self.in_shape)

    def torch_module(self, dtype: Any = None, device: str = "cpu") -> Any:
        """The ``nn.Module`` (eval mode, no parameter gradients) on ``device``."""
        from chainorder.frameworks.torch_models import build_torch

        module = build_torch(self)
        module.eval()
        for p in module.parameters():
            p.requires_grad_(False)
        return module.to(device=device, dtype=dtype)

    def jax_function(self, dtype: Any = "float32") -> Callable[[Any], Any]:
        """A pure JAX function of the input with the parameters closed over (as ``dtype``)."""
        from chainorder.frameworks.jax_models import build_jax

        return build_jax(self, dtype)


def _dense(rng: np.random.Generator, out: int, inp: int) -> tuple[np.ndarray, np.ndarray]:
    scale = 1.0 / math.sqrt(inp)
    return rng.uniform(-scale, scale, (out, inp)), rng.uniform(-scale, scale, out)


def _mlp_params(rng: np.random.Generator, widths: tuple[int, ...]) -> dict[str, np.ndarray]:
    params = {}
    for i, (a, b) in enumerate(itertools.pairwise(widths)):
        params[f"w{i}"], params[f"b{i}"] = _dense(rng, b, a)
    return params


def make_model(name: str, seed: int = 0, tokens: int = 64) -> Model:
    """The model of case ``name`` with parameters drawn from ``seed``.

    ``tokens`` sets the transformer's sequence length (64 in the issue; the default suite runs
    16 to stay within minutes on two cores, ``--full`` runs 64).

    Raises
    ------
    SpecError
        An unknown case (the message lists them).

    Examples
    --------
    >>> m = make_model("mlp-wide-in")
    >>> m.in_shape, m.params["w0"].shape
    ((784,), (512, 784))

    Notes
    -----
    O(number of parameters).
    """
    from chainorder.errors import SpecError

    rng = np.random.default_rng(seed)
    if name in ("mlp-wide-in", "mlp-wide-out", "hourglass", "loss"):
        widths = {
            "mlp-wide-in": (784, 512, 512, 10),
            "mlp-wide-out": (10, 512, 512, 784),
            "hourglass": (4096, 64, 4096, 64, 4096),
            "loss": (784, 512, 512, 10),
        }[name]
        params = _mlp_params(rng, widths)
        if name == "loss":
            params["target"] = rng.standard_normal(10)
        return Model(name, CASES[name], (widths[0],), params, "mlp", widths)
    if name == "residual":
        d, h = 256, 1024
        params = {"ln_g": 1 + 0.1 * rng.standard_normal(d), "ln_b": 0.1 * rng.standard_normal(d)}
        params["w0"], params["b0"] = _dense(rng, h, d)
        params["w1"], params["b1"] = _dense(rng, d, h)
        return Model(name, CASES[name], (d,), params, "residual")
    if name == "transformer":
        t, d, h = int(tokens), 128, 256
        params = {}
        for ln in ("ln1", "ln2"):
            params[f"{ln}_g"] = 1 + 0.1 * rng.standard_normal(d)
            params[f"{ln}_b"] = 0.1 * rng.standard_normal(d)
        for w in ("q", "k", "v", "o"):
            params[f"w{w}"], params[f"b{w}"] = _dense(rng, d, d)
        params["w0"], params["b0"] = _dense(rng, h, d)
        params["w1"], params["b1"] = _dense(rng, d, h)
        desc = CASES[name].replace("64×128", f"{t}×128")
        return Model(name, desc, (t, d), params, "transformer")
    if name == "cnn":
        params = {}
        for i, (co, ci) in enumerate(((8, 1), (16, 8))):
            scale = 1.0 / math.sqrt(ci * 9)
            params[f"c{i}"] = rng.uniform(-scale, scale, (co, ci, 3, 3))
            params[f"cb{i}"] = rng.uniform(-scale, scale, co)
        params["w0"], params["b0"] = _dense(rng, 10, 16 * 12 * 12)
        return Model(name, CASES[name], (1, 28, 28), params, "cnn")
    raise SpecError(f"unknown frameworks case {name!r}; expected one of: {', '.join(CASES)}")

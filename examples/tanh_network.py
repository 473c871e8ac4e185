"""Lecture 3, §5.1: forward mode through the two-layer tanh network.

x₁ = W⁽⁰⁾x, x₂ = tanh x₁, x₃ = W⁽¹⁾x₂, x₄ = x₃ − y, L = x₄², at x = 1, W⁽⁰⁾ = 2,
W⁽¹⁾ = 1.2 and label y = 2. Forward mode carries dxᵢ/dx along:

    d₁ = 2,  d₂ = (1 − tanh² 2)·2 = 0.141301,  d₃ = 1.2·d₂ = 0.169562,
    x₄ = 1.2·tanh 2 − 2 = −0.843166,  dL/dx = 2·x₄·d₃ = −0.285938.

The notes round the intermediates (x₃ ≈ 1.15, so x₄ ≈ −0.85) and print −0.283; with
their rounded values 2·(−0.85)·0.169 = −0.287, and unrounded the value is −0.2859.

Run it::

    python examples/tanh_network.py
    chainorder trace examples/tanh_network.py:loss --arg x=1.0

"""

from __future__ import annotations

import numpy as np

W0, W1, LABEL = 2.0, 1.2, 2.0


def loss(x):
    z = W1 * np.tanh(W0 * x)
    return (z - LABEL) ** 2


def forward_mode(x: float = 1.0) -> float:
    """dL/dx by one tangent sweep over the traced graph."""
    from chainorder.graph import jacobian_forward, trace

    return float(jacobian_forward(trace(loss, x))[0, 0])


if __name__ == "__main__":
    print(f"dL/dx at x = 1 by forward mode: {forward_mode(1.0):.6f}  (notes: -0.283, rounded)")

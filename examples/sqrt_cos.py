"""Lecture 3, §5.3: f(x) = √(x² + exp(x²)) + cos(x² + exp(x²)) by reverse mode.

The notes break f into x₁ = x², x₂ = exp(x₁), x₃ = x₁ + x₂, x₄ = √x₃, x₅ = cos x₃,
x₆ = x₄ + x₅ and sweep the adjoints back from x₆. Tracing finds exactly this graph; its
reverse-mode derivative equals the analytic one,

    f'(x) = 2x (1 + exp(x²)) · (1 / (2√x₃) − sin x₃).

Run it::

    python examples/sqrt_cos.py
    chainorder trace examples/sqrt_cos.py:f --arg x=1.0

"""

from __future__ import annotations

import numpy as np


def f(x):
    x1 = x**2
    x2 = np.exp(x1)
    x3 = x1 + x2
    x4 = np.sqrt(x3)
    x5 = np.cos(x3)
    return x4 + x5


def analytic(x: float) -> float:
    """The derivative by hand."""
    x3 = x**2 + np.exp(x**2)
    return float(2 * x * (1 + np.exp(x**2)) * (1 / (2 * np.sqrt(x3)) - np.sin(x3)))


def reverse_mode(x: float) -> float:
    """df/dx by one adjoint sweep over the traced graph."""
    from chainorder.graph import jacobian_reverse, trace

    return float(jacobian_reverse(trace(f, x))[0, 0])


if __name__ == "__main__":
    for x in (1.0, 0.5, -1.3):
        print(f"x = {x:5.2f}: reverse mode {reverse_mode(x): .12f}   analytic {analytic(x): .12f}")

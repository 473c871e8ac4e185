"""graphax task PropaneCombustion: the MINPACK-2 propane combustion (full formulation).

Source: github.com/jamielohoff/graphax, ``src/graphax/examples/minpack.py``
(``PropaneCombustion``, p = 40, R = 10). Written again here in plain NumPy on eleven scalar
inputs and eleven scalar outputs. Published vertex-elimination counts (Lohoff & Neftci,
AlphaGrad): forward 151, reverse 90, Markowitz 111, AlphaGrad 88.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ARGS", "GRAPHAX", "fn"]

P, R = 40.0, 10.0
ARGS = tuple(0.1 * (k + 1) for k in range(11))
#: graphax's published mults: forward, reverse, Markowitz, AlphaGrad.
GRAPHAX = (151, 90, 111, 88)


def fn(x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11):
    """The eleven combustion residuals."""
    px11 = np.sqrt(P / x11)
    f1 = x1 + x4 - 3.0
    f2 = 2 * x1 + x2 + x4 + x7 + x8 + x9 + 2 * x10 - R
    f3 = 2 * x2 + 2 * x5 + x6 + x7 - 8.0
    f4 = 2 * x3 + x9 - 4 * R
    f5 = x2 * x4 - x1 * x5
    f6 = np.sqrt(x2 * x4) - np.sqrt(x1) * px11 * x6
    f7 = np.sqrt(x1 * x2) - np.sqrt(x4) * x7 * px11
    f8 = x1 - x4 * x8 * P / x11
    f9 = x1 * np.sqrt(x3) - x4 * x9 * px11
    f10 = x1**2 - x4**2 * x10 * P / x11
    f11 = x11 - x1 - x2 - x3 - x4 - x5 - x6 - x7 - x8 - x9 - x10
    return f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11

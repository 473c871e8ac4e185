"""graphax task HumanHeartDipole: the MINPACK-2 human heart dipole residuals.

Source: github.com/jamielohoff/graphax, ``src/graphax/examples/minpack.py``
(``HumanHeartDipole``, all sigma constants 1). Written again here in plain NumPy on eight
scalar inputs and eight scalar outputs. Published vertex-elimination counts (Lohoff &
Neftci, AlphaGrad): forward 240, reverse 172, Markowitz 194, AlphaGrad 148.
"""

from __future__ import annotations

__all__ = ["ARGS", "GRAPHAX", "fn"]

SIGMA = 1.0
ARGS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
#: graphax's published mults: forward, reverse, Markowitz, AlphaGrad.
GRAPHAX = (240, 172, 194, 148)


def fn(x1, x2, x3, x4, x5, x6, x7, x8):
    """The eight dipole residuals."""
    f1 = x1 + x2 - SIGMA
    f2 = x3 + x4 - SIGMA
    f3 = x5 * x1 + x6 * x2 - x7 * x3 - x8 * x4 - SIGMA
    f4 = x7 * x1 + x8 * x2 + x5 * x3 + x6 * x4 - SIGMA
    x57 = x5**2 - x7**2
    x68 = x6**2 - x8**2
    f5 = x1 * x57 - 2 * x3 * x5 * x7 + x2 * x68 - 2 * x4 * x6 * x8 - SIGMA
    f6 = x3 * x57 - 2 * x1 * x5 * x7 + x4 * x68 - 2 * x2 * x6 * x8 - SIGMA
    x557 = x5 * (x5**2 - 3 * x7**2)
    x775 = x7 * (x7**2 - 3 * x5**2)
    x668 = x6 * (x6**2 - 3 * x8**2)
    x886 = x8 * (x8**2 - 3 * x6**2)
    f7 = x1 * x557 + x3 * x775 + x2 * x668 + x4 * x886 - SIGMA
    f8 = x3 * x557 - x1 * x775 + x4 * x668 - x2 * x886 - SIGMA
    return f1, f2, f3, f4, f5, f6, f7, f8

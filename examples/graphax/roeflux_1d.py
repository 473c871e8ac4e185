"""graphax task RoeFlux_1d: Roe's approximate Riemann flux of the 1-d Euler equations.

Source: github.com/jamielohoff/graphax, ``src/graphax/examples/roe.py`` (``RoeFlux_1d``,
after Roe 1981), evaluated there at ``(.01, .02, .02, .01, .03, .03)`` with gamma = 0.5.
Written again here in plain NumPy on six scalar inputs (left and right states), three
scalar outputs. Published vertex-elimination counts (Lohoff & Neftci, AlphaGrad):
forward 620, reverse 364, Markowitz 407, AlphaGrad 320.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ARGS", "GRAPHAX", "fn"]

GAMMA = 0.5
ARGS = (0.01, 0.02, 0.02, 0.01, 0.03, 0.03)
#: graphax's published mults: forward, reverse, Markowitz, AlphaGrad.
GRAPHAX = (620, 364, 407, 320)


def _pressure(u0, u1, u2):
    return (GAMMA - 1.0) * (u2 - 0.5 * u1**2 / u0)


def _enthalpy(u0, u2, p):
    return (u2 + p) / u0


def _flux(u0, u1, u2, p):
    v = u1 / u0
    return u1, p + u1 * v, v * (p + u2)


def fn(ul0, ul1, ul2, ur0, ur1, ur2):
    """The three components of the Roe flux between a left and a right state."""
    du0 = ur0 - ul0
    ulr0 = np.sqrt(ul0 * ur0)
    w1 = np.sqrt(ul0) + np.sqrt(ur0)
    vl = ul1 / ul0
    pl = _pressure(ul0, ul1, ul2)
    hl = _enthalpy(ul0, ul2, pl)
    vr = ur1 / ur0
    pr = _pressure(ur0, ur1, ur2)
    hr = _enthalpy(ur0, ur2, pr)
    dp = pr - pl
    dv = vr - vl
    u = (np.sqrt(ul0) * vl + np.sqrt(ur0) * vr) / w1  # Roe averages
    h = (np.sqrt(ul0) * hl + np.sqrt(ur0) * hr) / w1
    q2 = u**2
    a2 = (GAMMA - 1.0) * (h - 0.5 * q2)
    a = np.sqrt(a2)
    lp = np.abs(u + a)
    l = np.abs(u)
    ln = np.abs(u)
    n = a * ulr0
    c0 = (du0 - dp / a2) * l
    c1 = (dv + dp / n) * lp
    c2 = (dv - dp / n) * ln
    fl0, fl1, fl2 = _flux(ul0, ul1, ul2, pl)
    fr0, fr1, fr2 = _flux(ur0, ur1, ur2, pr)
    f0, f1, f2 = fl0 + fr0, fl1 + fr1, fl2 + fr2
    c = 0.5 * ulr0 / a
    df0 = c0 + c * c1 - c * c2
    df1 = c0 * u + c * c1 * (u + a) - c * c2 * (u - a)
    df2 = c0 * 0.5 * q2 + c * c1 * (h + u * a) - c * c2 * (h - u * a)
    return 0.5 * (f0 - df0), 0.5 * (f1 - df1), 0.5 * (f2 - df2)

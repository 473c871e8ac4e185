"""graphax task RoeFlux_3d: Roe's approximate Riemann flux of the 3-d Euler equations.

Source: github.com/jamielohoff/graphax, ``src/graphax/examples/roe.py`` (``RoeFlux_3d``,
after Roe 1981; gamma = 0.5), at the state of graphax's ``tests/examples/example_test.py``.
graphax passes the momentum as one 3-vector (and uses ``concatenate``, slices, ``sum`` and
``dot`` on it); here every component is its own scalar input and output — ten scalar
inputs, five scalar outputs — with the same arithmetic. Because graphax's graph has
vector vertices and this one scalar vertices, the two graphs differ, and so do their
counts. Published vertex-elimination counts (Lohoff & Neftci, AlphaGrad): forward 1556,
reverse 979, Markowitz 938, AlphaGrad 811.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ARGS", "GRAPHAX", "fn"]

GAMMA = 0.5
ARGS = (0.1, 0.1, 0.2, 0.3, 0.5, 0.2, 0.2, 0.2, 0.4, 0.6)
#: graphax's published mults: forward, reverse, Markowitz, AlphaGrad.
GRAPHAX = (1556, 979, 938, 811)


def _pressure(u0, m1, m2, m3, u4):
    return (GAMMA - 1.0) * (u4 - 0.5 * (m1**2 + m2**2 + m3**2) / u0)


def _flux(m1, m2, m3, v1, v2, v3, u4, p):
    return m1, (p + m1 * v1, m2 * v2, m3 * v3), v1 * (p + u4)


def fn(ul0, ul1, ul2, ul3, ul4, ur0, ur1, ur2, ur3, ur4):
    """The five components of the Roe flux (mass, three momenta, energy)."""
    du0, du1, du2, du3 = ur0 - ul0, ur1 - ul1, ur2 - ul2, ur3 - ul3
    du4 = ur4 - ul4
    vl1, vl2, vl3 = ul1 / ul0, ul2 / ul0, ul3 / ul0
    vr1, vr2, vr3 = ur1 / ur0, ur2 / ur0, ur3 / ur0
    w1 = np.sqrt(ul0) + np.sqrt(ur0)
    u = (np.sqrt(ul0) * vl1 + np.sqrt(ur0) * vr1) / w1  # Roe averages
    v = (np.sqrt(ul0) * vl2 + np.sqrt(ur0) * vr2) / w1
    w = (np.sqrt(ul0) * vl3 + np.sqrt(ur0) * vr3) / w1
    pl = _pressure(ul0, ul1, ul2, ul3, ul4)
    hl = (ul4 + pl) / ul0
    pr = _pressure(ur0, ur1, ur2, ur3, ur4)
    hr = (ur4 + pr) / ur0
    h = (np.sqrt(ul0) * hl + np.sqrt(ur0) * hr) / w1
    q2 = u**2 + v**2 + w**2
    a2 = (GAMMA - 1.0) * (h - 0.5 * q2)
    a = np.sqrt(a2)
    lp, l, lm = u + a, u, u - a
    c3 = ((GAMMA - 1.0) / a2 * ((h - q2) * du0 + (u * du1 + v * du2 + w * du3) - du4)) * l
    c2 = (du3 / w - du1) * l
    c1 = (du2 / v - du0) * l
    k1 = du0 - c3
    k2 = (du1 - u * du0) / a
    c0 = 0.5 * (k1 - k2) * lm
    c4 = 0.5 * (k1 + k2) * lp
    fl0, fl, fl4 = _flux(ul1, ul2, ul3, vl1, vl2, vl3, ul4, pl)
    fr0, fr, fr4 = _flux(ur1, ur2, ur3, vr1, vr2, vr3, ur4, pr)
    df0 = c0 + c3 + c4 * lp
    df1 = c0 * lm + c3 * u + c4 * lp
    df2 = c0 * v + c1 * v + c3 * v + c4 * v
    df3 = c0 * w + c2 * w + c3 * w + c4 * w
    df4 = c0 * (h - u * a) + c1 * v**2 + c2 * w**2 + c3 * 0.5 * q2 + c4 * (h + u * a)
    return (
        0.5 * (fl0 + fr0 - df0),
        0.5 * (fl[0] + fr[0] - df1),
        0.5 * (fl[1] + fr[1] - df2),
        0.5 * (fl[2] + fr[2] - df3),
        0.5 * (fl4 + fr4 - df4),
    )

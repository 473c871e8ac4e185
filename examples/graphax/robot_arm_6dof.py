"""graphax task RobotArm_6DOF: position and Tait-Bryan angles of a 6-joint robot arm.

Source: github.com/jamielohoff/graphax, ``src/graphax/examples/differential_kinematics.py``
(``RobotArm_6DOF``, after the paper linked there). Written again here in plain NumPy on six
joint angles, six scalar outputs. It needs ``np.arctan2``: until the op registry has it,
tracing refuses the task (naming the op), and the tests and benchmark skip it. Published
vertex-elimination counts (Lohoff & Neftci, AlphaGrad): forward 397, reverse 301,
Markowitz 288, AlphaGrad 231.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ARGS", "GRAPHAX", "fn"]

ARGS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6)
#: graphax's published mults: forward, reverse, Markowitz, AlphaGrad.
GRAPHAX = (397, 301, 288, 231)
A1, A2, A3 = 175.0, 890.0, 50.0
D1, D4, D6 = 575.0, 1035.0, 185.0


def _s(a, b):
    return np.cos(a) * np.sin(b) + np.sin(a) * np.cos(b)


def _c(a, b):
    return np.cos(a) * np.cos(b) - np.sin(a) * np.sin(b)


def fn(t1, t2, t3, t4, t5, t6):
    """Tool position (px, py, pz) and orientation angles of the arm."""
    c1, c2, c4, c5, c6 = np.cos(t1), np.cos(t2), np.cos(t4), np.cos(t5), np.cos(t6)
    s1, s2, s4, s5, s6 = np.sin(t1), np.sin(t2), np.sin(t4), np.sin(t5), np.sin(t6)
    c23, s23 = _c(t2, t3), _s(t2, t3)
    ax = s5 * (c1 * c23 * c4 + s1 * s4) + c1 * s23 * c5
    ay = s5 * (s1 * c23 * c4 - c1 * s4) + s1 * s23 * c5
    az = s23 * c4 * s5 - c23 * c5
    nz = c6 * (c23 * s5 + s23 * c4 * c5) - s23 * s4 * s6
    oz = -s6 * (c23 * s5 + s23 * c4 * c5) - s23 * s4 * c6
    z = np.arctan2(ay, ax)
    y_ = np.arctan2(np.sqrt(1.0 - az**2), az)
    z__ = np.arctan2(oz, -nz)
    x1 = D6 * (s5 * (c1 * c23 * c4 + s1 * s4) + c1 * s23 * c5)
    x2 = c1 * (A1 + A2 * c2 + A3 * c23 + D4 * s23)
    y1 = D6 * (s5 * (s1 * c23 * c4 + c1 * s4) + s1 * s23 * c5)
    y2 = s1 * (A1 + A2 * c2 + A3 * c23 + D4 * s23)
    pz = A2 * s2 + D1 + A3 * s23 - D4 * c23 + D6 * (s23 * c4 * s5 - c23 * c5)
    return x1 + x2, y1 + y2, pz, z, y_, z__

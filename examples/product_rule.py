"""Lecture notes (PyTorch example): f = (x + x·y)·2 at x = 4, y = 2.

    df/dx = 2·(1 + y) = 6.

The notes' comment says ``x.grad  # == 2*(x + x*y)*(1 + y) = 8.0``; that expression is
72, and neither is the derivative: f is linear in x, so df/dx = 2(1 + y) = 6, which is
what PyTorch returns too. x appears twice (x and x·y), so forward and reverse mode must
add the two paths: 2·1 + 2·y.

Run it::

    python examples/product_rule.py
    chainorder trace examples/product_rule.py:f --arg x=4.0 --arg y=2.0

"""

from __future__ import annotations


def f(x, y):
    return (x + x * y) * 2


def gradient(x: float = 4.0, y: float = 2.0) -> tuple[float, float]:
    """(df/dx, df/dy) by reverse mode over the traced graph."""
    from chainorder.graph import jacobian_reverse, trace

    jac = jacobian_reverse(trace(f, x, y))
    return float(jac[0, 0]), float(jac[0, 1])


if __name__ == "__main__":
    dx, dy = gradient()
    print(f"df/dx = {dx} (= 2(1 + y) = 6; the notes' comment says 8.0), df/dy = {dy} (= 2x)")

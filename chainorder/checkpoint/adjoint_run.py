"""Run an :class:`~chainorder.checkpoint.adjoint.AdjointPlan` on a network: VJPs, no ``J_l``.

The network needs ``activation(k, x_{k-1})``, ``jacobian(l, x_{l-1})`` for elementwise links
(the derivative vector) and ``weights[l]`` for dense ones (:class:`chainorder.nets.MLP`); a
dense link's VJP applies ``W_l`` to the adjoint block, never copying it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chainorder.chain import Structure
from chainorder.checkpoint.adjoint import AdjointPlan

__all__ = ["run_adjoint"]


def run_adjoint(plan: AdjointPlan, net: Any, x: Any | Callable[[], Any]) -> Any:
    """The ``d_L × d_0`` Jacobian (``1 × d_0`` gradient row when ``d_L = 1``) by ``plan``.

    Parameters
    ----------
    plan : AdjointPlan
    net : MLP-like
        ``activation``, ``jacobian`` (elementwise links) and ``weights`` (dense links).
    x : array or callable
        ``x_0``, or a function returning it (then the input is allocated inside the run, as
        the memory model counts it). The plan owns ``x_0``: it is dropped during the sweep.

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.checkpoint.adjoint import plan_adjoint_with_memory_limit
    >>> from chainorder.nets import MLP
    >>> net = MLP("3,4,tanh,1", seed=0)
    >>> p = plan_adjoint_with_memory_limit(net.chain, "1MiB")
    >>> x = net.random_input()
    >>> g = run_adjoint(p, net, x.copy())
    >>> W1, W2 = net.weights[1], net.weights[3]
    >>> bool(np.allclose(g, W2 @ np.diag(1 - np.tanh(W1 @ x + net.biases[1]) ** 2) @ W1))
    True

    Notes
    -----
    O(plan.total_mults) arithmetic; memory as predicted by the plan (its actions replayed).
    """
    xp = getattr(getattr(net, "backend", None), "xp", None)
    if xp is None:
        import numpy as xp
    chain = plan.chain
    dense = [False, *(s is Structure.DENSE for s in chain.structures)]
    xs: list[Any] = [None] * (chain.n_links + 1)
    xs[0] = x() if callable(x) else x
    del x
    a: Any = None
    for kind, k in plan.actions:
        if kind == "compute":
            xs[k] = net.activation(k, xs[k - 1])
        elif kind == "release":
            xs[k] = None
        elif kind == "seed":
            a = xp.zeros((plan.m, plan.m), dtype=plan.dtype)
            for i in range(plan.m):  # (xp.eye allocates ~5 KiB of temporaries)
                a[i, i] = 1
        elif dense[k]:
            xs[k - 1] = None
            a = a @ net.weights[k]
        else:
            deriv = net.jacobian(k, xs[k - 1])
            xs[k - 1] = None
            for row in a:  # row by row: a broadcast ``a *= deriv`` buffers up to 48 KiB
                row *= deriv
            del deriv, row
    return a

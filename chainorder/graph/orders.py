"""Named elimination orders: ``forward``, ``reverse``, ``markowitz``, ``chain``, ``search``."""

from __future__ import annotations

from chainorder.errors import UnknownSolverError
from chainorder.graph.chaincut import chain_reduction
from chainorder.graph.eliminate import (
    forward_order,
    markowitz_order,
    reverse_order,
    search_order,
)
from chainorder.graph.linearize import LinearizedGraph

__all__ = ["ORDERS", "named_order"]

#: Named elimination orders (``method="elimination:NAME"`` of :func:`graph_jacobian`).
ORDERS = ("forward", "reverse", "markowitz", "chain", "search")


def named_order(lin: LinearizedGraph, name: str, seed: int = 0) -> tuple[str, ...]:
    """The elimination order called ``name`` (one of :data:`ORDERS`).

    ``chain`` is the order of the chain through cut vertices
    (:func:`~chainorder.graph.chaincut.chain_reduction`).

    Raises
    ------
    UnknownSolverError
        For other names, or ``chain`` on a graph without cut vertices.

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.graph import linearize, trace
    >>> named_order(linearize(trace(lambda x: np.sin(np.exp(x)).sum(), np.zeros(2))), "reverse")
    ('v2', 'v1')

    Notes
    -----
    As the order's own function; O(1) dispatch.
    """
    simple = {"forward": forward_order, "reverse": reverse_order, "markowitz": markowitz_order}
    if name in simple:
        return simple[name](lin)
    if name == "search":
        return search_order(lin, seed=seed)
    if name == "chain":
        reduction = chain_reduction(lin, seed=seed)
        if reduction is None:
            raise UnknownSolverError(
                "elimination order 'chain' needs a cut vertex, and this graph has none; "
                f"expected one of {', '.join(o for o in ORDERS if o != 'chain')}"
            )
        return reduction.order
    raise UnknownSolverError(
        f"unknown elimination order {name!r}; expected one of {', '.join(ORDERS)}"
    )

"""Forward cost of each link: what recomputing one activation costs, in multiplications.

Link ``l`` computes ``x_l`` from ``x_{l-1}``. A dense layer ``x_l = W_l x_{l-1} + b_l`` costs
``d_l·d_{l-1}`` mults (the matrix-vector product), an elementwise layer ``d_l`` (one per
unit). A caller may override any link (a convolution, an expensive activation), or give the
elementals of a matrix-free chain (:class:`chainorder.matfree.links.LinkCost`), whose
``forward`` field is used.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence

from chainorder.chain import Chain, Structure
from chainorder.errors import SpecError

__all__ = ["default_forward_cost", "forward_costs"]


def default_forward_cost(chain: Chain, l: int) -> int:
    """Mults of evaluating link ``l`` once: ``d_l·d_{l-1}`` dense, ``d_l`` elementwise.

    Examples
    --------
    >>> c = Chain.parse("4,3,tanh")
    >>> default_forward_cost(c, 1), default_forward_cost(c, 2)
    (12, 3)

    Notes
    -----
    O(1).
    """
    link = chain.link(l)
    if link.structure is Structure.DIAGONAL:
        return link.rows
    return link.rows * link.cols


def forward_costs(
    chain: Chain,
    overrides: Mapping[int, int] | Sequence[int] | Sequence[object] | None = None,
) -> tuple[int, ...]:
    """Forward cost of every link, ``costs[l-1]`` for link ``l`` (mults).

    Parameters
    ----------
    chain : Chain
    overrides : mapping, sequence or None
        ``{l: mults}`` for some links (1-based); or one entry per link: an int, or an
        object with a ``forward`` attribute (a matrix-free ``LinkCost``).

    Returns
    -------
    tuple of int

    Raises
    ------
    SpecError
        A link number outside ``1..L``, a sequence of the wrong length, or a cost that is
        not a non-negative integer.

    Examples
    --------
    >>> c = Chain.parse("4,3,tanh,2")
    >>> forward_costs(c)
    (12, 3, 6)
    >>> forward_costs(c, {2: 30})
    (12, 30, 6)

    Notes
    -----
    O(L).
    """
    n = chain.n_links
    costs = [default_forward_cost(chain, l) for l in range(1, n + 1)]
    if overrides is None:
        return tuple(costs)
    if isinstance(overrides, Mapping):
        items = list(overrides.items())
    else:
        if isinstance(overrides, str | bytes) or len(overrides) != n:
            raise SpecError(f"forward costs need one entry per link ({n}), got {overrides!r:.80}")
        items = list(enumerate(overrides, start=1))
    for l, value in items:
        if isinstance(l, bool) or not isinstance(l, int) or not 1 <= l <= n:
            raise SpecError(f"forward cost for link {l!r}: links are numbered 1..{n}")
        costs[l - 1] = _cost(getattr(value, "forward", value), l)
    return tuple(costs)


def _cost(value: object, l: int) -> int:
    if isinstance(value, bool):
        raise SpecError(f"forward cost of link {l} is {value!r}; expected an integer >= 0")
    try:
        number = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise SpecError(
            f"forward cost of link {l} is {value!r}; expected an integer >= 0"
        ) from None
    if number < 0:
        raise SpecError(f"forward cost of link {l} is {number}; expected an integer >= 0")
    return int(number)

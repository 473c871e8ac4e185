"""The lecture's closed forms for dense chains: pure-mode multiplications and peak memory.

Each is an O(L) formula in the widths that the tree recursions of :mod:`chainorder.cost` and
:mod:`chainorder.memory` must reproduce (the tests check them against each other); the
planner uses the multiplication forms to price the pure modes without building their trees.
"""

from __future__ import annotations

__all__ = [
    "forward_given_peak_closed_form",
    "forward_mults_closed_form",
    "forward_streamed_peak_closed_form",
    "reverse_given_peak_closed_form",
    "reverse_mults_closed_form",
    "reverse_streamed_peak_closed_form",
]


def forward_mults_closed_form(dims: tuple[int, ...] | list[int]) -> int:
    """Lecture closed form of forward mode on a dense chain: ``d_0 · Σ_{l=2..L} d_l·d_{l-1}``.

    Examples
    --------
    >>> forward_mults_closed_form([30, 35, 15, 5, 10, 20, 25])
    40500

    Notes
    -----
    O(L). Equals ``tree_cost(chain, forward_tree(L)).mults`` for every dense chain.
    """
    d = list(dims)
    return d[0] * sum(d[l] * d[l - 1] for l in range(2, len(d)))


def reverse_mults_closed_form(dims: tuple[int, ...] | list[int]) -> int:
    """Lecture closed form of reverse mode on a dense chain: ``d_L · Σ_{l=0..L-2} d_l·d_{l+1}``.

    Examples
    --------
    >>> reverse_mults_closed_form([30, 35, 15, 5, 10, 20, 25])
    47500

    Notes
    -----
    O(L). Equals ``tree_cost(chain, reverse_tree(L)).mults`` for every dense chain.
    """
    d = list(dims)
    return d[-1] * sum(d[l] * d[l + 1] for l in range(len(d) - 2))


def forward_given_peak_closed_form(dims: tuple[int, ...] | list[int]) -> int:
    """Given-setting peak of forward mode on a dense chain, in elements.

    ``Σ_l d_l·d_{l-1} + max_{l=2..L} (d_0·d_{l-1}·[l ≥ 3] + d_0·d_l)``: all inputs, plus the
    running product ``d_{l-1} × d_0`` and the next one ``d_l × d_0`` while it is formed.

    Examples
    --------
    >>> forward_given_peak_closed_form([2, 3, 4, 5])
    56

    Notes
    -----
    O(L).
    """
    d = list(dims)
    n = len(d) - 1
    inputs = sum(d[l] * d[l - 1] for l in range(1, n + 1))
    live = max((d[0] * d[l - 1] * (l >= 3) + d[0] * d[l] for l in range(2, n + 1)), default=0)
    return inputs + live


def reverse_given_peak_closed_form(dims: tuple[int, ...] | list[int]) -> int:
    """Given-setting peak of reverse mode on a dense chain, in elements.

    ``Σ_l d_l·d_{l-1} + max_{a=1..L-1} (d_L·d_a·[a ≤ L-2] + d_L·d_{a-1})``.

    Examples
    --------
    >>> reverse_given_peak_closed_form([2, 3, 4, 5])
    63

    Notes
    -----
    O(L).
    """
    d = list(dims)
    n = len(d) - 1
    inputs = sum(d[l] * d[l - 1] for l in range(1, n + 1))
    live = max((d[n] * d[a] * (a <= n - 2) + d[n] * d[a - 1] for a in range(1, n)), default=0)
    return inputs + live


def forward_streamed_peak_closed_form(dims: tuple[int, ...] | list[int]) -> int:
    """Streamed-setting peak of forward mode on a dense chain, in elements.

    The lecture's forward mode keeps the current activation, the running product and the
    current Jacobian. Counting every array alive at each step (with ``e_l = d_l`` for
    ``l < L``, else 0)::

        max( d_0 + d_1·d_0 + e_1,
             max_{l=2..L} [ d_0·d_{l-1} + d_l·d_{l-1} + e_l + max(d_{l-1}, d_0·d_l) ] )

    i.e. running product ``d_{l-1}×d_0`` + current Jacobian + next activation, and either the
    previous activation (while ``x_l`` is computed) or the new product (while it is formed).

    Examples
    --------
    >>> forward_streamed_peak_closed_form([2, 3, 4, 5])
    38

    Notes
    -----
    O(L).
    """
    d = list(dims)
    n = len(d) - 1

    def e(l: int) -> int:
        return d[l] if l < n else 0

    first = d[0] + d[1] * d[0] + e(1)
    rest = (
        d[0] * d[l - 1] + d[l] * d[l - 1] + e(l) + max(d[l - 1], d[0] * d[l])
        for l in range(2, n + 1)
    )
    return max(first, *rest) if n >= 2 else first


def reverse_streamed_peak_closed_form(dims: tuple[int, ...] | list[int]) -> int:
    """Streamed-setting peak of reverse mode on a dense chain, in elements.

    The forward pass caches ``x_0..x_{L-1}``; the sweep back forms ``J_a`` from ``x_{a-1}``
    and multiplies the ``d_L × d_a`` adjoint block into the ``d_L × d_{a-1}`` one::

        max( Σ_{k=0..L-1} d_k + d_L·d_{L-1},
             max_{a=1..L-1} [ Σ_{k=0..a-2} d_k + d_a·d_{a-1} + d_L·(d_a + d_{a-1}) ] )

    Examples
    --------
    >>> reverse_streamed_peak_closed_form([2, 3, 4, 5])
    49

    Notes
    -----
    O(L²) as written (prefix sums per term); L is small where it is used.
    """
    d = list(dims)
    n = len(d) - 1
    first = sum(d[:n]) + d[n] * d[n - 1]
    rest = (sum(d[: a - 1]) + d[a] * d[a - 1] + d[n] * (d[a] + d[a - 1]) for a in range(1, n))
    return max(first, *rest) if n >= 2 else first

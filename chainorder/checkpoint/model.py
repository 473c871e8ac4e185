"""The figures of a chain that the checkpoint planners share (element counts, mults).

Activations ``x_0..x_{L-1}`` (``x_k`` holds ``d_k`` elements; ``x_L`` is never needed), link
``l`` computes ``x_l`` from ``x_{l-1}`` at ``f_l`` mults (its forward cost) and forms ``J_l``
from ``x_{l-1}``. All sums are O(1) from prefix tables built once.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate

from chainorder.chain import Chain, Structure
from chainorder.checkpoint.forward_cost import forward_costs
from chainorder.cost import product_mults

__all__ = ["ChainFigures"]


@dataclass(frozen=True)
class ChainFigures:
    """Prefix tables of a chain for O(1) interval figures.

    Examples
    --------
    >>> fig = ChainFigures.of(Chain.parse("4,3,tanh,2"))
    >>> fig.size(1, 3), fig.size(2, 2), fig.cache(0, 2), fig.fwd(1, 2)
    (8, 3, 10, 15)

    Notes
    -----
    Building is O(L log L) (a sparse table for :meth:`advance`); every query is O(1).
    """

    chain: Chain
    f: tuple[int, ...]  # f[l] = forward cost of link l (f[0] = 0)
    d: tuple[int, ...]
    _act: tuple[int, ...]  # _act[k] = d_0 + ... + d_{k-1}
    _fwd: tuple[int, ...]  # _fwd[k] = f_1 + ... + f_k
    _dense: tuple[int, ...]  # _dense[k] = dense links among 1..k
    _pairs: tuple[tuple[int, ...], ...]  # sparse table of d_{k-1} + d_k

    @classmethod
    def of(cls, chain: Chain, costs: tuple[int, ...] | None = None) -> ChainFigures:
        """Tables for ``chain`` with forward costs ``costs`` (default: :func:`forward_costs`)."""
        f = (0, *(costs if costs is not None else forward_costs(chain)))
        d = chain.dims
        dense = [0, *accumulate(int(s is Structure.DENSE) for s in chain.structures)]
        level = [0, 0, *(d[k - 1] + d[k] for k in range(2, len(d)))]
        table = [tuple(level)]
        width = 1
        while 2 * width <= len(level):
            prev = table[-1]
            table.append(tuple(max(prev[i], prev[i + width]) for i in range(len(prev) - width)))
            width *= 2
        return cls(
            chain,
            tuple(f),
            d,
            tuple(accumulate(d, initial=0)),
            tuple(accumulate(f)),
            tuple(dense),
            tuple(table),
        )

    @property
    def n(self) -> int:
        """``L``."""
        return len(self.d) - 1

    def cache(self, first: int, last: int) -> int:
        """Elements of ``x_first..x_last`` (0 when ``last < first``)."""
        return self._act[last + 1] - self._act[first] if last >= first else 0

    def fwd(self, first: int, last: int) -> int:
        """Mults of computing ``x_first..x_last`` once each (links ``first..last``)."""
        return self._fwd[last] - self._fwd[first - 1] if last >= first else 0

    def dense(self, lo: int, hi: int) -> bool:
        """Whether the product of links ``lo..hi`` is stored dense."""
        return self._dense[hi] - self._dense[lo - 1] > 0

    def size(self, lo: int, hi: int) -> int:
        """Elements of the product ``J_hi ⋯ J_lo`` (a link itself when ``lo == hi``)."""
        return self.d[hi] * self.d[lo - 1] if self.dense(lo, hi) else self.d[hi]

    def mults(self, lo: int, m: int, hi: int) -> int:
        """Mults of ``(J_hi ⋯ J_{m+1}) · (J_m ⋯ J_lo)``."""
        kind = Structure.DENSE
        sa = kind if self.dense(m + 1, hi) else Structure.DIAGONAL
        sb = kind if self.dense(lo, m) else Structure.DIAGONAL
        return product_mults(self.d[hi], self.d[m], self.d[lo - 1], sa, sb)

    def advance(self, s: int, t: int) -> int:
        """Most activation elements alive, ``x_s`` aside, while computing ``x_{s+1}..x_t``
        from ``x_s`` and dropping each one once the next exists: ``max(d_{s+1}, d_{k-1}+d_k)``.
        """
        best = self.d[s + 1]
        lo, hi = s + 2, t  # k ranges over s+2..t
        if hi >= lo:
            j = (hi - lo + 1).bit_length() - 1
            row = self._pairs[j]
            best = max(best, row[lo], row[hi - (1 << j) + 1])
        return best

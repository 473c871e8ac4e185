"""Checkpointed adjoint sweep: VJPs under a memory limit, no Jacobian ever formed.

The gradient (or ``m = d_L`` Jacobian rows) of a chain known by forward and VJP is the
reverse sweep ``a_{l-1} = a_l · J_l(x_{l-1})`` from the seed ``a_L = I_m``, where ``a_l`` is an
``m × d_l`` block. Link ``l``'s VJP as the executor runs it
(:mod:`chainorder.checkpoint.adjoint_run`):

dense
    ``a_{l-1} = a_l @ W_l`` — ``x_{l-1}`` is not needed and is dropped first, then the new
    ``m × d_{l-1}`` block exists next to ``a_l``; ``m·d_l·d_{l-1}`` mults.
elementwise
    ``a_l *= f'(x_{l-1})`` in place — one temporary of ``d_{l-1}`` numbers (the derivative
    vector, ``MLP.jacobian``), then ``x_{l-1}`` is dropped; ``m·d_l`` mults.

``A(s, t)`` reverses links ``s+1..t`` with ``x_s`` owned and ``a_t`` alive (``g_t = m·d_t``
elements; ``g_L = 0``: the seed is made when link ``L`` is reversed). It is either a *stored
stretch* (compute ``x_{s+1}..x_{t-1}`` keeping only what a VJP reads — a dense link's input
is dropped as soon as its output exists, ``x_s`` included — then ``t − s`` VJPs; tried for
every ``(s, t)``, since no cut expresses the early drop) or a cut ``s'``: advance
``x_s → x_{s'}`` keeping only both ends, ``A(s', t)`` with ``x_s`` held, then ``A(s, s')`` —
the nested, persistent schedules of revolve (Griewank & Walther) and of reverse.py's DP for
the Jacobian sweep (same recursion; its base case, the stretch, replayed by
:func:`simulate_actions` instead of forming ``J_l``)::

    A(s, t) = min over s' of  max(d_s + g_t + adv(s, s'), d_s + A(s', t), A(s, s'))
              cost fwd(s+1..s') + cost A(s', t) + cost A(s, s')

kept as exact Pareto fronts (peak elements, forward mults) with
:func:`chainorder.checkpoint.reverse.nested_fronts` (the recursion both sweeps share). VJP mults
are the same for every schedule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chainorder.chain import Chain, Structure, as_chain
from chainorder.checkpoint.model import ChainFigures
from chainorder.checkpoint.pareto import Front
from chainorder.checkpoint.reverse import nested_fronts
from chainorder.dtypes import as_dtype
from chainorder.errors import InfeasibleMemoryLimitError
from chainorder.units import format_bytes, parse_bytes

__all__ = [
    "AdjointPlan",
    "adjoint_bookkeeping",
    "adjoint_fronts",
    "adjoint_pareto_front",
    "plan_adjoint_with_memory_limit",
    "simulate_actions",
]

#: Longest chain whose DP places checkpoints anywhere; beyond, at evenly spaced positions.
EXACT_LINKS = 80
_POSITIONS = 64

Action = tuple[str, int]


def _stretch_actions(chain: Chain, s: int, t: int) -> list[Action]:
    """Links ``s+1..t`` reversed from ``x_s`` storing what the VJPs need: ``x_{k-1}`` is
    dropped once ``x_k`` exists when link ``k`` is dense (its VJP needs only ``W_k``)."""
    n, dense = chain.n_links, chain.structures
    out: list[Action] = []
    for k in range(s + 1, t):
        out.append(("compute", k))
        if dense[k - 1] is Structure.DENSE:
            out.append(("release", k - 1))
    for u in range(t, s, -1):
        out += [("seed", n)] if u == n else []
        out.append(("vjp", u))
    return out


def _stretch_peak(chain: Chain, m: int, s: int, t: int) -> int:
    """Peak of ``A(s, t)`` reversed as a stored stretch (``a_t`` alive unless ``t = L``)."""
    block = m * chain.dims[t] if t < chain.n_links else 0
    return simulate_actions(chain, m, _stretch_actions(chain, s, t), s, block)[0]


class AdjointFronts:
    """Pareto fronts of ``A(s, t)``: points ``(peak elements, forward mults, choice)``.

    Examples
    --------
    >>> af = adjoint_fronts("4,4,tanh,4,tanh,4,tanh,4,tanh,1")
    >>> [(p, c) for p, c, _ in af.root]
    [(16, 172), (20, 116), (24, 80)]

    Notes
    -----
    See :func:`adjoint_fronts`.
    """

    def __init__(self, fig: ChainFigures, m: int, fronts: dict[tuple[int, int], Front]) -> None:
        self.fig, self.m, self.fronts = fig, m, fronts

    @property
    def root(self) -> Front:
        """The front of ``A(0, L)``."""
        return self.fronts[(0, self.fig.n)]

    def actions(self, j: int) -> list[Action]:
        """The executor's actions behind point ``j`` of :attr:`root`, in order:
        ``("compute", k)``, ``("release", k)``, ``("vjp", l)`` (drops ``x_{l-1}``) and
        ``("seed", L)``."""
        n = self.fig.n
        out: list[Action] = []
        stack = [(0, n, j)]
        while stack:
            s, t, k = stack.pop()
            choice = self.fronts[(s, t)][k][2]
            if choice is None:
                out += _stretch_actions(self.fig.chain, s, t)
                continue
            cut, (k1, k2) = choice  # type: ignore[misc]
            for i in range(s + 1, cut + 1):
                out.append(("compute", i))
                if i - 1 > s:
                    out.append(("release", i - 1))
            stack.append((s, cut, k2))
            stack.append((cut, t, k1))
        return out


def adjoint_fronts(
    chain: Chain | str | Sequence[int | str],
    m: int | None = None,
    limit: int | None = None,
    positions: list[int] | None = None,
    costs: tuple[int, ...] | None = None,
) -> AdjointFronts:
    """Exact Pareto fronts of the checkpointed adjoint sweep (see the module notes).

    Parameters
    ----------
    chain : Chain, str or sequence
    m : int, optional
        Rows of the adjoint block (default ``d_L``, the seed ``I_{d_L}`` the executor makes:
        the full Jacobian, one row for a gradient); other values price an ``m``-row block.
    limit : int, optional
        Peak limit in elements; points above it are dropped as they appear.
    positions : list of int, optional
        Activations that may be checkpoints (default all); between two chosen ones a stretch
        is stored.
    costs : tuple of int, optional
        Forward cost of each link (default :func:`chainorder.checkpoint.forward_costs`).

    Examples
    --------
    >>> af = adjoint_fronts("3,3,tanh,1", limit=30)
    >>> [(p, c) for p, c, _ in af.root]
    [(9, 12)]

    Notes
    -----
    O(P³·F) time and O(P²·F) memory for P positions and fronts of at most F points.
    """
    resolved = as_chain(chain)
    fig = ChainFigures.of(resolved, costs)
    m = resolved.dims[-1] if m is None else m
    n, d = fig.n, fig.d
    g = [m * d[t] if t < n else 0 for t in range(n + 1)]
    # a stretch drops a dense link's input early, which no cut expresses: always tried
    fronts = nested_fronts(
        fig, g, lambda s, t: _stretch_peak(resolved, m, s, t), limit, positions,
        always_stretch=True,
    )  # fmt: skip
    return AdjointFronts(fig, m, fronts)


def simulate_actions(
    chain: Chain, m: int, actions: Sequence[Action], start: int = 0, block: int = 0
) -> tuple[int, int]:
    """Replay ``actions`` on the memory model: (peak elements, most arrays alive at once).

    Parameters
    ----------
    chain : Chain
    m : int
        Rows of the adjoint block.
    actions : sequence of (kind, index)
    start : int
        The activation alive at the start (``x_0`` for a whole sweep).
    block : int
        Elements of the adjoint block alive at the start (0 for a whole sweep).

    Examples
    --------
    >>> acts = [("compute", 1), ("seed", 2), ("vjp", 2), ("vjp", 1)]
    >>> simulate_actions(Chain.parse("3,3,tanh"), 3, acts)
    (18, 4)

    Notes
    -----
    O(number of actions). A dense VJP drops ``x_{l-1}`` first if it is alive, then makes the
    new block next to the old one; an elementwise VJP makes the derivative vector, drops
    ``x_{l-1}`` and scales the block in place.
    """
    d, n = chain.dims, chain.n_links
    alive = {start}
    live, arrays = d[start] + block, 1 + int(block > 0)
    peak, most = live, arrays
    for kind, k in actions:
        if kind == "compute":
            alive.add(k)
            live, arrays = live + d[k], arrays + 1
        elif kind == "release":
            alive.discard(k)
            live, arrays = live - d[k], arrays - 1
        elif kind == "seed":
            live, arrays = live + m * d[n], arrays + 1
        elif chain.structures[k - 1] is Structure.DENSE:  # drop x, new block, drop old block
            if k - 1 in alive:
                alive.discard(k - 1)
                live, arrays = live - d[k - 1], arrays - 1
            peak, most = max(peak, live + m * d[k - 1]), max(most, arrays + 1)
            live += m * d[k - 1] - m * d[k]
        else:  # derivative temporary, drop x, in-place product, drop temporary
            peak, most = max(peak, live + d[k - 1]), max(most, arrays + 1)
            alive.discard(k - 1)
            live, arrays = live - d[k - 1], arrays - 1
        peak, most = max(peak, live), max(most, arrays)
    return peak, most


#: Bytes per array alive beyond its data under tracemalloc (ndarray object: 112 B for 1-D,
#: 128 B for 2-D).
ADJOINT_ARRAY_BYTES = 128
#: The run's fixed overhead (its frame, iterators, first-call caches), measured at most
#: about 1 KiB, plus slack.
ADJOINT_FIXED_BYTES = 1280


def adjoint_bookkeeping(n_links: int, max_arrays: int) -> int:
    """Bytes :func:`~chainorder.checkpoint.adjoint_run.run_adjoint` needs beyond the arrays'
    data: a header per array alive, two slot lists of ``L + 1`` entries, a fixed part.

    Examples
    --------
    >>> adjoint_bookkeeping(4, 3)
    1760

    Notes
    -----
    O(1). Tested as an upper bound of the measured excess (tests/test_checkpoint_adjoint.py).
    """
    return ADJOINT_ARRAY_BYTES * max_arrays + 16 * (n_links + 2) + ADJOINT_FIXED_BYTES


@dataclass(frozen=True)
class AdjointPlan:
    """A checkpointed VJP sweep: its actions and what it costs, predicted.

    Examples
    --------
    >>> p = plan_adjoint_with_memory_limit("4,4,tanh,4,tanh,4,tanh,4,tanh,1", 20 * 8, reserve=0)
    >>> p.peak_elements, p.recomputations, p.vjp_mults
    (20, 3, 84)

    Notes
    -----
    ``forward_mults`` counts every forward evaluation, the first pass included;
    ``recompute_mults`` only those beyond it.
    """

    chain: Chain
    dtype: Any
    m: int
    actions: tuple[Action, ...]
    peak_elements: int
    max_arrays: int
    forward_mults: int
    recompute_mults: int
    recomputations: int
    vjp_mults: int
    reserve_bytes: int

    @property
    def peak_bytes(self) -> int:
        """Predicted peak of the arrays' data, bytes of the dtype."""
        return self.peak_elements * self.dtype.itemsize

    @property
    def footprint_bytes(self) -> int:
        """Predicted peak plus the executor's bookkeeping reserve."""
        return self.peak_bytes + self.reserve_bytes

    @property
    def total_mults(self) -> int:
        """Forward (first pass and recomputation) plus VJP mults."""
        return self.forward_mults + self.vjp_mults


def _materialise(af: AdjointFronts, j: int, dt: Any, reserve: int | None) -> AdjointPlan:
    chain, fig, m = af.fig.chain, af.fig, af.m
    acts = tuple(af.actions(j))
    peak, most = simulate_actions(chain, m, acts)
    computed = [k for kind, k in acts if kind == "compute"]
    fwd = sum(fig.f[k] for k in computed)
    vjp = sum(
        m * fig.d[l] * (fig.d[l - 1] if s is Structure.DENSE else 1)
        for l, s in enumerate(chain.structures, start=1)
    )
    first = fig.fwd(1, fig.n - 1)
    bk = adjoint_bookkeeping(fig.n, most) if reserve is None else reserve
    return AdjointPlan(
        chain, dt, m, acts, peak, most, fwd, fwd - first, len(computed) - (fig.n - 1), vjp, bk
    )


def _fronts_for(chain: Chain, m: int, limit: int | None) -> AdjointFronts:
    n = chain.n_links
    positions = None
    if n > EXACT_LINKS:
        positions = sorted({round(i * n / _POSITIONS) for i in range(1, _POSITIONS)})
    return adjoint_fronts(chain, m, limit, positions)


def adjoint_pareto_front(
    chain: Chain | str | Sequence[int | str], dtype: object = "float64"
) -> list[AdjointPlan]:
    """Every plan of the adjoint front, lowest peak first (no bookkeeping reserve).

    Examples
    --------
    >>> front = adjoint_pareto_front("4,4,tanh,4,tanh,4,tanh,4,tanh,1")
    >>> [(p.peak_elements, p.recomputations) for p in front]
    [(16, 8), (20, 3), (24, 0)]

    Notes
    -----
    O(L³·F) (checkpoints among 64 positions beyond 80 links).
    """
    resolved = as_chain(chain)
    af = _fronts_for(resolved, resolved.dims[-1], None)
    dt = as_dtype(dtype)
    return [_materialise(af, j, dt, 0) for j in range(len(af.root))]


def plan_adjoint_with_memory_limit(
    chain: Chain | str | Sequence[int | str],
    memory_limit: int | str,
    dtype: object = "float64",
    *,
    reserve: int | None = None,
) -> AdjointPlan:
    """The cheapest checkpointed VJP sweep whose predicted peak (plus reserve) fits.

    Parameters
    ----------
    chain : Chain, str or sequence
    memory_limit : int or str
        Bytes, or a size such as ``"64KiB"``.
    dtype : str or numpy.dtype
    reserve : int, optional
        Bytes kept for the executor's bookkeeping; default each candidate's own
        :func:`adjoint_bookkeeping`; ``0`` fits the model's peak alone.

    Returns
    -------
    AdjointPlan

    Raises
    ------
    InfeasibleMemoryLimitError
        Nothing fits; the message names the smallest achievable footprint.

    Examples
    --------
    >>> p = plan_adjoint_with_memory_limit("64,64,tanh,64,tanh,1", "6KiB")
    >>> p.footprint_bytes <= 6 * 1024, p.recomputations
    (True, 0)

    Notes
    -----
    O(L³·F) for fronts of F points (O(64³·F) beyond 80 links), then O(F·L) to check the
    candidates with their own bookkeeping.
    """
    resolved = as_chain(chain)
    dt = as_dtype(dtype)
    limit = parse_bytes(memory_limit)
    rows = resolved.dims[-1]
    floor = adjoint_bookkeeping(resolved.n_links, 2) if reserve is None else reserve
    room = (limit - floor) // dt.itemsize
    if room >= 0:
        af = _fronts_for(resolved, rows, room)
        for j in range(len(af.root) - 1, -1, -1):  # cheapest first
            p = _materialise(af, j, dt, reserve)
            if p.footprint_bytes <= limit:
                return p
    af = _fronts_for(resolved, rows, None)
    smallest = min(_materialise(af, j, dt, reserve).footprint_bytes for j in range(len(af.root)))
    raise InfeasibleMemoryLimitError(
        f"no adjoint sweep of {_name(resolved)} fits in {format_bytes(limit)} ({dt.name}); the "
        f"smallest achievable footprint is {format_bytes(smallest)} ({smallest} bytes)",
        smallest,
    )


def _name(chain: Chain) -> str:
    spec = chain.spec()
    return spec if len(spec) <= 60 else f"the {chain.n_links}-link chain {spec[:40]}…"

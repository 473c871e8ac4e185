"""Checkpointed schedules replayed on matrix-free elementals (convolutions, activations, dense).

:class:`ElementalSource` turns a seeded :class:`~chainorder.matfree.elementals.ElementalChain`
into a streamed :class:`~chainorder.execute.JacobianSource`: ``activation(k, x)`` is the
elemental's forward value, ``jacobian(l, x)`` its Jacobian formed from the tape of a forward
call at ``x`` (the derivative vector of an elementwise link, a dense array otherwise). The
chain's widths, structures and forward costs (each layer's own multiplications,
``LinkCost.forward``) come from the links, so :func:`plan_with_memory_limit` and
:func:`pareto_front` plan it and :class:`~chainorder.execute.CompiledPlan` replays it.

Transients. The streamed model counts activations, formed Jacobians and products. An elemental
also allocates, for the length of one call, arrays the model does not count:

* elementwise: its forward call returns the value *and* the tape ``f'(x)`` (``d`` each), so
  computing ``x_k`` holds the tape and forming ``J_k`` holds the value for a moment (``gelu``:
  two more temporaries of ``d``);
* convolution: the forward call's im2col matrix (and padded copy,
  :meth:`~chainorder.matfree.conv.Conv2d.workspace`); ``J_l`` is formed by
  :func:`conv_jacobian` (the kernel scattered into zeros: nothing beyond the result, where the
  elemental's own ``jacobian``, a tangent sweep of the identity, would hold the ``n×n`` identity
  and the im2col matrix of ``n`` seeds);
* dense: nothing (``W x`` into the result, ``J`` a copy of ``W``).

The executor's dense-by-diagonal products allocate only their result (``np.einsum`` scaling,
not a broadcast product with its iterator buffer of up to 8192 elements).

:func:`~chainorder.checkpoint.elemental_source.transient_peak` replays a plan's events with
these added at each ``compute``, ``form`` and ``multiply``; :func:`elemental_front` and
:func:`plan_elementals` choose among the memory-limited planner's front by that peak, and the
plans they return carry it as their ``peak_elements`` (so a limit holds measured, and the
prediction is what tracemalloc sees). Fixed per-call overheads (``np.pad`` and view objects, a
cast buffer; at most ~10 KiB measured) go into each plan's reserve. The choice is exact among
the planner's front points; a plan off that front whose transients happen to be smaller is not
searched.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from chainorder.checkpoint.bookkeeping import executor_bookkeeping
from chainorder.checkpoint.elemental_source import (
    SOURCE_OVERHEAD_BYTES,
    ElementalSource,
    chain_of_links,
    link_transients,
    transient_peak,
)
from chainorder.checkpoint.plan import CheckpointPlan, pareto_front
from chainorder.checkpoint.run import CheckpointRun
from chainorder.dtypes import as_dtype
from chainorder.errors import InfeasibleMemoryLimitError
from chainorder.execute import compile_plan
from chainorder.matfree.conv import geometry_of
from chainorder.matfree.elementals import ElementalChain
from chainorder.matfree.planning import as_links
from chainorder.measure import max_relative_difference, peak_memory, time_call, tolerance
from chainorder.memory_guard import check_memory, resolve_limit
from chainorder.plan import plan
from chainorder.units import format_bytes, parse_bytes

__all__ = [
    "ElementalSource",
    "elemental_front",
    "parameter_elements",
    "plan_elementals",
    "run_checkpointed_elementals",
    "with_transients",
]


def with_transients(cp: CheckpointPlan, net: ElementalChain) -> CheckpointPlan:
    """``cp`` with its peak recomputed for ``net``'s elementals (:func:`transient_peak`) and its
    reserve the executor's bookkeeping plus :data:`SOURCE_OVERHEAD_BYTES`.

    Examples
    --------
    >>> net = ElementalChain(as_links("64,gelu,2"))  # gelu's temporaries while computing x_1
    >>> cp = pareto_front(chain_of_links(net.links))[0]
    >>> cp.peak_elements, with_transients(cp, net).peak_elements
    (320, 384)

    Notes
    -----
    O(L + number of events).
    """
    reserve = executor_bookkeeping(cp.chain.n_links, cp.events) + SOURCE_OVERHEAD_BYTES
    note = "peaks include the elementals' transients"
    return replace(
        cp,
        peak_elements=transient_peak(cp, *link_transients(net)),
        reserve_bytes=reserve,
        searched=f"{cp.searched}; {note}" if cp.searched else note,
    )


def _setup(
    spec_or_links: Any, dtype: object, seed: int = 0, max_memory: int | str | None = None
) -> tuple[Any, ElementalChain]:
    """The links and their seeded network, its parameters checked against ``max_memory``."""
    links = as_links(spec_or_links)
    dt = as_dtype(dtype)
    check_memory(
        parameter_elements(links) * dt.itemsize,
        f"the parameters of {len(links)} elementals in {dt.name}",
        max_memory,
    )
    return links, ElementalChain(links, seed=seed, dtype=dt)


def parameter_elements(links: Any) -> int:
    """Elements an :class:`ElementalChain` of ``links`` holds as parameters (an upper bound).

    Dense (and ``custom``): ``W`` and ``b``; elementwise: ``d`` scales; convolution: the kernel
    three times (as given and in its two matrix layouts) and the bias.

    Examples
    --------
    >>> parameter_elements(as_links("1x6x6,conv2d(2,k=3),relu,3"))  # 3·18 + 2, 32, 3·32 + 3
    187

    Notes
    -----
    O(L).
    """
    total = 0
    for link in links:
        if link.kind in ("conv1d", "conv2d"):
            g = geometry_of(link)
            total += 3 * g.filters * g.patch + g.filters
        elif link.diagonal:
            total += link.rows
        else:
            total += link.rows * link.cols + link.rows
    return total


def elemental_front(
    spec_or_links: Any,
    dtype: object = "float64",
    memory_limit: int | str | None = None,
    *,
    net: ElementalChain | None = None,
) -> list[CheckpointPlan]:
    """The cost–memory front of a chain of elementals, peaks including their transients.

    The memory-limited planner's front (forward costs from the links) with every point's peak
    recomputed by :func:`transient_peak` and its reserve the executor's bookkeeping plus
    :data:`SOURCE_OVERHEAD_BYTES`; points another point dominates are dropped. With
    ``memory_limit`` only the points whose peak plus reserve fits.

    Examples
    --------
    >>> front = elemental_front("60,80,tanh,90,tanh,80,relu,40,tanh,5")
    >>> [cp.recomputations for cp in front], front[0].peak_bytes < front[-1].peak_bytes
    ([4, 2, 2, 1, 0], True)

    Notes
    -----
    As :func:`pareto_front`, plus O(number of events) per point.
    """
    if net is None:
        links, net = _setup(spec_or_links, dtype)
    else:
        links = as_links(spec_or_links)
    chain = chain_of_links(links)
    costs = tuple(link.forward for link in links)
    limit = None if memory_limit is None else parse_bytes(memory_limit)
    lifted = sorted(
        (
            replace(with_transients(cp, net), memory_limit=limit)
            for cp in pareto_front(chain, dtype, costs)
        ),
        key=lambda cp: (cp.peak_elements, cp.cost),
    )
    front: list[CheckpointPlan] = []
    for cp in lifted:
        if not front or cp.cost < front[-1].cost:
            front.append(cp)
    return front if limit is None else [cp for cp in front if cp.footprint_bytes <= limit]


def plan_elementals(
    spec_or_links: Any,
    memory_limit: int | str,
    dtype: object = "float64",
    *,
    net: ElementalChain | None = None,
) -> CheckpointPlan:
    """The cheapest checkpointed plan of a chain of elementals whose peak, transients
    included, plus reserve fits ``memory_limit``.

    Raises
    ------
    InfeasibleMemoryLimitError
        No point of :func:`elemental_front` fits; the message names the smallest footprint.

    Examples
    --------
    >>> cp = plan_elementals("1x8x8,conv2d(2,k=3),relu,conv2d(2,k=3,stride=2),relu,3", "64KiB")
    >>> cp.footprint_bytes <= 64 * 1024, cp.recomputations
    (True, 0)

    Notes
    -----
    As :func:`elemental_front`.
    """
    limit = parse_bytes(memory_limit)
    front = elemental_front(spec_or_links, dtype, net=net)
    fitting = [cp for cp in front if cp.footprint_bytes <= limit]
    if not fitting:
        smallest = min(cp.footprint_bytes for cp in front)
        raise InfeasibleMemoryLimitError(
            f"no checkpointed plan of these elementals fits in {format_bytes(limit)} "
            f"({as_dtype(dtype).name}); the smallest achievable peak is "
            f"{format_bytes(smallest)} ({smallest} bytes, transients and bookkeeping included)",
            smallest,
        )
    best = min(fitting, key=lambda cp: (cp.cost, cp.peak_elements))
    return replace(best, memory_limit=limit)


def run_checkpointed_elementals(
    spec_or_links: Any,
    memory_limit: int | str,
    *,
    dtype: object = "float64",
    seed: int = 0,
    repeat: int = 3,
    max_memory: int | str | None = None,
) -> CheckpointRun:
    """Plan a chain of elementals under ``memory_limit``, run it and measure it.

    Parameters
    ----------
    spec_or_links : str, Chain or sequence of LinkCost
        A matrix-free spec such as ``"1x12x12,conv2d(4,k=3),relu,10"`` (see
        :func:`chainorder.matfree.as_links`).
    memory_limit : int or str
        Bytes or a size such as ``"512KiB"``; holds the plan's peak (transients included)
        plus the executor's bookkeeping.
    dtype : str
    seed : int
        Seeds the network (``seed``) and the point ``x_0`` (``seed + 1``).
    repeat : int
        Timed runs of each plan (best of).
    max_memory : int or str, optional
        Memory guard for the network and both runs.

    Returns
    -------
    CheckpointRun
        As :func:`chainorder.checkpoint.run.run_checkpointed`: the plan, measured peak
        (tracemalloc) and recomputations (``activation`` calls ``- (L - 1)``), times, and the
        difference from the unconstrained optimal plan's Jacobian.

    Raises
    ------
    InfeasibleMemoryLimitError
        Nothing fits the limit.
    MemoryLimitError
        The runs would not fit ``max_memory``.

    Examples
    --------
    >>> spec = "1x10x10,conv2d(3,k=3),relu,conv2d(4,k=3,stride=2),relu,10"
    >>> run = run_checkpointed_elementals(spec, "200KiB", repeat=1)
    >>> run.ok, run.measured_recomputations == run.plan.recomputations
    (True, True)

    Notes
    -----
    Planning as :func:`plan_elementals`; two untraced runs of each plan per ``repeat`` and one
    traced run of the memory-limited plan.
    """
    links, net = _setup(spec_or_links, dtype, seed, max_memory)
    cp = plan_elementals(links, memory_limit, dtype, net=net)
    x = net.random_input(seed + 1)
    free = compile_plan(plan(cp.chain, "optimal", cp.plan.dtype), "streamed")
    limited = compile_plan(cp)
    check_memory(
        cp.footprint_bytes + free.plan.peak_bytes("streamed"),
        f"running {len(links)} elementals checkpointed and unconstrained",
        max_memory,
    )
    guard, _ = resolve_limit(max_memory)  # read once: the guard's own /proc read is not traced
    reference = free(ElementalSource(net), x, max_memory=guard)
    counting = ElementalSource(net)
    measured = peak_memory(lambda: limited(counting, x.copy, max_memory=guard))
    unconstrained_peak = peak_memory(
        lambda: free(ElementalSource(net), x.copy, max_memory=guard)
    ).peak_bytes
    recomputed = counting.forward_calls - (len(links) - 1)
    t_limited = time_call(lambda: limited(ElementalSource(net), x), repeat=repeat).best
    t_free = time_call(lambda: free(ElementalSource(net), x), repeat=repeat).best
    return CheckpointRun(
        cp,
        measured.peak_bytes,
        recomputed,
        t_limited,
        t_free,
        unconstrained_peak,
        max_relative_difference(measured.result, reference),
        tolerance(cp.plan.dtype),
    )

"""A streamed Jacobian source over matrix-free elementals, and what its calls allocate.

:class:`ElementalSource` is the :class:`~chainorder.execute.JacobianSource` of a seeded
:class:`~chainorder.matfree.elementals.ElementalChain`; :func:`link_transients` gives the
temporaries the streamed model does not count, and :func:`transient_peak` replays a plan's
events with them (see
:mod:`chainorder.checkpoint.elementals`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from chainorder.chain import Chain
from chainorder.checkpoint.plan import CheckpointPlan
from chainorder.errors import SpecError
from chainorder.matfree.conv import Conv2d
from chainorder.matfree.elementals import ElementalChain, Elementwise
from chainorder.matfree.links import LinkCost

__all__ = [
    "SOURCE_OVERHEAD_BYTES",
    "ElementalSource",
    "chain_of_links",
    "conv_jacobian",
    "link_transients",
    "transient_peak",
]

#: Bytes a source call holds beyond the arrays' data and the modelled transients (measured at
#: most ~10 KiB: ``np.pad``/``sliding_window_view`` objects of a convolution's forward call,
#: the cast buffer of ``relu``'s derivative), kept in each plan's reserve.
SOURCE_OVERHEAD_BYTES = 16 * 1024


def chain_of_links(links: Sequence[LinkCost]) -> Chain:
    """The :class:`Chain` of matrix-free links: widths, diagonal for elementwise, dense otherwise.

    Examples
    --------
    >>> from chainorder.matfree.planning import as_links
    >>> c = chain_of_links(as_links("1x6x6,conv2d(2,k=3),relu,3"))
    >>> c.dims, [s.value for s in c.structures]
    ((36, 32, 32, 3), ['dense', 'diagonal', 'dense'])

    Notes
    -----
    O(L).
    """
    links = tuple(links)
    dims = (links[0].cols, *(link.rows for link in links))
    structures = ["diagonal" if link.diagonal else "dense" for link in links]
    names = [link.label for link in links]
    return Chain.from_dims(dims, structures, names)


def link_transients(net: ElementalChain) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Elements each link's calls hold beyond their result: ``(compute, form)``, one per link.

    Raises
    ------
    SpecError
        A layer of a kind whose temporaries are not known.

    Examples
    --------
    >>> from chainorder.matfree.planning import as_links
    >>> net = ElementalChain(as_links("1x4x4,conv2d(1,k=3),tanh,2"))
    >>> link_transients(net)
    ((36, 4, 0), (0, 4, 0))

    Notes
    -----
    O(L). Convolution: forward ``conv.workspace("forward", 1)``, forming ``J`` 0
    (:func:`conv_jacobian`). Elementwise: ``d`` each (``gelu``: ``3d``).
    """
    compute, form = [], []
    for layer in net.layers:
        if isinstance(layer, Elementwise):
            extra = layer.size * (3 if layer.name == "gelu" else 1)
            compute.append(extra)
            form.append(extra)
        elif isinstance(layer, Conv2d):
            compute.append(layer.workspace("forward", 1))
            form.append(0)  # conv_jacobian: the kernel scattered into the result
        elif layer.kind == "dense":
            compute.append(0)
            form.append(0)
        else:  # pragma: no cover - ElementalChain builds only the kinds above
            raise SpecError(f"no transient model for an elemental of kind {layer.kind!r}")
    return tuple(compute), tuple(form)


class ElementalSource:
    """A streamed Jacobian source over a seeded :class:`ElementalChain`, counting its calls.

    Attributes
    ----------
    chain : Chain
        From :func:`chain_of_links`.
    forward_calls : int
        ``activation`` calls (each one forward call of an elemental).
    tape_calls : int
        Forward calls made to obtain a tape while forming a Jacobian (elementwise links).

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.matfree.planning import as_links
    >>> src = ElementalSource(ElementalChain(as_links("3,4,tanh,2"), seed=0))
    >>> x1 = src.activation(1, np.ones(3))
    >>> src.jacobian(2, x1).shape, src.jacobian(1, None).shape, src.forward_calls
    ((4,), (4, 3), 1)

    Notes
    -----
    Each call allocates its result plus the link's transient (:func:`link_transients`).
    """

    def __init__(self, net: ElementalChain) -> None:
        self.net = net
        self.chain = chain_of_links(net.links)
        self.forward_calls = 0
        self.tape_calls = 0

    def activation(self, k: int, x_prev: Any) -> Any:
        """``x_k``: the forward value of layer ``k`` at ``x_{k-1}`` (its tape dropped)."""
        self.forward_calls += 1
        y, _ = self.net.layers[k - 1].forward(x_prev)
        return y

    def jacobian(self, l: int, x_prev: Any) -> Any:
        """``J_l`` at ``x_{l-1}``: the derivative vector of an elementwise link (the tape of a
        forward call), else the dense ``(d_l, d_{l-1})`` Jacobian from the (empty) tape."""
        layer = self.net.layers[l - 1]
        tape = None
        if layer.tape_elements:
            self.tape_calls += 1
            _, tape = layer.forward(x_prev)
        if isinstance(layer, Elementwise):
            return tape
        if isinstance(layer, Conv2d):
            return conv_jacobian(layer)
        return layer.jacobian(tape)


def conv_jacobian(conv: Conv2d) -> Any:
    """The dense ``(m, n)`` Jacobian of a convolution, the kernel scattered into zeros.

    Equal to ``conv.jacobian(None)`` (the tangent sweep of the identity) but with no temporary
    beyond the result: no ``n×n`` identity, no im2col matrix of ``n`` seeds.

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.matfree.conv import ConvGeometry
    >>> conv = Conv2d.random(ConvGeometry(2, 5, 5, 3, 3, 3, 2, 2, 1, 1), np.random.default_rng(0))
    >>> bool(np.array_equal(conv_jacobian(conv), conv.jacobian(None)))
    True

    Notes
    -----
    ``kh·kw`` assignments of ``F·C·Ho·Wo`` entries at most; ``m·n`` elements allocated.
    """
    g = conv.geometry
    out = np.zeros((g.m, g.n), dtype=conv.kernel.dtype)
    view = out.reshape(g.filters, g.out_height, g.out_width, g.channels, g.height, g.width)
    sf, si, sj, sc, sr, sx = view.strides
    for a in range(g.kh):
        i0, ni, r0 = _taps(g.out_height, g.sh, a - g.ph, g.height)
        for b in range(g.kw):
            j0, nj, c0 = _taps(g.out_width, g.sw, b - g.pw, g.width)
            if ni == 0 or nj == 0:
                continue
            # output (i, j) meets input (i·sh + a - ph, j·sw + b - pw): one strided diagonal view
            block = as_strided(
                view[0, i0, j0, 0, r0:, c0:],
                shape=(g.filters, ni, nj, g.channels),
                strides=(sf, si + g.sh * sr, sj + g.sw * sx, sc),
                writeable=True,
            )
            block[...] = conv.kernel[:, None, None, :, a, b]
    return out


def _taps(outputs: int, stride: int, offset: int, size: int) -> tuple[int, int, int]:
    """First output ``o`` whose input ``o·stride + offset`` lies in ``0..size-1``, how many
    consecutive outputs do, and that first input position."""
    first = max(0, -(offset // stride))
    last = min(outputs - 1, (size - 1 - offset) // stride)
    return first, max(0, last - first + 1), first * stride + offset


def transient_peak(cp: CheckpointPlan, compute: Sequence[int], form: Sequence[int]) -> int:
    """Peak elements of ``cp``'s events with each ``compute k``/``form l`` holding its transient
    (the executor's dense-by-diagonal products allocate only their result:
    :func:`chainorder.execute_links.multiply`).

    Examples
    --------
    >>> from chainorder.checkpoint import pareto_front
    >>> cp = pareto_front("4,4,4,1")[0]
    >>> transient_peak(cp, (0, 0, 0), (0, 0, 0)) == cp.peak_elements
    True
    >>> transient_peak(cp, (0, 0, 0), (100, 0, 0)) > cp.peak_elements
    True

    Notes
    -----
    O(number of events); for a dense chain with zero transients it equals
    :func:`chainorder.memory.simulate_peak`.
    """
    p = cp.plan
    flat, shapes, d = p.flat, p.shapes, p.chain.dims
    leaf_of = {flat.lo[i]: i for i in range(len(flat.lo)) if flat.left[i] < 0}
    live = peak = d[0]
    for ev in cp.events:
        extra = 0
        if ev.kind == "compute":
            live += d[ev.index]
            extra = compute[ev.index - 1]
        elif ev.kind == "release":
            live -= d[ev.index]
        elif ev.kind == "form":
            live += shapes.elements(leaf_of[ev.index])
            extra = form[ev.index - 1]
        elif ev.kind == "multiply":
            live += shapes.elements(ev.index)
        elif ev.kind == "free":
            live -= shapes.elements(ev.index)
        peak = max(peak, live + extra)
    return peak

"""The event list of running a :class:`~chainorder.matfree.plan.MatrixFreePlan`.

One list serves both the memory model (:mod:`chainorder.matfree.memory` simulates it) and
the executor (:mod:`chainorder.matfree.execute` replays it), so measured memory can only
differ from the prediction by what NumPy allocates beyond the arrays named here.

Every :class:`Event` states the elements it allocates (``alloc``), the temporaries alive
only during it (``transient``) and the elements it frees once done (``free``). Kinds:

``compute``     forward pass through link ``l``: ``x_l`` (``d_l``) and its tape
                (``tape_l``) from ``x_{l-1}``; transient: the layer's forward workspace.
``release``     drop activation ``x_l`` (``d_l``).
``free_tape``   drop the tape of link ``l`` after its last use (streamed only).
``identity``    a node's sweep starts from ``I`` (``seeds²``).
``ones``        a ``diagonal`` node's seed, a vector of ``d`` ones.
``densify``     a sweep starts from a diagonal child: ``diag(v)`` (``d²``), ``v`` freed.
``form``        a ``given`` leaf formed from its layer (streamed): ``W`` copied, the
                diagonal copied from the tape, a convolution's Jacobian by ``jvp(I)``.
``jvp``/``vjp`` one step of a sweep through link ``l``: the new block (``m_l·s`` or
                ``s·n_l``), the layer's workspace, then the old block freed. Through an
                elementwise link, when the run owns the block (anything but a ``given``
                input), the block is scaled *in place* (``inplace``): nothing allocated or
                freed, NumPy's ufunc buffer as transient.
``multiply``    a ``dense`` node: ``left @ right`` (or a diagonal scaling), children freed.
                A diagonal scaling of a full child the run owns is done in place: the
                child becomes the result, only the diagonal child is freed.
``densify_root`` a diagonal root returned as a dense matrix.

Settings (as in :mod:`chainorder.memory`):

``given``
    The tapes of every link and the arrays of ``given`` leaves are inputs, present before and
    after (``base`` elements); nothing computes a forward pass.
``streamed``
    The run starts from ``x_0`` (``d_0`` elements, owned by the run). If some link keeps a
    tape, the forward pass runs first, to the last link ``K`` with a tape, each activation
    released once the next exists; every tape stays until the one event that uses it (the
    sweep step through its link, its ``diagonal`` seed or its ``form``) and is freed right
    after: an adjoint sweep's tapes thus live from the forward pass until the sweep reaches
    them. Nodes then run in the plan's order (children before parents). (Interleaving
    tangent sweeps with the forward pass, which would keep fewer tapes, is not modelled.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chainorder.matfree.conv import UFUNC_BUFFER, conv_workspace, geometry_of
from chainorder.matfree.plan import MatrixFreePlan, PlanNode
from chainorder.memory import Setting, as_setting

__all__ = ["Event", "Schedule", "broadcast_buffer", "link_workspace", "schedule"]


@dataclass(frozen=True, slots=True)
class Event:
    """One step of a run (see the module notes); sizes in elements of the plan's dtype."""

    kind: str
    node: int = -1
    link: int = -1
    alloc: int = 0
    free: int = 0
    transient: int = 0
    inplace: bool = False
    target: int = -1  # an in-place ``multiply``: the child node it overwrites


@dataclass(frozen=True, slots=True)
class Schedule:
    """The events of one plan in one setting, and the input elements present throughout."""

    plan: MatrixFreePlan
    setting: Setting
    events: tuple[Event, ...]
    base: int

    def __len__(self) -> int:
        return len(self.events)


def link_workspace(link: object, direction: str, seeds: int) -> int:
    """Temporaries (elements) of one call of a link's elemental on ``seeds`` seeds.

    0 for dense and custom links (one BLAS product straight into the result); for an
    elementwise link on a block (``d > 1`` and ``s > 1``) the one ufunc buffer NumPy's
    broadcasting multiply allocates, ``min(8192, d·s)`` (:func:`broadcast_buffer`); the im2col
    model of :func:`chainorder.matfree.conv.conv_workspace` for convolutions.

    Examples
    --------
    >>> from chainorder.matfree.links import conv2d, dense
    >>> link_workspace(dense(3, 4), "adjoint", 7), link_workspace(conv2d(1, 4, 2, 3), "tangent", 5)
    (0, 180)

    Notes
    -----
    O(1).
    """
    kind = getattr(link, "kind", None)
    if kind in ("conv1d", "conv2d"):
        return conv_workspace(geometry_of(link), direction, seeds)
    if kind == "elementwise" and direction != "forward":
        return broadcast_buffer(link.rows, seeds)  # type: ignore[attr-defined]
    return 0


def broadcast_buffer(rows: int, cols: int) -> int:
    """Elements of the ufunc buffer of a ``rows × cols`` broadcasting multiply by a vector.

    NumPy buffers the broadcast operand of ``v[:, None] * B`` (or ``B * v[None, :]``) in
    chunks of at most ``numpy.getbufsize()`` elements (measured with ``tracemalloc``); a
    vector-by-vector product (``rows`` or ``cols`` = 1) needs none.

    Examples
    --------
    >>> broadcast_buffer(30, 200), broadcast_buffer(500, 400), broadcast_buffer(100, 1)
    (6000, 8192, 0)

    Notes
    -----
    O(1).
    """
    if rows <= 1 or cols <= 1:
        return 0
    return min(UFUNC_BUFFER, rows * cols)


def _stored(plan: MatrixFreePlan, node: PlanNode) -> int:
    if node.diagonal:
        return plan.links[node.hi - 1].rows
    return plan.links[node.hi - 1].rows * plan.links[node.lo - 1].cols


def schedule(plan: MatrixFreePlan, setting: Setting | str = "streamed") -> Schedule:
    """The event list of ``plan`` in ``setting`` (see the module notes).

    Examples
    --------
    >>> from chainorder.matfree.links import dense, elementwise
    >>> from chainorder.matfree.plan import MatrixFreePlan
    >>> p = MatrixFreePlan.from_nodes([dense(4, 3), elementwise(4, "tanh")],
    ...                               [(1, 2, 1, "tangent")])
    >>> [(e.kind, e.link, e.alloc, e.free) for e in schedule(p, "streamed").events]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('compute', 1, 4, 3), ('compute', 2, 8, 4), ('release', 2, 0, 4), ('identity', -1, 9, 0),
     ('jvp', 1, 12, 9), ('jvp', 2, 0, 0), ('free_tape', 2, 0, 4)]

    Notes
    -----
    O(L + number of nodes) events.
    """
    st = as_setting(setting)
    streamed = st is Setting.STREAMED
    links = plan.links
    L = len(links)
    tape = [0, *(link.tape for link in links)]  # tape[l], 1-based
    events: list[Event] = []
    base = 0
    if streamed:
        base = links[0].cols  # x_0
        last = max((l for l in range(1, L + 1) if tape[l] > 0), default=0)
        if last == 0:
            events.append(Event("release", link=0, free=links[0].cols))
        for l in range(1, last + 1):
            link = links[l - 1]
            ws = link_workspace(link, "forward", 1)
            events.append(
                Event("compute", link=l, alloc=link.rows + tape[l], free=link.cols, transient=ws)
            )
            if l == last:
                events.append(Event("release", link=l, free=link.rows))
    else:
        base = sum(tape)
        base += sum(links[n.lo - 1].stored_elements for n in plan.nodes if n.action == "given")

    owned = [True] * len(plan.nodes)
    size = [_stored(plan, node) for node in plan.nodes]
    for i, node in enumerate(plan.nodes):
        if node.action == "given" and not streamed:
            owned[i] = False
        for ev in _node_events(plan, i, node, size, owned, streamed):
            events.append(ev)
            if streamed and ev.link > 0 and tape[ev.link] > 0:  # the tape's only use
                events.append(Event("free_tape", node=i, link=ev.link, free=tape[ev.link]))
    root = len(plan.nodes) - 1
    if plan.nodes[root].diagonal:
        d = size[root]
        events.append(Event("densify_root", node=root, alloc=d * d, free=d if owned[root] else 0))
    return Schedule(plan, st, tuple(events), base)


def _node_events(
    plan: MatrixFreePlan,
    i: int,
    node: PlanNode,
    size: Sequence[int],
    owned: Sequence[bool],
    streamed: bool,
) -> list[Event]:
    links = plan.links
    out: list[Event] = []
    if node.action == "given":
        if not streamed:
            return out
        link = links[node.lo - 1]
        transient = 0
        if link.kind in ("conv1d", "conv2d"):  # jacobian = jvp(I_n)
            transient = link.cols**2 + link_workspace(link, "tangent", link.cols)
        return [Event("form", node=i, link=node.lo, alloc=size[i], transient=transient)]
    if node.action == "dense":
        target = _inplace_operand(plan, node, owned)
        if target is not None:  # a diagonal scaling written into the owned full operand
            other = node.right if target == node.left else node.left
            rows, cols = links[node.hi - 1].rows, links[node.lo - 1].cols
            transient = 0 if plan.nodes[target].diagonal else broadcast_buffer(rows, cols)
            free = size[other] if owned[other] else 0
            return [
                Event("multiply", node=i, free=free, transient=transient, inplace=True,
                      target=target)
            ]
        free = sum(size[c] for c in (node.left, node.right) if owned[c])
        # chainorder.execute_links.multiply_stored: a diagonal scaling holds only its result
        return [Event("multiply", node=i, alloc=size[i], free=free)]
    if node.action == "diagonal":
        d = links[node.lo - 1].rows
        return [
            Event("ones", node=i, alloc=d),  # link -1: not a use of the tape
            Event("jvp", node=i, link=node.lo, inplace=True),
        ]
    s = node.seeds
    child = node.right if node.action == "tangent" else node.left
    mine = True  # whether the run owns the block (may overwrite it)
    if child < 0:
        out.append(Event("identity", node=i, alloc=s * s))
        block = s * s
    elif plan.nodes[child].diagonal:
        out.append(Event("densify", node=i, alloc=s * s, free=size[child] if owned[child] else 0))
        block = s * s
    else:
        mine = owned[child]
        block = size[child] if mine else 0
    for l in node.swept():
        link = links[l - 1]
        if node.action == "tangent":
            new, kind, direction = link.rows * s, "jvp", "tangent"
        else:
            new, kind, direction = s * link.cols, "vjp", "adjoint"
        ws = link_workspace(link, direction, s)
        if mine and link.kind == "elementwise":  # scaled in place
            out.append(Event(kind, node=i, link=l, transient=ws, inplace=True))
        else:
            out.append(Event(kind, node=i, link=l, alloc=new, free=block, transient=ws))
        block, mine = new, True
    return out


def _inplace_operand(plan: MatrixFreePlan, node: PlanNode, owned: Sequence[bool]) -> int | None:
    """The child of a ``dense`` node that its product may overwrite, or None.

    A diagonal scaling (one child diagonal, or both) has the shape of its full child (of
    either child when both are diagonal), so it is written into that child when the run
    owns it.
    """
    left, right = plan.nodes[node.left], plan.nodes[node.right]
    if left.diagonal and right.diagonal:
        return next((c for c in (node.left, node.right) if owned[c]), None)
    if left.diagonal != right.diagonal:
        full = node.right if left.diagonal else node.left
        return full if owned[full] else None
    return None

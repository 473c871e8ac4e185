"""Run a matrix-free plan on real elementals and return the Jacobian.

:func:`execute` replays the event list of :func:`chainorder.matfree.schedule.schedule`:
tangent sweeps as batched JVPs on ``n`` seed columns, adjoint sweeps as batched VJPs on ``m``
seed rows, ``dense`` nodes by ``@`` (a diagonal factor by broadcasting), the forward pass and
tape frees where the schedule puts them. Because the memory model simulates the same list,
traced memory follows the prediction (:mod:`chainorder.matfree.measure` checks it).

What the executor does beyond the priced multiplications is kept small: an elementwise link
scales a block the run owns in place (``inplace`` events: no fresh block to allocate and
page in), a diagonal scaling in a ``dense`` node overwrites its full child, and an adjoint
sweep keeps its block *seeds-last* (Fortran-ordered ``(s, n)``: the identity or ``diag`` it
starts from is symmetric and is handed over as its transpose, a dense VJP returns ``(Wᵀ
Aᵀ)ᵀ``, a convolution's VJP reads and writes that layout), so no step transposes a block.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from chainorder.errors import ExecutionError
from chainorder.execute_links import multiply_stored
from chainorder.matfree.elementals import ElementalChain
from chainorder.matfree.memory import predict_memory
from chainorder.matfree.plan import MatrixFreePlan
from chainorder.matfree.schedule import Schedule, schedule
from chainorder.memory import Setting, as_setting
from chainorder.memory_guard import check_memory, memory_errors

__all__ = ["execute", "form_given", "replay", "scale_in_place"]


def scale_in_place(a: Any, b: Any, into_left: bool) -> Any:
    """``a · b`` where one factor is diagonal (a 1-D vector), written into the other (or, both
    diagonal, into ``a`` when ``into_left`` else ``b``); returns the overwritten array.

    Examples
    --------
    >>> b = np.ones((2, 3))
    >>> scale_in_place(np.array([2.0, 3.0]), b, False) is b, b.tolist()
    (True, [[2.0, 2.0, 2.0], [3.0, 3.0, 3.0]])

    Notes
    -----
    ``m·n`` (or ``d``) multiplications; no allocation but NumPy's ufunc buffer.
    """
    if a.ndim == 1 and b.ndim == 2:
        return np.multiply(b, a[:, None], out=b)
    if a.ndim == 2 and b.ndim == 1:
        return np.multiply(a, b[None, :], out=a)
    into = a if into_left else b
    return np.multiply(a, b, out=into)


def form_given(layer: Any, tape: Any) -> Any:
    """The array of a ``given`` link: its diagonal (elementwise) or its dense Jacobian.

    Examples
    --------
    >>> from chainorder.matfree.elementals import Elementwise
    >>> form_given(Elementwise("square", 2), np.array([2.0, 4.0])).tolist()
    [2.0, 4.0]

    Notes
    -----
    O(m·n) (elementwise: O(d)).
    """
    if getattr(layer, "kind", "") == "elementwise":
        return tape.copy()
    return layer.jacobian(tape)


def _check(plan: MatrixFreePlan, net: ElementalChain) -> None:
    if len(net.layers) != plan.n_links:
        raise ExecutionError(f"the plan has {plan.n_links} links but the network {len(net)}")
    for l, (link, layer) in enumerate(zip(plan.links, net.layers, strict=True), start=1):
        if tuple(layer.shape) != link.shape:
            raise ExecutionError(
                f"link {l} of the plan is {link.rows}×{link.cols} but the network's layer is "
                f"{layer.shape[0]}×{layer.shape[1]}"
            )


def execute(
    plan: MatrixFreePlan,
    net: ElementalChain,
    x: Any | Callable[[], Any] | None = None,
    *,
    setting: Setting | str = "streamed",
    tapes: Sequence[Any] | None = None,
    given: Mapping[int, Any] | None = None,
    max_memory: int | str | None = None,
) -> Any:
    """The Jacobian ``J_L ⋯ J_1`` of ``net`` at ``x``, computed as ``plan`` says.

    Parameters
    ----------
    plan : MatrixFreePlan
    net : ElementalChain
        Layers whose shapes match the plan's links.
    x : array or callable, optional
        The point ``x_0`` (or a function returning it, called inside the run: the streamed
        model counts ``x_0`` as the run's own). Required unless ``setting="given"`` with
        ``tapes``.
    setting : {"streamed", "given"}
        ``streamed``: the forward pass is part of the run. ``given``: ``tapes`` (one per
        link, ``None`` where a layer keeps none; from ``net.tapes(x)`` when omitted) and the
        arrays of ``given`` links (``given[l]``; formed from the layer when omitted) exist
        beforehand.
    max_memory : int or str, optional
        Limit for the memory guard (default: half the available memory).

    Returns
    -------
    numpy.ndarray
        ``(d_L, d_0)``.

    Raises
    ------
    ExecutionError
        The network does not fit the plan, or a needed input is missing.
    MemoryLimitError
        The predicted peak exceeds the limit (checked before allocating).

    Examples
    --------
    >>> from chainorder.matfree.links import dense, elementwise
    >>> links = [dense(4, 3), elementwise(4, "tanh"), dense(2, 4)]
    >>> p = MatrixFreePlan.from_nodes(links, [(1, 3, 4, "adjoint")])  # pure adjoint (jacrev)
    >>> net = ElementalChain(links, seed=0)
    >>> x = net.random_input()
    >>> bool(np.allclose(execute(p, net, x), net.jacobian(x)))
    True

    Notes
    -----
    Time: the plan's mults plus the forward pass (streamed); memory: the predicted peak of
    :func:`chainorder.matfree.memory.predict_memory`.
    """
    st = as_setting(setting)
    prediction = predict_memory(plan, st)
    itemsize = np.dtype(net.dtype).itemsize
    check_memory(
        prediction.peak_elements * itemsize,
        f"running the matrix-free plan on {plan.n_links} links ({st.value})",
        max_memory,
    )
    _check(plan, net)
    with memory_errors("running the matrix-free plan"):
        return replay(schedule(plan, st), net, x, tapes=tapes, given=given)


def replay(
    sched: Schedule,
    net: ElementalChain,
    x: Any = None,
    *,
    tapes: Sequence[Any] | None = None,
    given: Mapping[int, Any] | None = None,
    trace: list | None = None,
) -> Any:
    """Replay a prepared :class:`~chainorder.matfree.schedule.Schedule` on ``net``.

    The loop inside :func:`execute`, without its checks (memory guard, shapes): for repeated
    timing of one plan. Arguments as in :func:`execute`. With a list ``trace``, each event
    that computes appends ``(kind, link kind, CPU seconds, mults)`` (``jvp``/``vjp``: the
    link's kind; ``multiply``: ``"diagonal"`` for a diagonal scaling, else ``"dense"``; the
    seeds and products have 0 mults): the per-link-kind time per mult of
    benchmarks/bench_matfree.py.

    Examples
    --------
    >>> from chainorder.matfree.links import dense
    >>> links = [dense(2, 3), dense(2, 2)]
    >>> net = ElementalChain(links, seed=0)
    >>> p = MatrixFreePlan.from_nodes(links, [(1, 2, 1, "tangent")])
    >>> replay(schedule(p, "given"), net, tapes=[None, None]).shape
    (2, 3)

    Notes
    -----
    The plan's mults plus, when streamed, the forward pass.
    """
    plan, st = sched.plan, sched.setting
    layers = net.layers
    dtype = net.dtype
    nodes = plan.nodes
    arrays: dict[int, Any] = {}
    tape_of: dict[int, Any] = {}
    if st is Setting.STREAMED:
        if x is None:
            raise ExecutionError("the streamed setting needs the point x")
        x = x() if callable(x) else np.array(x, dtype=dtype, copy=True)
    else:
        if tapes is None:
            if x is None:
                raise ExecutionError("the given setting needs tapes or the point x")
            tapes = net.tapes(x() if callable(x) else x)
        if len(tapes) != plan.n_links:
            raise ExecutionError(f"got {len(tapes)} tapes for {plan.n_links} links")
        tape_of = {l: t for l, t in enumerate(tapes, start=1) if t is not None}
        for i, node in enumerate(nodes):
            if node.action == "given":
                l = node.lo
                have = given.get(l) if given is not None else None
                arrays[i] = have if have is not None else form_given(layers[l - 1], tape_of.get(l))
    x_live = x if st is Setting.STREAMED else None
    del x
    last_work = {}
    for pos, ev in enumerate(sched.events):
        if ev.kind in ("jvp", "vjp", "multiply", "form"):
            last_work[ev.node] = pos
    block: Any = None
    for pos, ev in enumerate(sched.events):
        kind, i, l = ev.kind, ev.node, ev.link
        if trace is not None:
            started = time.thread_time()
        if kind == "compute":
            x_live, t = layers[l - 1].forward(x_live)
            if t is not None:
                tape_of[l] = t
            del t
        elif kind == "release":
            x_live = None
        elif kind == "free_tape":
            del tape_of[l]
        elif kind == "identity":  # symmetric: an adjoint sweep takes it seeds-last (.T)
            block = np.eye(nodes[i].seeds, dtype=dtype)
            if nodes[i].action == "adjoint":
                block = block.T
        elif kind == "ones":
            block = np.ones((layers[nodes[i].lo - 1].shape[0], 1), dtype=dtype)
        elif kind == "densify":
            node = nodes[i]
            child = node.right if node.action == "tangent" else node.left
            block = np.diag(arrays.pop(child))
            if node.action == "adjoint":
                block = block.T
        elif kind == "form":
            arrays[i] = form_given(layers[l - 1], tape_of.get(l))
        elif kind in ("jvp", "vjp"):
            node = nodes[i]
            if block is None:
                block = arrays.pop(node.right if kind == "jvp" else node.left)
            layer, tape = layers[l - 1], tape_of.get(l)
            out = block if ev.inplace else None
            if kind == "jvp":
                block = layer.jvp(tape, block, out=out)
            else:
                block = layer.vjp(tape, block, out=out)
            del tape, out
        elif kind == "multiply":
            node = nodes[i]
            a, b = arrays.pop(node.left), arrays.pop(node.right)
            arrays[i] = scale_in_place(a, b, ev.target == node.left) if ev.inplace else (
                multiply_stored(a, b)
            )
            del a, b
        elif kind == "densify_root":
            arrays[i] = np.diag(arrays.pop(i))
        if trace is not None:
            trace.append(_traced(plan, ev, time.thread_time() - started))
        if block is not None and last_work.get(i) == pos:
            arrays[i] = block.reshape(-1) if nodes[i].diagonal else block
            block = None
    out = arrays.pop(len(nodes) - 1)
    return out


def _traced(plan: MatrixFreePlan, ev: Any, seconds: float) -> tuple[str, str, float, int]:
    """``(kind, link kind, seconds, mults)`` of one replayed event (see :func:`replay`)."""
    if ev.kind in ("jvp", "vjp"):
        link = plan.links[ev.link - 1]
        per = link.tangent if ev.kind == "jvp" else link.adjoint
        return ev.kind, link.kind, seconds, plan.nodes[ev.node].seeds * per
    if ev.kind == "multiply":
        node = plan.nodes[ev.node]
        diagonal = plan.nodes[node.left].diagonal or plan.nodes[node.right].diagonal
        return ev.kind, "diagonal" if diagonal else "dense", seconds, node.mults
    return ev.kind, "", seconds, 0

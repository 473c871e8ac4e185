"""Peak memory of evaluating a tree, in the two settings of the design notes.

``given``
    Every ``J_l`` is already an array (the library call ``evaluate(plan, jacobians)``). Peak =
    the inputs + the largest set of intermediate products alive at once. Children are evaluated
    in the order that lowers the peak (cotengra's ``get_peak_size`` recursion)::

        peak(node) = min over child order of max(peak(first),
                                                 size(first) + peak(second),
                                                 size(left) + size(right) + size(node))

    with ``size = peak = 0`` for a leaf (an input, not an intermediate).

``streamed``
    The lecture's model. A network's forward pass produces activations ``x_0..x_{L-1}``
    (``x_k`` has ``d_k`` elements, ``x_0`` is the input); ``J_l`` is formed from ``x_{l-1}``
    only when the schedule reaches it, and ``x_{l-1}`` stays cached until ``J_l`` is formed and
    ``x_l`` computed. Forward mode keeps the current activation, the running ``d_l × d_0``
    product and the current Jacobian; reverse mode caches every activation, then sweeps back
    with a ``d_L × d_l`` product. Parameters (weights) are not counted. The peak is minimised
    over the child order of every product by an exact recursion with two states per subtree:
    *fresh* (the forward pass reaches the subtree's first activation as it starts) and
    *cached* (all of its activations were cached earlier).

Both settings are also computed by an independent step-by-step simulation of the events
(:func:`schedule_events` and :func:`simulate_peak`), which the tests compare with the
recursions. All sizes are element counts (Python ints); bytes = elements × itemsize.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from itertools import accumulate

from chainorder.chain import Chain
from chainorder.closed_forms import (
    forward_given_peak_closed_form,
    forward_streamed_peak_closed_form,
    reverse_given_peak_closed_form,
    reverse_streamed_peak_closed_form,
)
from chainorder.cost import NodeShapes, node_shapes
from chainorder.errors import UnknownSettingError
from chainorder.tree import FlatTree, Tree, flatten

__all__ = [
    "Event",
    "MemoryProfile",
    "Setting",
    "as_setting",
    "forward_given_peak_closed_form",
    "forward_streamed_peak_closed_form",
    "given_memory",
    "largest_intermediate",
    "memory_profile",
    "reverse_given_peak_closed_form",
    "reverse_streamed_peak_closed_form",
    "schedule_events",
    "simulate_peak",
    "streamed_memory",
]


class Setting(str, enum.Enum):
    """Memory setting: ``given`` Jacobians or ``streamed`` from a forward pass."""

    GIVEN = "given"
    STREAMED = "streamed"


def as_setting(value: Setting | str) -> Setting:
    """Parse a setting name; :class:`UnknownSettingError` lists the valid ones.

    Examples
    --------
    >>> as_setting("streamed")
    <Setting.STREAMED: 'streamed'>

    Notes
    -----
    O(1).
    """
    try:
        return Setting(value)
    except ValueError:
        raise UnknownSettingError(
            f"unknown memory setting {value!r}; expected one of: given, streamed"
        ) from None


@dataclass(frozen=True, slots=True)
class MemoryProfile:
    """Peak memory of one tree in one setting, with the evaluation order that reaches it.

    ``order`` lists every node index of the :class:`~chainorder.tree.FlatTree` (leaves
    included) in the order they are evaluated; ``left_first[i]`` tells whether product ``i``
    evaluates its left (later-links) factor first.
    """

    setting: Setting
    peak_elements: int
    order: tuple[int, ...]
    left_first: tuple[bool, ...]


@dataclass(frozen=True, slots=True)
class Event:
    """One step of a schedule, for simulation and execution.

    ``kind`` is ``"compute"`` (activation ``x_k``), ``"release"`` (activation ``x_k``),
    ``"form"`` (Jacobian of link ``index``, from ``x_{index-1}``), ``"multiply"`` (product
    node ``index``) or ``"free"`` (the array of node ``index``).
    """

    kind: str
    index: int


def _order(flat: FlatTree, left_first: list[bool]) -> tuple[int, ...]:
    out: list[int] = []
    stack: list[tuple[int, bool]] = [(flat.root, False)]
    while stack:
        i, expanded = stack.pop()
        if flat.left[i] < 0 or expanded:
            out.append(i)
            continue
        first, second = (
            (flat.left[i], flat.right[i]) if left_first[i] else (flat.right[i], flat.left[i])
        )
        stack.append((i, True))
        stack.append((second, False))
        stack.append((first, False))
    return tuple(out)


def given_memory(chain: Chain, flat: FlatTree, shapes: NodeShapes | None = None) -> MemoryProfile:
    """Peak elements in the ``given`` setting (inputs + live intermediates).

    Examples
    --------
    >>> from chainorder.tree import flatten
    >>> c = Chain.from_dims([2, 3, 4, 5])
    >>> given_memory(c, flatten((3, (2, 1)), 3)).peak_elements  # inputs 6+12+20, then 8+10
    56

    Notes
    -----
    O(L) time and memory.
    """
    shapes = shapes or node_shapes(chain, flat)
    n = len(flat.lo)
    size = [0] * n
    peak = [0] * n
    left_first = [False] * n
    for i in range(n):
        if flat.left[i] < 0:
            continue
        a, b = flat.left[i], flat.right[i]
        size[i] = shapes.elements(i)
        both = size[a] + size[b] + size[i]
        right_first = max(peak[b], size[b] + peak[a], both)
        left_first_peak = max(peak[a], size[a] + peak[b], both)
        left_first[i] = left_first_peak < right_first
        peak[i] = min(right_first, left_first_peak)
    inputs = sum(link.elements for link in chain.links)
    return MemoryProfile(
        Setting.GIVEN, inputs + peak[flat.root], _order(flat, left_first), tuple(left_first)
    )


def streamed_memory(
    chain: Chain,
    flat: FlatTree,
    shapes: NodeShapes | None = None,
    child_order: str = "best",
) -> MemoryProfile:
    """Peak elements in the ``streamed`` setting (activations cached until their Jacobian).

    ``child_order`` is ``"best"`` (minimise the peak over the child order of every product),
    ``"right-first"`` (always the earlier links first: the forward pass streams, as forward
    mode does) or ``"left-first"`` (always the later links first: cache activations, then sweep
    back, as reverse mode does). The lecture's closed forms are the pure trees under the
    matching fixed order; ``"best"`` is never worse and is what plans report.

    Examples
    --------
    >>> from chainorder.tree import flatten
    >>> c = Chain.from_dims([2, 3, 4, 5])
    >>> streamed_memory(c, flatten((3, (2, 1)), 3)).peak_elements
    38

    Notes
    -----
    O(L) time and memory: two states (fresh, cached) per node, two child orders each.
    """
    if child_order not in ("best", "right-first", "left-first"):
        raise ValueError(
            f"child_order must be best, right-first or left-first, got {child_order!r}"
        )
    shapes = shapes or node_shapes(chain, flat)
    d = chain.dims
    n_links = chain.n_links
    prefix = [0, *accumulate(d)]  # prefix[k] = d_0 + ... + d_{k-1}

    def cache(first: int, last: int) -> int:  # d_first + ... + d_last
        return prefix[last + 1] - prefix[first] if last >= first else 0

    n = len(flat.lo)
    size = [shapes.elements(i) for i in range(n)]
    fresh = [0] * n
    cached = [0] * n
    fresh_left = [False] * n
    cached_left = [False] * n
    for i in range(n):
        lo, hi = flat.lo[i], flat.hi[i]
        after = d[hi] if hi < n_links else 0  # x_hi is computed in fresh mode unless hi = L
        if flat.left[i] < 0:
            fresh[i] = d[lo - 1] + size[i] + after
            cached[i] = d[lo - 1] + size[i]
            continue
        a, b = flat.left[i], flat.right[i]
        m = flat.hi[b]
        both = size[a] + size[b] + size[i]
        f_rf = max(fresh[b], size[b] + fresh[a], both + after)
        f_lf = max(cache(lo - 1, m - 1) + fresh[a], size[a] + after + cached[b], both + after)
        c_rf = max(cache(m, hi - 1) + cached[b], size[b] + cached[a], both)
        c_lf = max(cache(lo - 1, m - 1) + cached[a], size[a] + cached[b], both)
        if child_order == "best":
            fresh_left[i], cached_left[i] = f_lf < f_rf, c_lf < c_rf
        else:
            fresh_left[i] = cached_left[i] = child_order == "left-first"
        fresh[i] = f_lf if fresh_left[i] else f_rf
        cached[i] = c_lf if cached_left[i] else c_rf
    # propagate the states from the root down to fix each product's child order
    left_first = [False] * n
    state = [True] * n  # True = fresh
    for i in range(n - 1, -1, -1):
        if flat.left[i] < 0:
            continue
        a, b = flat.left[i], flat.right[i]
        if state[i]:
            left_first[i] = fresh_left[i]
            state[a] = True
            state[b] = not fresh_left[i]
        else:
            left_first[i] = cached_left[i]
            state[a] = state[b] = False
    return MemoryProfile(
        Setting.STREAMED, fresh[flat.root], _order(flat, left_first), tuple(left_first)
    )


def memory_profile(
    chain: Chain, tree: Tree | FlatTree, setting: Setting | str = Setting.GIVEN
) -> MemoryProfile:
    """Peak memory of ``tree`` in ``setting`` (see the module notes).

    Examples
    --------
    >>> c = Chain.from_dims([2, 3, 4, 5])
    >>> memory_profile(c, ((3, 2), 1), "streamed").peak_elements
    49

    Notes
    -----
    O(L) time and memory.
    """
    flat = tree if isinstance(tree, FlatTree) else flatten(tree, chain.n_links)
    if as_setting(setting) is Setting.GIVEN:
        return given_memory(chain, flat)
    return streamed_memory(chain, flat)


def schedule_events(
    chain: Chain, flat: FlatTree, order: tuple[int, ...], setting: Setting | str
) -> list[Event]:
    """The explicit event list of evaluating ``flat`` in ``order``.

    In the ``given`` setting: ``multiply`` then ``free`` of each consumed intermediate. In
    the ``streamed`` setting also ``compute``/``release`` of activations and ``form`` of each
    Jacobian just before it is needed; a Jacobian is freed once its product is formed.

    Notes
    -----
    O(L) events.

    Examples
    --------
    >>> from chainorder.tree import flatten
    >>> c, ft = Chain.from_dims([2, 3, 4]), flatten((2, 1))
    >>> [(e.kind, e.index) for e in schedule_events(c, ft, (0, 1, 2), "given")]
    [('multiply', 2)]
    """
    streamed = as_setting(setting) is Setting.STREAMED
    n_links = chain.n_links
    events: list[Event] = []
    computed = 0  # x_0 .. x_computed exist or existed
    formed = [False] * (n_links + 2)
    released = [False] * (n_links + 1)

    def maybe_release(k: int) -> None:
        # x_k is needed to form J_{k+1} and to compute x_{k+1} (when k+1 <= L-1)
        if released[k] or k >= n_links:
            return
        if formed[k + 1] and (computed >= k + 1 or k + 1 >= n_links):
            released[k] = True
            events.append(Event("release", k))

    for i in order:
        if flat.left[i] < 0:
            if not streamed:
                continue
            l = flat.lo[i]
            while computed < l - 1:
                computed += 1
                events.append(Event("compute", computed))
                maybe_release(computed - 1)
            events.append(Event("form", l))
            formed[l] = True
            if l <= n_links - 1 and computed < l:
                computed = l
                events.append(Event("compute", l))
            maybe_release(l - 1)
            continue
        events.append(Event("multiply", i))
        for child in (flat.left[i], flat.right[i]):
            if streamed or flat.left[child] >= 0:
                events.append(Event("free", child))
    return events


def simulate_peak(
    chain: Chain,
    flat: FlatTree,
    events: list[Event],
    setting: Setting | str,
    shapes: NodeShapes | None = None,
) -> int:
    """Peak elements alive while replaying ``events`` (an independent check of the recursions).

    Notes
    -----
    O(number of events).

    Examples
    --------
    >>> from chainorder.tree import flatten
    >>> c, ft = Chain.from_dims([2, 3, 4]), flatten((2, 1))
    >>> simulate_peak(c, ft, schedule_events(c, ft, (0, 1, 2), "given"), "given")
    26
    """
    shapes = shapes or node_shapes(chain, flat)
    d = chain.dims
    leaf_of = {flat.lo[i]: i for i in range(len(flat.lo)) if flat.left[i] < 0}
    if as_setting(setting) is Setting.GIVEN:
        live = sum(link.elements for link in chain.links)
    else:
        live = d[0]  # the input x_0
    peak = live
    for ev in events:
        if ev.kind == "compute":
            live += d[ev.index]
        elif ev.kind == "release":
            live -= d[ev.index]
        elif ev.kind == "form":
            live += shapes.elements(leaf_of[ev.index])
        elif ev.kind == "multiply":
            live += shapes.elements(ev.index)
        elif ev.kind == "free":
            live -= shapes.elements(ev.index)
        peak = max(peak, live)
    return peak


def largest_intermediate(chain: Chain, flat: FlatTree, shapes: NodeShapes | None = None) -> int:
    """Elements of the largest product formed (0 for a single link).

    Examples
    --------
    >>> from chainorder.tree import flatten
    >>> largest_intermediate(Chain.from_dims([2, 3, 4, 5]), flatten((3, (2, 1))))
    10

    Notes
    -----
    O(L).
    """
    shapes = shapes or node_shapes(chain, flat)
    return max((shapes.elements(i) for i in flat.internal()), default=0)

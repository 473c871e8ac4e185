"""What the NumPy executor allocates beyond the model's arrays, so that limits hold measured.

The streamed model counts the arrays' data. The executor also holds, per array alive, the
ndarray object with its shape and strides (tracemalloc: 120 B for 1-D, 136 B for 2-D), its two
slot lists, and a fixed amount: the call's checks and messages (about 1.1 KiB on a 3-link chain)
and one operation's temporaries (a matrix-vector product: about 0.5 KiB). A plan
fits a memory limit when its predicted peak plus its :func:`executor_bookkeeping` does.
"""

from __future__ import annotations

from collections.abc import Iterable

from chainorder.memory import Event

__all__ = [
    "ARRAY_HEADER_BYTES",
    "RUN_OVERHEAD_BYTES",
    "bookkeeping_bytes",
    "bookkeeping_floor",
    "executor_bookkeeping",
    "max_live_arrays",
]

#: Bytes per array alive beyond its data (ndarray object, shape, strides; rounded up).
ARRAY_HEADER_BYTES = 160
#: The call's checks and messages and one operation's temporaries, plus slack.
RUN_OVERHEAD_BYTES = 2048


def _lists(n_links: int) -> int:
    return 16 * (3 * n_links + 2)  # activation slots (L + 1) and node slots (2L - 1)


def max_live_arrays(events: Iterable[Event]) -> int:
    """Most arrays alive at once while replaying ``events`` (``x_0`` alive at the start).

    Examples
    --------
    >>> max_live_arrays([Event("compute", 1), Event("form", 2), Event("release", 0)])
    3

    Notes
    -----
    O(number of events).
    """
    live = most = 1
    for ev in events:
        live += 1 if ev.kind in ("compute", "form", "multiply") else -1
        most = max(most, live)
    return most


def executor_bookkeeping(n_links: int, events: Iterable[Event]) -> int:
    """Bytes the executor needs beyond the arrays' data for this event list.

    Examples
    --------
    >>> executor_bookkeeping(2, [Event("compute", 1), Event("form", 2), Event("release", 0)])
    2656

    Notes
    -----
    O(number of events).
    """
    return ARRAY_HEADER_BYTES * max_live_arrays(events) + _lists(n_links) + RUN_OVERHEAD_BYTES


def bookkeeping_floor(n_links: int) -> int:
    """The least any plan needs: three arrays alive (a product's two factors and result).

    Examples
    --------
    >>> bookkeeping_floor(6)
    2848

    Notes
    -----
    O(1).
    """
    return ARRAY_HEADER_BYTES * 3 + _lists(n_links) + RUN_OVERHEAD_BYTES


def bookkeeping_bytes(n_links: int) -> int:
    """An upper bound for every plan: at most ``2L + 1`` arrays alive (``L`` activations and at
    most ``L + 1`` products and Jacobians).

    Examples
    --------
    >>> bookkeeping_bytes(6)
    4448

    Notes
    -----
    O(1).
    """
    return ARRAY_HEADER_BYTES * (2 * n_links + 1) + _lists(n_links) + RUN_OVERHEAD_BYTES

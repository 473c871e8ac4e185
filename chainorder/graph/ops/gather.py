"""Rules of the gather ops: every op whose output entries are copies of input entries (or 0).

Indexing (basic, integer-array and boolean), ``squeeze``, ``expand_dims``, ``broadcast_to``,
``swapaxes``, ``moveaxis``, ``flip``, ``roll``, ``pad``, ``tile``, ``repeat``, ``take``,
``take_along_axis``, ``triu``/``tril``, ``diag``/``diagonal``, ``concatenate``/``stack``
and ``sort`` are all linear maps whose matrix has at most one 1 per row. One generic rule
serves them all: the op is applied once to integer arrays numbering the input entries
(``1 … n``, 0 meaning "no source"), which gives the *index map* ``src`` of the output: the
input entry each output entry copies. The JVP gathers the tangent with ``src``; the VJP
scatter-adds the cotangent back (``np.add.at``); the structure is ``permutation`` (a
bijection), ``select`` (each input entry used at most once) or ``broadcast`` (some used
more than once), always unit, so products with it cost no multiplications.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from chainorder.graph.ops.registry import Array, OpRule, add_at, register, size_of
from chainorder.graph.structure import EdgeStructure

__all__ = ["gather_index_map"]


def _numbered(shapes: tuple) -> tuple[list[Array], list[int]]:
    arrays, offsets, off = [], [], 0
    for shape in shapes:
        n = size_of(shape)
        arrays.append(np.arange(off + 1, off + n + 1, dtype=np.int64).reshape(shape))
        offsets.append(off)
        off += n
    return arrays, offsets


def gather_index_map(
    forward: Callable[..., Any], shapes: tuple, params: dict
) -> tuple[Array, list[int]]:
    """Flat index map of a gather op and the offset of each argument in the numbering.

    Returns ``(src, offsets)``: ``src[j]`` is the position of the input entry that output
    entry ``j`` copies, numbering the arguments' entries one after another (argument ``i``
    starts at ``offsets[i]``), or ``-1`` for an entry that copies nothing (a 0).

    Examples
    --------
    >>> src, off = gather_index_map(lambda x: np.flip(x), ((3,),), {})
    >>> src.tolist(), off
    ([2, 1, 0], [0])
    >>> gather_index_map(lambda a, b: np.concatenate([a, b]), ((2,), (1,)), {})[0].tolist()
    [0, 1, 2]

    Notes
    -----
    One application of the op to integer arrays: O(size of the output + inputs).
    """
    arrays, offsets = _numbered(shapes)
    out = np.asarray(forward(*arrays, **params))
    return out.reshape(-1).astype(np.int64) - 1, offsets


def _like(indices: Any, x: Any) -> Any:
    """Index arrays in ``x``'s namespace (a CuPy value takes its indices on the device)."""
    return np.asarray(indices, like=x) if isinstance(indices, np.ndarray) else indices


def _host_ints(repeats: Any) -> Any:
    """Repeat counts as Python ints (CuPy's ``repeat`` takes an int, list or tuple)."""
    return repeats.tolist() if hasattr(repeats, "tolist") else repeats


#: Index maps of gather rules prepared once per node: ``id(params)`` → ``(params, {key:
#: prepared})``; the params object is held, so its id cannot be reused while cached.
_PREPARED: dict[int, tuple[dict, dict]] = {}
_PREPARED_LIMIT = 1024


def _prepared(ifwd, value_map, values: tuple, params: dict, i: int) -> tuple | None:
    """``(local, sel, every, idx, unique)`` of argument ``i``'s index map, computed once per
    node (its params object) and argument shapes — not at every rule application (the
    map, its selection and ``np.unique`` depend on the structure only); ``None`` for a map
    that depends on the values (``sort``)."""
    if value_map is not None:
        return None
    shapes = tuple(np.shape(v) for v in values)
    entry = _PREPARED.get(id(params))
    if entry is None or entry[0] is not params:
        if len(_PREPARED) >= _PREPARED_LIMIT:
            _PREPARED.clear()
        entry = _PREPARED[id(params)] = (params, {})
    key = (ifwd, shapes, i)
    found = entry[1].get(key)
    if found is None:
        src, offs = gather_index_map(ifwd, shapes, params)
        n_in = size_of(shapes[i])
        local = src - offs[i]
        sel = (local >= 0) & (local < n_in) & (src >= 0)
        idx = local[sel]
        found = entry[1][key] = (local, sel, bool(sel.all()), idx,
                                 bool(np.unique(idx).size == idx.size))  # fmt: skip
    return found


def _gather_rule(
    name: str,
    forward: Callable[..., Any],
    doc: str,
    spelling: str = "",
    index_forward: Callable[..., Any] | None = None,
    value_map: Callable[[tuple, dict], Array] | None = None,
    kinds: str = "select",
) -> OpRule:
    """Register a gather op.

    ``index_forward`` (default ``forward``) is applied to the numbered integer arrays;
    ``value_map(values, params)`` replaces it for ops whose map depends on the values
    (``sort``), and then the structure is taken to be a permutation.
    """
    ifwd = index_forward or forward

    def src_of(values: tuple, params: dict) -> tuple[Array, list[int]]:
        if value_map is not None:
            return value_map(values, params), [0]
        return gather_index_map(ifwd, tuple(np.shape(v) for v in values), params)

    def jvp(i, t, values, out, params):
        k, n_in = t.shape[0], size_of(np.shape(values[i]))
        tf = t.reshape(k, n_in)
        kept = _prepared(ifwd, value_map, values, params, i) if type(t) is np.ndarray else None
        if kept is not None:
            local, sel, every, idx, _ = kept
            g = tf[:, local] if every else None
            if g is None:
                g = np.zeros((k, local.size), dtype=t.dtype)
                g[:, sel] = tf[:, idx]
            return g.reshape((k, *np.shape(out)))
        src, offs = src_of(values, params)
        src = np.asarray(src, like=t)  # index maps live with the values (CuPy: on the device)
        local = src - offs[i]
        sel = (local >= 0) & (local < n_in) & (src >= 0)
        if sel.all():
            g = tf[:, local]
        else:
            g = np.zeros((k, src.size), dtype=t.dtype, like=t)
            g[:, sel] = tf[:, local[sel]]
        return g.reshape((k, *np.shape(out)))

    def vjp(i, c, values, out, params):
        k, shape = c.shape[0], np.shape(values[i])
        n_in = size_of(shape)
        cf = c.reshape(k, -1)
        kept = _prepared(ifwd, value_map, values, params, i) if type(c) is np.ndarray else None
        if kept is not None:
            _, sel, every, idx, unique = kept
            g = np.zeros((k, n_in), dtype=np.result_type(c.dtype, np.float64))
            picked = cf if every else cf[:, sel]
            if unique:
                g[:, idx] = picked
            else:
                np.add.at(g, (slice(None), idx), picked)
            return g.reshape((k, *shape))
        src, offs = src_of(values, params)
        src = np.asarray(src, like=c)
        local = src - offs[i]
        sel = (local >= 0) & (local < n_in) & (src >= 0)
        idx = local[sel]
        g = np.zeros((k, n_in), dtype=np.result_type(c.dtype, np.float64), like=c)
        if np.unique(idx).size == idx.size:
            g[:, idx] = cf[:, sel]
        else:
            add_at(g, (slice(None), idx), cf[:, sel])
        return g.reshape((k, *shape))

    def structure(i, shapes, out_shape, params):
        n_out, n_in = size_of(out_shape), size_of(shapes[i])
        if value_map is not None:
            return EdgeStructure("permutation", n_out, n_in, n_out, True)
        src, offs = gather_index_map(ifwd, tuple(shapes), params)
        local = src - offs[i]
        idx = local[(local >= 0) & (local < n_in) & (src >= 0)]
        nnz = int(idx.size)
        if np.unique(idx).size < nnz:
            return EdgeStructure("broadcast", n_out, n_in, nnz, True)
        if nnz == n_out == n_in:
            return EdgeStructure("permutation", n_out, n_in, nnz, True)
        return EdgeStructure("select", n_out, n_in, nnz, True)

    def cost(i, shapes, out_shape, params):
        return 0

    partial = f"{kinds} (unit), 0 mults"
    return register(
        OpRule(
            name, forward, jvp, vjp, structure, cost, cost, doc, spelling=spelling,
            partial=partial,
        )
    )  # fmt: skip


def _getitem_forward(x, key):
    return x[key]


_gather_rule(
    "getitem",
    _getitem_forward,
    "x[key]: ints, slices, None, ..., integer arrays and boolean masks",
    spelling="x[...] (indexing)",
    kinds="select (broadcast if an index repeats)",
)
_gather_rule(
    "squeeze",
    lambda x, axis=None: np.squeeze(x, axis),
    "squeeze(x, axis)",
    "np.squeeze",
    kinds="permutation",
)
_gather_rule(
    "expand_dims",
    lambda x, axis: np.expand_dims(x, axis),
    "expand_dims(x, axis)",
    kinds="permutation",
)
_gather_rule(
    "broadcast_to",
    lambda x, shape: np.broadcast_to(x, shape).copy(),
    "broadcast_to(x, shape)",
    kinds="broadcast",
)
_gather_rule(
    "swapaxes",
    lambda x, axis1, axis2: np.swapaxes(x, axis1, axis2),
    "swapaxes(x, a1, a2)",
    kinds="permutation",
)
_gather_rule(
    "moveaxis",
    lambda x, source, destination: np.moveaxis(x, source, destination),
    "moveaxis(x, source, destination)",
    kinds="permutation",
)
_gather_rule("flip", lambda x, axis=None: np.flip(x, axis), "flip(x, axis)", kinds="permutation")
_gather_rule(
    "roll",
    lambda x, shift, axis=None: np.roll(x, shift, axis),
    "roll(x, shift, axis)",
    kinds="permutation",
)


def _pad_forward(x, pad_width, mode="constant", constant_values=0):
    if mode == "constant":
        return np.pad(x, pad_width, mode=mode, constant_values=constant_values)
    return np.pad(x, pad_width, mode=mode)


_gather_rule(
    "pad",
    _pad_forward,
    "pad(x, width, mode) for constant (any scalar), edge, reflect, symmetric, wrap",
    index_forward=lambda x, pad_width, mode="constant", constant_values=0: _pad_forward(
        x, pad_width, mode
    ),
    kinds="select (broadcast for edge/reflect/wrap)",
)
_gather_rule("tile", lambda x, reps: np.tile(x, reps), "tile(x, reps)", kinds="broadcast")
_gather_rule(
    "repeat",
    lambda x, repeats, axis=None: np.repeat(x, _host_ints(repeats), axis),
    "repeat(x, repeats, axis)",
    kinds="broadcast",
)
_gather_rule(
    "take",
    lambda x, indices, axis=None, mode="raise": (
        np.take(x, _like(indices, x), axis) if mode == "raise"  # CuPy's take has no mode
        else np.take(x, _like(indices, x), axis, mode=mode)
    ),
    "take(x, int indices, axis)",
    kinds="select (broadcast if an index repeats)",
)
_gather_rule(
    "take_along_axis",
    lambda x, indices, axis: np.take_along_axis(x, _like(indices, x), axis),
    "take_along_axis(x, int indices, axis), e.g. with argmax/argsort",
    kinds="select (broadcast if an index repeats)",
)
_gather_rule("triu", lambda x, k=0: np.triu(x, k), "triu(x, k): upper triangle, 0 below")
_gather_rule("tril", lambda x, k=0: np.tril(x, k), "tril(x, k): lower triangle, 0 above")
_gather_rule("diag", lambda x, k=0: np.diag(x, k), "diag(v, k) builds, diag(m, k) extracts")
_gather_rule(
    "diagonal",
    lambda x, offset=0, axis1=0, axis2=1: np.diagonal(x, offset, axis1, axis2).copy(),
    "diagonal(x, offset, axis1, axis2)",
)
_gather_rule(
    "concatenate",
    lambda *xs, axis=0: np.concatenate(xs, axis=axis),
    "concatenate([...], axis) (also hstack, vstack)",
)
_gather_rule(
    "stack",
    lambda *xs, axis=0: np.stack(xs, axis=axis),
    "stack([...], axis); np.array/np.asarray of a list of traced values",
)


def _sort_map(values: tuple, params: dict) -> Array:
    x = values[0]
    axis = params.get("axis", -1)
    order = np.argsort(x, axis=axis, kind="stable")
    numbered = np.arange(x.size, like=x).reshape(np.shape(x))
    if axis is None:
        return order.reshape(-1)
    return np.take_along_axis(numbered, order, axis).reshape(-1)


_gather_rule(
    "sort",
    lambda x, axis=-1: np.sort(x, axis=axis, kind="stable"),
    "sort(x, axis): a permutation (stable: ties keep their order)",
    value_map=_sort_map,
    kinds="permutation",
)
_gather_rule(
    "einsum_diagonal",
    lambda x, spec: np.einsum(spec, x).copy(),
    "one einsum operand with a repeated index ('ii->i'): its diagonal",
    spelling="np.einsum('ii...')",
)

"""A traced function as a flat list of operations: the jaxpr with nested ``jit`` calls inlined.

:func:`trace_program` runs :func:`jax.make_jaxpr` on abstract arguments and rewrites the jaxpr
into a :class:`Program`: every value gets an integer id, every equation an :class:`Op` whose
inputs are ids (or literal constants) and whose outputs are fresh ids. Calls of nested jaxprs
that carry no derivative rule of their own (``jit``/``pjit``, ``closed_call``, ``core_call``) are
inlined with fresh ids at every call site, so a model wrapped in ``jax.jit`` is still seen layer by
layer. Primitives with their own derivative rules (``custom_jvp_call``, ``custom_vjp_call``, loops)
stay one operation.

:func:`run_ops` evaluates a slice of operations on an environment (``id -> value``) by binding
each primitive, exactly like :func:`jax.core.eval_jaxpr`; it works on concrete arrays and on
tracers, so the result composes with ``jax.jit``, ``jax.vmap``, ``jax.jvp`` and ``jax.vjp``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["INLINED", "Lit", "Op", "Program", "read", "run_ops", "trace_program"]

#: Call primitives inlined into the caller (no derivative rule of their own).
INLINED: frozenset[str] = frozenset({"pjit", "jit", "closed_call", "core_call"})


@dataclass(frozen=True, slots=True)
class Lit:
    """A literal constant of the jaxpr (``value`` is used as it is)."""

    value: Any


@dataclass(frozen=True, slots=True)
class Op:
    """One equation: ``outs = primitive.bind(*ins, **params)``.

    ``ins`` holds value ids (``int``) or literal constants (:class:`Lit`).
    """

    eqn: Any
    ins: tuple[Any, ...]
    outs: tuple[int, ...]

    @property
    def name(self) -> str:
        """The primitive's name."""
        return str(self.eqn.primitive.name)


@dataclass(frozen=True)
class Program:
    """The flat program of one traced function.

    ``avals[id]`` is the ``(shape, dtype)`` of value ``id``; ``inputs`` the ids of the flat
    positional leaves, ``outputs`` the ids (or :class:`Lit`) of the flat results, ``consts`` the
    closed-over constants ``id -> array``.
    """

    inputs: tuple[int, ...]
    outputs: tuple[Any, ...]
    ops: tuple[Op, ...]
    avals: Mapping[int, tuple[tuple[int, ...], Any]]
    consts: Mapping[int, Any]

    def size(self, vid: int) -> int:
        """Number of elements of value ``vid``."""
        n = 1
        for s in self.avals[vid][0]:
            n *= int(s)
        return n


class _Builder:
    def __init__(self) -> None:
        self.avals: dict[int, tuple[tuple[int, ...], Any]] = {}
        self.consts: dict[int, Any] = {}
        self.ops: list[Op] = []

    def fresh(self, aval: Any) -> int:
        vid = len(self.avals)
        self.avals[vid] = (tuple(int(s) for s in aval.shape), aval.dtype)
        return vid

    def add(self, jaxpr: Any, consts: Sequence[Any], args: Sequence[Any]) -> list[Any]:
        from jax.extend.core import Literal

        env: dict[Any, Any] = {}
        for var, value in zip(jaxpr.constvars, consts, strict=True):
            vid = self.fresh(var.aval)
            self.consts[vid] = value
            env[var] = vid
        for var, atom in zip(jaxpr.invars, args, strict=True):
            env[var] = atom

        def read(atom: Any) -> Any:
            return Lit(atom.val) if isinstance(atom, Literal) else env[atom]

        for eqn in jaxpr.eqns:
            ins = [read(a) for a in eqn.invars]
            name = eqn.primitive.name
            sub = eqn.params.get("jaxpr", eqn.params.get("call_jaxpr"))
            if name in INLINED and sub is not None:
                inner = getattr(sub, "jaxpr", sub)
                inner_consts = getattr(sub, "consts", ())
                outs = self.add(inner, inner_consts, ins)
                for var, atom in zip(eqn.outvars, outs, strict=True):
                    env[var] = atom
                continue
            out_ids = tuple(self.fresh(v.aval) for v in eqn.outvars)
            for var, vid in zip(eqn.outvars, out_ids, strict=True):
                env[var] = vid
            self.ops.append(Op(eqn, tuple(ins), out_ids))
        return [read(a) for a in jaxpr.outvars]


def trace_program(f: Callable[..., Any], args: Sequence[Any]) -> tuple[Program, Any]:
    """Trace ``f(*args)`` (only shapes and dtypes are used) into a :class:`Program`.

    Returns the program and the output pytree definition.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> prog, _ = trace_program(lambda x: jnp.tanh(x) * 2.0, (jnp.ones(3),))
    >>> [op.name for op in prog.ops]
    ['tanh', 'mul']

    Notes
    -----
    One trace of ``f``; O(equations) after it (each nested call inlined once per call site).
    """
    import jax

    abstract = jax.tree_util.tree_map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype), args)
    closed, out_shape = jax.make_jaxpr(f, return_shape=True)(*abstract)
    b = _Builder()
    inputs = tuple(b.fresh(v.aval) for v in closed.jaxpr.invars)
    outputs = b.add(closed.jaxpr, closed.consts, inputs)
    out_tree = jax.tree_util.tree_structure(out_shape)
    return Program(inputs, tuple(outputs), tuple(b.ops), b.avals, b.consts), out_tree


def run_ops(ops: Iterable[Op], env: dict[int, Any], lenient: bool = False) -> dict[int, Any]:
    """Evaluate ``ops`` in order, reading and writing ``env`` (``id -> value``); returns env.

    ``lenient``: skip an operation whose inputs are not all in ``env`` (instead of KeyError).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> prog, _ = trace_program(lambda x: jnp.sin(x) + 1.0, (jnp.zeros(2),))
    >>> env = run_ops(prog.ops, {prog.inputs[0]: jnp.zeros(2)})
    >>> env[prog.outputs[0]].tolist()
    [1.0, 1.0]

    Notes
    -----
    One primitive bind per operation.
    """
    for op in ops:
        eqn = op.eqn
        if lenient and any(not isinstance(a, Lit) and a not in env for a in op.ins):
            continue
        ins = [a.value if isinstance(a, Lit) else env[a] for a in op.ins]
        params = eqn.primitive.get_bind_params(eqn.params)
        with eqn.ctx.manager:
            out = eqn.primitive.bind(*ins, **params)
        if eqn.primitive.multiple_results:
            for vid, val in zip(op.outs, out, strict=True):
                env[vid] = val
        else:
            env[op.outs[0]] = out
    return env


def read(env: Mapping[int, Any], atom: Any) -> Any:
    """The value of an id, or the literal itself.

    Examples
    --------
    >>> read({3: "x_3"}, 3), read({}, Lit(2.0))
    ('x_3', 2.0)

    Notes
    -----
    O(1).
    """
    return atom.value if isinstance(atom, Lit) else env[atom]

"""Compiled Jacobian programs: plan once, replay at new values without planning again.

:func:`compile_jacobian_program` turns a method (forward mode, reverse mode, or an
elimination order) into a :class:`JacobianProgram`: a flat list of array instructions over
buffer slots (:mod:`~chainorder.graph.instr`; a slot is dropped right after its last use).
:meth:`JacobianProgram.run` executes it on any traced graph of the same structure, reading
primal values only through ``graph.value(name)`` and the ops' params and args, and counts
the mults it performs (``last_mults``), which equal ``predicted_mults``.

``predicted_peak_bytes`` is the memory ``run`` allocates at its peak beyond the graph's
own values (what ``tracemalloc`` sees, :func:`chainorder.measure.peak_memory`): slots,
seeds, temporaries and the returned Jacobian, in float64.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from chainorder.errors import TraceError, UnknownSolverError
from chainorder.graph.eliminate import _check_order
from chainorder.graph.elimprog import elimination_program
from chainorder.graph.instr import Instr, _run_one, array_module, execute, simulate_peak
from chainorder.graph.linearize import LinearizedGraph
from chainorder.graph.orders import ORDERS, named_order
from chainorder.graph.planning import GraphMethod
from chainorder.graph.sweepprog import sweep_program
from chainorder.graph.trace import TracedGraph

__all__ = ["JacobianProgram", "compile_jacobian_program"]

#: Bytes per scalar of the executed blocks (the rules compute in float64).
ITEMSIZE = np.dtype(np.float64).itemsize


@dataclass
class JacobianProgram:
    """A compiled Jacobian computation (see the module docstring).

    Attributes
    ----------
    method : GraphMethod
        How it computes the Jacobian (an explicit order is ``elimination:search``'s kind
        only by name: ``order`` says which).
    order : tuple of str or None
        The elimination order (``None`` for sweeps).
    instructions : list of Instr
    n_slots : int
    predicted_mults : int
        Scalar multiplications ``run`` performs.
    predicted_peak_bytes : int
        Peak bytes ``run`` allocates (float64), beyond the graph's values.
    last_mults : int or None
        Mults counted by the last ``run`` (from the block sizes met).
    """

    method: GraphMethod
    order: tuple[str, ...] | None
    instructions: list[Instr]
    n_slots: int
    predicted_mults: int
    predicted_peak_bytes: int
    inputs: tuple[tuple[str, tuple[int, ...]], ...]
    outputs: tuple[tuple[str, tuple[int, ...]], ...]
    last_mults: int | None = field(default=None)

    def run(self, graph: TracedGraph) -> np.ndarray:
        """The ``m × n`` Jacobian of ``graph`` (outputs flat by rows, inputs by columns).

        Raises
        ------
        TraceError
            ``graph`` has other inputs or outputs (names or shapes) than the compiled one.

        Examples
        --------
        >>> import numpy as np
        >>> from chainorder.graph import linearize, trace
        >>> f = lambda x: np.tanh(x).sum()
        >>> prog = compile_jacobian_program(linearize(trace(f, np.zeros(3))), "reverse")
        >>> prog.run(trace(f, np.ones(3))).round(4), prog.last_mults == prog.predicted_mults
        (array([[0.42, 0.42, 0.42]]), True)

        Notes
        -----
        ``predicted_mults`` mults; peak ``predicted_peak_bytes`` bytes. A replay loop that
        should find its pages warm calls :func:`~chainorder.graph.workspace.keep_workspace`.
        """
        self._check(graph)
        jac, self.last_mults = execute(graph, self.instructions, self.n_slots, 0)
        return jac

    def profile(self, graph: TracedGraph, repeat: int = 5) -> list[dict]:
        """Best wall time of every instruction over ``repeat`` runs (not :meth:`run`'s path).

        Returns one dict per instruction: ``index``, ``op``, ``node`` (the op whose rule it
        applies, or ``None``), ``mults``, ``alloc`` (scalars it leaves in its slot) and
        ``seconds`` (best of ``repeat``), in program order: where the time of a mode goes,
        next to what its mults price.

        Examples
        --------
        >>> import numpy as np
        >>> from chainorder.graph import linearize, trace
        >>> lin = linearize(trace(lambda x: np.tanh(x).sum(), np.zeros(3)))
        >>> rows = compile_jacobian_program(lin, "reverse").profile(lin.graph, repeat=2)
        >>> [r["op"] for r in rows], sum(r["mults"] for r in rows)
        (['zeros', 'seed', 'vjp_add', 'vjp_add', 'place'], 3)

        Notes
        -----
        ``repeat`` runs of the program, each instruction timed alone (``perf_counter``).
        """
        self._check(graph)
        xp = array_module(graph)
        best = [float("inf")] * len(self.instructions)
        for _ in range(max(1, int(repeat))):
            slots: list = [None] * self.n_slots
            for k, ins in enumerate(self.instructions):
                t0 = time.perf_counter()
                value, _ = _run_one(graph, ins, slots, xp)
                best[k] = min(best[k], time.perf_counter() - t0)
                slots[ins.out] = value
                del value
                for s in ins.free:
                    slots[s] = None
        return [
            {"index": k, "op": ins.op, "node": ins.node, "mults": ins.mults,
             "alloc": ins.alloc, "seconds": t}
            for k, (ins, t) in enumerate(zip(self.instructions, best, strict=True))
        ]  # fmt: skip

    def _check(self, graph: TracedGraph) -> None:
        if not isinstance(graph, TracedGraph):
            raise TraceError(f"a compiled program needs a TracedGraph, got {type(graph).__name__}")
        have = (_sig(graph, graph.inputs), _sig(graph, graph.outputs))
        if have != (self.inputs, self.outputs):
            raise TraceError(
                "this program was compiled for inputs/outputs "
                f"{list(self.inputs)} / {list(self.outputs)}; the graph has "
                f"{list(have[0])} / {list(have[1])}"
            )


def _sig(graph: TracedGraph, names) -> tuple[tuple[str, tuple[int, ...]], ...]:
    return tuple((v, tuple(graph.shape(v))) for v in names)


def _method(method: GraphMethod | str) -> GraphMethod:
    try:
        return GraphMethod(str(method))
    except ValueError:
        raise UnknownSolverError(
            f"unknown method {method!r}; expected forward, reverse or "
            + ", ".join(f"elimination:{o}" for o in ORDERS)
        ) from None


def compile_jacobian_program(
    lin: LinearizedGraph, method: GraphMethod | str, order: Sequence[str] | None = None
) -> JacobianProgram:
    """Compile ``method`` on ``lin`` into a replayable :class:`JacobianProgram`.

    Parameters
    ----------
    lin : LinearizedGraph
    method : GraphMethod or str
        ``"forward"``, ``"reverse"`` or ``"elimination:NAME"``.
    order : sequence of str, optional
        The elimination order to use for an elimination method (default: the order
        ``NAME`` names, :func:`~chainorder.graph.orders.named_order`).

    Raises
    ------
    UnknownSolverError
        An unknown method.
    TraceError
        ``order`` is not a permutation of the intermediates.

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.graph import linearize, trace
    >>> lin = linearize(trace(lambda x: np.sin(np.exp(x)).sum(), np.zeros(2)))
    >>> prog = compile_jacobian_program(lin, "elimination:forward")
    >>> prog.predicted_mults, prog.run(lin.graph).round(4)
    (4, array([[0.5403, 0.5403]]))

    Notes
    -----
    Sweeps O(V + E); elimination as :func:`~chainorder.graph.eliminate.eliminate`.
    """
    if not isinstance(lin, LinearizedGraph):
        raise TraceError(
            f"compile_jacobian_program needs a LinearizedGraph, got {type(lin).__name__}"
        )
    gm = _method(method)
    graph = lin.graph
    if gm.is_sweep:
        prog, n_slots = sweep_program(graph, str(gm))
        mults = sum(i.mults for i in prog)
        chosen = None
    else:
        if order is None:
            order = named_order(lin, str(gm).split(":", 1)[1])
        chosen = _check_order(lin, order)
        prog, n_slots, mults = elimination_program(lin, chosen)
    return JacobianProgram(
        gm,
        chosen,
        prog,
        n_slots,
        int(mults),
        simulate_peak(prog) * ITEMSIZE,
        _sig(graph, graph.inputs),
        _sig(graph, graph.outputs),
    )

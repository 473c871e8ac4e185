"""Run a plan on real arrays: ``evaluate(plan, jacobians)`` and the compiled form.

No planning happens here: the executor replays the plan's event list
(:meth:`chainorder.plan.Plan.events`) for one memory setting, so that what is alive at each
moment is exactly what :mod:`chainorder.memory` predicts.

``given`` setting
    ``jacobians[l-1]`` is ``J_l``: a 2-D array of shape ``(d_l, d_{l-1})`` for a dense link,
    the 1-D vector of its diagonal (``d_l`` numbers) for an elementwise link. Products follow
    the plan's order; every intermediate is dropped as soon as its parent is formed.
``streamed`` setting
    A *source* (a network from :mod:`chainorder.nets`, or anything with the same two methods)
    computes activations and forms Jacobians on demand: ``compute k`` runs
    ``source.activation(k, x_{k-1})``, ``form l`` runs ``source.jacobian(l, x_{l-1})``,
    ``release k`` drops ``x_k``, ``multiply i`` forms product node ``i`` and ``free i`` drops
    node ``i``'s array, in exactly the order of :func:`chainorder.memory.schedule_events`.

Products by structure (never densifying a diagonal) are the kernels of
:mod:`chainorder.execute_links`.

What is returned
    The array of the root product: 2-D ``(d_L, d_0)``, except when *every* link is diagonal,
    where the chain's Jacobian is itself diagonal and is returned as its 1-D diagonal
    (``densify=True`` turns it into a 2-D matrix at the very end). For a one-link chain in the
    ``given`` setting the caller's own ``J_1`` is returned (no copy: nothing is computed).

The same code runs on NumPy and CuPy arrays, and builds a lazy graph from ``dask.array``
inputs (rechunked first by :mod:`chainorder.dask_backend`); see :mod:`chainorder.backend`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from chainorder.backend import Backend, namespace_of
from chainorder.chain import Chain
from chainorder.checkpoint.plan import CheckpointPlan
from chainorder.errors import ExecutionError
from chainorder.execute_links import check_link as _check_link
from chainorder.execute_links import multiply as _multiply
from chainorder.execute_links import product_kind as _kind
from chainorder.memory import Setting, as_setting
from chainorder.memory_guard import check_memory, memory_errors
from chainorder.plan import Plan

__all__ = [
    "CompiledPlan",
    "JacobianSource",
    "compile_plan",
    "evaluate",
    "evaluate_streamed",
]

# streamed op codes
_COMPUTE, _FORM, _RELEASE, _MULTIPLY, _FREE = 0, 1, 2, 3, 4


class JacobianSource(Protocol):
    """What the streamed executor needs from a network (see :class:`chainorder.nets.MLP`).

    ``activation(k, x_prev)`` returns a new array ``x_k`` (``d_k`` numbers) from
    ``x_{k-1}``; ``jacobian(l, x_prev)`` returns ``J_l`` as a *new* array formed from
    ``x_{l-1}``: ``(d_l, d_{l-1})`` for a dense link, the ``d_l`` diagonal for an
    elementwise one.
    """

    def activation(self, k: int, x_prev: Any) -> Any: ...

    def jacobian(self, l: int, x_prev: Any) -> Any: ...


class CompiledPlan:
    """A plan turned into a fixed list of array operations, to call many times.

    Build one with :func:`compile_plan`. In the
    ``given`` setting call it with the Jacobians; in the ``streamed`` setting with a
    :class:`JacobianSource` and the input ``x_0``.

    Parameters
    ----------
    plan : Plan or CheckpointPlan
        A :class:`~chainorder.checkpoint.CheckpointPlan` runs in the streamed setting and
        replays its checkpoint schedule (recomputations included); after each call
        :attr:`last_recomputations` holds how many activations were computed again.
    setting : {"given", "streamed"}

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.plan import plan
    >>> f = compile_plan(plan([2, 3, 4], mode="forward"))
    >>> J1, J2 = np.ones((3, 2)), np.ones((4, 3))
    >>> f([J1, J2]).tolist()
    [[3.0, 3.0], [3.0, 3.0], [3.0, 3.0], [3.0, 3.0]]

    Notes
    -----
    Compiling is O(L); each call is O(L) Python steps plus the plan's arithmetic.
    """

    __slots__ = (
        "_leaf_of",
        "_n_nodes",
        "_ops",
        "_root",
        "checkpoint",
        "last_recomputations",
        "plan",
        "setting",
    )

    def __init__(self, plan: Plan | CheckpointPlan, setting: Setting | str = Setting.GIVEN) -> None:
        self.checkpoint: CheckpointPlan | None = None
        self.last_recomputations: int | None = None
        if isinstance(plan, CheckpointPlan):
            self.checkpoint, plan = plan, plan.plan
            setting = Setting.STREAMED  # a checkpoint schedule exists only there
        if not isinstance(plan, Plan):
            raise ExecutionError(
                f"expected a chainorder Plan as the first argument, got {type(plan).__name__}"
            )
        self.plan = plan
        self.setting = as_setting(setting)
        flat, shapes = plan.flat, plan.shapes
        self._n_nodes = len(flat.lo)
        self._root = flat.root
        self._leaf_of = {flat.lo[i]: i for i in range(self._n_nodes) if flat.left[i] < 0}
        ops: list[tuple[int, ...]] = []
        events = self.checkpoint.events if self.checkpoint else plan.events(self.setting)
        for ev in events:
            if ev.kind == "multiply":
                a, b = flat.left[ev.index], flat.right[ev.index]
                kind = _kind(shapes.structure[a], shapes.structure[b])
                ops.append((_MULTIPLY, ev.index, a, b, kind))
            elif ev.kind == "free":
                ops.append((_FREE, ev.index))
            elif ev.kind == "compute":
                ops.append((_COMPUTE, ev.index))
            elif ev.kind == "form":
                ops.append((_FORM, ev.index, self._leaf_of[ev.index]))
            elif ev.kind == "release":
                ops.append((_RELEASE, ev.index))
            else:  # pragma: no cover - memory.py defines exactly these kinds
                raise ExecutionError(f"unknown schedule event {ev.kind!r}")
        self._ops = tuple(ops)

    def __repr__(self) -> str:
        return f"CompiledPlan({self.plan.expression()!r}, setting={self.setting.value!r})"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """``given``: ``f(jacobians, densify=False)``; ``streamed``: ``f(source, x, ...)``."""
        if self.setting is Setting.GIVEN:
            return self.evaluate(*args, **kwargs)
        return self.evaluate_streamed(*args, **kwargs)

    # given ------------------------------------------------------------------------------------
    def check(self, jacobians: Sequence[Any]) -> Backend:
        """Validate count, namespace, shapes and dtypes; return the arrays' backend.

        Raises
        ------
        ExecutionError
            The message names the link and gives the expected and actual shape or dtype.
        """
        chain = self.plan.chain
        n = chain.n_links
        if isinstance(jacobians, str | bytes) or not hasattr(jacobians, "__len__"):
            raise ExecutionError(
                f"jacobians must be a list of {n} arrays [J1, ..., J{n}], got "
                f"{type(jacobians).__name__}"
            )
        if len(jacobians) != n:
            raise ExecutionError(
                f"expected {n} Jacobians [J1, ..., J{n}] for chain {chain.spec()}, got "
                f"{len(jacobians)}"
            )
        backend = namespace_of(jacobians)
        dtype = self.plan.dtype
        for l in range(1, n + 1):
            _check_link(chain, dtype, l, jacobians[l - 1])
        return backend

    def evaluate(
        self, jacobians: Sequence[Any], *, densify: bool = False, chunk_bytes: Any = None
    ) -> Any:
        """``J_L ⋯ J_1`` from given Jacobians, in the plan's order (see :func:`evaluate`).

        ``chunk_bytes`` (dask arrays only) sets the block size of the chunking rule of
        :mod:`chainorder.dask_backend`.
        """
        if self.setting is not Setting.GIVEN:
            raise ExecutionError(
                "this plan was compiled for the streamed setting: call it with (source, x), "
                "or compile it with setting='given' to pass Jacobians"
            )
        backend = self.check(jacobians)
        if backend.name == "dask":  # lazy graph; links rechunked to the plan's rule first
            from chainorder.dask_backend import rechunk_links

            jacobians = rechunk_links(self.plan, jacobians, chunk_bytes)
        slots: list[Any] = [None] * self._n_nodes
        for l, leaf in self._leaf_of.items():
            slots[leaf] = jacobians[l - 1]
        for op in self._ops:
            if op[0] == _MULTIPLY:
                _, i, a, b, kind = op
                slots[i] = _multiply(kind, slots[a], slots[b])
            else:
                slots[op[1]] = None
        return self._finish(slots, backend, densify)

    # streamed ---------------------------------------------------------------------------------
    def evaluate_streamed(
        self,
        source: JacobianSource,
        x: Any | Callable[[], Any],
        *,
        densify: bool = False,
        max_memory: int | str | None = None,
    ) -> Any:
        """``J_L ⋯ J_1`` of ``source`` at ``x``, forming each ``J_l`` from ``x_{l-1}`` on demand.

        ``x`` is the input ``x_0`` (``d_0`` numbers) or a function returning it; with a
        function the executor holds the only reference, so ``x_0`` is really freed when the
        schedule releases it (what :mod:`chainorder.measure` relies on). Before anything is
        allocated, the plan's streamed peak is checked against ``max_memory`` (see
        :func:`chainorder.memory_guard.check_memory`).
        """
        if self.setting is not Setting.STREAMED:
            raise ExecutionError(
                "this plan was compiled for the given setting: call it with the Jacobians, "
                "or compile it with setting='streamed' to pass (source, x)"
            )
        chain = self.plan.chain
        if not (hasattr(source, "activation") and hasattr(source, "jacobian")):
            raise ExecutionError(
                f"a streamed source needs activation(k, x) and jacobian(l, x) methods; got "
                f"{type(source).__name__}"
            )
        source_chain = getattr(source, "chain", None)
        if isinstance(source_chain, Chain) and (
            source_chain.dims != chain.dims or source_chain.structures != chain.structures
        ):
            raise ExecutionError(
                f"the source is the chain {source_chain.spec()} but the plan is for {chain.spec()}"
            )
        spec = chain.spec()
        what = f"evaluate_streamed of {spec if len(spec) <= 60 else f'{chain.n_links} links'}"
        peak = self.checkpoint.peak_bytes if self.checkpoint else self.plan.peak_bytes("streamed")
        check_memory(peak, what, max_memory)
        with memory_errors(what):
            return self._run_streamed(source, x, densify)

    def _run_streamed(self, source: JacobianSource, x: Any, densify: bool) -> Any:
        chain = self.plan.chain
        acts: list[Any] = [None] * (chain.n_links + 1)
        acts[0] = x() if callable(x) else x
        backend = namespace_of([acts[0]], what="x")
        d0 = chain.dims[0]
        if tuple(acts[0].shape) != (d0,):
            raise ExecutionError(
                f"x_0 must have shape ({d0},) = (d_0,), got shape {tuple(acts[0].shape)}"
            )
        dtype = self.plan.dtype
        slots: list[Any] = [None] * self._n_nodes
        computes = 0
        for op in self._ops:
            code = op[0]
            if code == _MULTIPLY:
                _, i, a, b, kind = op
                slots[i] = _multiply(kind, slots[a], slots[b])
            elif code == _FREE:
                slots[op[1]] = None
            elif code == _FORM:
                l = op[1]
                slots[op[2]] = source.jacobian(l, acts[l - 1])
                # no local name may keep a reference: freed arrays must really go
                _check_link(chain, dtype, l, slots[op[2]], where="source.jacobian: ")
            elif code == _COMPUTE:
                k = op[1]
                acts[k] = source.activation(k, acts[k - 1])
                computes += 1
            else:
                acts[op[1]] = None
        self.last_recomputations = computes - max(chain.n_links - 1, 0)
        return self._finish(slots, backend, densify)

    def _finish(self, slots: list[Any], backend: Backend, densify: bool) -> Any:
        result = slots[self._root]
        slots[self._root] = None
        if densify and result.ndim == 1:
            result = backend.xp.diag(result)
        return result


def compile_plan(plan: Plan, setting: Setting | str = Setting.GIVEN) -> CompiledPlan:
    """Compile ``plan`` for repeated evaluation in ``setting`` (the one way to compile).

    Parameters
    ----------
    plan : Plan
    setting : {"given", "streamed"}
        ``given``: the result is called with a list of Jacobians; ``streamed``: with a
        :class:`JacobianSource` and ``x_0``.

    Returns
    -------
    CompiledPlan

    Raises
    ------
    UnknownSettingError
        ``setting`` is neither ``given`` nor ``streamed``.

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.plan import plan
    >>> f = compile_plan(plan("3,diag,2"))
    >>> f([np.array([1.0, 2.0, 3.0]), np.ones((2, 3))]).tolist()
    [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]

    Notes
    -----
    O(L) time and memory.
    """
    return CompiledPlan(plan, setting)


def evaluate(plan: Plan, jacobians: Sequence[Any], *, densify: bool = False) -> Any:
    """``J = J_L ⋯ J_1`` from given Jacobians, multiplied in the plan's order.

    Parameters
    ----------
    plan : Plan
        From :func:`chainorder.plan.plan`; its dtype must be the arrays' dtype.
    jacobians : sequence of arrays
        ``jacobians[l-1]`` is ``J_l``: shape ``(d_l, d_{l-1})`` if dense, the ``(d_l,)``
        diagonal if elementwise. All NumPy or all CuPy.
    densify : bool
        Only matters when every link is diagonal: return ``diag(result)`` as a 2-D matrix
        instead of the 1-D diagonal.

    Returns
    -------
    array
        ``(d_L, d_0)`` in the arrays' namespace (1-D ``(d_0,)`` when every link is diagonal
        and ``densify`` is false). For ``L = 1`` the input ``J_1`` itself.

    Raises
    ------
    ExecutionError
        Wrong number of arrays; an array of the wrong shape or dtype (the message names the
        link, the expected and the actual shape); non-arrays; NumPy and CuPy mixed.

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.plan import plan
    >>> rng = np.random.default_rng(0)
    >>> p = plan("4,3,tanh,2")
    >>> Js = [rng.standard_normal((3, 4)), rng.standard_normal(3), rng.standard_normal((2, 3))]
    >>> J = evaluate(p, Js)
    >>> J.shape, bool(np.allclose(J, Js[2] @ np.diag(Js[1]) @ Js[0]))
    ((2, 4), True)

    Notes
    -----
    Compiles the plan (O(L)) then does its ``plan.mults`` multiplications; peak memory is
    ``plan.peak_bytes("given")`` (inputs included). Use :func:`compile_plan` to skip the
    compile step when evaluating many times.
    """
    return CompiledPlan(plan, Setting.GIVEN).evaluate(jacobians, densify=densify)


def evaluate_streamed(
    plan: Plan,
    source: JacobianSource,
    x: Any,
    *,
    densify: bool = False,
    max_memory: int | str | None = None,
) -> Any:
    """``J = J_L ⋯ J_1`` of a network at ``x``, Jacobians formed on demand (streamed setting).

    Parameters
    ----------
    plan : Plan
    source : JacobianSource
        For example :class:`chainorder.nets.MLP` built from the same chain.
    x : array or callable
        The input ``x_0`` of shape ``(d_0,)``, or a function returning it.
    densify : bool
        As in :func:`evaluate`.
    max_memory : int, str or None
        Limit for the run's predicted peak, ``plan.peak_bytes("streamed")``: bytes or a size
        such as ``"2GiB"``; None for the memory guard's default share of available memory.

    Returns
    -------
    array
        The Jacobian of the network at ``x``.

    Raises
    ------
    ExecutionError
        A source for another chain, an input of the wrong shape, or a formed Jacobian of the
        wrong shape or dtype.
    MemoryLimitError
        The predicted peak exceeds the limit (checked before anything is allocated), or the
        run still ran out of memory.

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.plan import plan
    >>> from chainorder.nets import MLP
    >>> net = MLP("3,4,tanh,2", seed=0)
    >>> J = evaluate_streamed(plan(net.chain, "reverse"), net, np.ones(3))
    >>> J.shape
    (2, 3)

    Notes
    -----
    O(L) Python steps plus the products; peak memory is ``plan.peak_bytes("streamed")``
    (activations, formed Jacobians and products; the network's weights are not counted).
    """
    return CompiledPlan(plan, Setting.STREAMED).evaluate_streamed(
        source, x, densify=densify, max_memory=max_memory
    )

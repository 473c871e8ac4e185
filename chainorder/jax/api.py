"""``chainorder.jax.jacobian``: ``jax.jacfwd``'s signature, the planned order of JVPs and VJPs.

On the first call per argument structure (shapes, dtypes, pytree) the function is traced to a
jaxpr, cut into a chain of segments (:mod:`chainorder.jax.segments`), each segment priced
(:mod:`chainorder.jax.price`), and the chain planned by the matrix-free planner
(:mod:`chainorder.jax.planning`). With ``method="auto"`` the cheapest plan is used, or, when
other plans are predicted within 20 % of it, the fastest of them on a timed first run
(:mod:`chainorder.jax.timing`). Every call then runs the chosen plan with ``jax.jvp``/``jax.vjp``,
``jax.vmap`` and ``jnp.matmul`` (:mod:`chainorder.jax.build`), so it composes with ``jax.jit``
and ``jax.vmap``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from chainorder.errors import DtypeError, ExecutionError, SpecError, SpecTypeError
from chainorder.jax.planning import Candidate, candidates, check_method, make_plans, to_time
from chainorder.jax.program import Program
from chainorder.jax.segments import Segment
from chainorder.ties import PEAK_EQUAL, TIME_TIE, leanest_of_ties

__all__ = ["PEAK_EQUAL", "TIME_TIE", "JaxJacobian", "Prepared", "choose_timed", "jacobian"]


@dataclass
class Prepared:
    """Everything decided for one argument structure: program, segments, plans, the choice."""

    prog: Program
    out_tree: Any
    segs: list[Segment]
    wrt: tuple[int, ...]
    arg_trees: tuple[Any, ...]
    dtype: Any
    plans: dict[str, Candidate]
    chosen: str
    leaf_specs: tuple[Any, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    compiled: dict[str, Any] = field(default_factory=dict)
    fn: Any = None  # the differentiated function, its argnums and the arguments' tree
    argnums: Any = 0
    args_tree: Any = None

    @property
    def plan(self) -> Candidate:
        """The chosen candidate."""
        return self.plans[self.chosen]


def _argnums(argnums: object, n_args: int) -> tuple[tuple[int, ...], bool]:
    if isinstance(argnums, bool):
        raise SpecTypeError(f"argnums is {argnums!r}; expected an int or a tuple of ints")
    if isinstance(argnums, int):
        nums, as_tuple = (argnums,), False
    elif (
        isinstance(argnums, tuple | list)
        and argnums
        and all(isinstance(a, int) and not isinstance(a, bool) for a in argnums)
    ):
        nums, as_tuple = tuple(argnums), True
    else:
        raise SpecTypeError(f"argnums is {argnums!r}; expected an int or a tuple of ints")
    norm = tuple(a + n_args if a < 0 else a for a in nums)
    if any(not 0 <= a < n_args for a in norm):
        raise SpecError(f"argnums {argnums!r} out of range for a call with {n_args} arguments")
    return norm, as_tuple


class JaxJacobian:
    """The callable that :func:`jacobian` returns; see there.

    ``explain(*args)`` describes the plan for those arguments (or for the last call's);
    ``prepared(*args)`` returns the :class:`Prepared` decisions.
    """

    def __init__(
        self,
        f: Callable[..., Any],
        argnums: int | Sequence[int] = 0,
        method: str = "auto",
        measure: bool | None = None,
    ) -> None:
        try:
            import jax  # noqa: F401
        except ImportError as exc:
            raise ExecutionError(
                f"chainorder.jax needs JAX: pip install 'jacobian-chainorder[jax]' ({exc})"
            ) from None
        if not callable(f):
            raise SpecTypeError(f"f is a {type(f).__name__}; expected a callable")
        if measure not in (None, True, False):
            raise SpecTypeError(f"measure is {measure!r}; expected None, True or False")
        self.f = f
        self.argnums = argnums
        self.method = check_method(method)
        self.measure = measure
        self._cache: dict[Any, Prepared] = {}
        self._last: Prepared | None = None
        self.__name__ = f"jacobian({getattr(f, '__name__', 'f')})"
        self.__doc__ = f"Jacobian of {getattr(f, '__name__', 'f')} (chainorder.jax)."

    # decisions ------------------------------------------------------------------------------
    def prepared(self, *args: Any) -> Prepared:
        """Trace, segment, plan and (maybe) time for the structure of ``args``; cached."""
        import jax

        leaves, tree = jax.tree_util.tree_flatten(args)
        key = (tree, tuple((tuple(jax.numpy.shape(x)), jax.numpy.result_type(x)) for x in leaves))
        hit = self._cache.get(key)
        if hit is None:
            hit = self._prepare(args)
            self._cache[key] = hit
        self._last = hit
        return hit

    def _prepare(self, args: tuple[Any, ...]) -> Prepared:
        import jax
        import jax.numpy as jnp

        from chainorder.jax.price import is_inexact
        from chainorder.jax.program import trace_program
        from chainorder.jax.segments import link_of, segment_program

        nums, _ = _argnums(self.argnums, len(args))
        arrays = jax.tree_util.tree_map(jnp.asarray, args)
        prog, out_tree = trace_program(self.f, arrays)
        # flat leaf ranges of each positional argument
        starts, pos = [], 0
        arg_trees = []
        for a in arrays:
            starts.append(pos)
            pos += len(jax.tree_util.tree_leaves(a))
        wrt: list[int] = []
        for a in nums:
            tree = jax.tree_util.tree_structure(arrays[a])
            arg_trees.append(tree)
            wrt.extend(prog.inputs[starts[a] : starts[a] + tree.num_leaves])
        dtypes = [prog.avals[v][1] for v in wrt]
        out_dtypes = [prog.avals[v][1] for v in prog.outputs if isinstance(v, int)]
        for dt in (*dtypes, *out_dtypes):
            if not is_inexact(dt) or jnp.issubdtype(dt, jnp.complexfloating):
                raise DtypeError(
                    "chainorder.jax.jacobian differentiates float16, float32 and float64 "
                    f"arrays; got {dt} (cast it, e.g. x.astype(jnp.float32))"
                )
        if not wrt:
            raise SpecError("the differentiated arguments hold no arrays")
        if not prog.outputs:
            raise SpecError("f returned no arrays (None or an empty pytree): nothing to derive")
        dtype = jnp.result_type(*dtypes, *out_dtypes)
        segs = segment_program(prog, wrt)
        links = [link_of(s) for s in segs]
        plans = make_plans(links, jnp.dtype(dtype).name)
        specs = tuple(
            jax.ShapeDtypeStruct(jnp.shape(a), jnp.result_type(a))
            for a in jax.tree_util.tree_leaves(arrays)
        )
        prep = Prepared(prog, out_tree, segs, tuple(wrt), tuple(arg_trees), dtype, plans, "", specs)
        prep.fn, prep.argnums = self.f, self.argnums
        prep.args_tree = jax.tree_util.tree_structure(args)
        if self.method != "auto":
            prep.chosen = self.method
            return prep
        cands = candidates(plans)
        timed = to_time(cands, self.measure)
        if timed:
            from chainorder.jax.timing import time_candidates

            prep.timings = time_candidates(prep, [c.name for c in timed], args)
            prep.chosen = choose_timed(prep)
        else:
            prep.chosen = cands[0].name
        return prep

    # the Jacobian ---------------------------------------------------------------------------
    def __call__(self, *args: Any) -> Any:
        prep = self.prepared(*args)
        return self.run(prep, args, prep.chosen)

    def run(self, prep: Prepared, args: Sequence[Any], name: str) -> Any:
        """The Jacobian at ``args`` by the plan called ``name`` of ``prep``.

        A pure sweep over the whole chain from the identity is exactly ``jax.jacfwd`` /
        ``jax.jacrev``, so it runs as that: the same program, not a re-assembled one."""
        import jax

        from chainorder.jax.build import jacfwd_layout, pure_sweep, run_plan

        plan = prep.plans[name].plan
        pure = pure_sweep(plan)
        if pure is not None:
            return pure(self.f, argnums=self.argnums)(*args)
        leaves = jax.tree_util.tree_leaves(args)
        jac = run_plan(plan, prep.prog, prep.segs, leaves, prep.dtype)
        _, as_tuple = _argnums(self.argnums, len(args))
        return jacfwd_layout(
            jac, prep.prog, prep.prog.outputs, prep.wrt, prep.out_tree, prep.arg_trees, as_tuple
        )

    def explain(self, *args: Any) -> str:
        """The plan as text: segments, sweeps/products, predicted mults and memory against
        ``jax.jacfwd`` and ``jax.jacrev``, and the first call's timings when it measured.

        Raises
        ------
        SpecError
            Called without arguments before any call.
        """
        from chainorder.jax.explain import explain_text

        if args:
            prep = self.prepared(*args)
        elif self._last is not None:
            prep = self._last
        else:
            raise SpecError("explain() needs the arguments (or one call of the Jacobian first)")
        return explain_text(prep)


def choose_timed(prep: Prepared) -> str:
    """The fastest timed candidate, or on a time tie the leanest: among the candidates within
    5 % of the fastest (:data:`TIME_TIE`), the one whose compiled program XLA says allocates
    least (``memory_analysis()``), the fastest of those within 1 % of that (:data:`PEAK_EQUAL`);
    the rule of :mod:`chainorder.ties`, which chainorder.torch follows with measured peaks.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> jac = jacobian(lambda x: jnp.tanh(x @ jnp.ones((3, 2))), measure=False)
    >>> prep = jac.prepared(jnp.ones(3))
    >>> prep.timings = {"forward": 2e-6, "reverse": 1e-3}  # seconds, as if measured
    >>> choose_timed(prep)
    'forward'

    Notes
    -----
    O(timed candidates), plus one XLA compilation (cached) per tied candidate.
    """
    from chainorder.jax.timing import xla_figures
    from chainorder.ties import time_ties

    peaks = {k: xla_figures(prep, k).peak_bytes for k in time_ties(prep.timings, TIME_TIE)}
    return leanest_of_ties(prep.timings, peaks, TIME_TIE, PEAK_EQUAL)


def jacobian(
    f: Callable[..., Any],
    argnums: int | Sequence[int] = 0,
    *,
    method: str = "auto",
    measure: bool | None = None,
) -> JaxJacobian:
    """Jacobian of ``f`` by the cheapest planned mix of JVPs, VJPs and dense products.

    Parameters
    ----------
    f : callable
        A JAX-traceable function of arrays (or pytrees of arrays) returning an array or a
        pytree of arrays, all real floating.
    argnums : int or tuple of int
        Which positional arguments to differentiate, as in ``jax.jacfwd``.
    method : {"auto", "optimal", "forward", "reverse", "given"}
        ``auto``: the cheapest predicted plan, or the fastest of the close ones when timed;
        ``optimal``: the planner's optimum; ``forward``/``reverse``: one tangent / adjoint
        sweep (``jacfwd``/``jacrev``); ``given``: every segment's Jacobian formed, then the
        cheapest products.
    measure : bool or None
        Time candidates on the first call: None (default) only when ``method="auto"`` and
        plans are predicted within 20 % of the cheapest; True: the three cheapest; False:
        never.

    Returns
    -------
    JaxJacobian
        Callable with ``f``'s arguments; returns what ``jax.jacfwd(f, argnums)`` returns.

    Raises
    ------
    SpecError, SpecTypeError, DtypeError
        Bad ``method``/``argnums``/``measure``, or non-floating inputs or outputs.
    ExecutionError
        JAX is not installed (the ``jax`` extra).

    Examples
    --------
    >>> import jax, jax.numpy as jnp
    >>> w = jnp.arange(6.0).reshape(3, 2) / 6
    >>> f = lambda x: jnp.tanh(x @ w)
    >>> x = jnp.ones(3)
    >>> bool(jnp.allclose(jax.jit(jacobian(f))(x), jax.jacfwd(f)(x)))
    True
    >>> jacobian(f, method="reverse")(x).shape
    (2, 3)

    Notes
    -----
    The first call per argument structure traces ``f`` once and plans in O(L³) for ``L``
    segments (plus the timed runs when it measures); every call costs the chosen plan's
    multiplications plus a forward evaluation per sweep.
    """
    return JaxJacobian(f, argnums, method, measure)

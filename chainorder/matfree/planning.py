"""Entry points: the optimal matrix-free plan with its comparison, and the baseline plans.

``plan_matrix_free`` is what the CLI calls for ``chainorder plan --matrix-free`` / ``--chain``.
The baselines are plans too, so they can be executed and measured like the optimum:
pure tangent (what ``jax.jacfwd`` does), pure adjoint (``jax.jacrev``) and the given-matrix plan
(preaccumulate every link, then the cheapest dense products).
"""

from __future__ import annotations

from collections.abc import Sequence

from chainorder.chain import Chain
from chainorder.errors import SpecTypeError
from chainorder.matfree.links import LinkCost, dense, elementwise
from chainorder.matfree.plan import Comparison, MatrixFreePlan
from chainorder.matfree.solver import MAX_MATFREE_LINKS, check_links, solve_matrix_free
from chainorder.tree import Tree

__all__ = [
    "as_links",
    "comparison",
    "given_matrix_plan",
    "links_from_chain",
    "matrix_free_tree",
    "plan_matrix_free",
    "pure_adjoint_plan",
    "pure_tangent_plan",
]


def links_from_chain(chain: Chain, given: bool = False) -> tuple[LinkCost, ...]:
    """The links of a :class:`~chainorder.chain.Chain`: dense or elementwise, same shapes.

    Examples
    --------
    >>> [l.label for l in links_from_chain(Chain.parse("4,3,tanh,2"))]
    ['dense', 'tanh', 'dense']

    Notes
    -----
    O(L).
    """
    out = []
    for link in chain.links:
        if link.structure.value == "diagonal":
            out.append(elementwise(link.rows, link.name, given=given))
        else:
            out.append(dense(link.rows, link.cols, given=given))
    return tuple(out)


def as_links(spec_or_links: object, given: bool = False) -> tuple[LinkCost, ...]:
    """Links from a matrix-free spec string, a :class:`Chain` or a sequence of LinkCost.

    ``given`` applies to a spec string or a Chain (links are taken as they are).

    Raises
    ------
    SpecError
        A malformed spec or links that do not chain.
    SpecTypeError
        Anything else.

    Examples
    --------
    >>> len(as_links("1x28x28,conv2d(8,k=3),relu,10"))
    3

    Notes
    -----
    O(length of the spec + L).
    """
    from chainorder.matfree.spec import parse_matrix_free

    if isinstance(spec_or_links, str):
        return parse_matrix_free(spec_or_links, given=given)
    if isinstance(spec_or_links, Chain):
        return links_from_chain(spec_or_links, given=given)
    if isinstance(spec_or_links, Sequence) and all(
        isinstance(x, LinkCost) for x in spec_or_links
    ):
        return check_links(spec_or_links)
    raise SpecTypeError(
        "expected a matrix-free spec such as '1x28x28,conv2d(8,k=3),relu,10', a Chain or a "
        f"sequence of LinkCost; got {type(spec_or_links).__name__}"
    )


def pure_tangent_plan(links: Sequence[LinkCost], dtype: str = "float64") -> MatrixFreePlan:
    """One tangent sweep through all links on ``d_0`` seed columns (``jacfwd``).

    Examples
    --------
    >>> from chainorder.matfree.links import custom
    >>> pure_tangent_plan([custom(3, 3, 29), custom(1, 3, 14), custom(2, 1, 7)]).mults
    150

    Notes
    -----
    O(L).
    """
    links = check_links(links)
    return MatrixFreePlan.from_nodes(links, [(1, len(links), 1, "tangent")], dtype)


def pure_adjoint_plan(links: Sequence[LinkCost], dtype: str = "float64") -> MatrixFreePlan:
    """One adjoint sweep through all links on ``d_L`` seed rows (``jacrev``).

    Examples
    --------
    >>> from chainorder.matfree.links import custom
    >>> pure_adjoint_plan([custom(3, 3, 29), custom(1, 3, 14), custom(2, 1, 7)]).mults
    100

    Notes
    -----
    O(L).
    """
    links = check_links(links)
    L = len(links)
    return MatrixFreePlan.from_nodes(links, [(1, L, L + 1, "adjoint")], dtype)


def given_matrix_plan(links: Sequence[LinkCost], dtype: str = "float64") -> MatrixFreePlan:
    """Every link preaccumulated (or given), then the cheapest dense products.

    Examples
    --------
    >>> from chainorder.matfree.links import custom
    >>> given_matrix_plan([custom(3, 3, 29), custom(1, 3, 14), custom(2, 1, 7)]).mults
    123

    Notes
    -----
    O(L³) time, O(L²) memory (the DP without sweeps); beyond
    :data:`~chainorder.matfree.solver.MAX_MATFREE_LINKS` links the segmented solver of
    :mod:`chainorder.matfree.bounded` (not proven optimal; O(L·width²)).
    """
    links = check_links(links)
    if len(links) > MAX_MATFREE_LINKS:
        from chainorder.matfree.bounded import solve_matrix_free_bounded

        return solve_matrix_free_bounded(links, dtype, sweeps=False)
    return solve_matrix_free(links, dtype, sweeps=False)


def comparison(plan: MatrixFreePlan) -> Comparison:
    """The plan's mults against pure tangent, pure adjoint and the given-matrix plan.

    Examples
    --------
    >>> from chainorder.matfree.links import custom
    >>> p = pure_tangent_plan([custom(3, 3, 29), custom(1, 3, 14), custom(2, 1, 7)])
    >>> comparison(p)
    Comparison(optimum=150, pure_tangent=150, pure_adjoint=100, given_matrix=123)

    Notes
    -----
    O(L³) (the given-matrix DP).
    """
    links = plan.links
    return Comparison(
        plan.mults,
        pure_tangent_plan(links).mults,
        pure_adjoint_plan(links).mults,
        given_matrix_plan(links).mults,
    )


def plan_matrix_free(
    spec_or_links: str | Chain | Sequence[LinkCost],
    dtype: str = "float64",
    given: bool = False,
) -> MatrixFreePlan:
    """The cheapest matrix-free plan, with its :class:`Comparison` attached.

    Parameters
    ----------
    spec_or_links : str, Chain or sequence of LinkCost
        A matrix-free spec (:mod:`chainorder.matfree.spec`), a Chain, or links (e.g. from
        :func:`chainorder.matfree.chainfile.read_chain_file`).
    dtype : str
        Element type, for memory in bytes.
    given : bool
        For a spec or Chain: whether every link is also available as an array.

    Returns
    -------
    MatrixFreePlan
        ``plan.comparison`` holds the baselines. Up to
        :data:`~chainorder.matfree.solver.MAX_MATFREE_LINKS` links the plan is the exact
        optimum (``lower_bound`` None); beyond, the segmented plan of
        :mod:`chainorder.matfree.bounded` with its proven ``lower_bound`` and ``gap``.

    Raises
    ------
    SpecError, SpecTypeError
        Bad input.

    Examples
    --------
    >>> p = plan_matrix_free("1x28x28,conv2d(8,k=3),relu,conv2d(16,k=3,stride=2),relu,10")
    >>> p.mode_label  # 10 outputs: one adjoint sweep with 10 seed rows (jacrev) is optimal
    'reverse, matrix-free'
    >>> p.comparison.given_matrix // p.mults
    239
    >>> plan_matrix_free("4096,64,tanh,4096,tanh,64,tanh,4096").mode_label  # the hourglass
    'mixed, matrix-free'

    Notes
    -----
    O(L³) time, O(L²) memory up to the DP's limit; O(L·width²) time beyond.
    """
    from chainorder.dtypes import as_dtype

    name = as_dtype(dtype).name
    links = as_links(spec_or_links, given=given)
    if len(links) > MAX_MATFREE_LINKS:
        from chainorder.matfree.bounded import solve_matrix_free_bounded

        plan = solve_matrix_free_bounded(links, name)
    else:
        plan = solve_matrix_free(links, name)
    return MatrixFreePlan(plan.links, plan.nodes, name, comparison(plan), plan.lower_bound)


def matrix_free_tree(chain: Chain) -> Tree:
    """Registry adapter (``Chain -> Tree``): the generalised DP on the chain's given links.

    The solver registry (:mod:`chainorder.solvers.registry`) maps a Chain to a bracketing that
    :func:`chainorder.plan` prices as products of given arrays, so the links are taken as
    given; the tree then costs exactly today's optimum. A tree cannot carry sweep actions:
    for matrix-free planning use :func:`plan_matrix_free`.

    Examples
    --------
    >>> matrix_free_tree(Chain.from_dims([30, 35, 15, 5, 10, 20, 25]))
    ((6, (5, 4)), ((3, 2), 1))

    Notes
    -----
    O(L³) time, O(L²) memory.
    """
    if chain.n_links == 1:
        return 1
    return solve_matrix_free(links_from_chain(chain, given=True), sweeps=False).tree

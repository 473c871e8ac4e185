"""Arithmetic cost of products by structure, of whole trees, and the lecture closed forms.

Units
-----
``mults``
    Scalar multiplications, the lecture's unit: ``p·q·r`` for a dense ``(p×q)(q×r)`` product,
    ``q·r`` for ``diag(q)·dense(q×r)``, ``p·q`` for ``dense(p×q)·diag(q)``, ``q`` for
    ``diag(q)·diag(q)``.
``flops``
    Floating-point operations as BLAS counts them: ``2·p·q·r`` for a dense product (one
    multiply and one add per term), one per multiply for diagonal scaling.

All counts are Python ints, exact for any size.
"""

from __future__ import annotations

from dataclasses import dataclass

from chainorder.chain import Chain, Structure
from chainorder.closed_forms import forward_mults_closed_form, reverse_mults_closed_form
from chainorder.tree import FlatTree, Tree, flatten

__all__ = [
    "NodeShapes",
    "TreeCost",
    "forward_mults_closed_form",
    "mults_by_nnz",
    "node_shapes",
    "product_flops",
    "product_mults",
    "product_structure",
    "pure_mode_mults",
    "reverse_mults_closed_form",
    "tree_cost",
]


def product_structure(left: Structure, right: Structure) -> Structure:
    """Structure of ``left @ right``: diagonal only when both factors are diagonal.

    Examples
    --------
    >>> product_structure(Structure.DIAGONAL, Structure.DENSE).value
    'dense'

    Notes
    -----
    O(1).
    """
    if left is Structure.DIAGONAL and right is Structure.DIAGONAL:
        return Structure.DIAGONAL
    return Structure.DENSE


def mults_by_nnz(left_nnz: int, right_nnz: int, inner: int) -> int:
    """The one pricing rule: ``⌈nnz(A)·nnz(B) / q⌉`` mults for ``A (p×q) @ B (q×r)``.

    The number of scalar multiplications when the non-zeros are spread evenly over the shared
    dimension ``q``. Exact for the chain's structures: dense·dense ``pq·qr/q = pqr``,
    diagonal·dense ``q·qr/q = qr``, dense·diagonal ``pq``, diagonal·diagonal ``q``; an
    estimate for other sparse patterns (traced graphs, :mod:`chainorder.graph.structure`).

    Examples
    --------
    >>> mults_by_nnz(30 * 35, 35 * 15, 35), mults_by_nnz(35, 35 * 15, 35)
    (15750, 525)

    Notes
    -----
    O(1), exact integer arithmetic at any size.
    """
    return -(-left_nnz * right_nnz // inner) if inner else 0


def product_mults(p: int, q: int, r: int, left: Structure, right: Structure) -> int:
    """Scalar multiplications of ``(p×q) @ (q×r)`` given the factors' structures.

    The stored elements of each factor priced by :func:`mults_by_nnz`.

    Examples
    --------
    >>> product_mults(30, 35, 15, Structure.DENSE, Structure.DENSE)
    15750
    >>> product_mults(35, 35, 15, Structure.DIAGONAL, Structure.DENSE)
    525

    Notes
    -----
    O(1).
    """
    # a diagonal factor holds q entries along the shared dimension (elements(q, ·) = q)
    return mults_by_nnz(left.elements(q, p), right.elements(q, r), q)


def product_flops(p: int, q: int, r: int, left: Structure, right: Structure) -> int:
    """FLOPs of ``(p×q) @ (q×r)`` as BLAS counts: 2 per multiply-add when dense.

    Examples
    --------
    >>> product_flops(30, 35, 15, Structure.DENSE, Structure.DENSE)
    31500
    >>> product_flops(35, 35, 15, Structure.DIAGONAL, Structure.DENSE)
    525

    Notes
    -----
    O(1).
    """
    mults = product_mults(p, q, r, left, right)
    if left is Structure.DENSE and right is Structure.DENSE:
        return 2 * mults
    return mults


@dataclass(frozen=True, slots=True)
class NodeShapes:
    """Shape and structure of every node of a flattened tree (parallel tuples)."""

    rows: tuple[int, ...]
    cols: tuple[int, ...]
    structure: tuple[Structure, ...]

    def elements(self, i: int) -> int:
        """Stored elements of node ``i``'s array."""
        return self.structure[i].elements(self.rows[i], self.cols[i])


def node_shapes(chain: Chain, flat: FlatTree) -> NodeShapes:
    """Shapes ``(d_hi, d_{lo-1})`` and structures of all nodes.

    Notes
    -----
    O(L) time.

    Examples
    --------
    >>> from chainorder.tree import flatten
    >>> node_shapes(Chain.from_dims([2, 3, 4]), flatten((2, 1))).rows  # J2, J1, J2·J1
    (4, 3, 4)
    """
    d = chain.dims
    structs: list[Structure] = []
    for i in range(len(flat.lo)):
        if flat.left[i] < 0:
            structs.append(chain.structures[flat.lo[i] - 1])
        else:
            structs.append(product_structure(structs[flat.left[i]], structs[flat.right[i]]))
    return NodeShapes(
        tuple(d[h] for h in flat.hi), tuple(d[lo - 1] for lo in flat.lo), tuple(structs)
    )


@dataclass(frozen=True, slots=True)
class TreeCost:
    """Total arithmetic of a tree: ``mults`` (multiplications) and ``flops`` (BLAS FLOPs)."""

    mults: int
    flops: int


def tree_cost(chain: Chain, tree: Tree | FlatTree) -> TreeCost:
    """Multiplications and FLOPs of evaluating ``tree`` over ``chain``.

    Parameters
    ----------
    chain : Chain
    tree : Tree or FlatTree
        Must cover links ``1..L``.

    Returns
    -------
    TreeCost

    Examples
    --------
    >>> c = Chain.from_dims([30, 35, 15, 5, 10, 20, 25])
    >>> tree_cost(c, ((6, (5, 4)), ((3, 2), 1))).mults
    15125

    Notes
    -----
    O(L) time and memory.
    """
    flat = tree if isinstance(tree, FlatTree) else flatten(tree, chain.n_links)
    shapes = node_shapes(chain, flat)
    d = chain.dims
    mults = flops = 0
    for i in flat.internal():
        a, b = flat.left[i], flat.right[i]
        p, q, r = d[flat.hi[a]], d[flat.hi[b]], d[flat.lo[b] - 1]
        sa, sb = shapes.structure[a], shapes.structure[b]
        mults += product_mults(p, q, r, sa, sb)
        flops += product_flops(p, q, r, sa, sb)
    return TreeCost(mults, flops)


def pure_mode_mults(chain: Chain, reverse: bool = False) -> int:
    """Multiplications of pure forward (or, with ``reverse=True``, reverse) mode.

    Uses the lecture's closed form on dense chains and the tree cost otherwise.

    Examples
    --------
    >>> c = Chain.parse("784,512,tanh,10")
    >>> pure_mode_mults(c), pure_mode_mults(c, reverse=True)
    (4415488, 4019200)

    Notes
    -----
    O(L) time.
    """
    if chain.is_dense:
        form = reverse_mults_closed_form if reverse else forward_mults_closed_form
        return form(chain.dims)
    from chainorder.tree import forward_tree, reverse_tree

    tree = reverse_tree(chain.n_links) if reverse else forward_tree(chain.n_links)
    return tree_cost(chain, tree).mults

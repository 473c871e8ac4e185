"""Structure of a local partial (an edge of a traced graph) and its product cost algebra.

A local partial ``∂v/∂u`` of a traced graph is a matrix with ``rows = v.size`` and
``cols = u.size``. Its :class:`EdgeStructure` records what kind of matrix it is, how many
entries can be non-zero (``nnz``) and whether its entries are all 0 or ±1 (``unit``), in
which case multiplying by it needs no scalar multiplication, only copies and additions.

The cost of a product ``A @ B`` (``A``: p×q, ``B``: q×r) in scalar multiplications is

* 0 when ``A`` or ``B`` is a unit matrix (identity, selection, broadcast, sum, ...);
* ``⌈nnz(A)·nnz(B)/q⌉`` otherwise (:func:`chainorder.cost.mults_by_nnz`, the one pricing
  rule the chain planner uses too): the number of multiplications when the non-zeros are
  spread evenly over the shared dimension. It is exact for dense × dense (``p·q·r``) and
  for diagonal × anything (``nnz`` of the other factor); for other sparse patterns it is
  an estimate.
"""

from __future__ import annotations

from dataclasses import dataclass

from chainorder.cost import mults_by_nnz

__all__ = ["KINDS", "EdgeStructure", "add_structures", "multiply_structures"]

#: Every kind of local partial, with a one-line meaning.
KINDS: dict[str, str] = {
    "identity": "square, ±1 on the diagonal (add, subtract, negate, reshape)",
    "diagonal": "square, general diagonal (elementwise op on same-shape operands)",
    "permutation": "square, one 1 per row and column (transpose)",
    "select": "one 1 per row: indexing / slicing",
    "broadcast": "one non-zero per row: an operand broadcast to a larger shape",
    "reduction": "one non-zero per column: sum or mean over axes",
    "kronecker": "Kronecker-structured: a matmul/einsum with a matrix operand",
    "sparse": "a product or sum of the kinds above, nnz estimated",
    "dense": "every entry may be non-zero",
}


@dataclass(frozen=True)
class EdgeStructure:
    """Shape and sparsity of one local partial ``∂v/∂u`` (a ``rows × cols`` matrix).

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.
    rows, cols : int
        ``v.size`` and ``u.size``.
    nnz : int
        Number of entries that may be non-zero (at most ``rows·cols``).
    unit : bool
        True when every non-zero is ±1, so multiplying by the matrix costs no mults.

    Examples
    --------
    >>> d = EdgeStructure.diagonal(4)
    >>> (d.kind, d.rows, d.cols, d.nnz, d.unit)
    ('diagonal', 4, 4, 4, False)
    >>> EdgeStructure.dense(3, 4).nnz
    12
    """

    kind: str
    rows: int
    cols: int
    nnz: int
    unit: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown edge kind {self.kind!r}; expected one of {sorted(KINDS)}")
        if self.rows < 0 or self.cols < 0 or not 0 <= self.nnz <= self.rows * self.cols:
            raise ValueError(f"inconsistent edge structure {self!r}")

    @classmethod
    def dense(cls, rows: int, cols: int) -> EdgeStructure:
        """A dense ``rows × cols`` partial."""
        return cls("dense", rows, cols, rows * cols)

    @classmethod
    def diagonal(cls, n: int, unit: bool = False) -> EdgeStructure:
        """An ``n × n`` diagonal partial (``unit=True``: ±1 on the diagonal)."""
        return cls("identity" if unit else "diagonal", n, n, n, unit)

    @classmethod
    def sparse(cls, kind: str, rows: int, cols: int, nnz: int, unit: bool = False) -> EdgeStructure:
        """A structured partial; becomes ``dense`` when ``nnz == rows·cols`` and not unit."""
        nnz = min(int(nnz), rows * cols)
        if nnz == rows * cols and not unit and kind not in ("diagonal",):
            kind = "dense"
        if kind == "diagonal" and unit:
            kind = "identity"
        return cls(kind, rows, cols, nnz, unit)

    @property
    def is_diagonal(self) -> bool:
        """True for ``diagonal`` and ``identity`` partials."""
        return self.kind in ("diagonal", "identity")

    def describe(self) -> str:
        """Short text such as ``'diagonal 4x4'`` or ``'kronecker 6x9 nnz=18'``."""
        text = f"{self.kind} {self.rows}x{self.cols}"
        if self.kind not in ("dense", "diagonal", "identity"):
            text += f" nnz={self.nnz}"
        return text


def multiply_structures(a: EdgeStructure, b: EdgeStructure) -> tuple[int, EdgeStructure]:
    """Mults and structure of the product ``a @ b``.

    Parameters
    ----------
    a, b : EdgeStructure
        ``a`` is p×q, ``b`` is q×r.

    Returns
    -------
    (int, EdgeStructure)
        Scalar multiplications of the product and the structure of the p×r result.

    Raises
    ------
    ValueError
        If the inner dimensions differ.

    Examples
    --------
    >>> multiply_structures(EdgeStructure.dense(2, 3), EdgeStructure.dense(3, 4))[0]
    24
    >>> m, s = multiply_structures(EdgeStructure.diagonal(3), EdgeStructure.dense(3, 5))
    >>> m, s.kind
    (15, 'dense')

    Notes
    -----
    O(1). Exact for dense and diagonal factors; an even-spread estimate otherwise.
    """
    if a.cols != b.rows:
        raise ValueError(f"cannot multiply {a.describe()} by {b.describe()}")
    p, q, r = a.rows, a.cols, b.cols
    estimate = mults_by_nnz(a.nnz, b.nnz, q)
    mults = 0 if (a.unit or b.unit) else estimate
    nnz = min(p * r, estimate)
    unit = a.unit and b.unit
    if a.is_diagonal and b.is_diagonal:
        return mults, EdgeStructure.diagonal(p, unit=unit)
    if a.is_diagonal and a.unit:
        return mults, EdgeStructure(b.kind, p, r, b.nnz, b.unit)
    if b.is_diagonal and b.unit:
        return mults, EdgeStructure(a.kind, p, r, a.nnz, a.unit)
    if nnz == p * r and not unit:
        return mults, EdgeStructure.dense(p, r)
    if a.is_diagonal:
        return mults, EdgeStructure.sparse(b.kind, p, r, b.nnz)
    if b.is_diagonal:
        return mults, EdgeStructure.sparse(a.kind, p, r, a.nnz)
    return mults, EdgeStructure.sparse("sparse", p, r, nnz, unit)


def add_structures(a: EdgeStructure, b: EdgeStructure) -> EdgeStructure:
    """Structure of ``a + b`` (same shape); additions cost no mults.

    Examples
    --------
    >>> add_structures(EdgeStructure.diagonal(3), EdgeStructure.diagonal(3)).kind
    'diagonal'
    >>> add_structures(EdgeStructure.dense(2, 2), EdgeStructure.diagonal(2)).kind
    'dense'

    Notes
    -----
    O(1). The sum of two unit matrices is not unit (entries may be 2).
    """
    if (a.rows, a.cols) != (b.rows, b.cols):
        raise ValueError(f"cannot add {a.describe()} and {b.describe()}")
    if a.is_diagonal and b.is_diagonal:
        return EdgeStructure.diagonal(a.rows)
    nnz = min(a.rows * a.cols, a.nnz + b.nnz)
    if nnz == a.rows * a.cols:
        return EdgeStructure.dense(a.rows, a.cols)
    kind = a.kind if a.kind == b.kind else "sparse"
    if kind in ("identity", "permutation"):
        kind = "sparse"
    return EdgeStructure.sparse(kind, a.rows, a.cols, nnz)

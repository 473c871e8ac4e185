"""The speed paths of the rules (issue 8, helper P) compute what the plain einsum does."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from chainorder.graph.ops.linalg import _as_matmul, batched_contract

EXT = {"a": 3, "b": 4, "c": 5}


def _specs():
    perms = ["".join(p) for p in itertools.permutations("abc", 2)]
    for sblk, sfix, sout in itertools.product(perms, perms, perms):
        if len(set(sblk) & set(sfix)) == 1 and set(sout) <= set(sblk + sfix):
            yield sblk, sfix, sout


@pytest.mark.parametrize(("sblk", "sfix", "sout"), list(_specs()))
def test_batched_contract_matches_einsum(sblk, sfix, sout):
    rng = np.random.default_rng(0)
    block = rng.standard_normal((6, *(EXT[c] for c in sblk)))
    fixed = rng.standard_normal([EXT[c] for c in sfix])
    ref = np.einsum(f"...{sblk},{sfix}->...{sout}", block, fixed)
    got = batched_contract(block, sblk, fixed, sfix, sout)
    np.testing.assert_allclose(got, ref, rtol=1e-13, atol=1e-13)


def test_matmul_path_taken_only_for_matrix_pairs_and_contiguous():
    rng = np.random.default_rng(1)
    c, a = rng.standard_normal((7, 3, 5)), rng.standard_normal((3, 4))
    got = _as_matmul(c, "ik", a, "ij", "jk")  # Aᵀ · c[r]: the vjp of A @ B for B
    assert got is not None and got.flags.c_contiguous and got.shape == (7, 4, 5)
    np.testing.assert_allclose(got, np.einsum("rik,ij->rjk", c, a), rtol=1e-13)
    assert _as_matmul(c, "ik", a, "ij", "k") is None  # a further sum: not a matrix product
    assert _as_matmul(c[:, :, 0], "i", a, "ij", "j") is None  # vectors: tensordot already


@pytest.mark.parametrize(
    ("out", "ins", "fshape"),
    [((3, 4), (3, 1), (3, 4)), ((3, 4), (4,), (3, 4)), ((3, 4), (1, 4), (4,)),
     ((2, 3, 4), (3, 1), (2, 3, 4)), ((2, 3, 4), (2, 1, 4), (1, 3, 1)),
     ((3, 4), (), (3, 4)), ((2, 3, 4), (4,), (1, 1, 1))],
)  # fmt: skip
def test_fused_unbroadcast_matches_multiply_then_sum(out, ins, fshape):
    from chainorder.graph.ops.elementwise import _fused_unbroadcast
    from chainorder.graph.ops.registry import unbroadcast

    rng = np.random.default_rng(2)
    c, f = rng.standard_normal((5, *out)), rng.standard_normal(fshape)
    got = _fused_unbroadcast(c, f, ins)
    np.testing.assert_allclose(got, unbroadcast(c * f, ins), rtol=1e-12, atol=1e-12)
    assert got.shape == (5, *ins)


@pytest.mark.parametrize(("sblk", "sfix", "sout"), list(_specs()))
def test_batched_contract_on_seeds_last_blocks(sblk, sfix, sout):
    """A block that is a transposed formed factor (seeds on the last axis in memory)."""
    rng = np.random.default_rng(3)
    shape = tuple(EXT[c] for c in sblk)
    block = np.ascontiguousarray(rng.standard_normal((*shape, 6))).transpose(2, 0, 1)
    fixed = rng.standard_normal([EXT[c] for c in sfix])
    ref = np.einsum(f"...{sblk},{sfix}->...{sout}", block, fixed)
    got = batched_contract(block, sblk, fixed, sfix, sout)
    np.testing.assert_allclose(got, ref, rtol=1e-13, atol=1e-13)
    if set(sout) == set(sblk) ^ set(sfix):  # a matrix product (no index kept on both)
        assert got.transpose(1, 2, 0).flags.c_contiguous  # the result keeps the seeds last


def test_elementwise_tangents_of_a_seeds_last_block_stay_seeds_last():
    from chainorder.graph.ops import get_rule

    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((4, 5)), rng.standard_normal((4, 1)) + 3.0
    out = x / y
    block = np.ascontiguousarray(rng.standard_normal((4, 1, 7))).transpose(2, 0, 1)
    got = get_rule("divide").jvp(1, block, (x, y), out, {})
    ref = get_rule("divide").jvp(1, np.ascontiguousarray(block), (x, y), out, {})
    np.testing.assert_allclose(got, ref, rtol=1e-14)
    assert np.moveaxis(got, 0, -1).flags.c_contiguous  # flattening a seed's result: a view


def test_elimination_in_place_sums_give_the_sweeps_jacobian():
    """Orders whose sums are written into a summand (products, sums, new rule results)."""
    from chainorder.graph import linearize, trace
    from chainorder.graph.orders import ORDERS
    from chainorder.graph.program import compile_jacobian_program

    rng = np.random.default_rng(5)
    W, V = rng.standard_normal((6, 6)), rng.standard_normal((6, 6))

    def f(x):
        h = np.tanh(x @ W)
        s = h @ V + h * h + x / (1.0 + x.sum(axis=-1, keepdims=True) ** 2)
        return np.exp(s - s.max(axis=-1, keepdims=True))

    x = rng.standard_normal((3, 6))
    lin = linearize(trace(f, x))
    ref = compile_jacobian_program(lin, "forward").run(lin.graph)
    in_place = 0
    for name in ORDERS:
        prog = compile_jacobian_program(lin, f"elimination:{name}")
        in_place += sum(i.op == "add" and i.alias >= 0 for i in prog.instructions)
        np.testing.assert_allclose(prog.run(lin.graph), ref, rtol=1e-12, atol=1e-12)
        assert prog.last_mults == prog.predicted_mults
    assert in_place > 0


def test_reverse_sweep_accumulates_in_place_and_matches_forward():
    from chainorder.graph import linearize, trace
    from chainorder.graph.program import compile_jacobian_program
    from chainorder.measure import peak_memory

    rng = np.random.default_rng(6)
    W = rng.standard_normal((40, 40))

    def f(x):
        h = np.tanh(W @ x)
        return np.sin(h) * h + np.exp(h) * (W @ h) + h

    lin = linearize(trace(f, rng.standard_normal(40)))
    rev = compile_jacobian_program(lin, "reverse")
    assert any(i.op == "vjp_add" and i.info.get("into") for i in rev.instructions)
    ref = compile_jacobian_program(lin, "forward").run(lin.graph)
    measured = peak_memory(lambda: rev.run(lin.graph))
    np.testing.assert_allclose(measured.result, ref, rtol=1e-12, atol=1e-12)
    assert rev.last_mults == rev.predicted_mults
    slack = 0.1 * measured.peak_bytes + 64 * 1024
    assert abs(measured.peak_bytes - rev.predicted_peak_bytes) <= slack

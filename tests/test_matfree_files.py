"""Matrix-free spec words and chain files (JSON and GDJCPB): parsing, errors, round trips."""

from __future__ import annotations

import json
import os

import pytest

from chainorder.chain import Chain
from chainorder.errors import SpecError, SpecTypeError
from chainorder.matfree import (
    conv1d,
    conv2d,
    custom,
    dense,
    elementwise,
    links_from_chain,
    parse_matrix_free,
    plan_matrix_free,
)
from chainorder.matfree.chainfile import (
    chain_json,
    parse_chain_json,
    parse_gdjcpb,
    read_chain_file,
    write_chain_file,
)

CNN = "1x28x28,conv2d(8,k=3),relu,conv2d(16,k=3,stride=2),relu,10"


def test_cnn_spec_shapes_and_costs() -> None:
    links = parse_matrix_free(CNN)
    c1, r1, c2, _r2, d = links
    assert (c1.rows, c1.cols) == (8 * 26 * 26, 784)
    assert c1.tangent == 8 * 26 * 26 * 1 * 9  # out_c·H'·W'·in_c·k²
    assert r1.kind == "elementwise" and r1.rows == 8 * 26 * 26
    # (26 - 3) // 2 + 1 = 12
    assert c2.param("out_shape") == (12, 12)
    assert c2.tangent == c2.adjoint == 16 * 12 * 12 * 8 * 9
    assert (d.rows, d.cols, d.tangent) == (10, 2304, 23040)


def test_conv_arithmetic_against_a_direct_count() -> None:
    # count the multiplications of a 2-D convolution by enumerating every output and tap
    ci, h, w, co, k, s, p = 2, 7, 9, 3, 3, 2, 1
    link = conv2d(ci, (h, w), co, k, s, p)
    taps = 0
    outs = set()
    for oy in range(0, h + 2 * p - k + 1, s):
        for ox in range(0, w + 2 * p - k + 1, s):
            outs.add((oy, ox))
            taps += co * ci * k * k
    assert link.tangent == taps
    assert link.rows == co * len(outs)
    assert conv1d(3, 10, 4, 5, 1, 2).param("out_shape") == (10,)
    assert parse_matrix_free("2x7x9,conv2d(3,k=3,stride=2,padding=1)")[0] == link
    assert parse_matrix_free("2x7x9,conv2d(3,3,2,1)")[0] == link
    assert parse_matrix_free("2x7x9,conv2d(3,k=3x3,s=2x2,pad=1)")[0] == link


def test_plain_specs_equal_todays_chain() -> None:
    for spec in ("784,512,tanh,512,tanh,10", "4 3, relu 2", "30,35,15,5"):
        assert parse_matrix_free(spec) == links_from_chain(Chain.parse(spec))
    assert parse_matrix_free("3,dense(4)") == (dense(4, 3),)
    assert parse_matrix_free("custom(3,3,29),custom(1,3,14),custom(2,1,7)")[2] == custom(2, 1, 7)
    assert parse_matrix_free("5,custom(2,5,7,9,tape=4)")[0] == custom(2, 5, 7, 9, 4)
    assert all(link.given for link in parse_matrix_free("4,tanh,3", given=True))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "empty"),
        ("784", "no layer"),
        ("tanh,3", "item 1 'tanh'"),
        ("784,conv2d(8,k=3)", "item 2 'conv2d(8,k=3)': conv2d needs a C×H×W"),
        ("1x28x28,conv2d(8)", "needs a kernel"),
        ("1x28x28,conv2d(8,k=30)", "does not fit"),
        ("1x28x28,conv2d(8,k=3,strde=2)", "strde"),
        ("4,foo", "item 2 'foo': unknown word"),
        ("4,5,1x2", "only allowed as the input"),
        ("4,conv2d(8,k=3", "unclosed"),
        ("4,custom(2,5,7)", "current size is 4"),
        ("4,0", "positive"),
        ("4,blob(3)", "unknown layer"),
    ],
)
def test_bad_specs(spec: str, message: str) -> None:
    with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_matrix_free(spec)


def test_spec_type() -> None:
    with pytest.raises(SpecTypeError):
        parse_matrix_free(784)  # type: ignore[arg-type]


def test_gdjcpb_file(tmp_path) -> None:
    path = tmp_path / "example.txt"
    path.write_text("# the GDJCPB example\n3\n3 3 29\n\n1 3 14\n2 1 7\n")
    links = read_chain_file(path)
    assert links == (custom(3, 3, 29), custom(1, 3, 14), custom(2, 1, 7))
    plan = plan_matrix_free(links)
    assert plan.mults == 56


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("x\n", "line 1"),
        ("2\n3 3 29\n", "2 factors announced but 1"),
        ("1\n3 3 29\n1 3 14\n", "line 3: more factor lines"),
        ("2\n3 3 29\n1 3\n", "line 3: '1 3'; expected three"),
        ("2\n3 3 29\n1 4 14\n", "line 3: factor 2 has n = 4 but factor 1 has m = 3"),
        ("1\n0 3 1\n", "line 2: m and n must be >= 1"),
        ("1\n3 3 -1\n", "line 2"),
    ],
)
def test_bad_gdjcpb(text: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        parse_gdjcpb(text, "f.txt")


def test_json_round_trip_and_schema(tmp_path) -> None:
    links = (
        conv2d(1, (28, 28), 8, 3),
        elementwise(8 * 26 * 26, "relu"),
        conv2d(8, (26, 26), 16, 3, 2),
        dense(10, 16 * 12 * 12, given=True),
        custom(4, 10, 7, 9, 3, 5),
        conv1d(2, 2, 1, 1),
    )
    path = write_chain_file(tmp_path / "c.json", links)
    assert read_chain_file(path) == links
    assert parse_chain_json(chain_json(links)) == links
    minimal = '[{"kind": "dense", "rows": 3, "cols": 2}, {"kind": "elementwise", "size": 3}]'
    assert parse_chain_json(minimal) == (dense(3, 2), elementwise(3))


@pytest.mark.parametrize(
    ("links", "message"),
    [
        ('{"format": "nope"}', "line 1: not a chain file"),
        ('{"format": "chainorder-chain", "version": 9, "links": []}', "version 9"),
        ("[]", "non-empty"),
        ('[\n{"kind": "dense", "rows": 3, "cols": 2},\n{"kind": "dense", "rows": 3}]',
         "line 3 \\(link 2\\): a dense link needs 'cols'"),
        ('[\n{"kind": "dense", "rows": 3, "cols": 2},\n\n{"kind": "dense", "rows": 3, "cols": 4}]',
         "line 4 \\(link 2\\): 4 inputs but link 1 has 3 outputs"),
        ('[{"kind": "dense", "rows": 3, "cols": 2, "tangent": 7}]', "stated tangent 7"),
        ('[{"kind": "conv3d"}]', "link kind"),
        ('[{"kind": "dense", "rows": 3.0, "cols": 2}]', "rows is 3.0"),
        ('[{"kind": "dense", "rows": 3, "cols": 2,}]', "line 1: invalid JSON"),
        ('[{"kind": "elementwise", "size": 3, "given": "yes"}]', "given is 'yes'"),
    ],
)
def test_bad_json(links: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        parse_chain_json(links, "c.json")


def test_unreadable_and_atomic_write(tmp_path) -> None:
    with pytest.raises(SpecError, match="cannot read"):
        read_chain_file(tmp_path / "missing.json")
    target = tmp_path / "out.json"
    target.write_text("old")
    with pytest.raises(SpecError):
        write_chain_file(target, [dense(3, 2), dense(4, 5)])  # does not chain: nothing written
    assert target.read_text() == "old"
    write_chain_file(target, [dense(3, 2)])
    assert json.loads(target.read_text())["links"][0]["tangent"] == 6
    assert [p for p in os.listdir(tmp_path) if p.startswith(".")] == []

"""Chain parsing and validation."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainorder.chain import Chain, Structure, as_chain
from chainorder.errors import SpecError, SpecTypeError


def test_spec_with_elementwise_words():
    c = Chain.parse("784,512,tanh,512,tanh,10")
    assert c.dims == (784, 512, 512, 512, 512, 10)
    assert c.structures == (
        Structure.DENSE,
        Structure.DIAGONAL,
        Structure.DENSE,
        Structure.DIAGONAL,
        Structure.DENSE,
    )
    assert c.names[1] == "tanh"
    assert [link.shape for link in c.links] == [
        (512, 784),
        (512, 512),
        (512, 512),
        (512, 512),
        (10, 512),
    ]
    assert c.links[1].elements == 512  # stored as its diagonal
    assert c.links[0].elements == 512 * 784


def test_commas_and_spaces_mix():
    assert Chain.parse(" 4 3,\trelu  2 ").dims == (4, 3, 3, 2)
    assert Chain.parse([4, "3", "relu", 2]).dims == (4, 3, 3, 2)
    assert as_chain(np.array([5, 6, 7])).dims == (5, 6, 7)


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("", "empty chain spec"),
        ("   ", "empty chain spec"),
        ("5", "at least two widths"),
        ("0,3", "positive integers"),
        ("3,-1", "positive integers"),
        ("3,2.5", "expected a positive integer width"),
        ("3,abc", "unknown word 'abc'"),
        ("tanh,3", "no width before it"),
        ("3,1e3", "expected a positive integer"),
    ],
)
def test_bad_specs_raise_spec_error(spec, fragment):
    with pytest.raises(SpecError, match=fragment) as info:
        Chain.parse(spec)
    assert isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("bad", [[3, 2.0], [3, True], [3, None], [3, "x", 4.5]])
def test_bad_types_in_sequences(bad):
    with pytest.raises((SpecTypeError, SpecError)):
        Chain.from_dims(bad)


def test_type_errors_are_type_errors():
    with pytest.raises(TypeError):
        Chain.from_dims([3, 2.0])
    with pytest.raises(SpecTypeError):
        as_chain(3.5)  # type: ignore[arg-type]


def test_diagonal_link_must_be_square():
    with pytest.raises(SpecError, match="must be square"):
        Chain.from_dims([3, 4], ["diagonal"])


def test_numpy_integers_are_accepted_as_python_ints():
    c = Chain.from_dims(np.array([3, 4, 5], dtype=np.int32))
    assert all(type(d) is int for d in c.dims)


words = st.sampled_from(["tanh", "relu", "sigmoid", "diag"])
items = st.lists(st.one_of(st.integers(1, 10**9).map(str), words), min_size=1, max_size=12)


@given(first=st.integers(1, 10**9), rest=items)
def test_spec_round_trip(first, rest):
    spec = ",".join([str(first), *rest])
    if all(not r.isdigit() for r in rest) and not rest:
        return
    chain = Chain.parse(spec)
    again = Chain.parse(chain.spec())
    assert again == chain
    assert Chain.from_dict(chain.to_dict()) == chain

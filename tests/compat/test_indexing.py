"""Generated indexing programs: basic, advanced and mixed indices (ints, slices, lists, index
tensors of every integer dtype, bool masks, None, Ellipsis), read and written, forward and
backward (repeated indices accumulate), compared with PyTorch; torch-free, against a plain-loop
reference of PyTorch's rule that ints select before index arrays apply."""
import warnings

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import tinygrad_cnn as tc

from .generators import PROGRAMS, Raised, assert_same, run, torch

SHAPE = (3, 4, 5)


@st.composite
def components(draw, side):
    """One index component for an axis of length ``side``, as a description both libraries build."""
    kind = draw(st.sampled_from(["int", "slice", "list", "tensor", "mask", "none"]))
    if kind == "int":
        return ("int", draw(st.integers(-side, side - 1)))
    if kind == "slice":
        start = draw(st.one_of(st.none(), st.integers(-side, side)))
        stop = draw(st.one_of(st.none(), st.integers(-side, side)))
        return ("slice", (start, stop, draw(st.sampled_from([None, 1, 2]))))
    if kind == "none":
        return ("none", None)
    if kind == "mask":
        return ("mask", draw(st.lists(st.booleans(), min_size=side, max_size=side)))
    values = draw(st.lists(st.integers(-side, side - 1), min_size=1, max_size=3))
    dtype = draw(st.sampled_from(["int64", "int32", "int16", "uint8"])) if kind == "tensor" else None
    if dtype == "uint8":  # a uint8 index is a mask in PyTorch: draw it as 0/1 of the axis' length
        values = draw(st.lists(st.integers(0, 1), min_size=side, max_size=side))
    return (kind, (values, dtype))


@st.composite
def indices(draw):
    """A tuple of components for some of the leading axes, maybe with an Ellipsis among them."""
    n = draw(st.integers(1, 3))
    parts = [draw(components(SHAPE[i])) for i in range(n)]
    if draw(st.integers(0, 4)) == 0:
        parts.insert(draw(st.integers(0, len(parts))), ("ellipsis", None))
    return tuple(parts)


def build(lib, parts):
    out = []
    for kind, v in parts:
        if kind == "int":
            out.append(v)
        elif kind == "slice":
            out.append(slice(*v))
        elif kind == "none":
            out.append(None)
        elif kind == "ellipsis":
            out.append(Ellipsis)
        elif kind == "mask":
            out.append(lib.tensor(np.array(v, dtype=bool)))
        elif kind == "list":
            out.append(list(v[0]))
        else:
            dtype = getattr(lib, v[1]) if lib is torch else np.dtype(v[1])
            out.append(lib.tensor(np.array(v[0]), dtype=dtype))
    return tuple(out)


def _values():
    return np.arange(np.prod(SHAPE), dtype=np.float32).reshape(SHAPE) * 0.5 - 7


def read(lib, parts, grad_weights):
    x = lib.tensor(_values(), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # uint8 indices are deprecated in both
        y = x[build(lib, parts)]
    (y * lib.tensor(grad_weights(tuple(y.shape)))).sum().backward()
    return y, x.grad


def _weights(shape):
    return (np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape) % 5) + 1


@pytest.mark.skipif(torch is None, reason="PyTorch is the oracle of this generator")
@PROGRAMS
@given(indices())
@example((("int", 0), ("slice", (None, None, None)), ("list", ([0, 1, 2], None))))  # int beside a list
@example((("int", 0), ("none", None), ("list", ([0, 1], None))))
@example((("tensor", ([1, 0, 1], "uint8")),))  # a uint8 mask
@example((("list", ([0, 0, 2], None)),))  # repeated indices accumulate
@example((("ellipsis", None), ("list", ([0, 1], None)), ("int", 0)))
@example((("mask", [True, False, True]), ("int", 1)))
def test_reading_matches_torch(parts):
    ours = run(read, tc, parts, _weights)
    theirs = run(read, torch, parts, _weights)
    program = f"x{SHAPE}[{parts}]"
    if _out_of_range_into_nothing(ours, theirs):
        return
    if isinstance(ours, Raised) or isinstance(theirs, Raised):
        assert_same(ours if isinstance(ours, Raised) else ours[0], theirs if isinstance(theirs, Raised) else theirs[0],
                    program)
        return
    assert_same(ours[0], theirs[0], program)
    assert_same(ours[1], theirs[1], program + " (gradient)")


def _out_of_range_into_nothing(ours, theirs) -> bool:
    """An out-of-range index where another axis selects nothing: PyTorch returns the empty result
    without checking the index, we raise IndexError (a documented difference)."""
    return isinstance(ours, Raised) and isinstance(ours.error, IndexError) and not isinstance(theirs, Raised) \
        and theirs[0].numel() == 0


def write(lib, parts, value_kind):
    x = lib.tensor(_values())
    w = lib.tensor(np.ones(SHAPE, np.float32), requires_grad=True)
    y = x * w  # a non-leaf, so that the write is recorded
    idx = build(lib, parts)
    with lib.no_grad():  # only the shape: an op recorded on y would make the write refuse (see README)
        target_shape = tuple(y[idx].shape)
    v = lib.tensor(np.full(target_shape, 3.0, np.float32), requires_grad=True) if value_kind == "tensor" else 3.0
    y[idx] = v
    y.sum().backward()
    return y, w.grad, (v.grad if value_kind == "tensor" else None), int(np.prod(target_shape))


@pytest.mark.skipif(torch is None, reason="PyTorch is the oracle of this generator")
@PROGRAMS
@given(indices(), st.sampled_from(["scalar", "tensor"]))
@example((("int", 0), ("slice", (None, None, None)), ("list", ([0, 1, 2], None))), "tensor")
@example((("mask", [True, False, True]),), "scalar")
def test_writing_matches_torch(parts, value_kind):
    if any(k == "list" and len(set(v[0])) < len(v[0]) or k == "tensor" and v[1] != "uint8" and
           len(set(v[0])) < len(v[0]) for k, v in parts):
        parts = tuple(p for p in parts if p[0] not in ("list", "tensor")) or (("int", 0),)  # repeated writes: order
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = run(write, tc, parts, value_kind)
        theirs = run(write, torch, parts, value_kind)
    program = f"y{SHAPE}[{parts}] = {value_kind}"
    if isinstance(ours, Raised) and isinstance(ours.error, IndexError) and not isinstance(theirs, Raised) \
            and theirs[3] == 0:  # an out-of-range index into an empty selection (see _out_of_range_into_nothing)
        return
    if isinstance(ours, Raised) or isinstance(theirs, Raised):
        assert isinstance(ours, Raised) and isinstance(theirs, Raised), f"{program}: {ours!r} vs {theirs!r}"
        return
    assert_same(ours[0], theirs[0], program)
    assert_same(ours[1], theirs[1], program + " (gradient of y)")
    if value_kind == "tensor":
        assert_same(ours[2], theirs[2], program + " (gradient of the value)")


# ---- torch-free: PyTorch's rule written as loops
def _reference_read(x, parts):
    """Select the ints first (axis by axis), then index the rest with numpy: PyTorch's order. An
    Ellipsis that stands for no axis is dropped (it does not part two index arrays in PyTorch)."""
    if sum(kind not in ("none", "ellipsis") for kind, _ in parts) == x.ndim:
        parts = tuple(p for p in parts if p[0] != "ellipsis")
    basic, rest = [], []
    for kind, v in parts:
        if kind == "int":
            basic.append(v)
        elif kind in ("list", "tensor"):
            if v[1] == "int16":
                raise IndexError("PyTorch takes int64, int32, uint8 and bool index tensors only")
            basic.append(slice(None))
            rest.append(np.array(v[0]) if v[1] != "uint8" else np.array(v[0], bool))
        elif kind == "mask":
            basic.append(slice(None))
            rest.append(np.array(v, bool))
        else:
            item = {"slice": slice(*v) if kind == "slice" else None, "none": None, "ellipsis": Ellipsis}[kind]
            basic.append(item)
            rest.append(slice(None) if kind != "ellipsis" else Ellipsis)
    y = x[tuple(basic)]
    return y[tuple(rest)] if any(isinstance(r, np.ndarray) for r in rest) else y


@PROGRAMS
@given(indices())
@example((("int", 0), ("slice", (None, None, None)), ("list", ([0, 1, 2], None))))
@example((("int", 0), ("none", None), ("list", ([0, 1], None))))
@example((("tensor", ([1, 0, 1], "uint8")),))
def test_reading_matches_the_reference_without_torch(parts):
    x = _values()
    try:
        want = _reference_read(x, parts)
    except IndexError:
        with pytest.raises((IndexError, ValueError, RuntimeError)), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tc.tensor(x)[build(tc, parts)]
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = tc.tensor(x)[build(tc, parts)]
    np.testing.assert_array_equal(got.numpy(), want, err_msg=str(parts))


def test_repeated_indices_accumulate_gradients_by_hand():
    x = tc.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]


def test_mixed_int_and_list_index_is_not_transposed_by_hand():
    t = tc.tensor(np.arange(24.0).reshape(2, 3, 4))
    assert t[0, :, [0, 1, 2]].tolist() == [[0.0, 1.0, 2.0], [4.0, 5.0, 6.0], [8.0, 9.0, 10.0]]
    assert t[0, None, [0, 1]].shape == (1, 2, 4)
    assert t[[[0, 1]]].shape == (2, 3, 4)  # a list of lists is a tuple of indices (PyTorch's legacy rule)
    with pytest.warns(UserWarning, match="uint8"):
        assert t[tc.tensor(np.array([1, 0], np.uint8))].shape == (1, 3, 4)


def test_setitem_writes_in_place_and_records_the_gradient_by_hand():
    x = tc.zeros(5)
    arr = x.numpy()
    x[[1, 3]] = tc.tensor([1.0, 2.0])
    x[x > 1.5] = -1.0
    assert arr.tolist() == [0.0, 1.0, 0.0, -1.0, 0.0] and x._version == 2
    w = tc.ones(4, requires_grad=True)
    y = w * 1
    y[1:3] = w[0:2] * 5
    y.sum().backward()
    assert w.grad.tolist() == [6.0, 5.0, 0.0, 1.0]
    with pytest.raises(RuntimeError, match="leaf"):
        w[0] = 2.0


def test_an_index_tensor_changed_in_place_before_backward_raises():
    x = tc.tensor([1.0, 2.0, 3.0], requires_grad=True)
    i = tc.tensor([0, 1])
    y = x[i]
    i[0] = 2
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()

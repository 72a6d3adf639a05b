"""Generated objects for save/load: nested dicts, lists and tuples of Python scalars, None,
strings, numpy arrays and scalars of every dtype and Tensors, with str, int and bool keys:
``load(save(obj))`` equals ``obj`` with the same types, or ``save`` refuses with the path of the
bad item. Never a silent change (torch.save keeps types too; pickle is the oracle's format, so
the rule is checked against the object itself)."""
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_cnn as tc

from .generators import PROGRAMS

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "uint16", "uint32", "uint64", "float16", "float32",
          "float64", "complex64", "complex128"]

arrays = st.sampled_from(DTYPES).flatmap(
    lambda d: hnp.arrays(np.dtype(d), hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)))
scalars = st.one_of(st.none(), st.booleans(), st.integers(-2 ** 70, 2 ** 70), st.floats(allow_nan=True),
                    st.text(max_size=6), arrays.map(lambda a: a[()] if a.ndim == 0 else a))
tensors = st.builds(lambda a, g: tc.tensor(a.astype(np.float32), requires_grad=g),
                    hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=2, max_side=3),
                               elements=st.floats(-10, 10)), st.booleans())
keys = st.one_of(st.text(max_size=5), st.integers(-5, 5), st.booleans())
values = st.recursive(st.one_of(scalars, tensors), lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.lists(inner, max_size=3).map(tuple),
    st.dictionaries(keys, inner, max_size=3),
    st.dictionaries(st.text(max_size=4), inner, max_size=3).map(OrderedDict)), max_leaves=12)


def same(a, b) -> bool:
    """Equal values of the same types, all the way down (NaN equal to NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, tc.Tensor):
        return a.dtype == b.dtype and a.requires_grad == b.requires_grad and np.array_equal(a.numpy(), b.numpy())
    if isinstance(a, (np.ndarray, np.generic)):
        nan = a.dtype.kind in "fc"
        return a.dtype == b.dtype and np.shape(a) == np.shape(b) and np.array_equal(a, b, equal_nan=nan)
    if isinstance(a, float):
        return a == b or (a != a and b != b)
    if isinstance(a, dict):
        return list(a) == list(b) and [type(k) for k in a] == [type(k) for k in b] and \
            all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


@PROGRAMS
@given(st.dictionaries(keys, values, max_size=4))
@example({True: 1, 1.5 if False else "x": {"#1": None, "!list": [], "!none": ()}})
@example({"big": 2 ** 80, "s": "a/b%2F", 3: (1, 2.5, "t"), "f": np.float32(0.5), "e": {}})
@example({"lr": [0.001, 0.002], "step": np.int64(3), "w": tc.nn.Parameter(tc.ones(2))})
def test_load_of_save_gives_back_the_same_types_and_values(tmp_path_factory, obj):
    path = tmp_path_factory.mktemp("rt") / "obj.npz"
    tc.save(obj, path)
    back = tc.load(path)
    assert same(obj, back), (obj, back)


@pytest.mark.parametrize("obj, where", [({"a": [1, {2, 3}]}, r"obj\['a'\]\[1\] is a set"),
                                        ({"a": {1.5: 2}}, r"obj\['a'\] has a key of type float"),
                                        ({"x": np.array([object()])}, r"obj\['x'\] is an array of Python objects")])
def test_what_cannot_be_stored_is_refused_with_its_path(tmp_path, obj, where):
    with pytest.raises(TypeError, match=where):
        tc.save(obj, tmp_path / "x.npz")
    assert not list(tmp_path.iterdir())


def test_a_restored_scheduler_continues_with_python_floats(tmp_path):
    p = tc.nn.Parameter(tc.ones(1))
    opt = tc.optim.SGD([p], lr=0.1)
    s = tc.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    s.step()
    tc.save({"s": s.state_dict(), "o": opt.state_dict()}, tmp_path / "c.npz")
    back = tc.load(tmp_path / "c.npz")
    assert type(back["s"]["base_lrs"][0]) is float and type(back["o"]["param_groups"][0]["lr"]) is float
    opt2 = tc.optim.SGD([p], lr=0.1)
    s2 = tc.optim.lr_scheduler.OneCycleLR(opt2, max_lr=1.0, total_steps=10)
    opt2.load_state_dict(back["o"])
    s2.load_state_dict(back["s"])
    s.step()
    s2.step()
    assert s2.get_last_lr() == s.get_last_lr() and type(s2.get_last_lr()[0]) is float

"""Generated programs of one binary or unary op (and its in-place form) over every pair of bool /
uint8 / int32 / int64 / float32 / float64 tensors (0-d and n-d) and Python scalars: the result's
dtype and values are PyTorch's, or both libraries raise. Without PyTorch the same programs are
checked against a reference of PyTorch's promotion rule and numpy in float64."""
import operator

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import tinygrad_cnn as tc

from .generators import PROGRAMS, Raised, assert_same, run, torch

DTYPES = ["bool", "uint8", "int32", "int64", "float32", "float64"]
BINARY = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "**": operator.pow,
          "//": operator.floordiv, "%": operator.mod, "&": operator.and_, "|": operator.or_, "^": operator.xor,
          "==": operator.eq, "<": operator.lt, ">=": operator.ge}
INPLACE = {"+": operator.iadd, "-": operator.isub, "*": operator.imul, "/": operator.itruediv, "**": operator.ipow,
           "//": operator.ifloordiv, "%": operator.imod, "&": operator.iand, "|": operator.ior, "^": operator.ixor}
UNARY = {"neg": operator.neg, "abs": abs, "invert": operator.invert, "exp": lambda t: t.exp(),
         "log": lambda t: t.log(), "sqrt": lambda t: t.sqrt(), "sigmoid": lambda t: t.sigmoid(),
         "tanh": lambda t: t.tanh(), "relu": lambda t: t.relu(), "sum": lambda t: t.sum(), "mean": lambda t: t.mean(),
         "float": lambda t: t.float(), "double": lambda t: t.double(), "long": lambda t: t.long()}


@st.composite
def operands(draw):
    """('tensor', dtype, ndarray) or ('scalar', type, value): small values, so that integer powers
    do not overflow and uint8 stays non-negative."""
    if draw(st.integers(0, 3)) == 0:
        kind = draw(st.sampled_from(["bool", "int", "float"]))
        value = {"bool": st.booleans(), "int": st.integers(-3, 3),
                 "float": st.sampled_from([-2.5, -1.0, -0.5, 0.0, 0.5, 1.5, 3.0])}[kind]
        return ("scalar", kind, draw(value))
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(st.sampled_from([(), (3,), (2, 3)]))
    low = 0 if dtype in ("bool", "uint8") else -3
    ints = draw(st.lists(st.integers(low, 3), min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
    arr = np.array(ints).reshape(shape)
    if dtype.startswith("float"):
        arr = arr * 0.5
    return ("tensor", dtype, np.asarray(arr, dtype=dtype))


def build(lib, operand):
    kind, dtype, value = operand
    if kind == "scalar":
        return value
    return lib.tensor(value.copy())


def show(operand) -> str:
    kind, dtype, value = operand
    return repr(value) if kind == "scalar" else f"tensor({value.tolist()}, dtype={dtype})"


def _first_tensor(a, b) -> bool:
    return a[0] == "tensor" or b[0] == "tensor"


@pytest.mark.skipif(torch is None, reason="PyTorch is the oracle of this generator")
@PROGRAMS
@given(st.sampled_from(sorted(BINARY)), operands(), operands(), st.booleans())
@example("/", ("tensor", "int64", np.array([1, 2])), ("tensor", "int64", np.array([2, 2])), False)
@example("**", ("tensor", "int64", np.array([1, 2])), ("scalar", "float", 0.5), False)
@example("**", ("tensor", "int64", np.array([1, 2])), ("tensor", "int64", np.array([-1, 2])), False)
@example("&", ("tensor", "int64", np.array([6, 5])), ("scalar", "int", 3), False)
@example("**", ("tensor", "float32", np.array([1.0])), ("scalar", "int", 2), True)
@example("|", ("tensor", "int32", np.array([1, 2])), ("scalar", "int", 1), True)
def test_binary_ops_match_torch(op, a, b, inplace):
    if not _first_tensor(a, b) or (inplace and a[0] != "tensor"):
        b = ("tensor", "float32", np.array([1.5, -0.5], np.float32))
    fn = (INPLACE if inplace and op in INPLACE else BINARY)[op]
    program = f"{show(a)} {op}{'=' if inplace and op in INPLACE else ''} {show(b)}"
    ours = run(fn, build(tc, a), build(tc, b))
    theirs = run(fn, build(torch, a), build(torch, b))
    assert_same(ours, theirs, program)


@pytest.mark.skipif(torch is None, reason="PyTorch is the oracle of this generator")
@PROGRAMS
@given(st.sampled_from(sorted(UNARY)), operands())
@example("exp", ("tensor", "int64", np.array([1, 2])))
@example("abs", ("tensor", "bool", np.array([True, False])))
@example("mean", ("tensor", "int64", np.array([1, 2])))
def test_unary_ops_match_torch(op, a):
    if a[0] != "tensor":
        a = ("tensor", "int32", np.array([1, -2], np.int32))
    program = f"{op}({show(a)})"
    assert_same(run(UNARY[op], build(tc, a)), run(UNARY[op], build(torch, a)), program)


# ---- torch-free: PyTorch's promotion rule written out, and the values in numpy float64
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def reference_dtype(a, b) -> np.dtype:
    """PyTorch's result dtype of a binary arithmetic op: dimensioned tensors outrank 0-d tensors,
    which outrank Python scalars, unless a lower-ranked operand is of a higher category (bool <
    integer < float); a Python scalar of a higher category gives that category's default
    (int64, float32)."""
    def rank(x):
        return 2 if x[0] == "tensor" and x[2].ndim else 1 if x[0] == "tensor" else 0

    def dtype(x):
        defaults = {"bool": "bool", "int": "int64", "float": "float32"}
        return np.dtype(x[1]) if x[0] == "tensor" else np.dtype(defaults[x[1]])

    hi, lo = (a, b) if rank(a) >= rank(b) else (b, a)
    dh, dl = dtype(hi), dtype(lo)
    if rank(hi) == rank(lo):  # within a kind the wider dtype; across kinds the higher kind's (int32 + float32: float32)
        return np.promote_types(dh, dl) if _CATEGORY[dh.kind] == _CATEGORY[dl.kind] else \
            max(dh, dl, key=lambda d: _CATEGORY[d.kind])
    return dl if _CATEGORY[dl.kind] > _CATEGORY[dh.kind] else dh


@PROGRAMS
@given(st.sampled_from(["+", "-", "*", "/"]), operands(), operands())
@example("/", ("tensor", "int64", np.array([1, 2])), ("tensor", "int64", np.array([2, 2])))
@example("+", ("tensor", "uint8", np.array([1, 2], np.uint8)), ("tensor", "int32", np.array(3, np.int32)))
@example("*", ("tensor", "int32", np.array([1, 2], np.int32)), ("scalar", "float", 0.5))
def test_arithmetic_dtypes_and_values_without_torch(op, a, b):
    if not _first_tensor(a, b):
        b = ("tensor", "float32", np.array([1.5, -0.5], np.float32))
    out = run(BINARY[op], build(tc, a), build(tc, b))
    if isinstance(out, Raised):  # only a subtraction with a bool raises among these, as in PyTorch
        assert op == "-" and "bool" in (a[1], b[1]), out
        return
    expected = reference_dtype(a, b)
    if op == "/" and expected.kind in "biu":
        expected = np.dtype("float32")
    assert out.dtype == expected, f"{show(a)} {op} {show(b)}: {out.dtype}, expected {expected}"
    x, y = np.asarray(a[2], np.float64), np.asarray(b[2], np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        want = BINARY[op](x, y)
    if expected.kind in "iu":  # integer results wrap as the dtype does
        want = want.astype(np.int64).astype(expected)
    if expected.kind == "b":
        want = want.astype(bool)
    np.testing.assert_allclose(out.numpy().astype(np.float64), np.asarray(want, np.float64), rtol=1e-6,
                               equal_nan=True, err_msg=f"{show(a)} {op} {show(b)}")


@pytest.mark.parametrize("source, dtype, value", [
    ("tc.tensor([1, 2]) / tc.tensor([2, 2])", "float32", [0.5, 1.0]),
    ("tc.tensor([4, 9]) ** 0.5", "float32", [2.0, 3.0]),
    ("tc.tensor([2, 3]) ** 2", "int64", [4, 9]),
    ("tc.tensor([6, 5]) & 3", "int64", [2, 1]),
    ("tc.tensor([6, 5]) | 8", "int64", [14, 13]),
    ("tc.tensor([6, 5]) ^ 3", "int64", [5, 6]),
    ("tc.tensor([7, -7]) // 2", "int64", [3, -4]),
    ("tc.tensor([7, -7]) % 3", "int64", [1, 2]),
    ("tc.tensor([7.0, -7.0]) % 3", "float32", [1.0, 2.0]),
    ("abs(tc.tensor([-2.0, 3.0]))", "float32", [2.0, 3.0]),
    ("+tc.tensor([-2.0])", "float32", [-2.0]),
    ("tc.tensor(np.array([200], np.uint8)) / 255", "float32", [200 / 255]),
])
def test_dtype_rules_by_hand(source, dtype, value):
    out = eval(source, {"tc": tc, "np": np})
    assert str(out.dtype) == dtype
    np.testing.assert_allclose(out.numpy(), value, rtol=1e-6)


def test_inplace_forms_keep_the_object_and_write_its_memory():
    w = tc.nn.Parameter(tc.tensor([2.0, 3.0]))
    arr = w.numpy()
    with tc.no_grad():
        w **= 2
    assert isinstance(w, tc.nn.Parameter) and arr.tolist() == [4.0, 9.0]
    m = tc.tensor([6, 5])
    before = m
    m &= 3
    m |= 8
    m ^= 1
    assert m is before and m.tolist() == [11, 8]
    with pytest.raises(RuntimeError):
        m2 = tc.tensor([1, 2])
        m2 /= 2  # float result into an int tensor: PyTorch refuses


def test_integer_errors_are_clear():
    with pytest.raises(RuntimeError, match="negative integer powers"):
        tc.tensor([2, 3]) ** -1
    # with an exponent tensor PyTorch computes them: 1 for base 1, +-1 for base -1, else 0
    assert (tc.tensor([1, 2, -1, -1, 0]) ** tc.tensor([-1, -1, -1, -2, -1])).tolist() == [1, 0, -1, 1, 0]
    with pytest.raises(ZeroDivisionError):
        tc.tensor([2, 3]) // 0
    with pytest.raises(TypeError, match="bitwise_and"):
        tc.tensor([1.0]) & 1


FUNCTIONS = {
    "cat": lambda lib, a, b: lib.cat([a, b]),
    "stack": lambda lib, a, b: lib.stack([a, b]),
    "where": lambda lib, a, b: lib.where(lib.tensor([True, False, True]), a, b),
    "maximum": lambda lib, a, b: lib.maximum(a, b),
    "minimum": lambda lib, a, b: lib.minimum(a, b),
    "clamp": lambda lib, a, b: a.clamp(b, None if isinstance(b, bool) else 2),
}


@st.composite
def vectors_or_scalars(draw):
    """A length-3 tensor of any dtype, or a Python scalar."""
    op = draw(operands())
    if op[0] == "tensor":
        low = 0 if op[1] in ("bool", "uint8") else -3
        arr = np.array(draw(st.lists(st.integers(low, 3), min_size=3, max_size=3)))
        return ("tensor", op[1], np.asarray(arr * (0.5 if op[1].startswith("float") else 1), dtype=op[1]))
    return op


@pytest.mark.skipif(torch is None, reason="PyTorch is the oracle of this generator")
@PROGRAMS
@given(st.sampled_from(sorted(FUNCTIONS)), vectors_or_scalars(), vectors_or_scalars())
@example("cat", ("tensor", "int64", np.array([1, 2, 3])), ("tensor", "float32", np.array([1, 2, 3], np.float32)))
@example("where", ("tensor", "int64", np.array([1, 2, 3])), ("scalar", "float", 2.5))
@example("clamp", ("tensor", "int64", np.array([1, 2, 3])), ("scalar", "float", 1.5))
def test_functions_promote_as_torch(name, a, b):
    if a[0] != "tensor":
        a = ("tensor", "int64", np.array([1, 2, 3]))
    if name in ("cat", "stack", "maximum", "minimum") and b[0] != "tensor":
        b = ("tensor", "float32", np.array([0.5, 1.5, 2.5], np.float32))
    if name == "clamp" and b[0] == "tensor":
        b = ("scalar", "float", 1.5)
    program = f"{name}({show(a)}, {show(b)})"
    assert_same(run(FUNCTIONS[name], tc, build(tc, a), build(tc, b)),
                run(FUNCTIONS[name], torch, build(torch, a), build(torch, b)), program)


def test_functions_promote_by_hand():
    i, f = tc.tensor([1, 5, 9]), tc.tensor([0.5, 1.5, 2.5])
    assert tc.cat([i, f]).dtype == np.float32 and tc.stack([i, f]).dtype == np.float32
    assert tc.where(tc.tensor([True, False, True]), i, 2.5).tolist() == [1.0, 2.5, 9.0]
    assert i.clamp(2.5, 7.5).tolist() == [2.5, 5.0, 7.5] and i.clamp(2, 7).dtype == np.int64

"""Generated edge points: the ops a model is made of, at 0, -0, +-1, +-inf, very large and very
small values, ties and the clipping points of losses; values and gradients equal PyTorch's (0
where PyTorch's is 0, NaN only where PyTorch's is NaN). Torch-free: at the same points no op
gives a NaN gradient where its forward and the true derivative are finite (hand values)."""
import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import tinygrad_cnn as tc

from .generators import PROGRAMS, Raised, assert_same, run, torch

SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -2.0, 3.0, float("inf"), float("-inf"), 1e30, -1e30, 1e-30, 20.0, -20.0]


def _f(lib):
    return lib.nn.functional


UNARY = {
    "neg": lambda lib, x: -x, "exp": lambda lib, x: x.exp(), "log": lambda lib, x: x.log(),
    "sqrt": lambda lib, x: x.sqrt(), "abs": lambda lib, x: x.abs(), "relu": lambda lib, x: x.relu(),
    "sigmoid": lambda lib, x: x.sigmoid(), "tanh": lambda lib, x: x.tanh(),
    "softplus": lambda lib, x: _f(lib).softplus(x), "leaky_relu": lambda lib, x: _f(lib).leaky_relu(x, 0.1),
    "square": lambda lib, x: x ** 2, "pow0": lambda lib, x: x ** 0, "pow_half": lambda lib, x: x ** 0.5,
    "clamp": lambda lib, x: x.clamp(-1.0, 1.0), "sum": lambda lib, x: x.sum(), "mean": lambda lib, x: x.mean(),
    "max": lambda lib, x: x.max(), "min": lambda lib, x: x.min(), "norm": lambda lib, x: x.norm(),
    "norm3": lambda lib, x: x.norm(3), "softmax": lambda lib, x: x.softmax(0),
    "log_softmax": lambda lib, x: x.log_softmax(0),
    "bce_sigmoid": lambda lib, x: _f(lib).binary_cross_entropy(x.sigmoid(), (x > 0).float()),
    "bce_sigmoid_flipped": lambda lib, x: _f(lib).binary_cross_entropy(x.sigmoid(), (x <= 0).float()),
    "bce_logits": lambda lib, x: _f(lib).binary_cross_entropy_with_logits(x, (x > 0).float()),
    "mse": lambda lib, x: _f(lib).mse_loss(x, lib.zeros_like(x)),
    "l1": lambda lib, x: _f(lib).l1_loss(x, lib.zeros_like(x)),
    "smooth_l1": lambda lib, x: _f(lib).smooth_l1_loss(x, lib.zeros_like(x)),
    "cross_entropy": lambda lib, x: _f(lib).cross_entropy(x.reshape(1, -1), lib.tensor([0])),
}
BINARY = {
    "add": lambda lib, a, b: a + b, "sub": lambda lib, a, b: a - b, "mul": lambda lib, a, b: a * b,
    "div": lambda lib, a, b: a / b, "pow": lambda lib, a, b: a ** b, "maximum": lambda lib, a, b: lib.maximum(a, b),
    "minimum": lambda lib, a, b: lib.minimum(a, b), "remainder": lambda lib, a, b: a % b,
    "where": lambda lib, a, b: lib.where(a > b, a, b),
}


def _grads(lib, name, values, binary):
    xs = [lib.tensor(np.array(v, np.float32), requires_grad=True) for v in values]
    out = (BINARY[name](lib, *xs) if binary else UNARY[name](lib, xs[0]))
    out.sum().backward()
    return [out] + [x.grad if x.grad is not None else lib.zeros_like(x) for x in xs]


values = st.lists(st.sampled_from(SPECIAL), min_size=1, max_size=4)


@pytest.mark.skipif(torch is None, reason="PyTorch is the oracle of this generator")
@PROGRAMS
@given(st.sampled_from(sorted(UNARY)), values)
@example("bce_sigmoid", [20.0, -20.0])
@example("norm", [0.0, 0.0])
@example("pow0", [0.0])
@example("max", [1.0, 1.0, 0.5])  # a tie
@example("relu", [0.0, -0.0])
@example("sqrt", [0.0])
def test_unary_edge_gradients_match_torch(name, xs):
    program = f"{name}({xs})"
    ours, theirs = run(_grads, tc, name, [xs], False), run(_grads, torch, name, [xs], False)
    if isinstance(ours, Raised) or isinstance(theirs, Raised):
        assert_same(ours, theirs, program)
        return
    if name.startswith("norm"):
        exact = np.linalg.norm(np.array(xs, np.float64), 2 if name == "norm" else 3)
        if np.isfinite(exact) and not np.isclose(theirs[0].item(), exact, rtol=1e-5, atol=0):
            # PyTorch's float32 norm overflows past ~1e19 and underflows below ~1e-19 (a documented
            # difference): ours is the true value, and its gradient finite
            assert np.isclose(ours[0].item(), np.float32(exact), rtol=1e-6, atol=0), program
            assert np.all(np.isfinite(ours[1].numpy())), program
            return
    assert_same(ours[0], theirs[0], f"{program} value")
    _same_gradient(ours[1], theirs[1], program)


def _same_gradient(ours, theirs, program):
    """Equal where PyTorch's gradient is a number or an infinity; where PyTorch's is NaN (an overflow
    inside its backward, e.g. a 3-norm of 1e30), ours may be the finite true value."""
    a, b = ours.numpy(), theirs.detach().numpy()
    assert a.dtype == b.dtype and a.shape == b.shape, program
    known = ~np.isnan(b)
    np.testing.assert_allclose(a[known], b[known], rtol=1e-5, atol=1e-6, err_msg=f"{program} gradient")


@pytest.mark.skipif(torch is None, reason="PyTorch is the oracle of this generator")
@PROGRAMS
@given(st.sampled_from(sorted(BINARY)), values, st.data())
@example("pow", [0.0, 2.0], None)
@example("maximum", [1.0, 2.0], None)
@example("div", [0.0, 1.0], None)
def test_binary_edge_gradients_match_torch(name, xs, data):
    ys = data.draw(st.lists(st.sampled_from(SPECIAL), min_size=len(xs), max_size=len(xs))) if data else \
        {"pow": [0.0, 0.0], "maximum": [1.0, 3.0], "div": [0.0, 0.0]}[name]
    program = f"{name}({xs}, {ys})"
    ours, theirs = run(_grads, tc, name, [xs, ys], True), run(_grads, torch, name, [xs, ys], True)
    if isinstance(ours, Raised) or isinstance(theirs, Raised):
        assert_same(ours, theirs, program)
        return
    assert_same(ours[0], theirs[0], f"{program} value")
    for i in (1, 2):
        _same_gradient(ours[i], theirs[i], f"{program} input {i}")


# ---- torch-free: hand values at the edge points
@pytest.mark.parametrize("name, xs, grad", [
    ("bce_sigmoid", [20.0, -20.0], [0.0, 0.0]),
    ("norm", [0.0, 0.0], [0.0, 0.0]),
    ("norm3", [0.0, 0.0], [0.0, 0.0]),
    ("pow0", [0.0, 2.0], [0.0, 0.0]),
    ("relu", [0.0, -0.0, 1.0], [0.0, 0.0, 1.0]),
    ("max", [1.0, 1.0, 0.5], [0.5, 0.5, 0.0]),
    ("abs", [0.0, -1.0], [0.0, -1.0]),
    ("clamp", [1.0, -1.0, 2.0], [1.0, 1.0, 0.0]),
    ("l1", [0.0, 2.0], [0.0, 0.5]),
    ("smooth_l1", [0.0, 2.0], [0.0, 0.5]),
    ("mse", [0.0, 1.0], [0.0, 1.0]),
    ("sigmoid", [float("inf"), float("-inf")], [0.0, 0.0]),
    ("tanh", [float("inf")], [0.0]),
    ("softplus", [float("-inf"), 1e30], [0.0, 1.0]),
    ("bce_logits", [float("inf"), 1e30], [0.0, 0.0]),
    ("exp", [float("-inf")], [0.0]),
])
def test_edge_gradients_by_hand(name, xs, grad):
    out, g = _grads(tc, name, [xs], False)
    np.testing.assert_allclose(g.numpy(), grad, atol=1e-7, err_msg=name)


@pytest.mark.parametrize("name, a, b, ga, gb", [
    ("pow", [0.0, 0.0], [2.0, 0.0], [0.0, 0.0], [0.0, 0.0]),
    ("maximum", [1.0], [1.0], [0.5], [0.5]),
    ("minimum", [2.0], [2.0], [0.5], [0.5]),
    ("where", [1.0, 3.0], [2.0, 2.0], [0.0, 1.0], [1.0, 0.0]),
])
def test_binary_edge_gradients_by_hand(name, a, b, ga, gb):
    _, g1, g2 = _grads(tc, name, [a, b], True)
    np.testing.assert_allclose(g1.numpy(), ga, err_msg=name)
    np.testing.assert_allclose(g2.numpy(), gb, err_msg=name)

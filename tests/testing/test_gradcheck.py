"""The gradient-testing toolkit itself: it passes right gradients and names wrong ones."""
import numpy as np
import pytest
from hypothesis import given

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor
from tests.testing.wrong_functions import WrongSquare
from tinygrad_cnn.testing import GradcheckError, gradcheck, gradgradcheck, numerical_grad
from tinygrad_cnn.testing.strategies import conv2d_args, distinct_tensors, pool2d_args, shapes, tensors


class DetachedBackward(tc.Function):
    """Right first derivative, but computed in numpy: not differentiable again."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return Tensor(x.numpy() ** 3)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * Tensor(3 * x.numpy() ** 2)


def test_numerical_grad_shapes():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    (g,) = numerical_grad(lambda t: (t ** 2).sum(), x)
    np.testing.assert_allclose(g, [2.0, 4.0, 6.0], atol=1e-6)
    (jac,) = numerical_grad(lambda t: t * 2, x)
    assert jac.shape == (3, 3)
    np.testing.assert_allclose(jac, 2 * np.eye(3), atol=1e-6)


def test_gradcheck_names_input_element_and_values():
    w = Tensor(np.array([[1.0, 2.0]]), requires_grad=True, name="weight")
    x = Tensor(np.array([0.5, 1.5]), requires_grad=True)
    with pytest.raises(GradcheckError, match=r"gradcheck: mismatch for input 1 \(weight\) at index \(0, 1\) "
                                             r"\(output element 0\): numerical 4, analytical 4.4"):
        gradcheck(lambda a, b: WrongSquare.apply(b).sum() + a.sum(), (x, w))
    assert gradcheck(lambda t: WrongSquare.apply(t), x, raise_exception=False) is False


def test_gradcheck_requires_float64():
    with pytest.raises(GradcheckError, match=r"input 0 .* is float32; finite differences need float64"):
        gradcheck(lambda t: t * 2, Tensor([1.0], requires_grad=True))


def test_gradgradcheck_catches_non_differentiable_backward():
    x = Tensor(np.array([0.5, -1.0]), requires_grad=True)
    assert gradcheck(DetachedBackward.apply, x)
    with pytest.raises(GradcheckError, match="gradgradcheck: mismatch for input 0"):
        gradgradcheck(DetachedBackward.apply, x)


@given(tensors(shapes(min_dims=1), min_magnitude=0.1))
def test_strategy_keeps_away_from_zero(x):
    assert np.all(np.abs(x.numpy()) >= 0.1) and x.dtype == np.float64 and x.requires_grad


@given(distinct_tensors((3, 4)))
def test_distinct_tensors_have_no_ties(x):
    vals = np.sort(x.numpy().ravel())
    assert np.all(np.diff(vals) >= 0.05 * 0.75 - 1e-12)


@given(conv2d_args())
def test_conv2d_args_are_valid(a):
    tc.nn.functional.conv2d(a.input, a.weight, a.bias, **a.kwargs())  # never raises


@given(pool2d_args(kind="avg"))
def test_pool2d_args_are_valid(a):
    tc.nn.functional.avg_pool2d(a.input, **a.kwargs())


def test_gradcheck_fails_on_a_nan_derivative():
    # a dilated window wholly in the padding outputs -inf: its finite difference is inf - inf = NaN,
    # which must not pass as "no mismatch" (NaN > tolerance is False)
    x = Tensor(np.array([[[[1.0, 2.0]]]]), requires_grad=True)
    pool = lambda t: tc.nn.functional.max_pool2d(t, (1, 2), stride=1, padding=(0, 1), dilation=(1, 3))  # noqa: E731
    assert pool(x).tolist() == [[[[-np.inf]]]]
    with pytest.raises(GradcheckError, match=r"numerical nan, analytical 0 \(the output is not finite"):
        gradcheck(pool, x)


@given(pool2d_args(kind="max"))
def test_max_pool2d_args_never_put_a_window_wholly_in_padding(a):
    out = tc.nn.functional.max_pool2d(a.input, **a.kwargs())
    assert np.all(np.isfinite(out.numpy()))


@pytest.mark.parametrize("fast_mode", [False, True])
def test_every_input_is_checked_not_only_the_first(fast_mode):
    from tests.testing.wrong_functions import WrongSecondInput

    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = Tensor(np.array([3.0, -1.0]), requires_grad=True)
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(WrongSecondInput.apply, (x, y), fast_mode=fast_mode)


def test_gradcheck_perturbs_inputs_of_any_memory_layout():
    # a transposed (non-contiguous) input: a perturbation written into a reshaped copy would be lost
    base = np.random.default_rng(0).standard_normal((3, 4))
    x = Tensor(base.T, requires_grad=True)
    assert not x.numpy().flags.c_contiguous
    assert gradcheck(lambda t: (t * t).sum(1), (x,))


def test_numerical_vjp_checks_a_plain_numpy_backward():
    from tinygrad_cnn.testing import numerical_vjp

    def forward(x, w):  # a learner's numpy layer: y = tanh(x @ w)
        return np.tanh(x @ w)

    def backward(dout, x, w):
        dz = dout * (1 - np.tanh(x @ w) ** 2)
        return dz @ w.T, x.T @ dz

    def wrong_backward(dout, x, w):
        dz = dout * (1 - np.tanh(x @ w) ** 2)
        return dz @ w.T, x.T @ dout  # the classic mistake: the activation's derivative left out of dw

    rng = np.random.default_rng(0)
    x, w, dout = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal((3, 2))
    dx, dw = numerical_vjp(forward, [x, w], dout)
    for got, want in zip(backward(dout, x, w), (dx, dw)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
    assert not np.allclose(wrong_backward(dout, x, w)[1], dw, rtol=1e-3)
    with pytest.raises(ValueError, match="dout has shape"):
        numerical_vjp(forward, [x, w], np.ones(3))


def test_gradgradcheck_says_when_a_backward_is_not_differentiable():
    x = Tensor(np.array([0.5, -1.0]), requires_grad=True)
    with pytest.raises(GradcheckError, match="a backward written with numpy instead of Tensor ops"):
        gradgradcheck(DetachedBackward.apply, x)


def test_numpy_functions_of_arrays_go_to_numerical_grad_and_gradcheck():
    x, w = np.array([[0.5, -1.0, 2.0]]), np.array([[1.0], [0.5], [-0.25]])
    jx, jw = numerical_grad(lambda a, b: a @ b, [x, w])
    assert jx.shape == (1, 1, 1, 3) and jw.shape == (1, 1, 3, 1)
    assert np.allclose(jx[0, 0], w.T) and np.allclose(jw[0, 0], x.T)
    def right(g, a, b):
        g = g * (1 - np.tanh(a @ b) ** 2)
        return g @ b.T, a.T @ g

    assert gradcheck(lambda a, b: np.tanh(a @ b), [x, w], backward=right)
    wrong = lambda g, a, b: (g @ b.T, 2 * a.T @ g)  # noqa: E731
    with pytest.raises(GradcheckError, match=r"mismatch for input 1 \(shape \(3, 1\)\) at index \(0, 0\)"):
        gradcheck(lambda a, b: a @ b, [x, w], backward=wrong)
    assert gradcheck(lambda a, b: a @ b, [x, w], backward=wrong, raise_exception=False) is False
    with pytest.raises(GradcheckError, match="pass backward="):
        gradcheck(np.sin, np.array([1.0]))
    with pytest.raises(GradcheckError, match="returned 1 gradients for 2 input arrays"):
        gradcheck(lambda a, b: a @ b, [x, w], backward=lambda g, a, b: g @ b.T)
    with pytest.raises(GradcheckError, match="gradient 0 has shape"):
        gradcheck(lambda a, b: a @ b, [x, w], backward=lambda g, a, b: (g, a.T @ g))

"""check_grads (JAX-style, any order, both modes) and gradcheck's fast mode: they pass on correct
derivatives and name the order, the mode and the input of wrong ones."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor
from tinygrad_cnn.autograd import Function
from tests.testing.wrong_functions import WrongSquare
from tinygrad_cnn.testing import GradcheckError, check_grads, gradcheck, gradgradcheck


class NonlinearVJP(Function):
    """Right gradient at g = 1 but not linear in g: the dot-product identity must catch it."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return Tensor(x.numpy() ** 2)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * g * 2 * x


class GraphBreakingSquare(Function):
    """Right gradient, but its backward leaves the graph (numpy), so the JVP (by double VJP) is zero."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return Tensor(x.numpy() ** 2)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return Tensor(g.numpy() * 2 * x.numpy())


class ConstantSlopeSquare(Function):
    """Right gradient, linear in g, but 2x enters as a constant: the second derivative is lost."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return Tensor(x.numpy() ** 2)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * Tensor(2 * x.numpy())


X = np.array([0.7, -1.3, 2.1])


def test_passes_on_composite_functions_to_third_order() -> None:
    rng = np.random.default_rng(0)
    x, w = tc.tensor(rng.normal(size=(1, 2, 5, 5))), tc.tensor(rng.normal(size=(3, 2, 3, 3)))
    check_grads(lambda a, b: F.max_pool2d(F.conv2d(a, b, padding=1).tanh(), 2), (x, w), order=3)
    check_grads(lambda a: (a * a.exp()).sum(), tc.tensor(X), order=3)


def test_float32_reverse_mode_needs_no_finite_differences() -> None:
    rng = np.random.default_rng(1)
    x, w = tc.tensor(rng.normal(size=(2, 3, 6, 6)), dtype=tc.float32), tc.tensor(rng.normal(size=(4, 3, 3, 3)),
                                                                                  dtype=tc.float32)
    check_grads(lambda a, b: F.conv2d(a, b, stride=2).sigmoid(), (x, w), order=2, modes=("rev",))


def test_forward_mode_names_order_mode_and_values() -> None:
    with pytest.raises(GradcheckError, match=r"order 1, fwd mode: .* numerical .*, JVP "):
        check_grads(WrongSquare.apply, tc.tensor(X), order=1, modes=("fwd",))


def test_a_backward_outside_the_graph_has_no_jvp() -> None:
    assert gradcheck(GraphBreakingSquare.apply, Tensor(X, requires_grad=True))  # the gradient itself is right
    with pytest.raises(GradcheckError, match=r"order 1, fwd mode: .*JVP 0 "):
        check_grads(GraphBreakingSquare.apply, tc.tensor(X), order=1, modes=("fwd",))


def test_second_order_mistakes_are_found_at_order_2() -> None:
    check_grads(ConstantSlopeSquare.apply, tc.tensor(X), order=1)  # first order is right
    with pytest.raises(GradcheckError, match="order 2, fwd mode"):
        check_grads(ConstantSlopeSquare.apply, tc.tensor(X), order=2)


def test_reverse_mode_catches_a_vjp_that_is_not_linear() -> None:
    with pytest.raises(GradcheckError, match=r"order 1, rev mode: ⟨u, J v⟩ = .* but ⟨Jᵀu, v⟩ = "):
        check_grads(NonlinearVJP.apply, tc.tensor(X), order=1, modes=("rev",))


def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match="floating-point Tensor"):
        check_grads(lambda a: a, (tc.tensor([1, 2]),))
    with pytest.raises(ValueError, match="order must be a positive int"):
        check_grads(lambda a: a, tc.tensor(X), order=0)
    with pytest.raises(ValueError, match="modes must be"):
        check_grads(lambda a: a, tc.tensor(X), modes=("bwd",))


def test_fast_mode_gradcheck() -> None:
    rng = np.random.default_rng(2)
    x = Tensor(rng.normal(size=(4, 3, 12, 12)), requires_grad=True)
    w = Tensor(rng.normal(size=(8, 3, 3, 3)), requires_grad=True)
    fn = lambda a, b: F.conv2d(a, b, padding=1).tanh()  # noqa: E731
    assert gradcheck(fn, (x, w), fast_mode=True)
    assert gradgradcheck(fn, (x, w), fast_mode=True)
    bad = Tensor(rng.normal(size=40), requires_grad=True)
    with pytest.raises(GradcheckError, match=r"gradcheck \(fast mode\): mismatch for input 0 .* rerun with "
                                             r"fast_mode=False"):
        gradcheck(WrongSquare.apply, bad, fast_mode=True)
    assert not gradcheck(WrongSquare.apply, bad, fast_mode=True, raise_exception=False)

"""A user-defined op (softsign) with `tinygrad_cnn.autograd.Function`, checked the way the library
checks its own ops: gradcheck and gradgradcheck over hypothesis-drawn inputs.

    python examples/custom_op.py
"""
from hypothesis import given, settings

from tinygrad_cnn import Tensor
from tinygrad_cnn.autograd import Function
from tinygrad_cnn.testing import gradcheck, gradgradcheck
from tinygrad_cnn.testing.strategies import shapes, tensors


class Softsign(Function):
    """x / (1 + |x|). Shape: unchanged."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return Tensor(x.data / (1 + abs(x.data)))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        d = 1 + x.abs()
        return grad / (d * d)  # written with Tensor ops, so it is differentiable again


@settings(max_examples=25, deadline=None)
@given(tensors(shape=shapes(min_dims=1, max_dims=2), min_magnitude=0.1))  # keep |x| away from its kink at 0
def check_softsign(x):
    assert gradcheck(Softsign.apply, x)
    assert gradgradcheck(Softsign.apply, x)


if __name__ == "__main__":
    check_softsign()
    print("Softsign passes gradcheck and gradgradcheck on 25 random inputs")

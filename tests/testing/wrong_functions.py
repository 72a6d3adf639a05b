"""Functions with a deliberately wrong backward, shared by the gradient checkers' tests."""
from tinygrad_cnn import Tensor
from tinygrad_cnn.autograd import Function


class WrongSquare(Function):
    """x**2 with the gradient 2.2x instead of 2x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return Tensor(x.numpy() ** 2)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x * 2.2  # wrong: should be 2


class WrongSecondInput(Function):
    """x * y with y's gradient 1.1x instead of x: only the second input's gradient is wrong."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return Tensor(x.numpy() * y.numpy())

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return g * y, g * x * 1.1  # wrong: should be g * x

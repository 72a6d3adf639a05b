"""The Tensor and the backward engine: dtypes, accumulation, broadcasting, deep graphs,
retain_graph, hooks, grad modes, higher-order gradients and autograd misuse."""
import time

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor
from tinygrad_cnn.testing import gradcheck


def test_dtypes_follow_the_contract():
    assert Tensor(1.5).dtype == np.float32
    assert Tensor([1.0, 2.0]).dtype == np.float32
    assert Tensor(np.zeros(2)).dtype == np.float64  # ndarrays keep their float dtype
    assert Tensor([1, 2]).dtype == np.float32  # torch.Tensor(list) is float32 too
    assert Tensor([True]).dtype == np.float32
    assert tc.tensor([1, 2]).dtype == np.int64  # torch.tensor keeps ints and bools
    assert tc.tensor([True]).dtype == np.bool_
    assert Tensor([1.0], dtype="float64").dtype == np.float64
    arr = np.zeros(3, np.float32)
    assert Tensor(arr).numpy() is arr  # no copy, as torch.as_tensor


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="only floating-point tensors can require grad, got dtype int64"):
        tc.tensor([1, 2], requires_grad=True)


def test_attributes():
    x = Tensor(np.ones((2, 3)), requires_grad=True, name="x")
    assert (x.shape, x.ndim, x.numel(), x.size(), x.size(1), x.name) == ((2, 3), 2, 6, (2, 3), 3, "x")
    assert x.is_leaf and x.grad_fn is None and x.grad is None
    y = x * 2
    assert not y.is_leaf and y.grad_fn.name == "mul" and y.requires_grad
    assert y.detach().requires_grad is False and y.detach().is_leaf
    assert x.numpy() is x.numpy() and Tensor(3.0).item() == 3.0 and x.tolist() == [[1.0] * 3] * 2
    assert x.float().dtype == np.float32 and x.double().dtype == np.float64


def test_gradients_accumulate_across_backward_calls():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    assert x.grad.tolist() == [6.0, 6.0]
    assert x.grad.grad_fn is None  # without create_graph the gradient carries no graph


def test_shared_subexpressions_sum_their_gradients():
    x = Tensor(2.0, requires_grad=True)
    y = x * x + x  # x used three times
    y.backward()
    assert x.grad.item() == 5.0


def test_broadcasting_is_undone():
    a = Tensor(np.ones((3, 1)), requires_grad=True)
    b = Tensor(np.ones(4), requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.shape == (3, 1) and a.grad.tolist() == [[4.0]] * 3
    assert b.grad.shape == (4,) and b.grad.tolist() == [3.0] * 4


def test_float32_graph_gives_float32_gradients():
    w = Tensor(np.ones(3, np.float32), requires_grad=True)
    (w * 2.5).sum().backward()
    assert w.grad.dtype == np.float32


def test_deep_chain_has_no_recursion_limit_and_linear_time():
    def run(n):
        x = Tensor(1.0, requires_grad=True)
        y = x
        for _ in range(n):
            y = y * 1.0
        start = time.perf_counter()
        y.backward()
        return time.perf_counter() - start, x.grad.item()

    t_small, _ = run(10_000)
    t_big, g = run(100_000)
    assert g == 1.0
    assert t_big < 30 * t_small + 1.0  # 10x the ops; generous bound against noise, catches quadratic


def test_second_backward_through_freed_graph_raises():
    x = Tensor(2.0, requires_grad=True)
    y = x * x
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = Tensor(2.0, requires_grad=True)
    y = x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == 8.0


def test_non_scalar_backward_needs_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        (x * 2).backward()
    (x * 2).backward(Tensor([1.0, 1.0]))
    assert x.grad.tolist() == [2.0, 2.0]


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0]).sum().backward()


def test_backward_gradient_of_wrong_shape_raises():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"gradient shape \(3,\) does not match tensor shape \(2,\)"):
        (x * 2).backward(Tensor([1.0, 1.0, 1.0]))


def test_no_grad_and_enable_grad_as_contexts_and_decorators():
    x = Tensor([1.0], requires_grad=True)
    with tc.no_grad():
        assert not (x * 2).requires_grad
        with tc.enable_grad():
            assert (x * 2).requires_grad
    assert (x * 2).requires_grad

    @tc.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad and f.__name__ == "f"


def test_register_hook_sees_and_replaces_the_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    seen = []
    y = x * 2
    y.register_hook(lambda g: seen.append(g.tolist()))
    handle = x.register_hook(lambda g: g * 10)
    y.sum().backward()
    assert seen == [[1.0, 1.0]] and x.grad.tolist() == [20.0, 20.0]
    handle.remove()
    x.grad = None
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_grad_function_returns_tuple_and_leaves_dot_grad_alone():
    x = Tensor(3.0, requires_grad=True)
    y = Tensor(4.0, requires_grad=True)
    gx, gy = tc.grad(x * y, (x, y))
    assert (gx.item(), gy.item()) == (4.0, 3.0) and x.grad is None
    unused = Tensor(1.0, requires_grad=True)
    with pytest.raises(RuntimeError, match="not used in the graph"):
        tc.grad(x * 2, [x, unused])
    assert tc.grad(x * 2, [x, unused], allow_unused=True)[1] is None


def test_grad_with_respect_to_an_intermediate():
    x = Tensor(3.0, requires_grad=True)
    h = x * x
    (g,) = tc.grad(h * 5, h)
    assert g.item() == 5.0


def test_second_derivative_of_cube_is_6x():
    x = Tensor([0.5, -2.0, 3.0], requires_grad=True, dtype="float64")
    (g,) = tc.grad((x ** 3).sum(), x, create_graph=True)
    assert g.requires_grad
    (gg,) = tc.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), 6 * x.numpy())


def test_backward_create_graph_lets_grad_be_differentiated():
    x = Tensor(2.0, requires_grad=True, dtype="float64")
    (x ** 3).backward(create_graph=True)
    g = x.grad
    x.grad = None
    g.backward()
    assert x.grad.item() == pytest.approx(12.0)


def test_hessian_vector_product_of_mlp_matches_finite_differences():
    rng = np.random.default_rng(0)
    w1 = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    w2 = Tensor(rng.standard_normal((2, 4)), requires_grad=True)
    x = Tensor(rng.standard_normal((5, 3)))
    target = Tensor(np.array([0, 1, 1, 0, 1]))
    v1, v2 = rng.standard_normal(w1.shape), rng.standard_normal(w2.shape)

    def loss_grads(a, b, create_graph=False):
        h = (x @ a.transpose(0, 1)).tanh()
        loss = tc.nn.functional.cross_entropy(h @ b.transpose(0, 1), target)
        return tc.grad(loss, (a, b), create_graph=create_graph)

    g1, g2 = loss_grads(w1, w2, create_graph=True)
    dot = (g1 * Tensor(v1)).sum() + (g2 * Tensor(v2)).sum()
    hv1, hv2 = tc.grad(dot, (w1, w2))
    eps = 1e-6
    w1n, w2n = w1.numpy(), w2.numpy()
    plus = loss_grads(Tensor(w1n + eps * v1, requires_grad=True), Tensor(w2n + eps * v2, requires_grad=True))
    minus = loss_grads(Tensor(w1n - eps * v1, requires_grad=True), Tensor(w2n - eps * v2, requires_grad=True))
    np.testing.assert_allclose(hv1.numpy(), (plus[0].numpy() - minus[0].numpy()) / (2 * eps), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(hv2.numpy(), (plus[1].numpy() - minus[1].numpy()) / (2 * eps), rtol=1e-5, atol=1e-7)


def test_detach_cuts_the_graph():
    x = Tensor(2.0, requires_grad=True)
    y = x.detach() * x
    y.backward()
    assert x.grad.item() == 2.0


def test_comparisons_give_bool_tensors_without_grad():
    x = Tensor([1.0, 2.0], requires_grad=True)
    m = x > 1.5
    assert m.dtype == np.bool_ and not m.requires_grad and m.tolist() == [False, True]


def test_detect_anomaly_names_op_and_user_line_in_forward():
    x = Tensor([-1.0, 1.0], requires_grad=True)
    with tc.detect_anomaly():
        with pytest.raises(tc.autograd.AnomalyError,
                           match=r"forward of op 'log' produced nan \(op created at .*test_tensor.py:\d+\)"):
            x.log()


def test_detect_anomaly_in_backward():
    x = Tensor([0.0], requires_grad=True)
    with tc.detect_anomaly(), np.errstate(divide="ignore"):
        y = x.sqrt()  # finite forward (0) but infinite gradient
        with pytest.raises(tc.autograd.AnomalyError, match=r"backward of op 'sqrt' produced inf"):
            y.sum().backward()


def test_outside_detect_anomaly_nan_flows_through():
    with np.errstate(invalid="ignore"):
        assert np.isnan(Tensor([-1.0]).log().item())


def test_function_user_op_with_gradcheck():
    class Square(tc.Function):
        @staticmethod
        def forward(ctx, x, scale):
            ctx.save_for_backward(x)
            ctx.scale = scale
            return Tensor(scale * x.numpy() ** 2)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x * (2 * ctx.scale), None

    x = Tensor([0.5, -1.0], dtype="float64", requires_grad=True)
    assert gradcheck(lambda t: Square.apply(t, 3.0), x)
    from tinygrad_cnn.testing import gradgradcheck
    assert gradgradcheck(lambda t: Square.apply(t, 3.0), x)  # backward written in Tensor ops

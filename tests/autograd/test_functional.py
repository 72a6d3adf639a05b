"""autograd.functional: hand-computed values, finite differences, PyTorch's results and semantics."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.autograd.functional as AF
from tinygrad_cnn import Tensor
from tinygrad_cnn.testing import numerical_grad

try:
    import torch
    import torch.autograd.functional as TAF
except ImportError:  # PyTorch is an optional oracle
    torch = None

RNG = np.random.default_rng(0)
X, W, WT = RNG.normal(size=(1, 2, 5, 5)), RNG.normal(size=(3, 2, 3, 3)), RNG.normal(size=(3, 2, 2, 2))
LW, Y = RNG.normal(size=(2, 8)), np.array([1])


def _net(lib: Any) -> tuple:
    """The same function of (input, weight) in either library: conv2d, tanh, max pool,
    conv_transpose2d, avg pool; and a scalar of it through matmul, cross-entropy and a square."""
    F = lib.nn.functional

    def f(x: Any, w: Any) -> Any:
        h = F.max_pool2d(F.conv2d(x, w, padding=1).tanh(), 2)
        return F.avg_pool2d(F.conv_transpose2d(h, lib.tensor(WT), stride=2), 2)

    def scalar(x: Any, w: Any) -> Any:
        h = f(x, w).reshape(1, -1)
        return F.cross_entropy(h @ lib.tensor(LW).T, lib.tensor(Y)) + (h * h).sum() * 0.1
    return f, scalar


def _np(a: Any) -> Any:
    if isinstance(a, (tuple, list)):
        return [_np(b) for b in a]
    return a.detach().numpy() if torch is not None and isinstance(a, torch.Tensor) else np.asarray(a.numpy())


def _assert_close(ours: Any, theirs: Any, tol: float = 1e-8) -> None:
    if isinstance(ours, list):
        assert isinstance(theirs, list) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _assert_close(a, b, tol)
    else:
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol)


# ---------------------------------------------------------------- torch-free: by hand and by finite differences
def test_hand_values() -> None:
    x = tc.tensor([1.0, 2.0])
    assert AF.jacobian(lambda t: t ** 2, x).tolist() == [[2.0, 0.0], [0.0, 4.0]]
    assert AF.hessian(lambda t: (t ** 3).sum(), x).tolist() == [[6.0, 0.0], [0.0, 12.0]]
    out, g = AF.vjp(lambda t: t ** 2, x, tc.tensor([1.0, 10.0]))
    assert out.tolist() == [1.0, 4.0] and g.tolist() == [2.0, 40.0]
    assert AF.jvp(lambda t: t ** 2, x, tc.tensor([1.0, 10.0]))[1].tolist() == [2.0, 40.0]
    # f = x0^2 x1: H = [[2 x1, 2 x0], [2 x0, 0]] = [[4, 2], [2, 0]]
    f = lambda t: t[0] ** 2 * t[1]  # noqa: E731
    assert AF.hvp(f, x, tc.tensor([1.0, 1.0]))[1].tolist() == [6.0, 2.0]
    assert AF.vhp(f, x, tc.tensor([0.0, 1.0]))[1].tolist() == [2.0, 0.0]


def test_jacobian_and_hessian_against_finite_differences() -> None:
    f, scalar = _net(tc)
    x, w = tc.tensor(X), tc.tensor(W)
    jac = AF.jacobian(f, (x, w))
    xr, wr = Tensor(X, requires_grad=True), Tensor(W, requires_grad=True)
    num = numerical_grad(f, (xr, wr))
    np.testing.assert_allclose(jac[0].numpy(), num[0], atol=1e-6)
    np.testing.assert_allclose(jac[1].numpy(), num[1], atol=1e-6)
    # the Hessian in w is the finite-difference Jacobian of the gradient in w
    h = AF.hessian(lambda a: scalar(x, a), w)
    num_h = numerical_grad(lambda a: tc.grad(scalar(x, a), a, create_graph=True)[0], Tensor(W, requires_grad=True))
    np.testing.assert_allclose(h.numpy(), num_h[0], atol=1e-5)


def test_jvp_is_the_directional_derivative() -> None:
    f, _ = _net(tc)
    v = (RNG.normal(size=X.shape), RNG.normal(size=W.shape))
    _, t = AF.jvp(f, (tc.tensor(X), tc.tensor(W)), tuple(tc.tensor(a) for a in v))
    eps = 1e-6
    fd = (f(tc.tensor(X + eps * v[0]), tc.tensor(W + eps * v[1])).numpy()
          - f(tc.tensor(X - eps * v[0]), tc.tensor(W - eps * v[1])).numpy()) / (2 * eps)
    np.testing.assert_allclose(t.numpy(), fd, atol=1e-6)


def test_return_structure_follows_the_inputs_and_outputs() -> None:
    two = lambda a, b: (a * b, a + b)  # noqa: E731
    a, b = tc.tensor([1.0, 2.0]), tc.tensor([3.0, 4.0])
    j = AF.jacobian(two, (a, b))
    assert isinstance(j, tuple) and len(j) == 2 and all(isinstance(r, tuple) and len(r) == 2 for r in j)
    assert j[0][1].tolist() == [[1.0, 0.0], [0.0, 2.0]]  # d(a*b)/db = diag(a)
    assert isinstance(AF.jacobian(lambda t: t.sum(), a), Tensor) and AF.jacobian(lambda t: t.sum(), a).shape == (2,)
    h = AF.hessian(lambda p, q: (p * q).sum(), (a, b))
    assert h[0][1].tolist() == [[1.0, 0.0], [0.0, 1.0]] and h[0][0].tolist() == [[0.0, 0.0], [0.0, 0.0]]
    out, v = AF.vjp(two, (a, b), (tc.ones(2), tc.ones(2)))
    assert isinstance(out, tuple) and isinstance(v, tuple) and v[0].tolist() == [4.0, 5.0]


def test_results_are_detached_unless_create_graph() -> None:
    x = tc.tensor([1.0, 2.0], requires_grad=True)
    _, g = AF.vjp(lambda t: (t ** 3).sum(), x)
    assert not g.requires_grad and g.grad_fn is None
    _, g = AF.vjp(lambda t: (t ** 3).sum(), x, create_graph=True)
    g.sum().backward()  # d/dx sum(3 x^2) = 6 x, through the caller's x
    assert x.grad.tolist() == [6.0, 12.0]
    assert AF.hessian(lambda t: (t ** 3).sum(), x, create_graph=True).requires_grad


def test_unused_inputs_give_zeros_or_raise_in_strict_mode() -> None:
    a, b = tc.tensor([1.0, 2.0]), tc.tensor([3.0])
    _, g = AF.vjp(lambda p, q: (p * 2).sum(), (a, b))
    assert g[1].tolist() == [0.0]
    with pytest.raises(RuntimeError, match="independent of input 1"):
        AF.vjp(lambda p, q: (p * 2).sum(), (a, b), strict=True)
    with pytest.raises(RuntimeError, match="independent of input 1"):
        AF.jacobian(lambda p, q: p * 2, (a, b), strict=True)


def test_bad_arguments() -> None:
    x = tc.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="v can only be None"):
        AF.vjp(lambda t: t * 2, x)
    with pytest.raises(RuntimeError, match="v can only be None"):
        AF.jvp(lambda t: t * 2, x)
    with pytest.raises(RuntimeError, match=r"entry 0 of v has shape \(3,\)"):
        AF.jvp(lambda t: t * 2, x, tc.ones(3))
    with pytest.raises(RuntimeError, match="single element"):
        AF.hessian(lambda t: t * 2, x)
    with pytest.raises(RuntimeError, match="single element"):
        AF.hvp(lambda t: t * 2, x, x)
    with pytest.raises(TypeError, match=r"jacobian: inputs\[0\] must be a Tensor"):
        AF.jacobian(lambda t: t, [1.0])
    with pytest.raises(NotImplementedError, match="forward-mode"):
        AF.jacobian(lambda t: t, x, strategy="forward-mode")


# ---------------------------------------------------------------- against torch.autograd.functional
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed (optional oracle)")


@needs_torch
@pytest.mark.parametrize("fn", ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"])
@pytest.mark.parametrize("tuple_inputs", [True, False])
def test_matches_torch_autograd_functional(fn: str, tuple_inputs: bool) -> None:
    (f, scalar), (tf, tscalar) = _net(tc), _net(torch)
    ours_in, theirs_in = (tc.tensor(X), tc.tensor(W)), (torch.tensor(X), torch.tensor(W))
    func, tfunc = (scalar, tscalar) if fn in ("hessian", "hvp", "vhp") else (f, tf)
    if not tuple_inputs:  # a function of the weight alone
        func = (lambda g, x: lambda w: g(x, w))(func, ours_in[0])
        tfunc = (lambda g, x: lambda w: g(x, w))(tfunc, theirs_in[0])
        ours_in, theirs_in = ours_in[1], theirs_in[1]
    args, targs = [ours_in], [theirs_in]
    if fn in ("vjp",):
        u = RNG.normal(size=(1, 2, 2, 2))
        args.append(tc.tensor(u))
        targs.append(torch.tensor(u))
    if fn in ("jvp", "hvp", "vhp"):
        vs = [RNG.normal(size=X.shape), RNG.normal(size=W.shape)] if tuple_inputs else [RNG.normal(size=W.shape)]
        args.append(tuple(tc.tensor(v) for v in vs) if tuple_inputs else tc.tensor(vs[0]))
        targs.append(tuple(torch.tensor(v) for v in vs) if tuple_inputs else torch.tensor(vs[0]))
    ours, theirs = getattr(AF, fn)(func, *args), getattr(TAF, fn)(tfunc, *targs)
    assert type(ours).__name__ == type(theirs).__name__ or (isinstance(ours, Tensor) and isinstance(theirs,
                                                                                                     torch.Tensor))
    _assert_close(_np(ours), _np(theirs))

"""In-place ops: values, object identity, PyTorch's leaf rule, history rebasing, version checks.

Each behaviour has a torch-free check (hand-computed values or finite differences); where PyTorch
is installed the same snippet also runs with torch and must agree.
"""
import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import tinygrad_cnn as tc
from tests.compat.generators import PROGRAMS
from tinygrad_cnn import nn, optim
from tinygrad_cnn.testing import numerical_grad

try:
    import torch
except ImportError:  # PyTorch is an optional oracle
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed")
LIBS = [tc] + ([torch] if torch is not None else [])


def _arr(t):
    return t.detach().numpy() if torch is not None and isinstance(t, torch.Tensor) else t.numpy()


@pytest.mark.parametrize("lib", LIBS, ids=lambda m: m.__name__)
def test_inplace_values_and_identity(lib):
    x = lib.tensor([1.0, -2.0, 3.0])
    same = x
    x.add_(1).sub_(0.5).mul_(2).div_(4)
    np.testing.assert_allclose(_arr(x), [0.75, -0.75, 1.75])
    x += 1
    x -= 0.5
    x *= 2
    x /= 4
    np.testing.assert_allclose(_arr(x), [0.625, -0.125, 1.125])
    x.add_(lib.tensor([1.0, 1.0, 1.0]), alpha=2)
    np.testing.assert_allclose(_arr(x), [2.625, 1.875, 3.125])
    x.clamp_(2.0, 3.0)
    np.testing.assert_allclose(_arr(x), [2.625, 2.0, 3.0])
    x.fill_(7)
    np.testing.assert_allclose(_arr(x), [7.0, 7.0, 7.0])
    x.copy_(lib.tensor([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(_arr(x), [1.0, 2.0, 3.0])
    x.zero_()
    np.testing.assert_allclose(_arr(x), [0.0, 0.0, 0.0])
    assert x is same


def test_inplace_writes_the_same_memory():
    a = np.zeros(3, np.float32)
    x = tc.from_numpy(a)
    x += 1
    x.mul_(3)
    assert a.tolist() == [3.0, 3.0, 3.0]
    v = x._version
    x.zero_()
    assert x._version == v + 1


def test_random_fills_follow_the_seed():
    tc.manual_seed(3)
    a = tc.zeros(1000).normal_(2.0, 0.5)
    tc.manual_seed(3)
    b = tc.zeros(1000).normal_(2.0, 0.5)
    assert np.array_equal(a.numpy(), b.numpy()) and abs(a.numpy().mean() - 2.0) < 0.1
    u = tc.zeros(1000).uniform_(-1, 3)
    assert u.numpy().min() >= -1 and u.numpy().max() < 3 and u.dtype == np.float32
    assert tc.zeros(5).uniform_(**{"from": 4, "to": 5}).numpy().min() >= 4


@pytest.mark.parametrize("lib", LIBS, ids=lambda m: m.__name__)
def test_parameter_update_loop_changes_the_parameters(lib):
    lib.manual_seed(0)
    model = lib.nn.Linear(3, 2)
    x = lib.ones(4, 3)
    model(x).sum().backward()
    before = [_arr(p).copy() for p in model.parameters()]
    grads = [_arr(p.grad).copy() for p in model.parameters()]
    with lib.no_grad():
        for p in model.parameters():
            p -= 0.1 * p.grad
    for p, b, g in zip(model.parameters(), before, grads):
        np.testing.assert_allclose(_arr(p), b - 0.1 * g, rtol=1e-6)


def test_inplace_on_a_parameter_keeps_it_registered():
    model = nn.Linear(2, 1)
    bias, weight = model.bias, model.weight
    opt = optim.SGD(model.parameters(), lr=0.1)
    with tc.no_grad():
        model.bias += 1
        model.weight *= 0.5
    assert model.bias is bias and model.weight is weight
    assert isinstance(model.bias, nn.Parameter)
    assert [id(p) for p in model.parameters()] == [id(p) for p in opt.param_groups[0]["params"]]
    assert np.array_equal(model.state_dict()["bias"], bias.numpy())


@pytest.mark.parametrize("lib", LIBS, ids=lambda m: m.__name__)
def test_leaf_requiring_grad_is_changed_only_under_no_grad(lib):
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    for change in (lambda: w.add_(1), lambda: w.mul_(2), lambda: w.zero_(), lambda: w.__iadd__(1)):
        with pytest.raises(RuntimeError, match="leaf"):
            change()
    with lib.no_grad():
        w.add_(1)
    np.testing.assert_allclose(_arr(w), [2.0, 3.0])


@pytest.mark.parametrize("lib", LIBS, ids=lambda m: m.__name__)
def test_inplace_on_a_non_leaf_is_differentiated(lib):
    """PyTorch rebases the tensor's history onto the in-place op: d/dw of ((2w + 1) * 3 * w) = 12w + 3."""
    w = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
    h = w * 2
    h += 1
    h.mul_(3)
    h.mul_(w)
    assert not h.is_leaf
    h.sum().backward()
    np.testing.assert_allclose(_arr(w.grad), [15.0, 27.0])


@pytest.mark.parametrize("lib", LIBS, ids=lambda m: m.__name__)
def test_buffer_accumulating_a_grad_tensor(lib):
    w = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
    buf = lib.zeros(2, dtype=lib.float64)
    buf += w
    buf.mul_(w)  # buf = w * w
    buf.sum().backward()
    np.testing.assert_allclose(_arr(w.grad), [2.0, 4.0])


@pytest.mark.parametrize("lib", LIBS, ids=lambda m: m.__name__)
def test_saved_output_changed_then_rebased_still_raises(lib):
    """Found by the property below: a value changed under no_grad, then changed again in the graph
    (which snapshots it), must still be refused by the op that saved it."""
    w = lib.tensor([1.0, 1.0], dtype=lib.float64, requires_grad=True)
    h = (w * 2).sigmoid()
    with lib.no_grad():
        h.add_(0.3)
    h.mul_(w)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        h.sum().backward()


@pytest.mark.parametrize("lib", LIBS, ids=lambda m: m.__name__)
def test_saved_output_changed_in_place_raises(lib):
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    y = w.exp()  # exp's backward reads its output
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_version_error_names_the_op_and_versions():
    w = tc.tensor([1.0, 2.0], requires_grad=True)
    x = tc.tensor([3.0, 4.0])
    y = (w * x).sum()
    x.add_(1)
    with pytest.raises(RuntimeError, match=r"op 'mul' saved a float32 tensor of shape \(2,\) at version 0; "
                                           r"it is now at version 1"):
        y.backward()


@pytest.mark.parametrize("lib", LIBS, ids=lambda m: m.__name__)
def test_optimizer_step_before_backward_raises(lib):
    """Forward, step, backward: the gradient would be taken at the updated weights."""
    lib.manual_seed(0)
    model = lib.nn.Sequential(lib.nn.Linear(4, 3), lib.nn.ReLU(), lib.nn.Linear(3, 2))
    opt = lib.optim.SGD(model.parameters(), lr=0.1)
    x = lib.ones(5, 4)
    loss = model(x).pow(2).sum() if lib is torch else (model(x) ** 2).sum()
    loss.backward(retain_graph=True)
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_load_state_dict_bumps_versions_and_keeps_memory():
    model = nn.Linear(2, 2)
    w = model.weight.numpy()
    x = tc.ones(1, 2, requires_grad=True)  # x's gradient reads the weight, so backward checks it
    loss = model(x).sum()
    model.load_state_dict(nn.Linear(2, 2).state_dict())
    assert model.weight.numpy() is w  # copied into, as PyTorch's copy_
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_a_weight_changed_in_place_is_fine_when_no_gradient_reads_it():
    """As PyTorch's addmm, linear keeps the weight only for the input's gradient: with a constant
    input, loading new weights between forward and backward is allowed (the weight's gradient reads x)."""
    model = nn.Linear(2, 2)
    loss = model(tc.ones(1, 2)).sum()
    model.load_state_dict(nn.Linear(2, 2).state_dict())
    loss.backward()
    assert model.weight.grad.tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_writes_through_data_are_not_checked():
    """As in PyTorch, ``.data`` is the escape hatch: backward uses the new values without an error."""
    w = tc.tensor([1.0, 2.0], requires_grad=True)
    x = tc.tensor([3.0, 4.0])
    y = (w * x).sum()
    x.numpy()[:] = 10.0
    y.backward()
    assert w.grad.tolist() == [10.0, 10.0]


def test_inplace_on_an_input_already_used_raises():
    w = tc.tensor([1.0, 2.0], requires_grad=True)
    h = w * 2
    _ = h * 3
    with pytest.raises(RuntimeError, match="already used by another op"):
        h.mul_(5)


def test_inplace_on_a_view_while_recording_raises():
    w = tc.tensor([[1.0, 2.0]], requires_grad=True)
    v = (w * 2).reshape(2)
    base = w * 3
    with pytest.raises(RuntimeError, match="view"):
        base.reshape(2).add_(1)
    with pytest.raises(RuntimeError, match="view|already used"):
        v.add_(1)
    with tc.no_grad():  # outside the graph a view is written through to its base, as numpy and PyTorch
        x = tc.zeros(2, 2)
        x.reshape(4).add_(1)
    assert x.tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_view_shares_the_version_with_its_base():
    w = tc.tensor([1.0, 2.0], requires_grad=True)
    x = tc.tensor([[3.0, 4.0]])
    y = (w * x.reshape(2)).sum()
    with tc.no_grad():
        x.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()
    d = w.detach()
    assert d._version == w._version
    with tc.no_grad():
        d.add_(1)
    assert w._version == d._version and w.tolist() == [2.0, 3.0]


@pytest.mark.parametrize("lib", LIBS, ids=lambda m: m.__name__)
def test_inplace_dtype_rules(lib):
    x = lib.tensor([1, 2])
    with pytest.raises(RuntimeError, match="can't be cast"):
        x += 1.5
    f = lib.tensor([1.0, 2.0])
    f += lib.tensor([1, 1])
    assert str(f.dtype).endswith("float32")
    f.copy_(lib.tensor([3, 4]))
    np.testing.assert_allclose(_arr(f), [3.0, 4.0])


def test_expanded_tensor_is_read_only():
    x = tc.tensor([1.0]).expand(3)
    with pytest.raises(RuntimeError, match="read-only"):
        x.add_(1)


# ---- the property: random programs of in-place ops give the right gradient or a RuntimeError

STEP = st.one_of(
    st.tuples(st.sampled_from(["add_", "sub_", "mul_", "div_"]), st.floats(0.5, 1.5)),
    st.tuples(st.sampled_from(["add_w", "mul_w", "sigmoid", "tanh", "use", "step", "ng_add", "clone", "pow_",
                               "setitem", "setitem_w", "view_add", "use_index", "change_index", "use_where",
                               "change_condition"]), st.just(0.0)),
)


def _program(lib, w0, steps, record):
    """Run ``steps`` on h = 2w; return (loss, w). ``record`` False: values only, under no_grad."""
    w = lib.tensor(w0.copy(), requires_grad=record)
    h = w * 2
    outs = []
    idx, cond = lib.tensor([0, 2]), lib.tensor([True, False, True])
    for name, k in steps:
        if name in ("add_", "sub_", "mul_", "div_"):
            getattr(h, name)(k)
        elif name == "pow_":
            h **= 2
        elif name == "setitem":
            h[1] = 0.5
        elif name == "setitem_w":
            h[[0, 2]] = w[1:] * 3
        elif name == "view_add":  # in place through a view of h
            h[1:].add_(k)
        elif name == "use_index":
            outs.append(h[idx] * w[:2])
        elif name == "change_index":  # an index tensor changed after an op read it
            idx[0] = 1
        elif name == "use_where":
            outs.append(lib.where(cond, h, w))
        elif name == "change_condition":
            cond[1] = True
        elif name == "add_w":
            h.add_(w)
        elif name == "mul_w":
            h.mul_(w)
        elif name in ("sigmoid", "tanh"):
            h = getattr(h, name)()
        elif name == "use":
            outs.append(h * w)
        elif name == "clone":
            h = h.clone()
        elif name == "step":  # an optimizer-like update of the leaf
            with lib.no_grad():
                w.add_(0.25)
        else:
            with lib.no_grad():
                h.add_(0.3)
    loss = h.sum()
    for o in outs:
        loss = loss + o.sum()
    return loss, w


def _grad_or_error(lib, w0, steps):
    try:
        loss, w = _program(lib, w0, steps, True)
        loss.backward()
        return _arr(w.grad) if w.grad is not None else np.zeros_like(w0)
    except RuntimeError as e:
        return e


@PROGRAMS
@given(st.lists(STEP, max_size=6), st.lists(st.floats(0.5, 1.5), min_size=3, max_size=3))
@example([("use_index", 0.0), ("change_index", 0.0)], [1.0, 1.0, 1.0])
@example([("use_where", 0.0), ("change_condition", 0.0)], [1.0, 1.2, 0.7])
@example([("setitem_w", 0.0), ("pow_", 0.0), ("use", 0.0)], [0.6, 1.1, 1.4])
@example([("view_add", 1.0)], [1.0, 1.0, 1.0])
def test_random_inplace_programs_give_the_right_gradient_or_raise(steps, w_values):
    w0 = np.array(w_values)
    ours = _grad_or_error(tc, w0, steps)
    if isinstance(ours, RuntimeError):
        return  # allowed: a clear error instead of a gradient
    # torch-free reference: central differences of the same program's value
    with tc.no_grad():
        w = tc.tensor(w0, requires_grad=True)
        expected = numerical_grad(lambda w: _program(tc, w.numpy(), steps, False)[0], [w])[0]
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-7)
    if torch is not None:
        theirs = _grad_or_error(torch, w0, steps)
        if not isinstance(theirs, RuntimeError):
            np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_function_saved_tensors_are_version_checked():
    class Square(tc.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return tc.Tensor(x.numpy() ** 2)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 2 * x

    x = tc.tensor([1.0, 2.0], requires_grad=True)
    y = Square.apply(x).sum()
    with tc.no_grad():
        x.mul_(3)
    with pytest.raises(RuntimeError, match="op 'Square' saved"):
        y.backward()

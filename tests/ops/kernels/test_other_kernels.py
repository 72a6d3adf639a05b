"""Layout helpers, fast sums, ReLU and Adam's arithmetic, against numpy and plain loops."""
import math

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

from tinygrad_cnn.ops.kernels import activation, adam, layout, norm, reduce


def _layouts(shape):
    """The same values in each memory order of the axes."""
    a = np.arange(float(np.prod(shape))).reshape(shape)
    for order in ([0, 1, 2, 3], [1, 2, 3, 0], [2, 1, 3, 0]):
        yield np.ascontiguousarray(a.transpose(order)).transpose(np.argsort(order))


def test_layout_helpers_keep_values_and_match_orders():
    shape = (4, 3, 5, 6)
    for ref in _layouts(shape):
        made = layout.full_like_layout(shape, ref, 7.0)
        assert made.shape == shape and (made == 7).all() and layout._axis_order(made) == layout._axis_order(ref)
        for a in _layouts(shape):
            moved = layout.like_layout(a, ref)
            np.testing.assert_array_equal(moved, a)
            assert layout._axis_order(moved) == layout._axis_order(ref)
            assert (moved is a) == (layout._axis_order(a) == layout._axis_order(ref))
    wide, narrow = np.zeros((2, 3, 4, 8)), np.zeros((64, 3, 4, 8))
    assert layout.batch_innermost(wide) is wide
    inner = layout.batch_innermost(narrow)
    assert inner.strides[0] == inner.itemsize and np.array_equal(inner, narrow)


@given(st.sampled_from([(16, 8, 9, 9), (3, 4, 40, 40), (64, 6, 4, 4)]), st.integers(0, 2),
       st.sampled_from([(0,), (0, 2, 3), (1, 2), (3,), (2, 3), (0, 2), (1,)]), st.booleans())
def test_sum_axes_equals_numpy_sum(shape, which_layout, axes, keepdim):
    # every layout a conv network has (NCHW, batch-innermost, rows-outermost) against every pattern
    # of summed runs in memory: innermost, outermost, in the middle, several
    a = list(_layouts(shape))[which_layout].astype(np.float32)
    expected = np.sum(a.astype(np.float64), axis=axes, keepdims=keepdim)
    got = reduce.sum_axes(a, axes, keepdim)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_relu_matches_a_loop_in_every_layout():
    rng = np.random.default_rng(0)
    for shape in [(3,), (64, 8, 4, 4)]:
        x = rng.standard_normal(shape)
        for a in [x, np.ascontiguousarray(x.T).T]:
            out = activation.relu(a)
            expected = np.array([v if v > 0 else 0.0 for v in a.ravel()]).reshape(shape)
            np.testing.assert_array_equal(out, expected)


def test_adam_step_matches_the_formula_element_by_element():
    rng = np.random.default_rng(1)
    group = {"lr": 0.01, "betas": (0.9, 0.99), "eps": 1e-8}
    m, v, grad = rng.standard_normal(5) * 0.1, rng.random(5) * 0.1, rng.standard_normal(5)
    m0, v0 = m.copy(), v.copy()
    step = adam.adam_step(m, v, grad, np.empty(5), 3, group)
    for i in range(5):
        mi = 0.9 * m0[i] + 0.1 * grad[i]
        vi = 0.99 * v0[i] + 0.01 * grad[i] ** 2
        expected = group["lr"] / (1 - 0.9 ** 3) * mi / (math.sqrt(vi) / math.sqrt(1 - 0.99 ** 3) + 1e-8)
        assert math.isclose(m[i], mi, rel_tol=1e-12) and math.isclose(v[i], vi, rel_tol=1e-12)
        assert math.isclose(step[i], expected, rel_tol=1e-12)


ORDERS = ([0, 1, 2, 3], [1, 2, 3, 0], [2, 1, 3, 0], [3, 2, 1, 0])


@given(st.tuples(*[st.integers(1, 5)] * 4), st.sampled_from(ORDERS), st.sampled_from(ORDERS), st.integers(0, 99))
@example((4, 3, 4, 4), [0, 1, 2, 3], [2, 1, 3, 0], 0)  # N == H: both (A, C, B) views are (4, 3, 16)
def test_channel_dot_and_batch_norm_backward_whatever_the_two_layouts(shape, order_a, order_b, seed):
    """Regression: channel_dot once paired the two arrays' memory views by shape alone, so a batch
    norm fed NCHW whose gradient came back rows-outermost (a conv after it) got wrong gradients
    whenever the batch equalled the height."""
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(shape), rng.standard_normal(shape)
    a_laid = np.ascontiguousarray(a.transpose(order_a)).transpose(np.argsort(order_a))
    b_laid = np.ascontiguousarray(b.transpose(order_b)).transpose(np.argsort(order_b))
    np.testing.assert_allclose(norm.channel_dot(a_laid, b_laid), np.einsum("nchw,nchw->c", a, b), rtol=1e-12,
                               atol=1e-12)
    if a.size // a.shape[1] > 1:
        _, centred, _, var = norm.bn_forward.numpy(a_laid, None, None, 1e-5)
        got = norm.bn_backward.numpy(b_laid, centred, var, None, 1e-5)
        want = norm.bn_backward.numpy(np.ascontiguousarray(b), np.ascontiguousarray(centred), var, None, 1e-5)
        for x, y in zip(got, want):
            np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-10)

"""check_layer's call forms: layouts, hyper-parameter styles, domains, dtypes, errors and the report."""
import re
from functools import partial

import numpy as np
import pytest

from tinygrad_cnn.testing import LayerMismatch, assert_layer, check_layer
from tinygrad_cnn.testing.layercheck import LayerCheckError

from . import layer_catalogue as L

KW = dict(hparams={"stride": "stride", "padding": "pad"}, domain={"square": True, "stride": [1, 2],
                                                                   "padding": [0, 1]}, max_examples=30)


def conv_chwn(x, w, b, stride=1, pad=0):
    """Batch-last images (C, H, W, N) and HWIO weights, through the NCHW loops."""
    out = L.conv_forward(x.transpose(3, 0, 1, 2), w.transpose(3, 2, 0, 1), b, stride, pad)
    return out.transpose(1, 2, 3, 0)


def test_batch_last_images_and_hwio_weights():
    report = check_layer("conv2d", conv_chwn, layout="CHWN", weight_layout="HWIO", **KW)
    assert report.ok, report


def test_a_layout_mismatch_is_a_shape_difference():
    report = check_layer("conv2d", conv_chwn, **KW)  # declared NCHW, written CHWN
    assert not report.ok and report.wrong == ["out"]
    assert "shape" in report.differences[0] or "raised" in report.differences[0]


def test_broadcast_bias_follows_the_image_layout():
    seen = []

    def fwd(x, w, b, stride=1, pad=0):
        seen.append(None if b is None else b.shape)
        return L.conv_forward(x, w, None if b is None else b.reshape(-1), stride, pad)

    assert check_layer("conv2d", fwd, bias_layout="broadcast", **KW).ok
    assert {s for s in seen if s is not None} <= {(1, f, 1, 1) for f in range(1, 4)} and None in seen


def test_rectangular_hyper_parameters_arrive_as_pairs():
    def fwd(x, w, b, stride=(1, 1)):
        assert isinstance(stride, tuple)
        n, c, h, wd = x.shape
        f, _, kh, kw = w.shape
        (sh, sw) = stride
        out = np.zeros((n, f, (h - kh) // sh + 1, (wd - kw) // sw + 1))
        for y in range(out.shape[2]):
            for z in range(out.shape[3]):
                win = x[:, :, y * sh:y * sh + kh, z * sw:z * sw + kw]
                out[:, :, y, z] = np.einsum("nchw,fchw->nf", win, w) + (0 if b is None else b)
        return out

    report = check_layer("conv2d", fwd, hparams={"stride": "stride"}, max_examples=40)
    assert report.ok, report


def test_the_domain_is_all_the_code_sees():
    def fwd(x, w, b, stride=1, pad=0):
        assert x.shape[2:] == (28, 28) and stride == 1 and pad in (0, 1) and w.shape[2] == w.shape[3] == 3
        assert b is not None
        return L.conv_forward(x, w, b, stride, pad)

    report = check_layer("conv2d", fwd, hparams={"stride": "stride", "padding": "pad"}, max_examples=10,
                         domain={"square": True, "stride": 1, "padding": [0, 1], "sides": (28, 28), "kernel_size": 3,
                                 "bias": True, "in_channels": 1, "out_channels": 1, "batch": 1})
    assert report.ok, report


def test_same_padding_as_learners_write_it():
    def fwd(x, w, b, padding="valid"):
        k = w.shape[2]
        pad = (k - 1) // 2 if padding == "same" else 0  # symmetric: right for odd kernels only
        return L.conv_forward(x, w, b, 1, pad)

    kw = dict(hparams={"padding": "padding"}, domain={"square": True, "padding": ["same", "valid"]}, max_examples=60)
    assert check_layer("conv2d", fwd, domain={**kw["domain"], "kernel_size": [1, 3]}, hparams=kw["hparams"],
                       max_examples=60).ok
    report = check_layer("conv2d", fwd, **kw)
    assert not report.ok and report.config["kernel_size"] == 2 and report.config["padding"] == "same", report
    assert "fails only when kernel_size = 2 (passes at 1, 3)" in report.diagnosis
    assert "pads an even kernel asymmetrically" in report.diagnosis


def test_an_exception_inside_the_domain_is_a_failure_with_its_line():
    def fwd(x, w, b, stride=1, pad=0):
        if stride == 2:
            raise IndexError("index 7 is out of bounds")
        return L.conv_forward(x, w, b, stride, pad)

    report = check_layer("conv2d", fwd, **KW)
    assert not report.ok and report.config["stride"] == 2
    assert "forward raised IndexError: index 7 is out of bounds (at test_check_layer_api.py:" in report.differences[0]
    assert "forward raises IndexError at this configuration" in report.diagnosis
    assert "passes at stride 1, fails at stride 2" in report.diagnosis


def test_backward_alone_is_checked_against_the_vjp():
    assert check_layer("conv2d", backward=L.conv_backward, **KW).ok
    report = check_layer("conv2d", backward=partial(L.conv_backward, mistake="stride"), **KW)
    assert not report.ok and set(report.wrong) <= {"dx", "dw"} and "out" not in report.checked


def test_without_bias_b_is_none_and_db_is_not_checked():
    def bwd(dout, x, w, b, stride=1, pad=0):
        assert b is None
        dx, dw, _ = L.conv_backward(dout, x, w, b, stride, pad)
        return dx, dw, "anything"

    assert check_layer("conv2d", L.conv_forward, bwd, **{**KW, "domain": {**KW["domain"], "bias": False}}).ok


def test_float32_arrays_and_tolerance():
    seen = set()

    def fwd(x):
        seen.add(x.dtype)
        return np.tanh(x)

    assert check_layer("tanh", fwd, dtype="float32", max_examples=10).ok and seen == {np.dtype(np.float32)}


def test_report_fields_and_forms():
    ok = check_layer("relu", L.relu_forward, L.relu_backward, max_examples=10)
    assert ok.ok and bool(ok) and ok.config is None and ok.diagnosis == "" and "OK" in str(ok)
    bad = check_layer("relu", L.relu_forward, partial(L.relu_backward, bug="at_zero"), max_examples=30)
    assert not bad and bad.config == {"batch": 1, "features": 1, "zeros": True}
    html = bad._repr_html_()
    assert "FAILED" in html and "&#x27;relu&#x27;" in html and "<pre" in html
    with pytest.raises(LayerMismatch, match="exactly 0"):
        assert_layer("relu", L.relu_forward, partial(L.relu_backward, bug="at_zero"), max_examples=30)
    assert assert_layer("relu", L.relu_forward, L.relu_backward, max_examples=10).ok


def test_a_formula_wrong_everywhere_says_so():
    def sigmoid_backward(dout, x):
        s = 1 / (1 + np.exp(-x))
        return dout * s * s  # should be s * (1 - s)

    report = check_layer("sigmoid", lambda x: 1 / (1 + np.exp(-x)), sigmoid_backward, max_examples=20)
    assert report.wrong == ["dx"] and "every neighbouring configuration fails as well" in report.diagnosis


def test_a_seed_gives_other_draws_that_still_shrink():
    report = check_layer("conv2d", L.conv_forward, partial(L.conv_backward, mistake="stride"), seed=7, **KW)
    assert not report.ok and report.config["stride"] == 2


@pytest.mark.parametrize("kwargs, message", [
    (dict(like="conv3d"), "like must be one of conv2d, max_pool2d"),
    (dict(like="conv2d"), "give forward=, backward= or both"),
    (dict(like="conv2d", forward=L.conv_forward, domain={"strides": [1]}), "unknown domain key 'strides'"),
    (dict(like="conv2d", forward=L.conv_forward, domain={"stride": [1, 2]}), "hparams does not map 'stride'"),
    (dict(like="conv2d", forward=L.conv_forward, hparams={"pad": "pad"}), "conv2d has no hyper-parameter 'pad'"),
    (dict(like="conv2d", backward=L.conv_backward, backward_takes="cache"), "needs forward"),
    (dict(like="conv2d", forward=L.conv_forward, layout="NHWD"), "layout must order the letters NCHW"),
    (dict(like="conv2d", forward=L.conv_forward, weight_layout="OIH"), "weight_layout must order the letters OIHW"),
    (dict(like="conv2d", forward=L.conv_forward, dtype="int32"), "dtype must be float32 or float64"),
    (dict(like="max_pool2d", forward=L.avg_pool_forward), "max_pool2d needs a kernel_size"),
    (dict(like="relu", forward=L.relu_forward, layout="NHWC"), "layout= applies to image layers"),
    (dict(like="conv2d", forward=L.conv_forward, domain={"padding": (2, 1)}, hparams={"padding": "pad"}),
     "range (2, 1) has low > high"),
    (dict(like="conv2d", forward=L.conv_forward, hparams={"stride": 1}), "hparams['stride'] must be your keyword"),
])
def test_bad_arguments_name_the_argument(kwargs, message):
    like = kwargs.pop("like")
    with pytest.raises(LayerCheckError, match=re.escape(message)):
        check_layer(like, **kwargs)

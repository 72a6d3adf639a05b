"""check_layer on a catalogue of learners' layers: each classic mistake is found, with its diagnosis,
at a small configuration; each correct implementation passes."""
from functools import partial

import pytest

from tinygrad_cnn.testing import check_layer

from . import layer_catalogue as L

CONV_KW = dict(hparams={"stride": "stride", "padding": "pad"}, domain={"square": True, "stride": [1, 2],
                                                                        "padding": [0, 1, 2]})
STANFORD_CONV = dict(backward_takes="cache", hparams={"stride": "stride", "padding": "pad"}, hparams_style="dict",
                     domain={"square": True, "stride": [1, 2], "padding": [0, 1]})
STANFORD_POOL = dict(backward_takes="cache", hparams={"kernel_size": ("pool_height", "pool_width"),
                                                      "stride": "stride"},
                     hparams_style="dict", domain={"square": True})
AVG_KW = dict(hparams={"kernel_size": "k", "stride": "stride"}, domain={"square": True})
NHWC_KW = dict(backward_takes="cache", hparams={"stride": "stride", "padding": "pad"}, hparams_style="dict",
               layout="NHWC", weight_layout="HWIO", bias_layout="broadcast",
               domain={"square": True, "stride": [1, 2], "padding": [0, 1, 2], "bias": True})
DILATED = dict(hparams={"stride": "stride", "padding": "pad", "dilation": "dilation"},
               domain={"square": True, "stride": 1, "padding": 0, "dilation": [1, 2]})

# name -> (like, forward, backward, keywords, a phrase the diagnosis must hold)
WRONG = {
    "stride ignored in backward": ("conv2d", L.conv_forward, partial(L.conv_backward, mistake="stride"), CONV_KW,
                                   "passes at stride 1, fails at stride 2"),
    "pad 0 slicing": ("conv2d", L.conv_forward, partial(L.conv_backward, mistake="pad0"), CONV_KW,
                      "[pad:-pad] is empty when pad = 0"),
    "bias inside the window sum": ("conv2d", partial(L.conv_forward, mistake="bias_in_window"), None, CONV_KW,
                                   "bias is added once per window element"),
    "dilation ignored": ("conv2d", partial(L.conv_forward, mistake="dilation"), None, DILATED,
                         "passes at dilation 1, fails at dilation 2"),
    "gradients alias the weights": ("conv2d", L.conv_forward, partial(L.conv_backward, mistake="dw_aliases_w"), CONV_KW,
                                    "dw aliases the input w"),
    "input modified in place": ("batch_norm", partial(L.batchnorm_forward, bug="in_place"), L.batchnorm_backward,
                                dict(backward_takes="cache"), "input arrays modified by the call: forward changes "
                                                              "the input x"),
    "gradient aliases dout": ("relu", L.relu_forward, partial(L.relu_backward, bug="modifies_dout"), {},
                              "dx aliases the input dout"),
    "relu gradient at 0": ("relu", L.relu_forward, partial(L.relu_backward, bug="at_zero"), {},
                           "fails only where x is exactly 0"),
    "db summed over the wrong axes": ("conv2d", L.conv_forward_naive, partial(L.conv_backward_naive, bug="db_axes"),
                                      STANFORD_CONV, "db is dout summed over axes (1, 2, 3)"),
    "max-pool mask from the wrong array": ("max_pool2d", L.max_pool_forward_naive,
                                           partial(L.example.max_pool_backward, mistake="mask_from_dx"), STANFORD_POOL,
                                           "not their window's maximum"),
    "max-pool ties double-counted": ("max_pool2d", L.max_pool_forward_naive,
                                     partial(L.example.max_pool_backward, mistake="ties"), STANFORD_POOL,
                                     "tied maxima"),
    "max-pool windows overwrite": ("max_pool2d", L.max_pool_forward_naive,
                                   partial(L.example.max_pool_backward, mistake="overwrite"), STANFORD_POOL,
                                   "wrong only where windows overlap"),
    "avg-pool gradient not divided": ("avg_pool2d", L.avg_pool_forward, partial(L.avg_pool_backward, bug="not_divided"),
                                      AVG_KW, "not divided by the window size"),
    "padding removed from the wrong side": ("conv2d", L.conv_forward_nhwc,
                                            partial(L.conv_backward_nhwc, bug="wrong_side"), NHWC_KW,
                                            "padding removed from the wrong side"),
    "hard-coded size": ("conv2d", partial(L.conv_forward_nhwc, bug="hard_coded"), L.conv_backward_nhwc, NHWC_KW,
                        "a size is hard-coded"),
    "stride ignored in forward (NHWC)": ("conv2d", partial(L.conv_forward_nhwc, bug="stride_forward"),
                                         L.conv_backward_nhwc, NHWC_KW, "passes at stride 1, fails at stride 2"),
    "im2col column order": ("conv2d", L.conv_forward_im2col, partial(L.conv_backward_im2col, bug="column_order"),
                            CONV_KW, "passes at in_channels 1"),
    "linear db over the wrong axis": ("linear", L.affine_forward, partial(L.affine_backward, bug="db_axes"),
                                      dict(weight_layout="IO"), "db is dout summed over axes (1,)"),
    "softmax Jacobian diagonal only": ("softmax", L.softmax_forward, partial(L.softmax_backward, bug="diagonal"), {},
                                       "off-diagonal terms"),
    "cross-entropy gradient without 1/N": ("cross_entropy", L.cross_entropy_forward,
                                           partial(L.cross_entropy_backward, bug="no_mean"), {},
                                           "N = 2 times too large"),
    "mse gradient without the factor 2": ("mse_loss", L.mse_forward, partial(L.mse_backward, bug="no_two"), {},
                                          "the derivative of (x − y)² is 2(x − y)"),
    "batch norm without the statistics' gradient": ("batch_norm", L.batchnorm_forward,
                                                    partial(L.batchnorm_backward, bug="no_stats"),
                                                    dict(backward_takes="cache"), "batch mean and variance"),
}

RIGHT = {
    "NCHW loops": ("conv2d", L.conv_forward, L.conv_backward, CONV_KW),
    "NCHW loops, dilation": ("conv2d", L.conv_forward, None, DILATED),
    "Stanford conv": ("conv2d", L.conv_forward_naive, L.conv_backward_naive, STANFORD_CONV),
    "NHWC conv": ("conv2d", L.conv_forward_nhwc, L.conv_backward_nhwc, NHWC_KW),
    "im2col conv": ("conv2d", L.conv_forward_im2col, L.conv_backward_im2col, CONV_KW),
    "max pool": ("max_pool2d", L.max_pool_forward_naive, L.example.max_pool_backward, STANFORD_POOL),
    "avg pool": ("avg_pool2d", L.avg_pool_forward, L.avg_pool_backward, AVG_KW),
    "zero pad NHWC": ("pad", L.zero_pad, None, dict(hparams={"padding": "pad"}, layout="NHWC",
                                                     domain={"square": True})),
    "relu": ("relu", L.relu_forward, L.relu_backward, {}),
    "affine": ("linear", L.affine_forward, L.affine_backward, dict(weight_layout="IO")),
    "softmax": ("softmax", L.softmax_forward, L.softmax_backward, {}),
    "cross-entropy": ("cross_entropy", L.cross_entropy_forward, L.cross_entropy_backward, {}),
    "batch norm": ("batch_norm", L.batchnorm_forward, L.batchnorm_backward, dict(backward_takes="cache")),
    "batch norm, eps and a mode in a dict": ("batch_norm", lambda x, g, b, p: L.batchnorm_forward(x, g, b, p["eps"]),
                                             L.batchnorm_backward, dict(backward_takes="cache", hparams_style="dict",
                                                                        hparams={"eps": "eps"},
                                                                        extra={"mode": "train"})),
    "mse": ("mse_loss", L.mse_forward, L.mse_backward, {}),
}


@pytest.mark.parametrize("name", sorted(WRONG))
def test_each_mistake_is_found_with_its_diagnosis(name):
    like, fwd, bwd, kw, phrase = WRONG[name]
    report = check_layer(like, fwd, bwd, max_examples=100, **kw)
    assert not report.ok, name
    assert phrase in report.diagnosis, f"{name}: expected {phrase!r} in\n{report}"
    cfg = report.config
    assert cfg.get("batch", 1) <= 2 and max(cfg.get(k, 1) for k in ("in_channels", "channels")) <= 2, report
    assert max(cfg.get("sides", (1, 1))) <= 5, report


@pytest.mark.parametrize("name", sorted(RIGHT))
def test_each_correct_implementation_passes(name):
    like, fwd, bwd, kw = RIGHT[name]
    report = check_layer(like, fwd, bwd, max_examples=100, **kw)
    assert report.ok, f"{name}:\n{report}"
    assert report.examples == 100

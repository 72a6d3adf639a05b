"""The image layers: conv2d, max and average pooling, zero padding. Hyper-parameters are kept as
(h, w) pairs in a configuration (conv2d's padding may be 'same' or 'valid')."""
from __future__ import annotations

from typing import Any

import numpy as np

from ...nn import functional as F
from ...tensor import Tensor
from .domain import Domain
from .spec import Arg, Spec, normal, pair, pick, sides

_PAIRS = frozenset({"kernel_size", "stride", "padding", "dilation"})


def _pads(padding: Any) -> tuple[int, int]:
    return (0, 0) if isinstance(padding, str) else padding


def window_min_sides(cfg: dict) -> tuple[int, int]:
    """The smallest legal (H, W) for the configuration's window: (effective kernel - 2 pad), at least 1."""
    if cfg.get("padding") == "same":
        return (1, 1)
    (kh, kw), (dh, dw) = cfg["kernel_size"], cfg.get("dilation", (1, 1))
    ph, pw = _pads(cfg.get("padding", (0, 0)))
    return (max(1, dh * (kh - 1) + 1 - 2 * ph), max(1, dw * (kw - 1) + 1 - 2 * pw))


def _kernel_high(dom: Domain, dilation: tuple, pads: tuple) -> tuple[Any, Any]:
    fixed = dom.fixed_sides()
    if fixed is None:
        return (None, None)
    return tuple((n + 2 * p - 1) // d + 1 for n, p, d in zip(fixed, pads, dilation))


def _conv_padding(draw: Any, dom: Domain, mapped: frozenset) -> Any:
    if "padding" not in mapped:
        return (0, 0)
    vals = dom.values("padding")
    if "same" in vals and 1 not in dom.ints("stride") and "stride" in mapped:
        vals = tuple(v for v in vals if v != "same")  # PyTorch's 'same' needs stride 1
    first = pick(draw, vals, "padding")
    if isinstance(first, str):
        return first
    return (first, first) if dom.square else (first, pick(draw, dom.ints("padding"), "padding"))


def _conv_draw(draw: Any, dom: Domain, mapped: frozenset) -> dict:
    padding = _conv_padding(draw, dom, mapped)
    stride = (1, 1) if padding == "same" or "stride" not in mapped else pair(draw, dom, "stride")
    dilation = pair(draw, dom, "dilation") if "dilation" in mapped else (1, 1)
    groups = pick(draw, dom.ints("groups"), "groups") if "groups" in mapped else 1
    hi = _kernel_high(dom, dilation, _pads(padding))
    kh = pick(draw, dom.ints("kernel_size"), "kernel_size", high=hi[0])
    kw = kh if dom.square else pick(draw, dom.ints("kernel_size"), "kernel_size", high=hi[1])
    cfg = {"batch": pick(draw, dom.ints("batch"), "batch"),
           "in_channels": groups * pick(draw, dom.ints("in_channels"), "in_channels"),
           "out_channels": groups * pick(draw, dom.ints("out_channels"), "out_channels"),
           "groups": groups, "kernel_size": (kh, kw), "stride": stride, "padding": padding, "dilation": dilation,
           "bias": draw(_flag(dom, "bias"))}
    cfg["sides"] = sides(draw, dom, window_min_sides(cfg))
    return cfg


def _flag(dom: Domain, key: str) -> Any:
    from hypothesis import strategies as st

    return st.sampled_from(dom.values(key))


def _conv_arrays(cfg: dict, rng: np.random.Generator) -> dict:
    n, c, f, g = cfg["batch"], cfg["in_channels"], cfg["out_channels"], cfg["groups"]
    return {"x": normal(rng, (n, c) + tuple(cfg["sides"])), "w": normal(rng, (f, c // g) + tuple(cfg["kernel_size"])),
            "b": normal(rng, (f,)) if cfg["bias"] else None}


def _conv_reference(cfg: dict, t: dict) -> Tensor:
    return F.conv2d(t["x"], t["w"], t["b"], cfg["stride"], cfg["padding"], cfg["dilation"], cfg["groups"])


CONV2D = Spec(
    like="conv2d", args=(Arg("x", "image", "dx"), Arg("w", "weight", "dw"), Arg("b", "bias", "db")),
    out_role="image", hparams={"stride": 1, "padding": 0, "dilation": 1, "groups": 1},
    domain_defaults={"batch": (1, 3), "in_channels": (1, 3), "out_channels": (1, 3), "kernel_size": (1, 3),
                     "stride": (1, 3), "padding": (0, 2), "dilation": (1, 2), "groups": (1, 2), "bias": "both"},
    draw=_conv_draw, arrays=_conv_arrays, reference=_conv_reference,
    vary=("stride", "padding", "dilation", "kernel_size", "groups", "batch", "in_channels", "out_channels", "bias"),
    pair_hparams=_PAIRS, unmapped_domain=frozenset({"kernel_size", "batch", "in_channels", "out_channels", "bias"}),
    min_sides=window_min_sides)


def _pool_draw(kind: str) -> Any:
    def draw_cfg(draw: Any, dom: Domain, mapped: frozenset) -> dict:
        pads = dom.ints("padding") if "padding" in mapped else (0,)
        kernels = tuple(k for k in dom.ints("kernel_size") if any(p <= k // 2 for p in pads))
        dilation = pair(draw, dom, "dilation") if "dilation" in mapped else (1, 1)
        hi = _kernel_high(dom, dilation, (0, 0))
        kh = pick(draw, kernels, "kernel_size (with a padding of at most half of it)", high=hi[0])
        kw = kh if dom.square else pick(draw, kernels, "kernel_size", high=hi[1])
        ph = pick(draw, pads, "padding", high=kh // 2)
        pw = ph if dom.square else pick(draw, pads, "padding", high=kw // 2)
        cfg = {"batch": pick(draw, dom.ints("batch"), "batch"),
               "channels": pick(draw, dom.ints("channels"), "channels"), "kernel_size": (kh, kw),
               "stride": pair(draw, dom, "stride") if "stride" in mapped else (kh, kw),
               "padding": (ph, pw), "ceil_mode": draw(_flag(dom, "ceil_mode")) if "ceil_mode" in mapped else False}
        if kind == "max":
            cfg["dilation"] = dilation
            cfg["ties"] = draw(_flag(dom, "ties"))
        else:
            cfg["count_include_pad"] = draw(_flag(dom, "count_include_pad")) if "count_include_pad" in mapped else True
        cfg["sides"] = sides(draw, dom, window_min_sides(cfg))
        return cfg

    return draw_cfg


def _pool_arrays(cfg: dict, rng: np.random.Generator) -> dict:
    shape = (cfg["batch"], cfg["channels"]) + tuple(cfg["sides"])
    # tied maxima: a few small integers repeat in almost every window
    return {"x": rng.integers(0, 3, shape).astype(np.float64) if cfg.get("ties") else normal(rng, shape)}


def _max_reference(cfg: dict, t: dict) -> Tensor:
    return F.max_pool2d(t["x"], cfg["kernel_size"], cfg["stride"], cfg["padding"], cfg["dilation"], cfg["ceil_mode"])


def _avg_reference(cfg: dict, t: dict) -> Tensor:
    return F.avg_pool2d(t["x"], cfg["kernel_size"], cfg["stride"], cfg["padding"], cfg["ceil_mode"],
                        cfg["count_include_pad"])


_POOL_DOMAIN = {"batch": (1, 3), "channels": (1, 2), "kernel_size": (1, 3), "stride": (1, 3), "padding": (0, 1),
                "ceil_mode": "both"}
_POOL_VARY = ("stride", "padding", "kernel_size", "dilation", "ceil_mode", "batch", "channels")

MAX_POOL2D = Spec(
    like="max_pool2d", args=(Arg("x", "image", "dx"),), out_role="image",
    hparams={"kernel_size": None, "stride": None, "padding": 0, "dilation": 1, "ceil_mode": False},
    domain_defaults={**_POOL_DOMAIN, "dilation": (1, 2), "ties": "both"}, draw=_pool_draw("max"), arrays=_pool_arrays,
    reference=_max_reference, vary=_POOL_VARY + ("ties",), pair_hparams=_PAIRS,
    unmapped_domain=frozenset({"kernel_size", "batch", "channels", "ties"}), aliases={"in_channels": "channels"},
    min_sides=window_min_sides)

AVG_POOL2D = Spec(
    like="avg_pool2d", args=(Arg("x", "image", "dx"),), out_role="image",
    hparams={"kernel_size": None, "stride": None, "padding": 0, "ceil_mode": False, "count_include_pad": True},
    domain_defaults={**_POOL_DOMAIN, "count_include_pad": "both"}, draw=_pool_draw("avg"), arrays=_pool_arrays,
    reference=_avg_reference, vary=_POOL_VARY + ("count_include_pad",), pair_hparams=_PAIRS,
    unmapped_domain=frozenset({"kernel_size", "batch", "channels"}), aliases={"in_channels": "channels"},
    min_sides=window_min_sides)


def _pad_draw(draw: Any, dom: Domain, mapped: frozenset) -> dict:
    cfg = {"batch": pick(draw, dom.ints("batch"), "batch"), "channels": pick(draw, dom.ints("channels"), "channels"),
           "padding": pair(draw, dom, "padding")}
    cfg["sides"] = sides(draw, dom, (1, 1))
    return cfg


def _pad_reference(cfg: dict, t: dict) -> Tensor:
    ph, pw = cfg["padding"]
    return F.pad(t["x"], (pw, pw, ph, ph))


PAD = Spec(
    like="pad", args=(Arg("x", "image", "dx"),), out_role="image", hparams={"padding": 0},
    domain_defaults={"batch": (1, 2), "channels": (1, 2), "padding": (0, 2)}, draw=_pad_draw,
    arrays=lambda cfg, rng: {"x": normal(rng, (cfg["batch"], cfg["channels"]) + tuple(cfg["sides"]))},
    reference=_pad_reference, vary=("padding", "batch", "channels"), pair_hparams=frozenset({"padding"}),
    unmapped_domain=frozenset({"padding", "batch", "channels"}), aliases={"in_channels": "channels"})

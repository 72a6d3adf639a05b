"""The layers on (batch, features) arrays: linear, the activations, softmax, the losses, and batch
norm in training mode (on (N, D), or on images when a layout is given)."""
from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from ...nn import functional as F
from .domain import Domain
from .spec import Arg, Spec, normal, pick, sides


def _batch_features(key: str = "features") -> Any:
    def draw_cfg(draw: Any, dom: Domain, mapped: frozenset) -> dict:
        return {"batch": pick(draw, dom.ints("batch"), "batch"), key: pick(draw, dom.ints(key), key)}

    return draw_cfg


def _linear_draw(draw: Any, dom: Domain, mapped: frozenset) -> dict:
    return {"batch": pick(draw, dom.ints("batch"), "batch"),
            "in_features": pick(draw, dom.ints("in_features"), "in_features"),
            "out_features": pick(draw, dom.ints("out_features"), "out_features"),
            "bias": draw(st.sampled_from(dom.values("bias")))}


def _linear_arrays(cfg: dict, rng: np.random.Generator) -> dict:
    n, i, o = cfg["batch"], cfg["in_features"], cfg["out_features"]
    return {"x": normal(rng, (n, i)), "w": normal(rng, (o, i)), "b": normal(rng, (o,)) if cfg["bias"] else None}


LINEAR = Spec(
    like="linear", args=(Arg("x", "plain", "dx"), Arg("w", "weight", "dw"), Arg("b", "bias", "db")),
    out_role="plain", hparams={},
    domain_defaults={"batch": (1, 3), "in_features": (1, 4), "out_features": (1, 4), "bias": "both"},
    draw=_linear_draw, arrays=_linear_arrays, reference=lambda cfg, t: F.linear(t["x"], t["w"], t["b"]),
    vary=("batch", "in_features", "out_features", "bias"),
    unmapped_domain=frozenset({"batch", "in_features", "out_features", "bias"}))


def _elementwise(like: str, fn: Any) -> Spec:
    def draw_cfg(draw: Any, dom: Domain, mapped: frozenset) -> dict:
        cfg = _batch_features()(draw, dom, mapped)
        if like == "relu":
            cfg["zeros"] = draw(st.sampled_from(dom.values("zeros")))
        return cfg

    def arrays(cfg: dict, rng: np.random.Generator) -> dict:
        x = normal(rng, (cfg["batch"], cfg["features"]))
        if cfg.get("zeros"):  # relu's kink: PyTorch's gradient at exactly 0 is 0
            x[rng.random(x.shape) < 0.5] = 0.0
        return {"x": x}

    defaults: dict = {"batch": (1, 3), "features": (1, 4)}
    if like == "relu":
        defaults["zeros"] = "both"
    return Spec(like=like, args=(Arg("x", "plain", "dx"),), out_role="plain", hparams={}, domain_defaults=defaults,
                draw=draw_cfg, arrays=arrays, reference=lambda cfg, t: fn(t["x"]), vary=tuple(defaults),
                unmapped_domain=frozenset(defaults))


RELU = _elementwise("relu", F.relu)
SIGMOID = _elementwise("sigmoid", F.sigmoid)
TANH = _elementwise("tanh", F.tanh)
SOFTMAX = _elementwise("softmax", lambda x: F.softmax(x, dim=-1))

_LOSS_DOMAIN = {"batch": (1, 3), "features": (1, 4)}


def _mse_arrays(cfg: dict, rng: np.random.Generator) -> dict:
    shape = (cfg["batch"], cfg["features"])
    return {"x": normal(rng, shape), "y": normal(rng, shape)}


def _bce_arrays(cfg: dict, rng: np.random.Generator) -> dict:
    shape = (cfg["batch"], cfg["features"])
    return {"x": rng.uniform(0.05, 0.95, shape), "y": rng.integers(0, 2, shape).astype(np.float64)}


def _ce_arrays(cfg: dict, rng: np.random.Generator) -> dict:
    n, c = cfg["batch"], cfg["classes"]
    return {"x": normal(rng, (n, c)), "y": rng.integers(0, c, n)}


MSE_LOSS = Spec(
    like="mse_loss", args=(Arg("x", "plain", "dx"), Arg("y", "plain", None)), out_role="scalar", hparams={},
    domain_defaults=_LOSS_DOMAIN, draw=_batch_features(), arrays=_mse_arrays,
    reference=lambda cfg, t: F.mse_loss(t["x"], t["y"]), vary=("batch", "features"),
    unmapped_domain=frozenset(_LOSS_DOMAIN))

BINARY_CROSS_ENTROPY = Spec(
    like="binary_cross_entropy", args=(Arg("x", "plain", "dx"), Arg("y", "plain", None)), out_role="scalar",
    hparams={}, domain_defaults=_LOSS_DOMAIN, draw=_batch_features(), arrays=_bce_arrays,
    reference=lambda cfg, t: F.binary_cross_entropy(t["x"], t["y"]), vary=("batch", "features"),
    unmapped_domain=frozenset(_LOSS_DOMAIN))

CROSS_ENTROPY = Spec(
    like="cross_entropy", args=(Arg("x", "plain", "dx"), Arg("y", "labels", None)), out_role="scalar", hparams={},
    domain_defaults={"batch": (1, 3), "classes": (2, 4)}, draw=_batch_features("classes"), arrays=_ce_arrays,
    reference=lambda cfg, t: F.cross_entropy(t["x"], t["y"]), vary=("batch", "classes"),
    unmapped_domain=frozenset({"batch", "classes"}), aliases={"features": "classes"})


def _bn_draw(images: bool) -> Any:
    def draw_cfg(draw: Any, dom: Domain, mapped: frozenset) -> dict:
        cfg = {"batch": pick(draw, dom.ints("batch"), "batch"),
               "channels": pick(draw, dom.ints("channels"), "channels")}
        if images:
            cfg["sides"] = sides(draw, dom, (1, 1), extra=3)
        return cfg

    return draw_cfg


def _bn_arrays(cfg: dict, rng: np.random.Generator) -> dict:
    c = cfg["channels"]
    shape = (cfg["batch"], c) + tuple(cfg.get("sides", ()))
    # a shift and scale per channel, so that the batch statistics matter
    x = normal(rng, shape) * rng.uniform(0.5, 2.0, (1, c) + (1,) * (len(shape) - 2)) + normal(rng, (1, c) + (1,) * (
        len(shape) - 2))
    return {"x": x, "gamma": rng.uniform(0.5, 1.5, c), "beta": normal(rng, (c,))}


def batch_norm_spec(images: bool) -> Spec:
    """Batch norm in training mode over (N, D), or over images (N, C, H, W) when ``images``."""
    return Spec(
        like="batch_norm", args=(Arg("x", "image" if images else "plain", "dx"), Arg("gamma", "bias", "dgamma"),
                                 Arg("beta", "bias", "dbeta")),
        out_role="image" if images else "plain", hparams={"eps": 1e-5},
        domain_defaults={"batch": (2, 4), "channels": (1, 3)}, draw=_bn_draw(images), arrays=_bn_arrays,
        reference=lambda cfg, t: F.batch_norm(t["x"], None, None, t["gamma"], t["beta"], training=True, eps=1e-5),
        vary=("batch", "channels"), unmapped_domain=frozenset({"batch", "channels"}),
        aliases={"features": "channels", "in_channels": "channels"})

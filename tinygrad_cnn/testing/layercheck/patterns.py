"""Recognisable shapes of wrong outputs, one layer at a time: a bias counted per window element, a
bias gradient summed over the wrong axes, padding cut from the wrong side, gradients overwritten
where windows overlap, a missing division, a missing Jacobian term."""
from __future__ import annotations

from itertools import combinations
from typing import Any, Callable

import numpy as np

from ...nn import functional as F
from ...tensor import Tensor, grad
from .runner import Outcome, Runner


def _got(outcome: Outcome, name: str) -> Any:
    """The user's value of ``name`` as returned (the user's layout), when it was found wrong."""
    for d in outcome.differences:
        if d.name == name and d.kind in ("values", "shape"):
            return np.asarray(d.got, np.float64)
    return None


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-5, atol=1e-7 * max(1.0, float(np.abs(b).max(
        initial=0.0)))))


def ratio(user: np.ndarray, ref: np.ndarray) -> float | None:
    """r when ``user == r * ref`` everywhere (r != 1), else None."""
    if user.shape != ref.shape or not np.any(np.abs(ref) > 1e-9):
        return None
    nz = np.abs(ref) > 1e-9
    r = float(np.median(user[nz] / ref[nz]))
    return r if abs(r - 1) > 1e-6 and _close(user, r * ref) else None


def _ratio_sentences(outcome: Outcome, names: tuple, explain: Callable[[str, float], str | None]) -> list[str]:
    found = []
    for name in names:
        if name in outcome.wrong and name in outcome.user:
            r = ratio(outcome.user[name], outcome.ref[name])
            if r is None:
                continue
            sentence = explain(name, r)
            if sentence is None and np.count_nonzero(outcome.ref[name]) >= 4:  # fewer: a ratio by chance
                sentence = f"{name} is {r:.4g} times the expected values"
            if sentence:
                found.append(sentence)
    return found


def richer(runner: Runner, cfg: dict) -> dict:
    """A configuration where every axis has more than one element (when the domain allows), so that
    two reductions that agree on size-1 axes can be told apart."""
    dom, new = runner.domain, dict(cfg, seed=cfg["seed"] + 3)
    if dom is None:
        return new
    if "batch" in dom and cfg["batch"] < 2 and 2 in dom.ints("batch"):
        new["batch"] = 2
    if "sides" in cfg and dom.sides is None:
        new["sides"] = (cfg["sides"][0] + 2, cfg["sides"][1] + 3)
    return new


def sum_axes(runner: Runner, outcome: Outcome, name: str, channel_axis: int, axis_name: str = "channel") -> list[str]:
    """'db is dout summed over axes (1, 2, 3)': which reduction of dout the user's bias gradient is
    (looked for at a richer configuration, where the axes differ in size)."""
    if name not in outcome.wrong:
        return []
    rich = runner.evaluate(richer(runner, outcome.config))
    if _got(rich, name) is not None and rich.error is None:
        outcome = rich
    got = _got(outcome, name)
    if got is None:
        return []
    dout = runner.to_user(runner.setup.spec.out_role, outcome.ref["dout"]).astype(np.float64)
    right = tuple(a for a in range(dout.ndim) if a != channel_axis)
    for k in range(dout.ndim, 0, -1):  # the most axes first: summing a size-1 axis changes no value
        for axes in combinations(range(dout.ndim), k):
            s, kept = dout.sum(axis=axes), dout.sum(axis=axes, keepdims=True)
            if axes != right and got.shape in (s.shape, kept.shape) and _close(got.reshape(s.shape), s):
                return [f"{name} is dout summed over axes {axes}; it should be summed over axes {right}, every "
                        f"axis but the {axis_name} axis {channel_axis}"]
    return []


def _padded_grad(runner: Runner, outcome: Outcome) -> np.ndarray:
    """The reference gradient of the zero-padded input (reference layout): the same op at padding 0."""
    cfg, inputs = outcome.config, outcome.ref["inputs"]
    ph, pw = cfg["padding"]
    xp = Tensor(np.pad(inputs["x"], ((0, 0), (0, 0), (ph, ph), (pw, pw))), requires_grad=True)
    if runner.setup.spec.like == "pad":
        return outcome.ref["dout"]
    w = Tensor(inputs["w"])
    b = None if inputs["b"] is None else Tensor(inputs["b"])
    out = F.conv2d(xp, w, b, cfg["stride"], 0, cfg["dilation"], cfg["groups"])
    return grad(out, [xp], Tensor(outcome.ref["dout"]))[0].numpy()


def wrong_side(runner: Runner, outcome: Outcome) -> list[str]:
    """dx cut out of the padded input's gradient at another offset (or another size) than [p:p + H]."""
    got = _got(outcome, "dx")
    cfg = outcome.config
    if got is None or got.ndim != 4 or isinstance(cfg.get("padding"), str) or cfg.get("padding") == (0, 0):
        return []
    got = runner.setup.layouts.from_user("image", got)
    dxp = _padded_grad(runner, outcome)
    (ph, pw), (h, w) = cfg["padding"], cfg["sides"]
    gh, gw = got.shape[2:]
    if got.shape[:2] != dxp.shape[:2]:
        return []
    for oy in range(dxp.shape[2] - gh + 1):
        for ox in range(dxp.shape[3] - gw + 1):
            if (oy, ox, gh, gw) != (ph, pw, h, w) and _close(got, dxp[:, :, oy:oy + gh, ox:ox + gw]):
                return [f"dx is the padded input's gradient cut at rows {oy}:{oy + gh}, columns {ox}:{ox + gw}; "
                        f"it should be rows {ph}:{ph + h}, columns {pw}:{pw + w}: padding removed from the wrong side"]
    return []


def coverage(cfg: dict) -> np.ndarray | None:
    """How many windows cover each input position (H, W), or None when the geometry is not a plain window."""
    if cfg.get("ceil_mode") or isinstance(cfg.get("padding"), str):
        return None
    x = Tensor(np.ones((1, 1) + tuple(cfg["sides"])), requires_grad=True)
    out = F.conv2d(x, Tensor(np.ones((1, 1) + tuple(cfg["kernel_size"]))), None, cfg["stride"], cfg["padding"],
                   cfg.get("dilation", (1, 1)))
    return grad(out.sum(), [x])[0].numpy()[0, 0]


def overlap(outcome: Outcome) -> list[str]:
    """dx wrong only at inputs that lie in two or more windows: overlapping windows overwrite."""
    if "dx" not in outcome.user or "dx" not in outcome.wrong:
        return []
    cov = coverage(outcome.config)
    if cov is None or cov.max() < 2:
        return []
    bad = ~np.isclose(outcome.user["dx"], outcome.ref["dx"], rtol=1e-5, atol=1e-7).any(axis=(0, 1))
    if bad.any() and (cov[bad] >= 2).all():
        return ["dx is wrong only where windows overlap (inputs in 2 or more windows): the gradients of "
                "overlapping windows must add up (+=), not overwrite each other"]
    return []


def _conv(runner: Runner, outcome: Outcome) -> list[str]:
    found: list[str] = []
    cfg, ref = outcome.config, outcome.ref
    if "out" in outcome.wrong and "out" in outcome.user and cfg["bias"]:
        diff = outcome.user["out"] - ref["out"]
        per = diff / ref["inputs"]["b"].reshape(1, -1, 1, 1)
        m = float(np.median(per))
        n = cfg["in_channels"] // cfg["groups"] * cfg["kernel_size"][0] * cfg["kernel_size"][1]
        if np.allclose(per, m, atol=1e-6) and abs(m - (n - 1)) < 1e-6 and n > 1:
            found.append(f"error scales with C·kh·kw: the bias is added once per window element (C·kh·kw = {n} "
                         "times), not once per output")
        elif np.allclose(per, -1.0, atol=1e-6):
            found.append("out is missing the bias")
    if cfg["padding"] == "same" and any(k % 2 == 0 for k in cfg["kernel_size"]) and outcome.wrong:
        found.append("PyTorch's 'same' pads an even kernel asymmetrically: the extra row and "
                     "column of zeros go at the bottom and right")
    found += sum_axes(runner, outcome, "db", runner.setup.layouts.axis("image", "C"))
    found += wrong_side(runner, outcome)
    return found + overlap(outcome)


def _max_pool(runner: Runner, outcome: Outcome) -> list[str]:
    found = []
    if "dx" in outcome.user and "dx" in outcome.wrong and not outcome.config.get("ties"):
        stray = (outcome.user["dx"] != 0) & (outcome.ref["dx"] == 0)
        if stray.any():
            found.append(f"dx is nonzero at {int(stray.sum())} inputs that are not their window's maximum: the mask "
                         "must mark where the input x is each window's maximum")
    return found + overlap(outcome)


def _avg_pool(runner: Runner, outcome: Outcome) -> list[str]:
    kh, kw = outcome.config["kernel_size"]

    def explain(name: str, r: float) -> str | None:
        if abs(r - kh * kw) < 1e-6:
            what = "the gradient is not divided by" if name == "dx" else "the window sum is not divided by"
            return f"{name} is kh·kw = {kh * kw} times too large: {what} the window size"
        return None

    return _ratio_sentences(outcome, ("out", "dx"), explain) + overlap(outcome)


def _linear(runner: Runner, outcome: Outcome) -> list[str]:
    found = sum_axes(runner, outcome, "db", 1, "feature")
    got = _got(outcome, "dw")
    expected = runner.to_user("weight", outcome.ref["dw"])
    if got is not None and got.shape == expected.T.shape and _close(got, expected.T):
        found.append(f"dw is the transpose of the expected gradient: with weight_layout={runner.setup.layouts.weight!r}"
                     f" dw has w's shape {expected.shape}")
    return found


def _softmax(runner: Runner, outcome: Outcome) -> list[str]:
    if "dx" not in outcome.user or "dx" not in outcome.wrong:
        return []
    s, dout = outcome.ref["out"], outcome.ref["dout"]
    if _close(outcome.user["dx"], dout * s * (1 - s)):
        return ["dx equals dout·s·(1 − s): the softmax Jacobian's off-diagonal terms (−s_i·s_j) are missing"]
    return []


def _batch_norm(runner: Runner, outcome: Outcome) -> list[str]:
    found = []
    x, gamma = outcome.ref["inputs"]["x"], outcome.ref["inputs"]["gamma"]
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    var = x.var(axis=axes, keepdims=True)
    if "out" in outcome.wrong and "out" in outcome.user:
        unbiased = x.var(axis=axes, ddof=1, keepdims=True)
        beta = outcome.ref["inputs"]["beta"].reshape(shape)
        alt = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(unbiased + 1e-5) * gamma.reshape(shape) + beta
        if _close(outcome.user["out"], alt):
            found.append("out uses the unbiased variance (dividing by N − 1); batch norm in training normalises "
                         "with the biased one (dividing by N)")
    if "dx" in outcome.wrong and "dx" in outcome.user:
        if _close(outcome.user["dx"], outcome.ref["dout"] * gamma.reshape(shape) / np.sqrt(var + 1e-5)):
            found.append("dx equals dout·γ/σ: the gradient through the batch mean and variance is missing")
    return found


def _loss(runner: Runner, outcome: Outcome) -> list[str]:
    n, size = outcome.config["batch"], outcome.ref["inputs"]["x"].size

    def explain(name: str, r: float) -> str | None:
        if runner.setup.spec.like == "mse_loss" and name == "dx" and abs(r - 0.5) < 1e-9:
            return "dx is half the expected: the derivative of (x − y)² is 2(x − y)"
        for value, what in ((n, "N"), (size, "the number of elements")):
            if value > 1 and abs(r - value) < 1e-6 * value:
                return f"{name} is {what} = {value} times too large: the mean's division is missing"
            if value > 1 and abs(r - 1 / value) < 1e-9:
                return f"{name} is divided by {what} = {value} once too often"
        return None

    return _ratio_sentences(outcome, ("out", "dx"), explain)


PATTERNS: dict[str, Callable[[Runner, Outcome], list[str]]] = {
    "conv2d": _conv, "max_pool2d": _max_pool, "avg_pool2d": _avg_pool, "pad": wrong_side, "linear": _linear,
    "softmax": _softmax, "batch_norm": _batch_norm, "mse_loss": _loss, "binary_cross_entropy": _loss,
    "cross_entropy": _loss,
}

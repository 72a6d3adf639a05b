"""One converter per recorded op: the ONNX nodes that compute a tinygrad_cnn node's output from
its inputs' values. A converter gets the export context, the tensor the node made and the node."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

_UNARY = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "exp": "Exp", "log": "Log", "sqrt": "Sqrt",
          "neg": "Neg", "abs": "Abs", "clone": "Identity", "softplus": "Softplus"}
_BINARY = {"add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div", "matmul": "MatMul", "maximum": "Max",
           "minimum": "Min"}


def _pads(geo: Any) -> list[int]:
    """ONNX's order (top, left, bottom, right) of a geometry's (top, bottom, left, right)."""
    pt, pb, pl, pr = geo.pads
    return [pt, pl, pb, pr]


def _conv(ctx: Any, t: Any, node: Any) -> list:
    geo = node.meta["geo"]
    if min(geo.pads) < 0:
        raise ctx.unsupported(node, "negative padding")
    return [ctx.node("Conv", [ctx.name(p) for p in node.parents], t, kernel_shape=list(geo.kernel),
                     strides=list(geo.stride), pads=_pads(geo), dilations=list(geo.dilation), group=geo.groups)]


def _max_pool(ctx: Any, t: Any, node: Any) -> list:
    geo = node.meta["geo"]
    # ceil_mode's extra rows are in the bottom/right pads: ONNX pads a max pool with -inf, as PyTorch
    return [ctx.node("MaxPool", [ctx.name(node.parents[0])], t, kernel_shape=list(geo.kernel),
                     strides=list(geo.stride), pads=_pads(geo), dilations=list(geo.dilation))]


def _avg_pool(ctx: Any, t: Any, node: Any) -> list:
    geo, meta = node.meta["geo"], node.meta
    (ph, pw), (_, pb, _, pr) = geo.padding, geo.pads
    if meta.get("divisor_override") is not None or pb > ph or pr > pw:  # pads past the user's: ceil_mode
        raise ctx.unsupported(node, "avg_pool2d with divisor_override or ceil_mode has no ONNX AveragePool")
    return [ctx.node("AveragePool", [ctx.name(node.parents[0])], t, kernel_shape=list(geo.kernel),
                     strides=list(geo.stride), pads=_pads(geo),
                     count_include_pad=int(bool(meta.get("count_include_pad", True))))]


def _linear(ctx: Any, t: Any, node: Any) -> list:
    x = node.parents[0]
    names = [ctx.name(p) for p in node.parents]
    if x.ndim == 2:
        return [ctx.node("Gemm", names, t, transB=1)]
    wt = ctx.temp("linear_wT")
    nodes = [ctx.raw("Transpose", [names[1]], [wt], perm=[1, 0])]
    if len(names) == 2:
        return nodes + [ctx.node("MatMul", [names[0], wt], t)]
    product = ctx.temp("linear_xwT")
    return nodes + [ctx.raw("MatMul", [names[0], wt], [product]), ctx.node("Add", [product, names[2]], t)]


def _reshape(ctx: Any, t: Any, node: Any) -> list:
    x = node.parents[0]
    shape = list(t.shape)
    if ctx.dynamic_batch(x) and shape and x.shape and shape[0] == x.shape[0]:
        shape[0] = 0  # ONNX: copy the input's (symbolic) batch size
    return [ctx.node("Reshape", [ctx.name(x), ctx.constant(np.array(shape, dtype=np.int64))], t)]


def _softmax(op: str) -> Callable:
    def convert(ctx: Any, t: Any, node: Any) -> list:
        return [ctx.node(op, [ctx.name(node.parents[0])], t, axis=int(node.meta["dim"]))]
    return convert


def _simple(op: str) -> Callable:
    def convert(ctx: Any, t: Any, node: Any) -> list:
        return [ctx.node(op, [ctx.name(p) for p in node.parents], t)]
    return convert


def _sum(ctx: Any, t: Any, node: Any) -> list:
    x = node.parents[0]
    axes = ctx.constant(np.array(node.meta["axes"], dtype=np.int64), "axes")
    return [ctx.node("ReduceSum", [ctx.name(x), axes], t, keepdims=int(bool(node.meta["keepdim"])))]


def _conv_transpose(ctx: Any, t: Any, node: Any) -> list:
    geo = node.meta["geo"]
    pt, pb, pl, pr = geo.pads
    # PyTorch's output_padding lowers the bottom/right pad; below 0 it is ONNX's output_padding
    extra = [max(-pb, 0), max(-pr, 0)]
    attrs = dict(kernel_shape=list(geo.kernel), strides=list(geo.stride), pads=[pt, pl, max(pb, 0), max(pr, 0)],
                 dilations=list(geo.dilation), group=geo.groups)
    names = [ctx.name(p) for p in node.parents]
    if all(e < s for e, s in zip(extra, geo.stride)):
        return [ctx.node("ConvTranspose", names, t, output_padding=extra, **attrs)]
    # ONNX Runtime wants output_padding below the stride (PyTorch: below the stride or the dilation):
    # the extra rows and columns, which no window reaches, are zeros plus the bias
    raw, padded = ctx.temp("conv_transpose"), ctx.temp("padded")
    nodes = [ctx.raw("ConvTranspose", names[:2], [raw], **attrs),
             ctx.raw("Pad", [raw, ctx.constant(np.array([0, 0, 0, 0, 0, 0] + extra, dtype=np.int64), "pads")],
                     [padded])]
    if len(names) == 2:
        return nodes + [ctx.node("Identity", [padded], t)]
    bias = ctx.temp("bias")
    shape = ctx.constant(np.array([1, -1, 1, 1], dtype=np.int64), "shape")
    return nodes + [ctx.raw("Reshape", [names[2], shape], [bias]), ctx.node("Add", [padded, bias], t)]


def _pad(ctx: Any, t: Any, node: Any) -> list:
    x, widths = node.parents[0], node.meta["pad"]
    begin, end = [0] * x.ndim, [0] * x.ndim
    for k in range(len(widths) // 2):  # PyTorch's order: the last axis first, (before, after) each
        begin[x.ndim - 1 - k], end[x.ndim - 1 - k] = widths[2 * k], widths[2 * k + 1]
    value = ctx.constant(np.array(node.meta.get("value", 0.0), dtype=x.dtype), "pad_value")
    return [ctx.node("Pad", [ctx.name(x), ctx.constant(np.array(begin + end, dtype=np.int64), "pads"), value], t)]


def _getitem(ctx: Any, t: Any, node: Any) -> list:
    """Basic slices, ints and one 1-D integer array, one axis at a time (Slice and Gather)."""
    x, idx = node.parents[0], node.meta["index"]
    idx = idx if isinstance(idx, tuple) else (idx,)
    arrays = [i for i in idx if not isinstance(i, (slice, int, np.integer))]
    if len(arrays) > 1 or any(np.ndim(i) != 1 or np.asarray(i).dtype.kind not in "iu" for i in arrays):
        raise ctx.unsupported(node, "an index other than slices, ints and one 1-D integer array")
    nodes, current, axis = [], ctx.name(x), 0
    for i, item in enumerate(idx):
        last = i == len(idx) - 1
        out = ctx.output_name(t, "getitem") if last else ctx.temp("index")
        n = x.shape[i]
        if isinstance(item, slice):
            start, stop, step = item.indices(n)
            axis += 1
            if (start, stop, step) == (0, n, 1) and not last:
                continue  # the whole axis (a symbolic batch stays whole)
            if step > 0 and stop == n:
                stop = np.iinfo(np.int64).max  # to the end, whatever the size at run time
            elif step < 0 and stop < 0:
                stop = np.iinfo(np.int64).min  # down to the first element (ONNX reads -1 as the last)
            consts = [ctx.constant(np.array([v], dtype=np.int64), "slice") for v in (start, stop, axis - 1, step)]
            nodes.append(ctx.raw("Slice", [current] + consts, [out]))
        else:
            where = np.asarray(item.numpy() if hasattr(item, "numpy") else item, dtype=np.int64) % n
            nodes.append(ctx.raw("Gather", [current, ctx.constant(where, "index")], [out], axis=axis))
            axis += 0 if np.ndim(where) == 0 else 1
        current = out
    return nodes or [ctx.node("Identity", [current], t)]


def _permute(ctx: Any, t: Any, node: Any) -> list:
    return [ctx.node("Transpose", [ctx.name(node.parents[0])], t, perm=[int(d) for d in node.meta["dims"]])]


def _cat(ctx: Any, t: Any, node: Any) -> list:
    return [ctx.node("Concat", [ctx.name(p) for p in node.parents], t, axis=int(node.meta["dim"]))]


def _leaky_relu(ctx: Any, t: Any, node: Any) -> list:
    return [ctx.node("LeakyRelu", [ctx.name(node.parents[0])], t, alpha=float(node.meta["negative_slope"]))]


def _astype(ctx: Any, t: Any, node: Any) -> list:
    from onnx import helper

    return [ctx.node("Cast", [ctx.name(node.parents[0])], t, to=helper.np_dtype_to_tensor_dtype(t.dtype))]


CONVERTERS: dict[str, Callable] = {
    "conv2d": _conv, "max_pool2d": _max_pool, "avg_pool2d": _avg_pool, "linear": _linear, "reshape": _reshape,
    "softmax": _softmax("Softmax"), "log_softmax": _softmax("LogSoftmax"), "permute": _permute, "cat": _cat,
    "leaky_relu": _leaky_relu, "astype": _astype, "sum": _sum, "conv_transpose2d": _conv_transpose, "pad": _pad,
    "getitem": _getitem,
    **{name: _simple(op) for name, op in {**_UNARY, **_BINARY}.items()},
}

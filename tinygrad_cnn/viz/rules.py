"""Each op's backward rule, in words and math, for the pages that step through backward: what the
closure of the op's node does with the incoming gradient ``g``. One entry per name that
``make_op`` records (``tests/viz/test_rules.py`` keeps the table complete)."""
from __future__ import annotations

__all__ = ["RULES", "rule_of"]

_SHAPE = "summed back to each input's shape where it was broadcast"

RULES: dict[str, str] = {
    # elementwise
    "add": f"da = g, db = g ({_SHAPE})",
    "sub": f"da = g, db = −g ({_SHAPE})",
    "mul": f"da = g·b, db = g·a ({_SHAPE})",
    "div": f"da = g / b, db = −g·a / b² ({_SHAPE})",
    "neg": "dx = −g",
    "exp": "dx = g·exp(x), the output times g",
    "log": "dx = g / x",
    "sqrt": "dx = g / (2·√x)",
    "pow": "da = g·b·a^(b−1), db = g·a^b·ln a (0 where PyTorch's formulas meet 0·∞)",
    "abs": "dx = g·sign(x)",
    "clip": "dx = g where min ≤ x ≤ max, 0 where x was clipped",
    "maximum": "g goes to the larger input; at a tie each gets g / 2",
    "minimum": "g goes to the smaller input; at a tie each gets g / 2",
    "where": "dx = g where the condition holds, dy = g where it does not",
    "floor_divide": "no gradient: ⌊a / b⌋ is constant almost everywhere",
    "remainder": "da = g, db = −g·⌊a / b⌋ (a mod b = a − b·⌊a / b⌋)",
    # activations
    "relu": "dx = g where x > 0, else 0",
    "leaky_relu": "dx = g where x > 0, else slope·g",
    "sigmoid": "dx = g·s·(1 − s), with s = sigmoid(x), the output",
    "tanh": "dx = g·(1 − y²), with y = tanh(x), the output",
    "softplus": "dx = g·sigmoid(x)",
    "softmax": "dx = s·(g − Σ g·s) along dim, with s the output",
    "log_softmax": "dx = g − softmax(x)·Σ g along dim",
    # reductions
    "sum": "dx = g copied back over the summed axes",
    "max": "dx = g at each slice's largest element; tied largest elements share it evenly",
    "min": "dx = g at each slice's smallest element; tied smallest elements share it evenly",
    "norm": "dx = g·x / ‖x‖ for p = 2; g·sign(x)·(|x| / ‖x‖)^(p−1) for any p (0 at x = 0)",
    # products
    "matmul": "da = g @ bᵀ, db = aᵀ @ g",
    "linear": "dx = g @ W, dW = gᵀ @ x, db = Σ g over the batch",
    # convolution: three primitives that close under differentiation
    "conv2d": "dx = conv_transpose2d(g, w), dw = conv2d_weight(x, g) (the correlation of x and g), "
              "db = Σ g over N, H, W",
    "conv_transpose2d": "dy = conv2d(g, w), dw = conv2d_weight(g, y), db = Σ g over N, H, W",
    "conv2d_weight": "dx = conv_transpose2d(y, g), dy = conv2d(x, g)",
    "conv_bias_grad": "dg = the gradient copied back over N, H, W",
    # pooling and its primitives
    "max_pool2d": "dx = g routed to each window's maximum (the first at a tie), 0 elsewhere; overlapping "
                  "windows add",
    "avg_pool2d": "dx = g divided by the window's size, spread over each window; overlapping windows add",
    "pool_pick": "dx = pool_place(g): each window's gradient goes back to the element it picked",
    "pool_place": "dg = pool_pick(...): each window reads the gradient at the element it placed",
    "window_sum": "dx = window_fold(g): each window's gradient added back over its elements",
    "window_fold": "dg = window_sum(...): each window's gradient summed over its elements",
    # normalisation and losses
    "batch_norm": "dx = (γ/σ)·(g − mean(g) − x̂·mean(g·x̂)), dγ = Σ g·x̂, dβ = Σ g (over every axis but C)",
    "binary_cross_entropy": "dp = g·(p − t) / max(p·(1 − p), 10⁻¹²), dt = g·(log(1 − p) − log p)",
    # shapes and indexing
    "reshape": "dx = g reshaped back to x's shape",
    "permute": "dx = g with the axes put back in their order",
    "expand": "dx = g summed over the expanded axes",
    "astype": "dx = g cast back to x's dtype",
    "clone": "dx = g",
    "pad": "dx = g with the padding cut off",
    "cat": "each input gets its slice of g",
    "getitem": "dx = zeros with g added at the indexed positions (repeated indices add)",
    "gather": "dx = zeros with g added at the gathered indices (scatter_add)",
    "scatter_add": "dx = g, dsrc = g gathered at the indices",
    "index_add": "dx = g, dsrc = g at the indexed rows",
    "index_put": "dx = g with the written positions zeroed, dv = g at those positions (summed to v's shape)",
}


def rule_of(name: str) -> str:
    """The backward rule of the op ``name`` records; a user's ``Function`` has its own.

    >>> print(rule_of("relu"))
    dx = g where x > 0, else 0
    """
    return RULES.get(name, "a user-defined Function: its backward as written")

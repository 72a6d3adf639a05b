"""Pictures of computation graphs (forward and backward), a step-by-step backward page, and
gradient-flow plots.

>>> from tinygrad_cnn import Tensor
>>> x = Tensor([1.0, 2.0], requires_grad=True)
>>> "digraph" in to_dot((x * x).sum())
True
"""
from .graph import (VANISHING, DotNotFoundError, dot_available, draw_graph, graph_tensors, retain_grads,
                    to_dot)
from .flow import GradFlow, layer_grad_norms, plot_grad_flow
from .trace import BackwardTrace, trace_backward

__all__ = ["to_dot", "draw_graph", "dot_available", "retain_grads", "graph_tensors", "trace_backward",
           "BackwardTrace", "DotNotFoundError", "VANISHING", "plot_grad_flow", "layer_grad_norms", "GradFlow"]

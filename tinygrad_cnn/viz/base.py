"""What the graph pictures share: Graphviz's presence, the graph walk and its node ids, labels."""
from __future__ import annotations

import shutil
from typing import Any

import graphviz

from ..tensor import Tensor

RANKDIRS = ("TB", "LR", "BT", "RL")
_MAX_NAME = 40


def dot_available() -> bool:
    """Whether Graphviz's ``dot`` program (needed to render, not for DOT source) is installed."""
    return shutil.which("dot") is not None


class DotNotFoundError(RuntimeError):
    """Graphviz's ``dot`` program is needed to render a picture and is not installed."""


def require_dot(who: str) -> None:
    """Raise :class:`DotNotFoundError`, saying how to install Graphviz, when ``dot`` is missing."""
    if not dot_available():
        raise DotNotFoundError(
            f"{who}: rendering needs Graphviz's 'dot' program, which is not on PATH. Install it: Debian/Ubuntu "
            "'sudo apt-get install graphviz', macOS 'brew install graphviz', conda 'conda install -c conda-forge "
            "graphviz', Windows 'winget install graphviz' (or the installer from graphviz.org, then add its bin "
            "folder to PATH); check with 'dot -V'. DOT source (viz.to_dot) needs no program.")


class Graph(graphviz.Digraph):
    """A ``graphviz.Digraph`` whose rendering calls say how to install Graphviz when ``dot`` is missing."""

    def render(self, *args: Any, **kwargs: Any) -> Any:
        require_dot("render")
        return super().render(*args, **kwargs)

    def pipe(self, *args: Any, **kwargs: Any) -> Any:
        require_dot("pipe")
        return super().pipe(*args, **kwargs)

    def view(self, *args: Any, **kwargs: Any) -> Any:
        require_dot("view")
        return super().view(*args, **kwargs)

    def _repr_mimebundle_(self, *args: Any, **kwargs: Any) -> Any:
        require_dot("display")
        return super()._repr_mimebundle_(*args, **kwargs)


def node_ids(tensors: list[Tensor]) -> dict[int, str]:
    """The DOT node id of each tensor of :func:`graph_tensors` (also the SVG element ids)."""
    return {id(t): f"t{i}" for i, t in enumerate(tensors)}


def _roots(root: Any) -> list[Tensor]:
    roots = list(root) if isinstance(root, (list, tuple)) else [root]
    if not roots:
        raise ValueError("to_dot: root must be a Tensor or a non-empty list of Tensors")
    for r in roots:
        if not isinstance(r, Tensor):
            raise ValueError(f"to_dot: root must be a Tensor (or a list of them), got {type(r).__name__}")
    return roots


def graph_tensors(root: Any) -> list[Tensor]:
    """Every tensor in the graph of ``root``, each once, outputs before inputs (iterative walk).

    >>> x = Tensor([1.0], requires_grad=True)
    >>> len(graph_tensors((x * 2).exp()))  # exp, mul, x and the constant 2
    4
    """
    seen: set[int] = set()
    order: list[Tensor] = []
    stack = list(reversed(_roots(root)))
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        order.append(t)
        if t.grad_fn is not None:
            stack.extend(reversed(t.grad_fn.parents))
    return order


def retain_grads(root: Any) -> None:
    """Ask every op output in the graph to keep its gradient, so that ``show_grad`` after
    ``backward()`` can show intermediate gradients too (leaves keep theirs anyway).

    >>> x = Tensor([1.0, 2.0], requires_grad=True)
    >>> y = x * 3
    >>> retain_grads(y.sum()); y.sum().backward(); y.grad.tolist()
    [1.0, 1.0]
    """
    for t in graph_tensors(root):
        if t.grad_fn is not None:
            t.retain_grad()


def _short(text: str) -> str:
    return text if len(text) <= _MAX_NAME else text[:_MAX_NAME - 1] + "…"


def _shape(shape: tuple) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")"


def _param_names(params: Any) -> tuple[dict[int, str], dict[int, str]]:
    """id(tensor) -> parameter name, and id(module) -> dotted module name."""
    if params is None:
        return {}, {}
    if isinstance(params, dict):
        names = {}
        for k, v in params.items():
            if not isinstance(v, Tensor):
                raise ValueError(f"to_dot: params[{k!r}] must be a Tensor, got {type(v).__name__}")
            names[id(v)] = str(k)
        return names, {}
    if hasattr(params, "named_parameters") and hasattr(params, "named_modules"):
        return ({id(p): n for n, p in params.named_parameters()},
                {id(m): n for n, m in params.named_modules() if n})
    raise ValueError(f"to_dot: params must be a Module or a dict of name -> Tensor, got {type(params).__name__}")

"""Graph pictures: DOT structure, names, colours, rendering (when `dot` exists), bad arguments."""
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor, nn, viz

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' program not installed")


def small_graph():
    w = Tensor(np.array([[1.0, -2.0], [0.5, 3.0]], np.float32), requires_grad=True)
    x = Tensor(np.ones((1, 2), np.float32), name="x")
    loss = (x @ w).relu().sum()
    return loss, w


def _nodes_edges(dot):
    nodes = [line for line in dot.splitlines() if "[label=" in line and "->" not in line]
    edges = [line for line in dot.splitlines() if "->" in line]
    return nodes, edges


def test_dot_structure_counts_labels_and_names():
    loss, w = small_graph()
    dot = viz.to_dot(loss, params={"weight": w})
    nodes, edges = _nodes_edges(dot)
    assert len(nodes) == 5  # x, weight, matmul, relu, sum
    assert len(edges) == 4
    assert "weight" in dot and "requires_grad" in dot and "matmul" in dot and "(1, 2) float32" in dot
    assert dot.startswith("digraph")


def test_conv_and_pool_nodes_show_their_arguments():
    model = nn.LeNet5()
    loss = tc.nn.functional.cross_entropy(model(Tensor(np.zeros((2, 1, 28, 28), np.float32))), tc.tensor([1, 2]))
    dot = viz.to_dot(loss, params=model, clusters=True)
    assert "conv2d 5x5 s1 p2" in dot and "max_pool2d 2x2 s2 p0" in dot
    assert "conv1.weight" in dot and "fc3.bias" in dot
    assert 'subgraph "cluster_conv1"' in dot or "subgraph cluster_conv1" in dot
    assert "label=conv1" in dot.replace('"', "")


def test_show_grad_and_vanishing_and_nan_colours():
    loss, w = small_graph()
    viz.retain_grads(loss)
    loss.backward()
    dot = viz.to_dot(loss, params={"weight": w}, show_grad=True, show_values=True)
    assert "grad (2, 2) norm" in dot and "min " in dot
    zero = Tensor(np.ones(3, np.float32), requires_grad=True)
    (zero * 0.0).sum().backward()
    assert viz.VANISHING > 0 and "#ffcc80" in viz.to_dot(zero, show_grad=True)
    with np.errstate(invalid="ignore"):
        bad = Tensor([-1.0], requires_grad=True).log()
    dot = viz.to_dot(bad)
    assert "NaN/inf!" in dot and "#ff8a80" in dot


def test_labels_are_escaped_and_shortened():
    t = Tensor([1.0], requires_grad=True, name='evil "name" ' + "x" * 100)
    dot = viz.to_dot(t * 2)
    assert '\\"name\\"' in dot and "…" in dot


def test_bad_arguments():
    with pytest.raises(ValueError, match="to_dot: root must be a Tensor"):
        viz.to_dot(np.ones(3))
    loss, _ = small_graph()
    with pytest.raises(ValueError, match="rankdir must be one of"):
        viz.to_dot(loss, rankdir="XY")
    with pytest.raises(ValueError, match="params must be a Module or a dict"):
        viz.to_dot(loss, params=[1])


def test_large_graph_produces_dot():
    x = Tensor(np.ones(2, np.float32), requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    dot = viz.to_dot(y)
    assert dot.count("->") == 10000  # each mul: the previous value and the constant


@needs_dot
def test_rendered_svg_has_expected_node_titles(tmp_path):
    loss, w = small_graph()
    out = viz.draw_graph(loss, params={"weight": w}).render(outfile=str(tmp_path / "g.svg"), cleanup=True)
    root = ET.parse(out).getroot()
    ns = {"svg": "http://www.w3.org/2000/svg"}
    titles = {t.text for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "node"
              for t in g.findall("svg:title", ns)}
    assert titles == {"t0", "t1", "t2", "t3", "t4"}
    texts = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "weight" in texts and "matmul" in texts


def test_a_loss_is_one_box_with_its_name_unless_expanded() -> None:
    import tinygrad_cnn as tc
    from tinygrad_cnn import nn
    from tinygrad_cnn.viz import to_dot

    model = nn.Sequential(nn.Linear(3, 2))
    loss = nn.functional.cross_entropy(model(tc.randn(4, 3)), tc.tensor([0, 1, 1, 0]))
    boxed = to_dot(loss, params=model)
    assert 'label="cross_entropy\\n(4, 2) → ()"' in boxed and "log_softmax" not in boxed
    assert "target weights" not in boxed  # the loss's own constant is inside its box
    opened = to_dot(loss, params=model, expand=True)
    assert "log_softmax" in opened and "cross_entropy" not in opened
    mse = nn.functional.mse_loss(model(tc.randn(4, 3)), tc.randn(4, 2))
    assert 'label="mse_loss\\n(4, 2), (4, 2) → ()"' in to_dot(mse)

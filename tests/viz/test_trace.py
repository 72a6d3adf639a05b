"""trace_backward: one step per engine step, accumulation at fan-out, the page (parsed, and run
in a headless browser when Chromium is installed), and Graphviz missing."""
from __future__ import annotations

import html.parser
import json
import re
import shutil
import subprocess

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor, nn, viz
from tinygrad_cnn.engine import _topo_order
from tinygrad_cnn.viz.graph import graph_tensors, node_ids

needs_dot = pytest.mark.skipif(not viz.dot_available(), reason="Graphviz's dot is not installed")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def _lenet_loss(batch: int = 3) -> tuple:
    tc.manual_seed(0)
    model = nn.LeNet5()
    x = tc.randn(batch, 1, 28, 28)
    return model, F.cross_entropy(model(x), Tensor(np.arange(batch) % 10))


def test_one_step_per_engine_step_in_the_engines_order() -> None:
    model, loss = _lenet_loss()
    ids = node_ids(graph_tensors(loss))
    engine_order = [ids[id(t)] for t in reversed(_topo_order([loss]))]
    trace = viz.trace_backward(loss, params=model)
    # the loss's three ops are one cross_entropy box in the picture: their steps highlight it
    assert [s["node"] for s in trace.steps[:3]] == ["m0"] * 3 and trace.steps[3]["op"] == "linear"
    assert [s["node"] for s in trace.steps[3:]] == engine_order[3:]
    assert [s["op"] for s in trace.steps[:3]] == ["sum", "mul", "log_softmax"]
    assert trace.steps[0]["op"] == "sum" and trace.steps[0]["grad"]["norm"] == 1.0
    leaves = [s for s in trace.steps if s["kind"] == "leaf"]
    assert sorted(s["label"] for s in leaves) == sorted(n for n, _ in model.named_parameters())
    assert all(s["op"] == "AccumulateGrad" and not s["handed"] for s in leaves)


def test_gradients_are_those_of_a_plain_backward() -> None:
    model, loss = _lenet_loss()
    viz.trace_backward(loss, params=model)
    twin, loss2 = _lenet_loss()
    loss2.backward()
    for (name, p), (_, q) in zip(model.named_parameters(), twin.named_parameters()):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy(), err_msg=name)
    step = next(s for s in viz.trace_backward(_lenet_loss()[1]).steps if s["op"] == "conv2d")
    assert step["grad"]["shape"] == [3, 16, 10, 10]


def test_accumulation_at_a_fan_out_node() -> None:
    """x is used three times (twice by one mul, once by exp): three contributions, summed in order."""
    x = Tensor(np.array([0.5, -1.0]), requires_grad=True)
    trace = viz.trace_backward((x * x + x.exp()).sum(), params={"x": x})
    contributions = [(s["op"], h) for s in trace.steps for h in s["handed"] if h["label"] == "x"]
    handed = [h for _, h in contributions]
    assert [h["contribution"] for h in handed] == [1, 2, 3] and all(h["of"] == 3 for h in handed)
    # exp hands exp(x) on, mul hands the other factor, x, to each of its two inputs
    running = np.cumsum([np.exp(x.numpy()) if op == "exp" else x.numpy() for op, _ in contributions], axis=0)
    assert "running" not in handed[0]
    for h, r in zip(handed[1:], running[1:]):
        assert h["running"]["norm"] == pytest.approx(float(np.linalg.norm(r)))
    leaf = trace.steps[-1]
    assert leaf["op"] == "AccumulateGrad" and leaf["contributions"] == 3
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy() + np.exp(x.numpy()))


def test_errors() -> None:
    x = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="implicitly created only for scalar outputs"):
        viz.trace_backward(x * 2)
    with pytest.raises(RuntimeError, match="does not require grad"):
        viz.trace_backward(Tensor(np.ones(1)))
    t = viz.trace_backward(x * 2, gradient=np.ones(3))
    assert len(t) == 2 and x.grad.tolist() == [2.0, 2.0, 2.0]


class _Parts(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[str] = []
        self.script_src: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)
        for k, v in attrs:
            if k in ("src", "href", "xlink:href", "action") and v:
                self.urls.append(v)
            if tag == "script" and k == "src":
                self.script_src.append(v)


@needs_dot
def test_page_is_self_contained_with_one_step_per_engine_step(tmp_path) -> None:
    model, loss = _lenet_loss()
    trace = viz.trace_backward(loss, params=model)
    assert trace.to_html(tmp_path / "steps.html") == str(tmp_path / "steps.html")  # the path, not the page
    page = trace.to_html()
    assert (tmp_path / "steps.html").read_text(encoding="utf-8") == page
    parts = _Parts()
    parts.feed(page)
    assert parts.tags.count("svg") == 1 and not parts.script_src
    assert not [u for u in parts.urls if re.match(r"(https?:)?//", u)], parts.urls
    assert "<link" not in page and "@import" not in page and not re.search(r"url\(\s*['\"]?(https?:)?//", page)
    data = re.search(r'<script type="application/json" id="steps-data">(.*?)</script>', page, flags=re.S)
    assert data is not None and len(json.loads(data.group(1))) == len(trace) == len(trace.steps)
    for s in trace.steps:  # every step's node is an element of the SVG
        assert f'id="{s["node"]}"' in page
    assert "srcdoc=" in trace._repr_html_()


@needs_dot
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian package chromium)")
@pytest.mark.parametrize("k", [0, 7])
def test_page_in_a_headless_browser_opens_at_the_step_in_its_address(tmp_path, k: int) -> None:
    model, loss = _lenet_loss()
    trace = viz.trace_backward(loss, params=model)
    path = tmp_path / "steps.html"
    trace.to_html(path)
    try:
        r = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
                            f"{path.as_uri()}#step={k}"], capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.skip("Chromium did not finish within 120 s on this machine")
    dom = r.stdout
    if "<html" not in dom:  # the browser itself could not run here (a broken page still dumps its DOM)
        pytest.skip(f"Chromium did not start: exit {r.returncode}, {r.stderr.strip()[-300:]}")
    step = trace.steps[k]
    assert f'data-step="{k}"' in dom
    current = re.findall(r'<g id="([^"]+)" class="node[^"]*\bcurrent\b', dom)
    assert current == [step["node"]]
    grad_text = re.search(r'<span id="p-grad">(.*?)</span>', dom).group(1)
    assert grad_text == step["grad"]["text"]
    assert re.search(r'<b id="p-step">(.*?)</b>', dom).group(1) == f"{k + 1} of {len(trace)}"  # from 1 in text
    assert re.search(r'<span id="p-node">(.*?)</span>', dom).group(1) == step["caption"]  # as the picture's box
    if step["kind"] == "op":
        assert re.search(r'<div class="rule" id="p-rule">(.*?)</div>', dom).group(1) == step["rule"].replace(
            "&", "&amp;")
    heats = [step["grad"]["heat"]] + [h["grad"]["heat"] for h in step["handed"]]
    assert dom.count('<canvas class="heat"') == sum(h is not None for h in heats)
    panel = dom[dom.index('<div id="panel">'):]
    assert not re.search(r"\bt\d+\b", re.sub(r"<[^>]+>", "", panel.split("<script")[0]))  # no bare node ids
    done = re.findall(r'<g id="([^"]+)" class="node[^"]*\bdone\b', dom)
    assert sorted(done) == sorted({s["node"] for s in trace.steps[:k]} - {step["node"]})


def test_missing_dot_gives_one_clear_error(monkeypatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    assert not viz.dot_available()
    x = Tensor(np.ones(2), requires_grad=True)
    loss = (x * x).sum()
    assert "digraph" in viz.to_dot(loss)  # DOT source needs no program
    trace = viz.trace_backward(loss)
    with pytest.raises(viz.DotNotFoundError, match=r"apt-get install graphviz.*brew install graphviz.*conda.*winget"):
        trace.to_html()
    with pytest.raises(viz.DotNotFoundError, match="dot -V"):
        viz.draw_graph(loss).render("x", format="svg")
    with pytest.raises(viz.DotNotFoundError):
        viz.draw_graph(loss).pipe(format="svg")


def test_each_op_step_carries_its_rule_its_call_and_heatmaps() -> None:
    model, loss = _lenet_loss()
    trace = viz.trace_backward(loss, params=model)
    conv = [s for s in trace.steps if s["op"] == "conv2d"][-1]  # conv1: the engine reaches it last
    assert conv["rule"].startswith("dx = conv_transpose2d(g, w), dw = conv2d_weight(x, g)")
    assert conv["call"].startswith("conv2d(") and "conv1.weight (6, 1, 5, 5)" in conv["call"]
    assert conv["caption"].startswith("conv2d 5x5 s1 p2 (")
    weight = next(h for h in conv["handed"] if h["caption"].startswith("conv1.weight"))
    assert len(weight["grad"]["heat"]["tiles"]) == 6  # one tile per filter
    assert all(abs(v) <= 9 for tile in weight["grad"]["heat"]["tiles"] for row in tile for v in row)
    leaf = next(s for s in trace.steps if s["kind"] == "leaf")
    assert "rule" not in leaf and leaf["caption"].split()[0] in dict(model.named_parameters())


def test_every_op_the_graph_records_has_a_backward_rule() -> None:
    import ast
    from pathlib import Path

    from tinygrad_cnn.viz.rules import RULES

    root = Path(__file__).resolve().parents[2] / "tinygrad_cnn"
    names = {"maximum", "minimum", "max", "min"}  # recorded under a name passed in
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "make_op" and isinstance(
                    node.args[0], ast.Constant):
                names.add(node.args[0].value)
    assert not names - set(RULES), f"ops without a rule in viz/rules.py: {sorted(names - set(RULES))}"


@needs_dot
def test_the_page_has_a_static_table_for_readers_without_script() -> None:
    x = Tensor(np.ones(2), requires_grad=True)
    trace = viz.trace_backward((x * x).sum())
    assert "dir=back" in trace.dot  # arrows the way gradients flow
    page = trace.to_html()
    table = page[page.index("<noscript>"):page.index("</noscript>")]
    assert table.count("<tr>") == 1 + 3 and "da = g·b, db = g·a" in table

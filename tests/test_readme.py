"""The README's code blocks run as written."""
import os
import re
import shutil
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_readme_has_the_examples():
    assert len(BLOCKS) >= 3


def test_ten_line_example_then_graph_example(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    ns: dict = {}
    exec(BLOCKS[0], ns)
    assert "(4, 1, 3, 3)" in capsys.readouterr().out
    assert len([line for line in BLOCKS[0].strip().splitlines() if line.strip()]) <= 10
    graph_block = next(b for b in BLOCKS if "draw_graph" in b or "to_dot" in b)
    if shutil.which("dot") is None:
        graph_block = graph_block.replace('.render("graph", format="svg")', "")
    exec(graph_block, ns)
    assert "digraph" in capsys.readouterr().out


def test_custom_op_example():
    pytest.importorskip("hypothesis")
    ns: dict = {}
    exec(BLOCKS[1], ns)
    ns["test_softsign"]()


def test_higher_order_example_gives_the_values_in_its_comments():
    block = next(b for b in BLOCKS if "hessian(" in b)
    ns: dict = {}
    exec(block.replace("hessian(lambda", "h = hessian(lambda", 1).replace("hvp(lambda", "p = hvp(lambda", 1), ns)
    assert ns["h"].tolist() == [[6.0, 0.0], [0.0, 12.0]]
    assert ns["p"][0].item() == 9.0 and ns["p"][1].tolist() == [6.0, 12.0]


def test_verified_table_lists_every_registered_op():
    from tinygrad_cnn.ops.registry import REGISTRY

    rows = dict(re.findall(r"^\| `(\w+)` \| (.*) \|$", README, flags=re.M))
    missing = sorted(set(REGISTRY) - set(rows))
    assert not missing, f"ops missing from README's verified table (run `tinygrad-cnn gradcheck --all`): {missing}"
    assert all("FAIL" not in cells for cells in rows.values())


def test_check_your_own_layer_block_prints_the_output_shown(capsys):
    pytest.importorskip("hypothesis")
    block = next(b for b in BLOCKS if "check_layer(" in b)
    shown = re.search(r"```python\n" + re.escape(block) + r"```\n\n```text\n(.*?)```", README, flags=re.S).group(1)
    exec(block, {})
    printed = capsys.readouterr().out

    def mask(text):
        return re.sub(r"\d+ configurations tried, \d+\.\d s", "N configurations tried, T s", text)

    assert mask(printed) == mask(shown)
    assert len([line for line in block.strip().splitlines() if line.strip()]) <= 10


def _importable(*names: str) -> bool:
    import importlib.util

    return all(importlib.util.find_spec(n) is not None for n in names)


def test_every_block_runs_in_order_and_prints_what_it_shows(tmp_path, monkeypatch, capsys):
    """The README read top to bottom as one session: each Python block after the ones above it."""
    pytest.importorskip("hypothesis")
    monkeypatch.chdir(tmp_path)
    ns: dict = {}
    printed = []
    for block in BLOCKS:
        if "onnxruntime" in block and not _importable("onnxruntime", "onnx"):
            printed.append("(8, 10)\n")  # the onnx extra is not installed: the block is not run
            continue
        if shutil.which("dot") is None:
            block = block.replace('.render("graph", format="svg")', "")
            block = block.replace('print(trace.to_html("steps.html"))', "")
        exec(block, ns)
        printed.append(capsys.readouterr().out)
        if "test_softsign" in ns and "def test_softsign" in block:
            ns["test_softsign"]()
    # what the blocks show in their comments
    assert "(4, 1, 3, 3)" in printed[0]
    watch = next(p for b, p in zip(BLOCKS, printed) if "trace.steps[3]" in b).splitlines()
    assert watch[0] == "linear [8, 10]"
    if shutil.which("dot"):
        assert watch[1] == "steps.html" and (tmp_path / "steps.html").stat().st_size > 10_000
    assert next(p for b, p in zip(BLOCKS, printed) if "onnxruntime" in b) == "(8, 10)\n"
    kernels = next(p for b, p in zip(BLOCKS, printed) if "kernels_in_use" in b)
    compiled = _importable("numba") and os.environ.get("TINYGRAD_CNN_KERNELS", "").strip() != "numpy"
    assert kernels == ("['numba']\n" if compiled else "['numpy']\n") + "['numpy']\n"
    fan_out = next(p for b, p in zip(BLOCKS, printed) if "h * h + h" in b)
    shown = re.search(r"h \* h \+ h.*?```\n\n```text\n(.*?)```", README, flags=re.S).group(1)
    assert fan_out == shown

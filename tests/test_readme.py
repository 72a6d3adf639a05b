"""The README's code blocks run as written."""
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
    graph_block = BLOCKS[2]
    if shutil.which("dot") is None:
        graph_block = graph_block.replace('.render("graph", format="svg")', "")
    exec(graph_block, ns)
    assert "digraph" in capsys.readouterr().out


def test_custom_op_example():
    pytest.importorskip("hypothesis")
    ns: dict = {}
    exec(BLOCKS[1], ns)
    ns["test_softsign"]()

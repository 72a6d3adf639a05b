"""The example notebooks run top to bottom in a fresh kernel, each cell giving what a reader
expects: SVG for graphs, HTML for the backward page, PNG for plots, and for check_your_layers the
text its stored outputs show. lenet_mnist needs MNIST (``$TINYGRAD_CNN_DATA``) and is stored
without outputs; the others are stored executed.

Re-record the stored outputs after a change: ``python -m tests.test_notebooks``.
"""
import os
import re
import sys
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "examples" / "notebooks"


def execute(path: Path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=False,  # no timestamps to store
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


def texts(nb) -> list:
    """Each code cell's text output, with what changes from run to run (timings, cell file names) masked."""
    out = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        parts = []
        for o in cell.get("outputs", []):
            if o.output_type == "error":
                parts.append(f"ERROR {o.ename}: {o.evalue}")
            parts.append(o.get("text", "") or o.get("data", {}).get("text/plain", ""))
        text = "".join(parts)
        text = re.sub(r"\(\d+\.\d s\)", "(T s)", text)
        out.append(re.sub(r"at \d+\.py:", "at CELL.py:", re.sub(r"configurations tried, \d+\.\d s", "", text)))
    return out


def test_check_your_layers_notebook_runs_and_shows_its_stored_outputs():
    nbformat = pytest.importorskip("nbformat")
    path = NOTEBOOKS / "check_your_layers.ipynb"
    fresh = execute(path)
    assert not any(o.output_type == "error" for c in fresh.cells for o in c.get("outputs", []))
    assert texts(fresh) == texts(nbformat.read(path, as_version=4)), "re-record: python -m tests.test_notebooks"
    shown = "\n".join(texts(fresh))
    for phrase in ("OK, out dx dw db match", "passes at stride 1, fails at stride 2", "db is dout summed over axes",
                   "cannot reshape array", "4 times too large", "OK, out dx match"):
        assert phrase in shown, phrase
    outputs = [o for c in fresh.cells for o in c.get("outputs", [])]
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert html and any("FAILED" in h for h in html)


def mime_types(nb) -> list:
    """Each code cell's output mime types (and 'stream' for printed text), in order."""
    return [sorted({k for o in c.get("outputs", []) for k in (o.get("data", {}) or {"stream": 1})})
            for c in nb.cells if c.cell_type == "code"]


def test_graph_and_backward_notebook_shows_svg_graphs_and_the_page():
    nb = execute(NOTEBOOKS / "graph_and_backward.ipynb")
    types = mime_types(nb)
    assert sum("image/svg+xml" in t for t in types) == 2 and "text/html" in types[-1]
    shown = "\n".join(texts(nb))
    assert "relu [5, 4] contributions: 2" in shown  # the residual's fan-out: two gradients summed


def test_higher_order_notebook_plots_the_derivatives():
    nb = execute(NOTEBOOKS / "higher_order.ipynb")
    assert "image/png" in mime_types(nb)[1]
    assert "[ 0., 12.]]" in texts(nb)[0] and "tensor([ 6., 12.])" in texts(nb)[0]


def test_lenet_notebook_trains_plots_and_shows_the_page():
    data = os.environ.get("TINYGRAD_CNN_DATA")
    if not data or not (Path(data) / "mnist").is_dir():
        pytest.skip("real MNIST not found: set TINYGRAD_CNN_DATA to a folder holding mnist/")
    nb = execute(NOTEBOOKS / "lenet_mnist.ipynb")
    types = mime_types(nb)
    assert "image/png" in types[2] and "text/html" in types[-1]
    accuracy = float(re.search(r"test accuracy ([\d.]+)%", texts(nb)[1]).group(1))
    assert accuracy > 80


if __name__ == "__main__":
    import nbformat

    for nb_path in sorted(NOTEBOOKS.glob("*.ipynb")) if len(sys.argv) < 2 else [Path(sys.argv[1])]:
        if nb_path.name == "lenet_mnist.ipynb":  # needs the data and trains: stored without outputs
            continue
        nbformat.write(execute(nb_path), nb_path)
        print(f"recorded {nb_path}")

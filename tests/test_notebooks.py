"""The example notebooks run top to bottom in a fresh kernel and print what their stored outputs show.

Re-record the stored outputs after a change: ``python -m tests.test_notebooks``.
"""
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


if __name__ == "__main__":
    import nbformat

    for nb_path in sorted(NOTEBOOKS.glob("*.ipynb")) if len(sys.argv) < 2 else [Path(sys.argv[1])]:
        nbformat.write(execute(nb_path), nb_path)
        print(f"recorded {nb_path}")

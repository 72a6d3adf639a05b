"""docs/how_backward_works.md stays true: every link reaches a file that defines the name it
shows, its code block is the source as it is, and its worked example gives the gradients it states."""
import ast
import re
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "how_backward_works.md"
TEXT = DOC.read_text()
LINKS = re.findall(r"\[`([^`]+)`\]\(([^)#]+)\)", TEXT)


def _defines(path: Path, dotted: str) -> bool:
    """Whether ``path`` defines ``name`` or ``Class.method`` (at any depth, as functions nest)."""
    tree = ast.parse(path.read_text())
    *outer, name = dotted.split(".")
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            if not outer:
                return True
        if outer and isinstance(node, ast.ClassDef) and node.name == outer[-1]:
            if any(isinstance(m, (ast.FunctionDef, ast.ClassDef)) and m.name == name for m in node.body):
                return True
    return False


def test_the_page_links_to_files_that_define_what_it_names():
    assert len(LINKS) >= 25
    missing = []
    for name, target in LINKS:
        path = (DOC.parent / target).resolve()
        if not path.is_file():
            missing.append(f"{target} (for {name})")
        elif path.suffix == ".py" and not _defines(path, name):
            missing.append(f"{name} in {target}")
    assert not missing, f"docs/how_backward_works.md links to what no longer exists: {missing}"


def test_the_code_it_quotes_is_the_source():
    block = re.search(r"```python\n(a, b = _operands.*?)```", TEXT, flags=re.S).group(1)
    source = (ROOT / "tinygrad_cnn" / "ops" / "elementwise.py").read_text()
    assert textwrap.indent(block, "    ") in source


def test_the_worked_example_gives_the_gradients_in_its_table():
    from tinygrad_cnn import Tensor

    block = re.search(r"```python\n(x = Tensor.*?)```", TEXT, flags=re.S).group(1)
    ns = {"Tensor": Tensor}
    exec(block, ns)
    assert ns["x"].grad.tolist() == [4.0, 5.0, 6.0] and ns["y"].grad.tolist() == [1.0, 2.0, 3.0]
    assert "| 3 | `x` | `[4, 5, 6]` |" in TEXT and "| 4 | `y` | `[1, 2, 3]` |" in TEXT

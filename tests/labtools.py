"""The graded labs as the tests read them: each question's solution cells and hidden tests, straight from the
notebook (so tests check what students are graded with), and a namespace that stands in for the student's kernel.

A hidden test runs as otter-grader runs it: otter writes the test cell's function (``ast.unparse``: comments
dropped) into a test file executed in globals of its own, and calls the function with the student's names
(a parameter called ``env`` gets the whole namespace). The notebook's own code runs in ``__main__``, as in a
Jupyter kernel, so a class or function defined there has ``__module__ == "__main__"``.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
CONFIG_MARK = "# ASSIGNMENT CONFIG"
TEST_HEADER = '""" # BEGIN TEST CONFIG'
TEST_END = '""" # END TEST CONFIG'


def lab_notebooks() -> list[Path]:
    """The notebooks with otter's assignment config, in course order (as tools/labs.py finds them)."""
    return [p for p in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
            if any(c["cell_type"] == "raw" and "".join(c["source"]).lstrip().startswith(CONFIG_MARK) for c in cells(p))]


def notebook(lab: str) -> Path:
    """The notebook whose name starts with ``lab`` ("02", "02_dcgan")."""
    found = [p for p in lab_notebooks() if p.stem.startswith(lab)]
    if len(found) != 1:
        raise ValueError(f"no single lab notebook starts with {lab!r}: {[p.stem for p in lab_notebooks()]}")
    return found[0]


def cells(path: Path) -> list[dict]:
    return json.loads(Path(path).read_text())["cells"]


def config(text: str) -> dict:
    """The ``key: value`` lines of an otter config block (a raw question cell, a test cell's config)."""
    return {m.group(1): m.group(2).strip() for m in re.finditer(r"^(\w+):[ \t]*(.*)$", text, re.M)}


@dataclass
class HiddenTest:
    name: str
    source: str  # the function as otter writes it into the test file
    points: float | None


@dataclass
class Question:
    name: str
    points: float | None
    manual: bool
    solution: list[str] = field(default_factory=list)  # the code cells holding the answer, with the solution in place
    tests: list[HiddenTest] = field(default_factory=list)


def questions(path: Path) -> dict[str, Question]:
    """Every question of the notebook, by name, in order."""
    out, current = {}, None
    for cell in cells(path):
        source = "".join(cell["source"])
        if cell["cell_type"] == "raw" and source.lstrip().startswith("# BEGIN QUESTION"):
            c = config(source)
            current = out[c["name"]] = Question(c["name"], float(c["points"]) if "points" in c else None, c.get("manual") == "true")
        elif cell["cell_type"] == "raw" and source.strip() == "# END QUESTION":
            current = None
        elif cell["cell_type"] == "code" and current is not None:
            if source.startswith(TEST_HEADER):
                head, _, body = source.partition(TEST_END)
                c = config(head)
                if c.get("hidden") == "true":
                    fn = ast.parse(body).body[0]
                    current.tests.append(HiddenTest(fn.name, ast.unparse(fn), float(c["points"]) if "points" in c else None))
            elif "# BEGIN SOLUTION" in source:
                current.solution.append(source)
    return out


def imports(path: Path) -> dict:
    """A namespace like the student's kernel after the notebook's imports: the top-level import statements of its
    code cells (otter keeps these too when it grades), run in ``__main__``."""
    ns = {"__name__": "__main__"}
    exec("import kit", ns)
    for cell in cells(path):
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or source.startswith(TEST_HEADER) or "# BEGIN SOLUTION" in source:
            continue
        tree = ast.parse(source)
        statements = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom)) and not _display_only(node)]
        if statements:
            exec(compile(ast.Module(statements, type_ignores=[]), str(path), "exec"), ns)
    return ns


def _display_only(node) -> bool:
    return isinstance(node, ast.ImportFrom) and node.module == "IPython.display"


def solution_namespace(path: Path, upto: str | None = None) -> dict:
    """The notebook's imports, then the solution of every question (up to and including ``upto``) in order."""
    ns = imports(path)
    for q in questions(path).values():
        for source in q.solution:
            exec(compile(source, str(path), "exec"), ns)
        if q.name == upto:
            break
    return ns


def test_function(test: HiddenTest):
    """The hidden test's function, defined as in otter's test file: in globals of its own."""
    env = {"__name__": "otter_test_file"}
    exec(compile(test.source, f"<hidden test {test.name}>", "exec"), env)
    return env[test.name]


def run(test: HiddenTest, ns: dict) -> None:
    """Call the hidden test as otter does: each parameter from the student's namespace (``env``: all of it)."""
    import inspect

    fn = test_function(test)
    fn(**{p: (ns if p == "env" else ns.get(p)) for p in inspect.signature(fn).parameters})


class restored_libraries:
    """A context manager putting back every module attribute of numpy, TensorFlow, Keras, the builtins and the kit
    that the code inside it replaced (a gaming answer that redefines ``np.allclose``, say)."""

    PACKAGES = ("numpy", "tensorflow", "keras", "builtins", "kit")

    def __enter__(self):
        import sys

        self.saved = {m: dict(vars(m)) for name, m in list(sys.modules.items())
                      if m is not None and name.split(".")[0] in self.PACKAGES and hasattr(m, "__dict__")}
        return self

    def __exit__(self, *exc):
        for module, before in self.saved.items():
            now = vars(module)
            for key, value in before.items():
                if now.get(key, before) is not value:
                    now[key] = value
        return False

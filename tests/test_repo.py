"""Checks of the repository itself: notebooks committed clean and following the lab conventions, packaging
consistent between pyproject.toml, environment.yml and the README."""

import json
import re
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tools import notebook_setup  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
README = (ROOT / "README.md").read_text()


def code_cells(path):
    nb = json.loads(path.read_text())
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"], nb


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_clean(path):
    _, nb = code_cells(path)
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], f"{path.name}: clear outputs before committing"
            assert cell["execution_count"] is None, f"{path.name}: clear execution counts"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


def outside_solutions(path):
    """The notebook's code outside solution passages: cells between raw ``# BEGIN SOLUTION`` / ``# END SOLUTION``
    cells (otter's solution blocks) and lines between the markers inside a code cell are left out."""
    nb, kept, in_block = json.loads(path.read_text()), [], False
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "raw":
            in_block = {"# BEGIN SOLUTION": True, "# END SOLUTION": False}.get(source.strip(), in_block)
        elif cell["cell_type"] == "code" and not in_block:
            inside = False
            for line in source.splitlines():
                if line.strip() in ("# BEGIN SOLUTION", "# END SOLUTION"):
                    inside = line.strip() == "# BEGIN SOLUTION"
                elif not inside:
                    kept.append(line)
    return "\n".join(kept)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_follows_lab_conventions(path):
    cells, _ = code_cells(path)
    repo, ref = notebook_setup.repository()
    assert cells[0] == notebook_setup.setup_cell(path.stem, repo, ref), "the first code cell must be the setup cell of tools/notebook_setup.py"
    src = "\n".join(cells)
    assert src.count("# BEGIN SOLUTION") == src.count("# END SOLUTION"), f"{path.name}: unbalanced solution markers"
    assert not re.search(r"\b(epochs|steps|steps_per_epoch|batch_size|\w*_samples)\s*=\s*\d", src), "take counts from the profile"
    plain = outside_solutions(path)
    assert not re.search(r"^\s*(class \w+\([\w.]*(Model|AdversarialModel)\)|def train_step)", plain, re.M), \
        "model or training code belongs in kit, or in a solution passage whose reference kit holds"
    badge = notebook_setup.badge(path.stem, repo, ref)
    assert badge in README and badge in json.loads(path.read_text())["cells"][0]["source"][2], f"README and {path.name} must show its Colab badge"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_opens_with_papers_and_draws_its_architectures(path):
    """Every idea linked to its paper, every trained model drawn (kit.diagrams, from the model itself)."""
    cells = json.loads(path.read_text())["cells"]
    first = "".join(cells[0]["source"])
    assert "**Papers.**" in first and "https://arxiv.org/abs/" in first, f"{path.name}: the first cell needs a Papers list with arXiv links"
    assert "**What you will build:**" in first, f"{path.name}: the first cell needs 'What you will build'"
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert "architecture_diagram(" in code, f"{path.name}: draw each trained architecture with kit.diagrams.architecture_diagram"


def test_setup_cell_explains_a_failed_install(monkeypatch):
    """Without the kit and with pip failing (no access to the repository), the setup cell says what to do."""
    import builtins
    import subprocess

    real_import = builtins.__import__

    def no_kit(name, *args, **kwargs):
        if name == "kit":
            raise ImportError("No module named 'kit'")
        return real_import(name, *args, **kwargs)

    calls = []
    monkeypatch.setattr(builtins, "__import__", no_kit)
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: calls.append(cmd) or subprocess.CompletedProcess(cmd, 1, "", "ERROR: 404"))
    repo, ref = notebook_setup.repository()
    with pytest.raises(RuntimeError, match="KIT_REPO at your fork.*make wheel"):
        exec(notebook_setup.setup_cell("02_dcgan", repo, ref), {})
    assert calls and calls[0][-1] == f"git+{repo}@{ref}", "pip installs from the repository at the pinned ref"
    assert "--force-reinstall" not in calls[0] and "-e" not in calls[0], "a normal install that keeps Colab's TensorFlow"


def _reqs(lines):
    out = {}
    for line in lines:
        if line.startswith("-e "):
            continue
        r = Requirement(line)
        out[canonicalize_name(r.name)] = str(r.specifier)
    return out


def test_environment_yml_matches_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e .[dev]" in pip, "environment.yml must install the kit in editable mode"
    assert any(l.startswith("tensorflow[and-cuda]") for l in pip), "GPU TensorFlow on Linux"
    project = PYPROJECT["project"]
    extras = project["optional-dependencies"]
    dev = [r for r in extras["dev"] if not r.startswith("gan-course-kit[")]
    pulled = next(r for r in extras["dev"] if r.startswith("gan-course-kit["))
    for extra in Requirement(pulled).extras:
        dev += extras[extra]
    assert _reqs(pip) == _reqs(project["dependencies"] + dev)


def test_dependency_ranges_accept_colab():
    """Colab (Aug 2026): Python 3.13, TF 2.20, Keras 3.13 must satisfy the ranges (no reinstall, no restart)."""
    project = PYPROJECT["project"]
    assert Version("3.13") in Requirement("python" + project["requires-python"]).specifier
    reqs = {canonicalize_name(Requirement(r).name): Requirement(r).specifier for r in project["dependencies"]}
    assert Version("2.20.0") in reqs["tensorflow"] and Version("3.13.0") in reqs["keras"]


def test_readme_and_ci_commands():
    assert "make run" in README and "make test" in README
    ci = (ROOT / ".ci" / "run").read_text()
    assert "\nmake ci\n" in ci, ".ci/run runs make ci"
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"(?m)^ci: test test-ci-only test-colab$", makefile), "make ci is make test, the ci_only tests and Colab's stack"


LABS = [p for p in NOTEBOOKS if '"# ASSIGNMENT CONFIG' in p.read_text()]


@pytest.mark.parametrize("path", LABS, ids=lambda p: p.name)
def test_each_lab_has_a_committed_student_version_that_never_opens_the_answers(path):
    """notebooks/student/ holds what students are handed (``make labs`` writes it; CI's labs-check fails when it no
    longer matches a fresh otter build). Here, without otter: it exists, its badge opens itself, no link leads to a
    solution notebook, and no solution passage or hidden test is in it."""
    student = ROOT / "notebooks" / "student" / path.name
    assert student.exists(), f"{student} is missing: run `make labs NOTEBOOKS=\"{path.stem[:2]}\"` and commit it"
    text = student.read_text()
    repo, ref = notebook_setup.repository()
    own = notebook_setup.badge(path.stem, repo, ref, student=True)
    assert own in text and own in README, f"{student.name} and the README must show the student version's own Colab badge"
    assert not re.findall(r"notebooks/(?!student/)\d\d_\w+\.ipynb", text), f"{student.name} links to a solution notebook"
    cells, _ = code_cells(student)
    code = "\n".join(cells)
    assert "# BEGIN SOLUTION" not in code and "hidden: true" not in code and "BEGIN TEST CONFIG" not in code, \
        f"{student.name} contains a solution passage or a hidden test"
    solution_only, inside = [], False
    for line in "\n".join(code_cells(path)[0]).splitlines():
        if line.strip() in ("# BEGIN SOLUTION", "# END SOLUTION"):
            inside = line.strip() == "# BEGIN SOLUTION"
        elif inside and len(line.strip()) > 12 and not line.strip().startswith("#"):
            solution_only.append(line.strip())
    assert solution_only and not [line for line in solution_only if line in code], f"{student.name} contains lines of the solution"

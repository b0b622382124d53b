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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_follows_lab_conventions(path):
    cells, _ = code_cells(path)
    setup = cells[0]
    assert "KIT_REPO =" in setup and "kit.setup(" in setup and "pip" in setup, "first code cell must be the setup cell"
    repo = re.search(r'KIT_REPO = "([^"]+)"', setup).group(1)
    assert repo in README, "README and notebooks must name the same repository"
    src = "\n".join(cells)
    begins, ends = src.count("# BEGIN SOLUTION"), src.count("# END SOLUTION")
    assert begins == ends and 2 <= begins <= 3, f"{path.name}: {begins} BEGIN / {ends} END SOLUTION markers"
    assert not re.search(r"\b(epochs|steps|steps_per_epoch|batch_size|\w*_samples)\s*=\s*\d", src), "take counts from the profile"
    assert not re.search(r"^\s*(class \w+\(keras\.Model\)|def train_step)", src, re.M), "models belong in kit"
    assert f"notebooks/{path.name}" in README, f"README must list {path.name} with its Colab badge"


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
    expected = _reqs(project["dependencies"] + project["optional-dependencies"]["dev"])
    assert _reqs(pip) == expected


def test_dependency_ranges_accept_colab():
    """Colab (Aug 2026): Python 3.13, TF 2.20, Keras 3.13 must satisfy the ranges (no reinstall, no restart)."""
    project = PYPROJECT["project"]
    assert Version("3.13") in Requirement("python" + project["requires-python"]).specifier
    reqs = {canonicalize_name(Requirement(r).name): Requirement(r).specifier for r in project["dependencies"]}
    assert Version("2.20.0") in reqs["tensorflow"] and Version("3.13.0") in reqs["keras"]


def test_readme_and_ci_commands():
    assert "make run" in README and "make test" in README
    assert "make test" in (ROOT / ".ci" / "run").read_text()

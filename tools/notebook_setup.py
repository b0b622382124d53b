"""The first code cell of every notebook (the setup cell) and the Colab badges, rendered from the repository and
ref that pyproject.toml names (``[project.urls] Repository`` and ``[tool.kit] ref``). ``tools/set_repo.py``
writes them into the notebooks and the README; ``tests/test_repo.py`` checks that they agree."""

from __future__ import annotations

import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
WHEEL_GLOB = "gan_course_kit-*.whl"

SETUP_CELL = '''# Setup. On Colab this installs the course kit with a normal pip install that keeps Colab's TensorFlow (no
# restart needed); where the kit is installed already (make, conda) it does nothing. Then it keeps checkpoints on
# Google Drive (Colab only) and prints versions, hardware, the run profile and, on a GPU, this notebook's budget.
KIT_REPO = "{repo}"  # `make set-repo URL=... REF=...` rewrites these two lines in every notebook
KIT_REF = "{ref}"
try:
    import kit
except ImportError:
    import glob, subprocess, sys

    wheels = sorted(glob.glob("/content/{wheel}") + glob.glob("/content/drive/MyDrive/{wheel}"))
    source = wheels[-1] if wheels else f"git+{{KIT_REPO}}@{{KIT_REF}}"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", source], capture_output=True, text=True)
    if pip.returncode:
        print(pip.stdout[-4000:], pip.stderr[-4000:], sep="\\n")
        raise RuntimeError(
            f"Installing the course kit from {{source}} failed (pip's output is above). Ways out: point KIT_REPO at your "
            "fork (or KIT_REF at a branch or tag that exists) and run this cell again; or build the wheel with `make wheel`, "
            "upload it to /content (the Files pane) or to the top folder of your Google Drive (mounted), and run this cell again."
        )
    import kit

kit.colab.persist()
P = kit.setup("{notebook}")'''


def repository() -> tuple[str, str]:
    """(repository URL, ref) from pyproject.toml."""
    doc = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return doc["project"]["urls"]["Repository"], doc["tool"]["kit"]["ref"]


def owner_repo(url: str) -> str:
    m = re.fullmatch(r"https://github\.com/([\w.-]+/[\w.-]+?)(?:\.git)?/?", url)
    if not m:
        raise ValueError(f"the repository must be a GitHub URL like https://github.com/OWNER/NAME, got {url!r}")
    return m.group(1)


def setup_cell(notebook: str, repo: str, ref: str) -> str:
    """The setup cell of ``notebook`` (e.g. "02_dcgan") installing from ``repo`` at ``ref``."""
    return SETUP_CELL.format(repo=repo, ref=ref, wheel=WHEEL_GLOB, notebook=notebook)


def badge(notebook: str, repo: str, ref: str, student: bool = False) -> str:
    """The Markdown Open-in-Colab badge of ``notebook``, or of its student version (notebooks/student/)."""
    folder = "notebooks/student" if student else "notebooks"
    url = f"https://colab.research.google.com/github/{owner_repo(repo)}/blob/{ref}/{folder}/{notebook}.ipynb"
    return f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url})"


BADGE_RE = re.compile(r"\[!\[Open In Colab\]\(https://colab\.research\.google\.com/assets/colab-badge\.svg\)\]"
                      r"\(https://colab\.research\.google\.com/github/[^)]*/notebooks/(student/)?(\d\d_[\w]+)\.ipynb\)")

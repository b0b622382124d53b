"""Repository-wide pytest set-up: with ``KIT_RUN_ROOT`` set (``make test``), each notebook nbmake executes
writes its figures and ``metrics.json`` to ``$KIT_RUN_ROOT/<notebook>`` (``KIT_RUN_DIR``, read by
``kit.runs``), which ``benchmarks/run.py`` then collects, as ``make run`` does for ``runs/``."""

import os
from pathlib import Path


def pytest_runtest_setup(item):
    root = os.environ.get("KIT_RUN_ROOT")
    if root and str(item.fspath).endswith(".ipynb"):  # nbmake starts the notebook's kernel with this environment
        os.environ["KIT_RUN_DIR"] = str(Path(root) / Path(str(item.fspath)).stem)


def pytest_runtest_teardown(item):
    if str(item.fspath).endswith(".ipynb"):
        os.environ.pop("KIT_RUN_DIR", None)

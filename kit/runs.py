"""Run bookkeeping: the metrics a notebook reports, collected per run under ``$KIT_RUN_DIR``.

``make run`` executes each notebook with ``KIT_RUN_DIR=runs/<notebook>``; :func:`log_metrics` merges the
notebook's numbers into ``runs/<notebook>/metrics.json`` and ``python -m kit.runs runs`` writes
``runs/summary.json`` and prints a table of every notebook's metrics.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

from kit.env import environment


def run_dir() -> Path | None:
    """The current run's directory (``$KIT_RUN_DIR``), or None outside ``make run``."""
    d = os.environ.get("KIT_RUN_DIR")
    return Path(d) if d else None


def _plain(v):
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    return v


def log_metrics(metrics: dict, *, show: bool = True) -> dict:
    """Print ``metrics`` as a two-column table and, under ``make run``, merge them into
    ``$KIT_RUN_DIR/metrics.json``. Values: numbers, strings or lists."""
    if not isinstance(metrics, dict) or not metrics:
        raise ValueError("metrics must be a non-empty dict {name: value}")
    clean = {str(k): _plain(v) for k, v in metrics.items()}
    if show:
        width = max(map(len, clean))
        for k, v in clean.items():
            print(f"{k:<{width}}  {v:.4f}" if isinstance(v, float) else f"{k:<{width}}  {v}")
    folder = run_dir()
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "metrics.json"
        old = json.loads(path.read_text()) if path.exists() else {}
        old.update(clean)
        path.write_text(json.dumps(old, indent=2))
    return clean


def summarize(root: str | Path = "runs") -> dict:
    """Collect ``<root>/*/metrics.json`` into ``<root>/summary.json`` and return it."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"no run directory {root}; run `make run` first")
    summary = {p.parent.name: json.loads(p.read_text()) for p in sorted(root.glob("*/metrics.json"))}
    (root / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def write_results(path, summary: dict, profile, **sections) -> Path:
    """Write a benchmark's ``results/*.json``: the flat ``summary`` first, then profile, hardware, library
    versions, git commit and date (:func:`kit.env.environment`), then any further ``sections``. Returns the path."""
    for key in ("profile", "hardware"):
        if key not in summary:
            raise ValueError(f"a results summary must say its {key!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"summary": {k: _plain(v) for k, v in summary.items()}, **environment(profile), **sections}
    path.write_text(json.dumps(doc, indent=2, default=_plain))
    return path


def main(argv=None) -> int:
    root = (argv or sys.argv[1:] or ["runs"])[0]
    summary = summarize(root)
    for nb, metrics in summary.items():
        print(f"\n## {nb}")
        for k, v in metrics.items():
            if not isinstance(v, list):
                print(f"  {k:<40} {v:.4f}" if isinstance(v, float) else f"  {k:<40} {v}")
    print(f"\nwrote {Path(root) / 'summary.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

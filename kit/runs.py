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
from kit.profiles import profile as active_profile


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


CLAIM_KEYS = ("claims_held", "claims_failed")


def claim(text: str, held, *, profile=None) -> bool:
    """Check a sentence that states a measured outcome against this run's numbers, show the verdict, and record
    the sentence under ``claims_held`` or ``claims_failed`` (lists of texts) in the run's metrics.

    A notebook writes its result sentences through this, so that the text a student reads is never
    contradicted by the figure beside it without saying so. It never raises on a failed claim: at ``smoke``
    (too few steps for any outcome) a failure is only recorded; at ``cpu`` and above it is printed as "NOT
    borne out by this run" and ``make bench`` reports it in ``results/*.json``. Returns ``held``.

    Args:
        text: the sentence, as the notebook states it (non-empty).
        held: whether this run's numbers bear it out (a bool, or a NumPy bool).
        profile: the run profile (default: the active one), for the wording of the verdict.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"a claim's text must be a non-empty sentence, got {text!r}")
    if not isinstance(held, (bool, np.bool_)):
        raise TypeError(f"held must be a bool (the outcome of a comparison), got {type(held).__name__}")
    name = (profile or active_profile()).name
    held = bool(held)
    if held:
        print(f"Checked against this run: {text}")
    elif name == "smoke":
        print(f"(smoke run, too short to bear this out; recorded, not enforced) {text}")
    else:
        print(f"NOT borne out by this run ({name} profile): {text}")
    key = CLAIM_KEYS[0] if held else CLAIM_KEYS[1]
    folder = run_dir()
    if folder is not None:
        path = folder / "metrics.json"
        old = json.loads(path.read_text()) if path.exists() else {}
        for k in CLAIM_KEYS:
            old.setdefault(k, [])
        if text not in old[key]:
            old[key].append(text)
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(old, indent=2))
    return held


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

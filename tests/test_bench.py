"""benchmarks/run.py: a topic's results file is exactly its executed notebooks' metrics, with provenance, and the
README's figures come from those runs; anything inconsistent stops it with a message."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from kit.profiles import profile

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
run = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run)


def _fake_run(runs: Path, notebook: str, metrics: dict, figures=(), seconds: float | None = None):
    folder = runs / notebook
    (folder / "figures").mkdir(parents=True)
    (folder / "metrics.json").write_text(json.dumps(metrics))
    for name in figures:
        (folder / "figures" / f"{name}.png").write_bytes(name.encode())
    if seconds is not None:
        (folder / run.EXECUTION).write_text(json.dumps({"notebook_seconds": seconds, "notebook_commit": "abc"}))


def _gan_runs(runs: Path, prof: str = "smoke", **extra_03):
    _fake_run(runs, "02_dcgan", {"profile": prof, "hardware": "cpu", "dcgan_fid_classifier": 9.5}, ["grid_epoch_001", "grid_epoch_002"], 61.0)
    _fake_run(runs, "03_acgan", {"profile": prof, "hardware": "cpu", "acgan_sample_accuracy": 0.5, **extra_03}, ["acgan_classes"], 40.0)


def test_a_topic_file_holds_its_notebooks_metrics_and_figures(tmp_path):
    runs, out = tmp_path / "runs", tmp_path / "out"
    out.mkdir()
    _gan_runs(runs)
    written = run.collect(runs, out, profile("smoke"), run.select(["02", "03"]))
    assert [p.name for p in written] == ["gans.json"]
    doc = json.loads((out / "gans.json").read_text())
    assert doc["summary"] == {"claims_held": [], "claims_failed": [], "profile": "smoke", "hardware": "cpu", "dcgan_fid_classifier": 9.5,
                              "acgan_sample_accuracy": 0.5}
    assert doc["notebooks"]["02_dcgan"]["notebook_seconds"] == 61.0 and doc["notebooks"]["03_acgan"]["notebook_commit"] == "abc"
    assert {"commit", "date", "versions", "hardware", "profile"} <= set(doc)
    assert (out / "gans_dcgan_samples.png").read_bytes() == b"grid_epoch_002"  # the last epoch's grid
    assert doc["figures"] == {"gans_dcgan_samples": "gans_dcgan_samples.png", "gans_acgan_classes": "gans_acgan_classes.png"}


def test_claims_stay_per_notebook_and_are_gathered_in_the_summary(tmp_path):
    runs, out = tmp_path / "runs", tmp_path / "out"
    out.mkdir()
    _gan_runs(runs, claims_held=["A held."], claims_failed=["B failed."])
    run.collect(runs, out, profile("smoke"), run.select(["02", "03"]))
    doc = json.loads((out / "gans.json").read_text())
    assert doc["summary"]["claims_held"] == ["03_acgan: A held."] and doc["summary"]["claims_failed"] == ["03_acgan: B failed."]
    assert doc["notebooks"]["03_acgan"]["claims_failed"] == ["B failed."]


def test_a_topic_is_written_only_when_all_its_notebooks_ran(tmp_path):
    runs, out = tmp_path / "runs", tmp_path / "out"
    out.mkdir()
    _gan_runs(runs)
    assert run.collect(runs, out, profile("smoke"), run.select(["02"])) == []
    assert not (out / "gans.json").exists()


@pytest.mark.parametrize("case, match", [
    ("other profile", "other profiles than smoke"),
    ("missing notebook", "no metrics.json"),
    ("missing figure", "saved no figure 'acgan_classes'"),
    ("conflict", "'hardware' is"),
])
def test_inconsistent_runs_stop_with_a_message(tmp_path, case, match):
    runs, out = tmp_path / "runs", tmp_path / "out"
    out.mkdir()
    if case == "other profile":
        _gan_runs(runs, prof="cpu")
    elif case == "missing notebook":
        _fake_run(runs, "02_dcgan", {"profile": "smoke"}, ["grid_epoch_001"])
    elif case == "missing figure":
        _gan_runs(runs)
        (runs / "03_acgan" / "figures" / "acgan_classes.png").unlink()
    else:
        _gan_runs(runs, hardware="gpu")
    with pytest.raises(SystemExit, match=match):
        run.collect(runs, out, profile("smoke"), run.select(["02", "03"]))


def test_unknown_notebook_prefixes_are_refused():
    with pytest.raises(SystemExit, match="no notebook starts with"):
        run.select(["99"])
    assert [nb.stem for nb in run.select(["07"])] == ["07_esrgan_refinement"]

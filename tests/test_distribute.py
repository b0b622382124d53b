"""tf.distribute (kit.distribute): every model family on 2 replicas (2 logical CPUs, in a subprocess so the rest
of the suite keeps its single device) ends where 1 replica ends on the same global batch; the replicas draw
different noise in normal training; checkpoints resume exactly under the strategy. Several machines: two worker
processes on 127.0.0.1 under MultiWorkerMirroredStrategy end where one process ends, only the chief writes
checkpoints, and a run whose worker is killed resumes exactly; TF_CONFIG is checked before any strategy is built."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from conftest import readme_tables

from kit import distribute
from kit.checkpoints import Checkpoints

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("distribute")
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "distribute.py"), "--out", str(out), "--no-speed", "--multi-worker"],
                          capture_output=True, text=True, timeout=1800)
    path = out / "distribute.json"
    assert path.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(path.read_text())


FAMILIES = ("classifier", "adversarial_trainer", "gan_bce", "gan_hinge", "gan_wgan_gp", "acgan", "pix2pix", "cocogan", "q_network",
            "refiner", "rrdbnet")


@pytest.mark.ci_only  # benchmarks/distribute.py: about 7 min on 2 cores; make ci runs it
def test_readme_table_renders(result):
    """bench-smoke leaves this benchmark to this module, so its README table is rendered here (a renamed key fails)."""
    table = readme_tables().distribute_table(result)
    assert "Measured by `benchmarks/distribute.py`" in table and all(f"| {f} |" in table for f in FAMILIES)


@pytest.mark.ci_only  # benchmarks/distribute.py: about 7 min on 2 cores; make ci runs it
@pytest.mark.parametrize("family", FAMILIES)
def test_two_replicas_end_where_one_replica_ends(result, family):
    row = next(r for r in result["per_family"] if r["family"] == family)
    assert row["max_abs_weight_diff"] <= 1e-5 and row["finite"]
    # The logged losses are the global-batch means on both (the replica factor of the gradient scaling is undone).
    for one, two in row["logged_losses_1_vs_2_replicas"].values():
        assert two == pytest.approx(one, rel=1e-3, abs=1e-4)


@pytest.mark.ci_only  # benchmarks/distribute.py: about 7 min on 2 cores; make ci runs it
def test_mixed_float16_trains_the_dcgan_under_the_strategy(result):
    row = next(r for r in result["per_family"] if r["family"] == "mixed_precision_dcgan")
    assert row["finite"]


@pytest.mark.ci_only  # benchmarks/distribute.py: about 7 min on 2 cores; make ci runs it
def test_replicas_draw_different_latents_and_resume_exactly(result):
    assert result["summary"]["latents_differ_across_replicas"]
    assert result["summary"]["resume_max_abs_weight_diff"] == 0.0
    assert result["summary"]["replicas"] == 2 and result["summary"]["max_abs_weight_diff"] <= 1e-5


def test_strategy_helper_and_guards():
    assert distribute.strategy() is tf.distribute.get_strategy()  # one device here: the default strategy
    assert distribute.replicas() == 1 and int(distribute.replica_id()) == 0
    with pytest.raises(ValueError, match="device names"):
        distribute.strategy([])
    with pytest.raises(ValueError, match="steps_per_execution must be 1"):
        distribute.check_steps_per_execution(2)
    with pytest.raises(ValueError, match="noise mode"):
        with distribute.noise_mode("shared"):
            pass
    with pytest.raises(RuntimeError, match="already initialised"):
        distribute.split_device("CPU", 2)  # this process has used its CPU already


def test_strategy_refuses_bad_devices_before_building_one(monkeypatch):
    for name in ("MirroredStrategy", "OneDeviceStrategy"):
        monkeypatch.setattr(tf.distribute, name, lambda *a, **k: pytest.fail("no strategy may be built from refused devices"))
    with pytest.raises(TypeError, match=r"devices must be a list of device names .*got the single string '/cpu:0': write \['/cpu:0'\]"):
        distribute.strategy("/cpu:0")
    with pytest.raises(TypeError, match=r"devices must be a list .*got int 2"):
        distribute.strategy(2)
    with pytest.raises(ValueError, match=r"each device once .*got \['/cpu:0', '/device:CPU:0'\] more than once"):
        distribute.strategy(["/cpu:0", "/device:CPU:0"])  # two spellings of one device
    with pytest.raises(ValueError, match=r"devices \['/gpu:7', '/cpu:3'\] do not exist on this machine, whose logical devices are \[.*CPU:0"):
        distribute.strategy(["/cpu:0", "/gpu:7", "/cpu:3"])
    with pytest.raises(ValueError, match=r"single local devices .*got \['cpu', '/gpu:x'\]"):
        distribute.strategy(["cpu", "/gpu:x"])
    monkeypatch.undo()
    assert distribute.strategy(["/cpu:0"]).num_replicas_in_sync == 1  # a device that exists, spelled as users do


@pytest.mark.ci_only  # benchmarks/distribute.py: about 7 min on 2 cores; make ci runs it
def test_two_worker_processes_end_where_one_process_ends(result):
    mw = result["multi_worker"]
    assert mw["workers"] == 2 and {r["family"] for r in mw["per_family"]} == {"gan_bce", "pix2pix"}  # DCGAN and pix2pix
    for row in mw["per_family"]:
        # SGD at 5e-4 for a few steps: the runs differ only in float32 summation order (1e-7 measured), far below this.
        assert row["max_abs_weight_diff_vs_1_process"] <= 1e-5, row
        assert row["max_abs_weight_diff_between_workers"] == 0.0, row  # the workers hold one model


@pytest.mark.ci_only  # benchmarks/distribute.py: about 7 min on 2 cores; make ci runs it
def test_a_killed_worker_resumes_from_the_chiefs_checkpoint(result):
    res = result["multi_worker"]["resume"]
    assert res["resumed_from_checkpoint"] and res["checkpoint_folders_besides_the_chiefs"] == []
    assert res["max_abs_weight_diff_vs_uninterrupted"] == 0.0  # the same code on the same data: bit for bit


def _tf_config(index=0, **cluster):
    return json.dumps({"cluster": cluster or {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}, "task": {"type": "worker", "index": index}})


def test_tf_config_is_checked_before_any_strategy_is_built(monkeypatch):
    monkeypatch.setattr(tf.distribute, "MultiWorkerMirroredStrategy", lambda *a, **k: pytest.fail("no strategy from a refused TF_CONFIG"))
    bad = {
        "{not json": "TF_CONFIG must be JSON",
        "[]": "an object with a 'cluster' and a 'task'",
        json.dumps({"cluster": {"worker": "127.0.0.1:1"}, "task": {"type": "worker", "index": 0}}): r"cluster\['worker'\] must be a non-empty list of 'host:port'",
        json.dumps({"cluster": {"worker": ["localhost"]}, "task": {"type": "worker", "index": 0}}): "'host:port'",
        json.dumps({"cluster": {"ps": ["a:1"], "worker": ["b:2"]}, "task": {"type": "worker", "index": 0}}): "'worker' and 'chief'",
        _tf_config(2): "task must name one of the cluster's tasks",
        _tf_config(worker=["a:1", "a:1"]): "twice",
        json.dumps({"cluster": {"chief": ["a:1"]}, "task": {"type": "chief", "index": 0}}): "list its workers under 'worker'",
    }
    for value, message in bad.items():
        monkeypatch.setenv("TF_CONFIG", value)
        with pytest.raises(ValueError, match=message):
            distribute.strategy()


def test_only_the_chief_writes_checkpoints(monkeypatch, tmp_path):
    arrays, state = {"model/0000": np.zeros(3, np.float32)}, {"history": {}}
    monkeypatch.setenv("TF_CONFIG", _tf_config(1))  # worker 1 of 2, no chief task: not the chief
    assert not distribute.is_chief()
    written = Checkpoints(tmp_path / "ckpt", {"model": "m"}).save(1, arrays, state)
    assert not written.exists() and not (tmp_path / "ckpt").exists()  # its copy went to a temporary folder, now gone
    monkeypatch.setenv("TF_CONFIG", _tf_config(0))  # worker 0 of a cluster without a chief task: the chief
    assert distribute.is_chief()
    assert Checkpoints(tmp_path / "ckpt", {"model": "m"}).save(1, arrays, state).is_dir()
    monkeypatch.setenv("TF_CONFIG", _tf_config(0, chief=["127.0.0.1:3"], worker=["127.0.0.1:1"]))
    assert not distribute.is_chief()  # with a chief task, worker 0 is not it
    monkeypatch.delenv("TF_CONFIG")
    assert distribute.is_chief() and distribute.cluster_config() is None  # one process: it writes

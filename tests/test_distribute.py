"""tf.distribute (kit.distribute): every model family on 2 replicas (2 logical CPUs, in a subprocess so the rest
of the suite keeps its single device) ends where 1 replica ends on the same global batch; the replicas draw
different noise in normal training; checkpoints resume exactly under the strategy."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import tensorflow as tf
from conftest import readme_tables

from kit import distribute

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("distribute")
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "distribute.py"), "--out", str(out), "--no-speed"],
                          capture_output=True, text=True, timeout=1800)
    path = out / "distribute.json"
    assert path.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(path.read_text())


FAMILIES = ("classifier", "adversarial_trainer", "gan_bce", "gan_hinge", "gan_wgan_gp", "acgan", "pix2pix", "cocogan", "q_network",
            "refiner", "rrdbnet")


def test_readme_table_renders(result):
    """bench-smoke leaves this benchmark to this module, so its README table is rendered here (a renamed key fails)."""
    table = readme_tables().distribute_table(result)
    assert "Measured by `benchmarks/distribute.py`" in table and all(f"| {f} |" in table for f in FAMILIES)


@pytest.mark.parametrize("family", FAMILIES)
def test_two_replicas_end_where_one_replica_ends(result, family):
    row = next(r for r in result["per_family"] if r["family"] == family)
    assert row["max_abs_weight_diff"] <= 1e-5 and row["finite"]
    # The logged losses are the global-batch means on both (the replica factor of the gradient scaling is undone).
    for one, two in row["logged_losses_1_vs_2_replicas"].values():
        assert two == pytest.approx(one, rel=1e-3, abs=1e-4)


def test_mixed_float16_trains_the_dcgan_under_the_strategy(result):
    row = next(r for r in result["per_family"] if r["family"] == "mixed_precision_dcgan")
    assert row["finite"]


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

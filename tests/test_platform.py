"""Colab and GPU behaviour that can be checked without them: Drive persistence (and running on without it)
against a stand-in for ``google.colab``, the setup's advice on a Colab runtime without a GPU, quiet start-up
logs, loss scaling of every adversarial family under ``mixed_float16`` (Keras only scales
``self.optimizer``), and the TensorBoard files a training run writes."""

import ast
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import keras
import matplotlib
import numpy as np
import pytest
import tensorflow as tf

import kit
from kit import cocogan, colab, gans, models, paths, sr

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("notebook_setup", ROOT / "tools" / "notebook_setup.py")
notebook_setup = importlib.util.module_from_spec(_spec)  # tools/ is not a package
_spec.loader.exec_module(notebook_setup)


@pytest.fixture
def fake_colab(monkeypatch, tmp_path):
    mounted = []
    drive = types.SimpleNamespace(mount=lambda where: (mounted.append(where), (Path(where) / "MyDrive").mkdir(parents=True, exist_ok=True)))
    package = types.ModuleType("google.colab")
    package.drive = drive
    monkeypatch.setitem(sys.modules, "google.colab", package)
    for variable in [*paths.VARIABLES.values(), "KIT_DRIVE"]:
        monkeypatch.setenv(variable, "")  # recorded, so that what persist sets is undone after the test
        monkeypatch.delenv(variable)
    return tmp_path / "drive", mounted


def test_persist_mounts_drive_and_keeps_every_folder_there(fake_colab):
    mount_point, mounted = fake_colab
    folders = colab.persist("my-course", mount_point=mount_point)
    assert mounted == [str(mount_point)]
    root = mount_point / "MyDrive" / "my-course"
    assert paths.checkpoint_root() == root / "checkpoints" and paths.log_root() == root / "logs"
    assert set(folders) == {"artifacts", "datasets", "checkpoints", "logs"} and all(p.is_dir() and root in p.parents for p in folders.values())


def test_persist_does_nothing_off_colab(monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setattr(colab, "on_colab", lambda: False)
    assert colab.persist() is None
    with pytest.raises(ValueError, match="relative folder"):
        colab.persist("../outside")


@pytest.fixture
def colab_local(fake_colab, monkeypatch, tmp_path):
    """The stand-in Colab with its runtime disk (``/content``) in a temporary folder and no GPU."""
    monkeypatch.setattr(colab, "LOCAL_ROOT", tmp_path / "content")
    monkeypatch.setattr(kit.session, "gpu_names", lambda: [])
    return tmp_path / "content" / "gan-course-kit"


def failing_mount(error):
    def mount(where):
        raise error
    return mount


class MessageError(Exception):
    """As google.colab's: what a declined permission raises."""


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_persist_without_drive_keeps_everything_on_the_runtime_disk(fake_colab, colab_local, monkeypatch, capsys, how):
    mount_point, mounted = fake_colab
    if how == "environment":
        monkeypatch.setenv("KIT_DRIVE", "0")
    folders = colab.persist(drive=False if how == "argument" else None, mount_point=mount_point)
    out = capsys.readouterr().out
    assert mounted == [] and paths.checkpoint_root() == colab_local / "checkpoints"
    assert all(p.is_dir() and colab_local in p.parents for p in folders.values())
    assert out.count("\n") == 1 and "Google Drive not used" in out and str(colab_local) in out
    assert ("drive=False" if how == "argument" else "KIT_DRIVE=0") in out


def test_kit_drive_must_be_a_yes_or_a_no(fake_colab, colab_local, monkeypatch):
    monkeypatch.setenv("KIT_DRIVE", "maybe")
    with pytest.raises(ValueError, match="KIT_DRIVE must be 0"):
        colab.persist(mount_point=fake_colab[0])


@pytest.mark.parametrize("mount, failure", [
    (failing_mount(MessageError("Error: credential propagation was unsuccessful")), "MessageError: Error: credential propagation was unsuccessful"),
    (lambda where: None, "an account without Google Drive"),  # mounted, but there is no MyDrive
    (failing_mount(TimeoutError()), "TimeoutError"),
])
def test_a_declined_or_failing_drive_falls_back_to_the_runtime_disk(fake_colab, colab_local, monkeypatch, capsys, mount, failure):
    mount_point, _ = fake_colab
    monkeypatch.setattr(sys.modules["google.colab"].drive, "mount", mount)
    folders = colab.persist(mount_point=mount_point)
    out = capsys.readouterr().out
    assert paths.checkpoint_root() == colab_local / "checkpoints" and all(colab_local in p.parents for p in folders.values())
    assert out.count("\n") == 1 and out.startswith("Google Drive could not be used (") and failure in out and str(colab_local) in out


def test_a_broken_drive_folder_falls_back_and_a_failed_persist_restores_the_folders_exactly(fake_colab, colab_local, monkeypatch, capsys):
    mount_point, _ = fake_colab
    monkeypatch.setenv("KIT_CHECKPOINTS", "/earlier/checkpoints")
    monkeypatch.setenv("KIT_LOGS", "/earlier/logs")
    before = {v: os.environ.get(v) for v in paths.VARIABLES.values()}
    # The folder on Drive cannot be made (a file is in the way): the runtime's disk is used instead.
    (mount_point / "MyDrive").mkdir(parents=True)
    (mount_point / "MyDrive" / "gan-course-kit").write_text("not a folder")
    colab.persist(mount_point=mount_point)
    assert paths.checkpoint_root() == colab_local / "checkpoints" and "Not a directory" in capsys.readouterr().out
    # Nor can the local one: the settings from before the call are back, exactly.
    for v, value in before.items():
        monkeypatch.delenv(v, raising=False) if value is None else monkeypatch.setenv(v, value)
    colab_local.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(colab_local)
    colab_local.write_text("not a folder either")
    colab.persist(mount_point=mount_point)
    assert {v: os.environ.get(v) for v in paths.VARIABLES.values()} == before
    assert "the kit's default folders are used" in capsys.readouterr().out
    # An interrupted mount changes nothing either.
    monkeypatch.setattr(sys.modules["google.colab"].drive, "mount", failing_mount(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        colab.persist(mount_point=mount_point)
    assert {v: os.environ.get(v) for v in paths.VARIABLES.values()} == before


def test_declining_drive_then_the_setup_cell_runs_to_the_end_on_the_runtime_disk(fake_colab, colab_local, monkeypatch, capsys):
    monkeypatch.setattr(sys.modules["google.colab"].drive, "mount", failing_mount(MessageError("Error: credential propagation was unsuccessful")))
    monkeypatch.setenv("KIT_PROFILE", "smoke")
    monkeypatch.setattr(colab, "MOUNT_POINT", fake_colab[0])
    cell = notebook_setup.setup_cell("02_dcgan", *notebook_setup.repository())
    scope = {}
    with matplotlib.rc_context():
        exec(compile(cell, "<setup cell>", "exec"), scope)  # noqa: S102 - the notebooks' first cell, as Colab runs it
    out = capsys.readouterr().out
    assert scope["P"] is kit.profiles.PROFILES["smoke"] and paths.checkpoint_root() == colab_local / "checkpoints"
    assert "Google Drive could not be used (MessageError" in out and "Run profile: smoke" in out
    assert "Runtime → Change runtime type → T4 GPU" in out


def test_a_colab_runtime_without_a_gpu_says_how_to_get_one_and_how_long_the_cpu_takes(colab_local, monkeypatch, tmp_path, capsys):
    results = tmp_path / "results"
    results.mkdir()
    (results / "gans.json").write_text(json.dumps({"notebooks": {
        "02_dcgan": {"profile": "cpu", "hardware": "CPU: Intel(R) Xeon(R) Processor (2 cores)", "notebook_seconds": 1094.4},
        "03_acgan": {"profile": "t4", "notebook_seconds": 120.0}}}))
    monkeypatch.setattr(kit.session, "results_dirs", lambda: [results])
    with matplotlib.rc_context():
        kit.setup("02_dcgan", profile_name="smoke")
    out = capsys.readouterr().out
    assert "No GPU on this Colab runtime: for a T4 choose Runtime → Change runtime type → T4 GPU" in out
    assert "02_dcgan at the cpu profile takes about 18 min (measured on a 2-core CPU)" in out
    assert "03_acgan" in kit.session.colab_cpu_note("03_acgan") and "unknown" in kit.session.colab_cpu_note("03_acgan")  # only a t4 run
    assert len(kit.session.colab_cpu_note("02_dcgan").splitlines()) == 2
    # Off Colab nothing of it.
    monkeypatch.setattr(colab, "on_colab", lambda: False)
    with matplotlib.rc_context():
        kit.setup("02_dcgan", profile_name="smoke")
    assert "T4 GPU" not in capsys.readouterr().out


def test_tensorflow_start_up_lines_are_dropped_and_others_kept(monkeypatch, capfd):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    noise = ["WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
             "I0000 00:00:1796288928.443237   10663 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.",
             "E0000 00:00:1796288935.784573   10663 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: UNKNOWN ERROR (303)",
             "E0000 00:00:1721 123 cuda_dnn.cc:8310] Unable to register cuDNN factory: Attempting to register factory for plugin cuDNN"]
    kept = ["E0000 00:00:1796288935.784573   10663 some_op.cc:52] a real error", "Traceback (most recent call last):"]
    with kit._DropCppNoise():
        os.write(2, "\n".join(noise[:2] + kept[:1] + noise[2:] + kept[1:]).encode() + b"\n")
    assert capfd.readouterr().err.splitlines() == kept
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")  # asked for everything: nothing is dropped
    with kit._DropCppNoise():
        os.write(2, noise[1].encode() + b"\n")
    assert capfd.readouterr().err.splitlines() == noise[1:2]


def test_import_kit_prints_no_tensorflow_start_up_lines():
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    run = subprocess.run([sys.executable, "-c", "import warnings, kit; warnings.warn('a student should see this')"],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert run.returncode == 0, run.stderr
    assert not [line for line in run.stderr.splitlines() if kit.CPP_NOISE.fullmatch(line)], run.stderr
    assert "a student should see this" in run.stderr  # Python warnings still show


def test_the_kit_never_lets_fit_reshuffle_a_tf_data_pipeline():
    """Keras warns "`shuffle=True` was passed, but will be ignored" when fit() gets a tf.data pipeline with its
    default shuffle: every fit() of the kit and the benchmarks says shuffle=False (the pipelines shuffle themselves)."""
    bad = []
    for path in sorted([*(ROOT / "kit").rglob("*.py"), *(ROOT / "benchmarks").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "fit" \
                    and not any(k.arg == "shuffle" for k in node.keywords):
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not bad, "fit() without shuffle=False: " + ", ".join(bad)


@pytest.fixture
def mixed_precision():
    keras.mixed_precision.set_global_policy("mixed_float16")
    yield
    keras.mixed_precision.set_global_policy("float32")


def families():
    """(model, one batch) for every adversarial family, small."""
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (4, 28, 28, 1)).astype("float32")
    labels = np.arange(4, dtype="int32")
    yield "GAN", gans.GAN(models.dcgan_generator(latent_dim=8), models.dcgan_discriminator(), seed=0), images
    yield "ACGAN", gans.ACGAN(models.acgan_generator(latent_dim=8), models.acgan_discriminator(), seed=0), (images, labels)
    p2p = gans.Pix2Pix(models.unet_generator((16, 16, 1), 3, num_classes=None, base_filters=4),
                       models.patchgan_discriminator((16, 16, 1), 3, num_classes=None, base_filters=4, n_layers=1), seed=0)
    yield "Pix2Pix", p2p, (rng.uniform(-1, 1, (4, 16, 16, 1)).astype("float32"), rng.uniform(-1, 1, (4, 16, 16, 3)).astype("float32"))
    coco = cocogan.cocogan(cocogan.PatchGrid(image_size=32, macro_size=16, micro_size=8), latent_dim=8, base_filters=4, n_critic=1)
    yield "COCOGAN", coco, rng.uniform(-1, 1, (4, 32, 32, 1)).astype("float32")
    features = kit.judge.PerceptualFeatures(keras.applications.VGG19(include_top=False, weights=None, input_shape=(None, None, 3)), "test", False)
    refiner = sr.refiner(base_filters=4, depth=1)
    esr = sr.ESRGANRefiner(refiner, sr.patch_discriminator(base_filters=4, depth=1), features=features, seed=0)
    yield "ESRGANRefiner", esr, (rng.uniform(0, 1, (2, 16, 16, 3)).astype("float32"), rng.uniform(0, 1, (2, 16, 16, 3)).astype("float32"))


@pytest.mark.parametrize("family", ["GAN", "ACGAN", "Pix2Pix", "COCOGAN", "ESRGANRefiner"])
def test_every_family_scales_its_losses_under_mixed_float16(mixed_precision, monkeypatch, family):
    name, model, batch = next(f for f in families() if f[0] == family)
    model.compile(g_optimizer=keras.optimizers.Adam(1e-4), d_optimizer=keras.optimizers.Adam(1e-4), jit_compile=False)
    assert isinstance(model.g_optimizer, keras.optimizers.LossScaleOptimizer), f"{name}: G's optimizer is not loss-scaled"
    assert isinstance(model.d_optimizer, keras.optimizers.LossScaleOptimizer), f"{name}: D's optimizer is not loss-scaled"
    calls = []
    original = keras.optimizers.LossScaleOptimizer.scale_loss
    monkeypatch.setattr(keras.optimizers.LossScaleOptimizer, "scale_loss", lambda self, loss: calls.append(self) or original(self, loss))
    logs = model.train_step(tf.nest.map_structure(tf.constant, batch))
    assert {id(model.g_optimizer), id(model.d_optimizer)} <= {id(o) for o in calls}, f"{name}: both losses must be scaled in the tape"
    assert all(np.isfinite(float(v)) for v in logs.values()), logs
    outputs = model.generator.outputs[0] if hasattr(model.generator, "outputs") and model.generator.outputs else None
    if outputs is not None:
        assert outputs.dtype == "float32", f"{name}: the generator's output layer must stay float32"


def test_fit_gan_writes_tensorboard_losses_and_images(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    gan = gans.GAN(models.dcgan_generator(latent_dim=8), models.dcgan_discriminator(), seed=0)
    gan.compile(g_optimizer=keras.optimizers.Adam(1e-4), d_optimizer=keras.optimizers.Adam(1e-4), jit_compile=False)
    data = tf.data.Dataset.from_tensor_slices(np.random.default_rng(0).uniform(-1, 1, (8, 28, 28, 1)).astype("float32")).batch(4)
    gans.fit_gan(gan, data, epochs=1, log_dir=tmp_path, verbose=0)
    scalars, images = set(), set()
    for events in tmp_path.rglob("events.out.tfevents.*"):
        acc = EventAccumulator(str(events), size_guidance={"tensors": 0, "images": 0})
        acc.Reload()
        scalars |= set(acc.Tags().get("tensors", [])) | set(acc.Tags().get("scalars", []))
        images |= set(acc.Tags().get("images", [])) | {t for t in acc.Tags().get("tensors", []) if "sample" in t}
    assert any("d_loss" in t for t in scalars) and any("g_loss" in t for t in scalars), scalars
    assert images, "the epoch's sample grid must be logged as an image"

"""Colab and GPU behaviour that can be checked without them: Drive persistence against a stand-in for
``google.colab``, loss scaling of every adversarial family under ``mixed_float16`` (Keras only scales
``self.optimizer``), and the TensorBoard files a training run writes."""

import sys
import types
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

import kit
from kit import cocogan, colab, gans, models, paths, sr


@pytest.fixture
def fake_colab(monkeypatch, tmp_path):
    mounted = []
    drive = types.SimpleNamespace(mount=lambda where: (mounted.append(where), (Path(where) / "MyDrive").mkdir(parents=True, exist_ok=True)))
    package = types.ModuleType("google.colab")
    package.drive = drive
    monkeypatch.setitem(sys.modules, "google.colab", package)
    for variable in paths.VARIABLES.values():
        monkeypatch.delenv(variable, raising=False)
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

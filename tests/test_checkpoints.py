"""Checkpoints (kit.checkpoints, kit.gans.fit_gan): atomic, the last good state kept, exact resume after a kill,
clear errors for damaged files, and a fresh start (with the reason) when the recipe changed."""

import json
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from conftest import readme_tables

from kit import checkpoints, gans, models
from kit.checkpoints import CheckpointError, Checkpoints, UnhealthyStateError
from kit.data import make_dataset

ROOT = Path(__file__).resolve().parent.parent


def make_gan(lr=2e-4, loss="bce"):
    keras.utils.set_random_seed(0)
    gan = gans.GAN(models.dcgan_generator(latent_dim=16), models.dcgan_discriminator(), loss=loss, seed=0)
    gan.compile(g_optimizer=keras.optimizers.Adam(lr, beta_1=0.5), d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5), jit_compile=False)
    return gan


@pytest.fixture(scope="module")
def images(fmnist):
    return fmnist.x_train[:96] * 2 - 1


def data(images):
    return make_dataset(images, batch_size=32, drop_remainder=True)


def test_a_checkpoint_is_one_folder_renamed_into_place_and_two_are_kept(tmp_path):
    ck = Checkpoints(tmp_path, {"model": "x", "lr": 1e-3})
    for epoch in (1, 2, 3):
        ck.save(epoch, {"model/0000": np.full(3, epoch, np.float32)}, {"history": {"loss": [0.1] * epoch}})
    assert ck.epochs() == [2, 3]  # the newest and the one before it
    assert sorted(p.name for p in ck.run.iterdir()) == ["epoch-0002", "epoch-0003"]
    state, arrays = ck.load()
    assert state["epoch"] == 3 and state["recipe"] == {"lr": 1e-3, "model": "x"} and arrays["model/0000"].tolist() == [3, 3, 3]
    # A temporary folder left by a kill in the middle of a write is never taken for a checkpoint, and is cleaned up.
    (ck.run / ".tmp-epoch-0004-123").mkdir()
    assert ck.epochs() == [2, 3]
    ck.save(4, {"model/0000": np.zeros(3, np.float32)}, {})
    assert not list(ck.run.glob(".tmp-*"))


@pytest.mark.parametrize("damage, match", [
    (lambda f: (f / "state.json").write_text(""), "state.json cannot be read"),
    (lambda f: (f / "state.json").write_text('{"epoch": 2'), "state.json cannot be read"),
    (lambda f: (f / "variables.npz").write_bytes(b"PK\x03\x04broken"), "variables.npz cannot be read"),
    (lambda f: (f / "variables.npz").unlink(), "variables.npz cannot be read"),
])
def test_a_damaged_checkpoint_gives_an_error_naming_its_folder(tmp_path, damage, match):
    ck = Checkpoints(tmp_path, {"model": "x"})
    ck.save(1, {"model/0000": np.ones(2, np.float32)}, {})
    ck.save(2, {"model/0000": np.ones(2, np.float32)}, {})
    damage(ck.folder(2))
    with pytest.raises(CheckpointError, match=f"{match}.*delete .*epoch-0002 to resume from epoch 1"):
        ck.load()
    assert str(ck.folder(2)) in str(pytest.raises(CheckpointError, ck.load).value)


def test_a_checkpoint_is_never_unpickled(tmp_path):
    ck = Checkpoints(tmp_path, {"model": "x"})
    ck.save(1, {"model/0000": np.ones(2, np.float32)}, {})
    np.savez(ck.folder(1) / "variables.npz", **{"model/0000": np.array([{"x": 1}], dtype=object)})  # a pickled object array
    with pytest.raises(CheckpointError, match="cannot be read"):
        ck.load()


def test_fit_gan_resumes_where_it_stopped_and_ends_exactly_where_an_uninterrupted_run_ends(tmp_path, images):
    straight = make_gan()
    gans.fit_gan(straight, data(images), epochs=3, checkpoint_dir=tmp_path / "a", verbose=0)
    first = make_gan()
    gans.fit_gan(first, data(images), epochs=1, checkpoint_dir=tmp_path / "b", verbose=0)
    resumed = make_gan()  # a new kernel: new model, new dataset, the same cell run again
    history = gans.fit_gan(resumed, data(images), epochs=3, checkpoint_dir=tmp_path / "b", verbose=0)
    assert len(history["d_loss"]) == 3 and resumed.g_optimizer.iterations.numpy() == 9
    for a, b in zip(straight.variables, resumed.variables):  # seed generators included
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_kill_and_resume_is_exact_across_processes(tmp_path):
    """The kill-and-resume benchmark at one random kill point: SIGKILL, resume, compare with an uninterrupted run."""
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "kill_resume.py"), "--tries", "1", "--seed", "3", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    result = json.loads((tmp_path / "kill_resume.json").read_text())
    assert result["summary"]["killed"] == 1 and result["summary"]["max_abs_weight_diff"] == 0.0
    assert result["commit"] is None or len(result["commit"]) >= 40
    # bench-smoke leaves this benchmark to this test, so its README table is rendered here (a renamed key fails).
    assert "Measured by `benchmarks/kill_resume.py`" in readme_tables().kill_resume_table(result)


class Explode(keras.callbacks.Callback):
    """An exploding update on the last batch of epoch 2: the logged loss is still finite, the weights are 1e30."""

    def on_train_batch_end(self, batch, logs=None):
        if self.params["steps"] == batch + 1 and self._epoch == 1:
            for v in self.model.discriminator.trainable_variables:
                v.assign(np.full(v.shape, 1e30, np.float32))

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch


def test_a_diverged_state_is_never_saved_and_the_last_good_one_comes_back(tmp_path, images):
    gan = make_gan()
    with pytest.raises(UnhealthyStateError, match=r"diverged in epoch 2: the discriminator .* gives non-finite outputs.*epoch 1"):
        gans.fit_gan(gan, data(images), epochs=3, checkpoint_dir=tmp_path, callbacks=[Explode()], verbose=0)
    ck = gans.checkpoints_for(make_gan(), data(images), tmp_path)
    assert ck.epochs() == [1]
    _, arrays = ck.load()
    saved = checkpoints.collect_variables(gan, gan.optimizers())
    for key, value in arrays.items():  # the model in memory holds the last good state again
        np.testing.assert_array_equal(saved[key], value)
    again = make_gan()  # and resuming continues from it
    history = gans.fit_gan(again, data(images), epochs=2, checkpoint_dir=tmp_path, verbose=0)
    assert len(history["d_loss"]) == 2 and np.isfinite(history["d_loss"]).all()


class Poison(keras.callbacks.Callback):
    """NaN weights after the first batch of epoch 2: the next batch's losses are NaN."""

    def on_train_batch_end(self, batch, logs=None):
        if batch == 0 and self._epoch == 1:
            for v in self.model.discriminator.trainable_variables:
                v.assign(np.full(v.shape, np.nan, np.float32))

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch


def test_a_nan_loss_restores_the_last_good_checkpoint_into_the_model(tmp_path, images):
    from kit.callbacks import NonFiniteLossError

    gan = make_gan()
    with pytest.raises(NonFiniteLossError, match=r"d_loss=nan.*restored to the last good checkpoint \(epoch 1\)"):
        gans.fit_gan(gan, data(images), epochs=3, checkpoint_dir=tmp_path, callbacks=[Poison()], verbose=0)
    _, arrays = gans.checkpoints_for(make_gan(), data(images), tmp_path).load()
    for key, value in checkpoints.collect_variables(gan, gan.optimizers()).items():
        np.testing.assert_array_equal(arrays[key], value)


@pytest.mark.parametrize("change, differs", [
    (dict(lr=1e-4), "g_optimizer.learning_rate: 0.0002 -> 0.0001"),
    (dict(loss="hinge"), "loss.name: bce -> hinge"),
])
def test_a_changed_recipe_trains_afresh_and_says_why(tmp_path, images, capsys, change, differs):
    gans.fit_gan(make_gan(), data(images), epochs=2, checkpoint_dir=tmp_path, verbose=0)
    changed = make_gan(**change)
    history = gans.fit_gan(changed, data(images), epochs=2, checkpoint_dir=tmp_path, verbose=0)
    out = capsys.readouterr().out
    assert "trained with other settings, so they are not resumed" in out and differs in out
    assert len(history["d_loss"]) == 2 and changed.g_optimizer.iterations.numpy() == 6  # trained both epochs
    assert len([p for p in tmp_path.iterdir() if p.name.startswith("run-")]) == 2  # the old run is kept


def test_other_data_is_another_recipe(tmp_path, images):
    gans.fit_gan(make_gan(), data(images), epochs=1, checkpoint_dir=tmp_path, verbose=0)
    gan = make_gan()
    gans.fit_gan(gan, data(images[::-1].copy()), epochs=1, checkpoint_dir=tmp_path, verbose=0)
    assert gan.g_optimizer.iterations.numpy() == 3


def test_restoring_into_a_different_model_says_which_folder_to_delete(tmp_path):
    gan = make_gan()
    arrays = checkpoints.collect_variables(gan, gan.optimizers())
    other = gans.GAN(models.dcgan_generator(latent_dim=8), models.dcgan_discriminator())
    other.compile(g_optimizer=keras.optimizers.Adam(), d_optimizer=keras.optimizers.Adam(), jit_compile=False)
    with pytest.raises(CheckpointError, match=f"{tmp_path.name} was saved by a different model.*delete that folder"):
        checkpoints.restore_variables(other, other.optimizers(), arrays, tmp_path)

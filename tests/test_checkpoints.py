"""Checkpoints (kit.checkpoints, kit.gans.fit_gan): atomic, the last good state kept, exact resume after a kill,
clear errors for damaged files, and a fresh start (with the reason) when the recipe changed."""

import json
import re
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
    (lambda f: (f / "state.json").write_text("[1, 2]"), "state.json cannot be read"),
    # edited by hand: another epoch, another recipe than the folder it lies in was made for
    (lambda f: (f / "state.json").write_text(json.dumps({**json.loads((f / "state.json").read_text()), "epoch": 7})),
     "says epoch 7, its folder epoch 2"),
    (lambda f: (f / "state.json").write_text(json.dumps({**json.loads((f / "state.json").read_text()), "recipe": {"model": "y"}})),
     "recipe in its state.json is not the one"),
    (lambda f: np.savez(f / "variables.npz", **{"model/0000": np.array(["1", "2"])}), "non-numeric arrays"),
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


def test_fit_gan_resumes_where_it_stopped_and_ends_exactly_where_an_uninterrupted_run_ends(tmp_path, images, deterministic_ops):
    straight = make_gan()
    gans.fit_gan(straight, data(images), epochs=3, checkpoint_dir=tmp_path / "a", verbose=0)
    first = make_gan()
    gans.fit_gan(first, data(images), epochs=1, checkpoint_dir=tmp_path / "b", verbose=0)
    resumed = make_gan()  # a new kernel: new model, new dataset, the same cell run again
    history = gans.fit_gan(resumed, data(images), epochs=3, checkpoint_dir=tmp_path / "b", verbose=0)
    assert len(history["d_loss"]) == 3 and resumed.g_optimizer.iterations.numpy() == 9
    for a, b in zip(straight.variables, resumed.variables):  # seed generators included
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.ci_only  # two processes, one killed: ~1 min; make ci runs it
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


class HugeGeneratorBias(keras.callbacks.Callback):
    """At the end of epoch 2 (before the checkpoint callback, which fit_gan puts last), the generator's last bias
    becomes 1e30: the tanh after it saturates, so the images (all white), the scores and the losses stay finite."""

    def __init__(self):
        super().__init__()
        self.logs = {}

    def on_epoch_end(self, epoch, logs=None):
        self.logs[epoch] = dict(logs or {})
        if epoch == 1:
            bias = self.model.generator.get_layer("to_image").bias
            bias.assign(np.full(bias.shape, 1e30, np.float32))


def test_a_generator_weight_of_1e30_with_finite_outputs_is_never_saved_as_good(tmp_path, images):
    gan = make_gan()
    blowup = HugeGeneratorBias()
    with pytest.raises(UnhealthyStateError, match=r"diverged in epoch 2: the generator's weights exploded: \|w\| = 1e\+30 in .*to_image/bias, "
                                                  r"beyond 1e\+06.*Not saved.*restored to the last good checkpoint \(epoch 1\)"):
        gans.fit_gan(gan, data(images), epochs=3, checkpoint_dir=tmp_path, callbacks=[blowup], verbose=0)
    assert all(np.isfinite(v) for v in blowup.logs[1].values())  # the losses said nothing
    ck = gans.checkpoints_for(make_gan(), data(images), tmp_path)
    assert ck.epochs() == [1]  # epoch 2 was not saved as the last good state
    _, arrays = ck.load()
    assert max(float(np.abs(a).max()) for k, a in arrays.items() if k.startswith("model/") and a.dtype == np.float32) < 1e3
    for key, value in checkpoints.collect_variables(gan, gan.optimizers()).items():  # and the model holds epoch 1 again
        np.testing.assert_array_equal(arrays[key], value)


def test_weights_that_grew_1000_times_since_the_last_good_state_are_unhealthy(images):
    gan = make_gan()
    batch = images[:8]
    reference = gan.weight_scales()
    assert set(reference) == {"generator", "discriminator"} and gan.health_problems(batch, reference) == []
    kernel = gan.generator.get_layer("up1_conv").kernel
    kernel.assign(kernel.numpy() * 1e5)  # |w| ~ 1e4: under the absolute bound, the outputs still finite
    assert np.isfinite(np.asarray(gan.generator(np.zeros((2, 16), "float32")))).all()
    assert gan.health_problems(batch) == []  # without a reference, only the absolute bound applies
    (problem,) = gan.health_problems(batch, reference)
    assert re.match(r"the generator's largest weight grew from \S+ to \S+ since the last good state \(more than 1e\+03 times; largest in .*up1_conv/kernel\)",
                    problem), problem


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


# -- changed training code trains afresh ----------------------------------------------------------------------
# A notebook cell defines the model class; inspect cannot read the source of code compiled from a string (as some
# notebook front ends run cells), so "cell" checks the fallback on the compiled code, "module" the source itself.
CELLS = {
    "v1": """
class MyGAN(gans.GAN):
    def train_step(self, data):
        return super().train_step(data)
""",
    "v1, commented": """
class MyGAN(gans.GAN):
    def train_step(self, data):
        # the same step, with a comment
        return super().train_step(data)
""",
    "v2": """
class MyGAN(gans.GAN):
    def train_step(self, data):
        logs = super().train_step(data)
        return {name: value * 1.0 for name, value in logs.items()}
""",
}


def cell_class(version: str, run: int):
    scope = {"gans": gans}
    exec(compile(CELLS[version], f"<notebook cell {run}>", "exec"), scope)  # noqa: S102 - a notebook cell, run again
    return scope["MyGAN"]


def module_class(version: str, run: int):
    if version == "v2":
        class MyGAN(gans.GAN):
            def train_step(self, data):
                logs = super().train_step(data)
                return {name: value * 1.0 for name, value in logs.items()}
    else:
        class MyGAN(gans.GAN):  # noqa: F811 - the same class, defined again
            def train_step(self, data):
                return super().train_step(data)
    return MyGAN


def make_custom(cls):
    keras.utils.set_random_seed(0)
    gan = cls(models.dcgan_generator(latent_dim=16), models.dcgan_discriminator(), seed=0)
    gan.compile(g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5), d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5), jit_compile=False)
    return gan


@pytest.mark.parametrize("define", [cell_class, module_class], ids=["cell", "module"])
def test_a_changed_train_step_trains_afresh_and_an_unchanged_one_resumes(tmp_path, images, capsys, define):
    gans.fit_gan(make_custom(define("v1", 1)), data(images), epochs=1, checkpoint_dir=tmp_path, verbose=0)
    # The same code defined again (a re-run cell, a new kernel) resumes.
    same = make_custom(define("v1", 2))
    gans.fit_gan(same, data(images), epochs=2, checkpoint_dir=tmp_path, verbose=0)
    assert "Resuming from" in capsys.readouterr().out and same.g_optimizer.iterations.numpy() == 6  # 3 restored + 3
    # Another train_step body in a class of the same name: a fresh run, saying what changed.
    changed = make_custom(define("v2", 3))
    history = gans.fit_gan(changed, data(images), epochs=2, checkpoint_dir=tmp_path, verbose=0)
    out = capsys.readouterr().out
    assert "not resumed" in out and "train_step source changed" in out and "Resuming" not in out
    assert len(history["d_loss"]) == 2 and changed.g_optimizer.iterations.numpy() == 6  # both epochs trained here
    assert len([p for p in tmp_path.iterdir() if p.name.startswith("run-")]) == 2


def test_the_code_digest_counts_code_not_comments_and_sees_helpers_and_losses():
    recipe = {v: make_custom(module_class(v, 0)).recipe()["train_step source"] for v in ("v1", "v2")}
    assert recipe["v1"] != recipe["v2"] and make_custom(gans.GAN).recipe()["train_step source"] not in recipe.values()
    # Read from the source, a comment does not count; from compiled code (a cell), the code is all there is.
    digest = {v: checkpoints.code_digest(cell_class(v, i).train_step) for i, v in enumerate(CELLS)}
    assert digest["v1"] == digest["v1, commented"] != digest["v2"]
    assert checkpoints.code_digest(lambda x: x + 1) != checkpoints.code_digest(lambda x: x + 2)

    # A helper the step calls by name is part of it.
    def with_helper(scale):
        class Helped(gans.GAN):
            def train_step(self, data):
                return self.step_logs(super().train_step(data))

            if scale:
                def step_logs(self, logs):
                    return {k: v * 2.0 for k, v in logs.items()}
            else:
                def step_logs(self, logs):
                    return logs
        return Helped

    assert checkpoints.method_code_digest(with_helper(True), "train_step", gans.AdversarialModel) != \
        checkpoints.method_code_digest(with_helper(False), "train_step", gans.AdversarialModel)
    # The loss functions a model holds: ACGAN's own d_loss_fn and one written in the lab differ.
    acgan = [gans.ACGAN(models.acgan_generator(latent_dim=8), models.acgan_discriminator(), seed=0, **kw)
             for kw in ({}, {"d_loss_fn": lambda adv, real_logits, labels, fake_logits, fake_labels, w: adv})]
    for gan in acgan:
        gan.compile(g_optimizer=keras.optimizers.Adam(), d_optimizer=keras.optimizers.Adam(), jit_compile=False)
    diff = checkpoints.describe_difference(acgan[0].recipe(), acgan[1].recipe())
    assert [line.split(":")[0] for line in diff] == ["d_loss_fn source changed"]
    assert "gan_loss source" in acgan[0].recipe()

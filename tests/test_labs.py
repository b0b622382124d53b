"""The labs' hidden tests catch wrong answers: notebook 02's ``train_step`` test against three wrong steps, and
the notebook's solution trains exactly like the kit's GAN. The tests and the solution are read from the
notebook itself, so this checks what students get graded with."""

import json
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

import kit
from kit import gans, models

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "02_dcgan.ipynb"


def cells():
    return ["".join(c["source"]) for c in json.loads(NOTEBOOK.read_text())["cells"] if c["cell_type"] == "code"]


def namespace_with(*markers):
    """Execute the notebook's code cells that contain any of ``markers`` (imports first) in one namespace."""
    ns = {"keras": keras, "np": np, "tf": tf, "ops": keras.ops, "gans": gans, "kit": kit}
    for source in cells():
        if any(m in source for m in markers):
            exec(compile(source.split("\ntest_")[0] if source.startswith('""" # BEGIN TEST CONFIG') else source, str(NOTEBOOK), "exec"), ns)
    return ns


@pytest.fixture(scope="module")
def lab():
    return namespace_with("def d_loss_fn", "class DCGAN", "def test_one_step_is_the_two_tape_update", "def test_losses_match_the_formulas")


def test_the_solution_passes_the_hidden_tests(lab):
    lab["test_one_step_is_the_two_tape_update"](lab["DCGAN"])
    lab["test_losses_match_the_formulas_on_fresh_logits"](lab["d_loss_fn"], lab["g_loss_fn"], {})


def wrong_steps(lab):
    DCGAN, d_loss_fn, g_loss_fn = lab["DCGAN"], lab["d_loss_fn"], lab["g_loss_fn"]

    class OnlyDiscriminator(DCGAN):
        def train_step(self, real_images):
            z = self.sample_latent(ops_shape(real_images))
            with tf.GradientTape() as tape:
                d_loss = d_loss_fn(self.discriminator(real_images, training=True), self.discriminator(self.generator(z, training=True), training=True))
            self.apply_gradients(self.d_optimizer, tape, d_loss, self.discriminator)
            self.sample_latent(ops_shape(real_images))
            return self.track(d_loss=d_loss, g_loss=d_loss)

    class WrongSign(DCGAN):
        def train_step(self, real_images):
            z = self.sample_latent(ops_shape(real_images))
            with tf.GradientTape() as tape:
                d_loss = d_loss_fn(self.discriminator(real_images, training=True), self.discriminator(self.generator(z, training=True), training=True))
            self.apply_gradients(self.d_optimizer, tape, d_loss, self.discriminator)
            z = self.sample_latent(ops_shape(real_images))
            with tf.GradientTape() as tape:  # the generator climbs its own loss
                g_loss = -g_loss_fn(self.discriminator(self.generator(z, training=True), training=True))
            self.apply_gradients(self.g_optimizer, tape, g_loss, self.generator)
            return self.track(d_loss=d_loss, g_loss=g_loss)

    class CallsTheKit(DCGAN):
        def train_step(self, real_images):
            return gans.GAN.train_step(self, real_images)

    return {"only the discriminator": OnlyDiscriminator, "wrong sign": WrongSign, "the kit's GAN": CallsTheKit}


def ops_shape(x):
    return keras.ops.shape(x)[0]


@pytest.mark.parametrize("mistake", ["only the discriminator", "wrong sign", "the kit's GAN"])
def test_the_hidden_test_fails_a_wrong_train_step(lab, mistake):
    with pytest.raises(AssertionError):
        lab["test_one_step_is_the_two_tape_update"](wrong_steps(lab)[mistake])


def test_the_solution_trains_exactly_like_the_kit_gan(lab):
    """Same networks, seed, optimizers and batches: the student's class and kit.gans.GAN end with the same weights."""
    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, (32, 28, 28, 1)).astype("float32")
    weights = {}
    for name, cls in (("notebook", lab["DCGAN"]), ("kit", gans.GAN)):
        keras.utils.set_random_seed(3)
        model = cls(models.dcgan_generator(latent_dim=16), models.dcgan_discriminator(), seed=7)
        model.compile(g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5), d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5), jit_compile=False)
        model.fit(tf.data.Dataset.from_tensor_slices(real).batch(8), epochs=1, verbose=0)
        weights[name] = model.generator.get_weights() + model.discriminator.get_weights()
    for a, b in zip(weights["notebook"], weights["kit"]):
        np.testing.assert_allclose(a, b, atol=1e-6)

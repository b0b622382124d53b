"""The labs' hidden tests catch wrong answers: notebook 02's ``train_step`` test against three wrong steps,
notebook 05's PatchGAN test against discriminators that ignore the sketch or the label; and the notebook's
solution trains exactly like the kit's GAN. The tests and the solutions are read from the notebooks themselves
(tests/labtools.py), so this checks what students are graded with. Gaming answers are tests/test_gaming.py's."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import labtools
from kit import gans, models

DCGAN_LAB = labtools.notebook("02")
PATCHGAN_LAB = labtools.notebook("05")


@pytest.fixture(scope="module")
def lab():
    return labtools.solution_namespace(DCGAN_LAB)


def hidden_test(path, question):
    (test,) = labtools.questions(path)[question].tests
    return test


def test_the_solution_passes_the_hidden_tests(lab):
    labtools.run(hidden_test(DCGAN_LAB, "q1_losses"), lab)
    labtools.run(hidden_test(DCGAN_LAB, "q2_train_step"), lab)


# Wrong steps as a student writes them in the notebook (they run in its namespace, in ``__main__``).
WRONG_STEPS = {
    "only the discriminator": """
class DCGAN(DCGAN):
    def train_step(self, real_images):
        z = self.sample_latent(ops.shape(real_images)[0])
        with tf.GradientTape() as tape:
            d_loss = d_loss_fn(self.discriminator(real_images, training=True), self.discriminator(self.generator(z, training=True), training=True))
        self.apply_gradients(self.d_optimizer, tape, d_loss, self.discriminator)
        self.sample_latent(ops.shape(real_images)[0])
        return self.track(d_loss=d_loss, g_loss=d_loss)
""",
    "wrong sign": """
class DCGAN(DCGAN):
    def train_step(self, real_images):
        z = self.sample_latent(ops.shape(real_images)[0])
        with tf.GradientTape() as tape:
            d_loss = d_loss_fn(self.discriminator(real_images, training=True), self.discriminator(self.generator(z, training=True), training=True))
        self.apply_gradients(self.d_optimizer, tape, d_loss, self.discriminator)
        z = self.sample_latent(ops.shape(real_images)[0])
        with tf.GradientTape() as tape:  # the generator climbs its own loss
            g_loss = -g_loss_fn(self.discriminator(self.generator(z, training=True), training=True))
        self.apply_gradients(self.g_optimizer, tape, g_loss, self.generator)
        return self.track(d_loss=d_loss, g_loss=g_loss)
""",
    "the kit's GAN": """
class DCGAN(gans.GAN):
    def train_step(self, real_images):
        return gans.GAN.train_step(self, real_images)
""",
}


@pytest.mark.parametrize("mistake", WRONG_STEPS)
def test_the_hidden_test_fails_a_wrong_train_step(lab, mistake):
    ns = dict(lab)
    exec(WRONG_STEPS[mistake], ns)
    with pytest.raises(AssertionError):
        labtools.run(hidden_test(DCGAN_LAB, "q2_train_step"), ns)


# The notebook's PatchGAN with one input left out of what D looks at: (the solution's line, the wrong one).
PATCHGAN_MISTAKES = {
    "ignores the sketch": ("layers.Concatenate()([condition, image, label_map])", "layers.Concatenate()([image, label_map])"),
    "ignores the label": ("layers.Concatenate()([condition, image, label_map])", "layers.Concatenate()([condition, image])"),
}


@pytest.mark.parametrize("mistake", PATCHGAN_MISTAKES)
def test_the_hidden_test_fails_a_wrong_patchgan(mistake):
    right, wrong = PATCHGAN_MISTAKES[mistake]
    ns = labtools.imports(PATCHGAN_LAB)
    (solution,) = labtools.questions(PATCHGAN_LAB)["q2_patchgan"].solution
    assert right in solution, f"notebook 05's PatchGAN no longer has {right!r}: update PATCHGAN_MISTAKES"
    exec(solution.replace(right, wrong), ns)
    with pytest.raises(AssertionError, match="sketch" if "sketch" in mistake else "label"):
        labtools.run(hidden_test(PATCHGAN_LAB, "q2_patchgan"), ns)


@pytest.mark.parametrize("path", labtools.lab_notebooks(), ids=lambda p: p.stem)
def test_each_question_is_worth_what_its_hidden_tests_are(path):
    """A question's ``points`` and its hidden tests' ``points`` agree (otter would otherwise grade out of one and
    report the other): tests either leave points to the question, or their points add up to it."""
    for q in labtools.questions(path).values():
        given = [t.points for t in q.tests if t.points is not None]
        if given:
            assert len(given) == len(q.tests) and sum(given) == q.points, f"{path.stem}/{q.name}: {q.points} points, tests {given}"


def test_the_solution_trains_exactly_like_the_kit_gan(lab, deterministic_ops):
    """Same networks, seed, optimizers and batches: the student's class and kit.gans.GAN end with the same weights,
    to the float32 rounding bounded below."""
    # The bound. With op determinism each run is exactly reproducible, but the two classes compute the same
    # losses by different float32 formulas (the notebook's softplus, the kit's binary cross-entropy): the
    # gradients d loss / d logit differ by a few ulps, and the backward pass after them is the same graph, linear
    # in them, so each weight's gradient differs by |dg| <= k u G (u = 2^-24, G the gradient scale, |g| <= 0.1
    # here; measured: |dg| <= 4e-8, k ~ 10; taken: k = 16).
    # Adam's step lr m^ / (sqrt(v^) + eps) moves by at most lr (1 + sqrt(t)) |dg| / eps at step t (m^ and
    # sqrt(v^) are weighted means and RMS of the gradients, so each moves by at most |dg|, and |m^| / sqrt(v^) <=
    # sqrt(t)): most where g ~ 0. With Keras' default eps = 1e-7 the slope lr / eps is 2e3, so a weight whose
    # gradient is about 0 may move up to 2e3 x 4e-8 ~ 1e-4 differently per step: that is what failed at atol 1e-6
    # on some CPUs (3.2e-6 in project/kernel on AMD EPYC). Here eps = 1e-3: the slope is lr / eps = 0.2, the steps
    # stay ~lr wherever |g| >> 1e-3 (a wrong train_step still ends ~lr per step away: 84% of the weights farther
    # than atol for the wrong sign), and over the 4 steps of this fit the weights differ by at most
    # sum_t lr (1 + sqrt t) / eps x k u G; x2 because these differences change the next steps' gradients by about
    # as much again (they are ~1e-6 of the weights). And each step's w + step is rounded to float32, on either
    # side when the steps differ: one ulp of w (<= 2^-23 |w|) per step, the rtol.
    lr, eps, steps = 2e-4, 1e-3, 32 // 8
    rounding = 16 * 2.0**-24 * 0.1
    atol = 2 * sum(lr * (1 + np.sqrt(t)) / eps for t in range(1, steps + 1)) * rounding  # about 3.9e-7
    rtol = steps * 2.0**-23  # about 4.8e-7
    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, (32, 28, 28, 1)).astype("float32")
    weights = {}
    for name, cls in (("notebook", lab["DCGAN"]), ("kit", gans.GAN)):
        keras.utils.set_random_seed(3)
        model = cls(models.dcgan_generator(latent_dim=16), models.dcgan_discriminator(), seed=7)
        model.compile(g_optimizer=keras.optimizers.Adam(lr, beta_1=0.5, epsilon=eps), d_optimizer=keras.optimizers.Adam(lr, beta_1=0.5, epsilon=eps),
                      jit_compile=False)
        model.fit(tf.data.Dataset.from_tensor_slices(real).batch(8), epochs=1, verbose=0)
        assert int(model.g_optimizer.iterations) == steps
        weights[name] = model.generator.get_weights() + model.discriminator.get_weights()
    for a, b in zip(weights["notebook"], weights["kit"]):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)

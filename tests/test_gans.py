import os
import signal
import subprocess
import sys
import textwrap
import warnings

import keras
import numpy as np
import pytest

from kit import gans, metrics, models
from kit.data import make_dataset


def adam():
    return keras.optimizers.Adam(2e-4, beta_1=0.5)


def make_gan(loss="bce", jit=False, seed=0):
    keras.utils.set_random_seed(seed)
    gan = gans.GAN(models.dcgan_generator(latent_dim=32), models.dcgan_discriminator(), loss=loss, seed=seed)
    gan.compile(adam(), adam(), jit_compile=jit)
    return gan


def make_acgan(jit=False):
    keras.utils.set_random_seed(0)
    gan = gans.ACGAN(models.acgan_generator(latent_dim=32), models.acgan_discriminator())
    gan.compile(adam(), adam(), jit_compile=jit)
    return gan


@pytest.fixture(scope="module")
def real(fmnist):
    return fmnist.x_train[:256] * 2 - 1, fmnist.y_train[:256]


# -- losses --------------------------------------------------------------------------------------------------
def softplus(x):
    return np.logaddexp(0.0, x)


def test_losses_on_known_inputs():
    r, f = np.array([2.0, -1.0, 0.5]), np.array([-3.0, 0.2, 1.0])
    bce = gans.get_loss("bce")
    assert float(bce.discriminator(r, f)) == pytest.approx(softplus(-r).mean() + softplus(f).mean(), rel=1e-5)
    assert float(bce.generator(f)) == pytest.approx(softplus(-f).mean(), rel=1e-5)
    smooth = gans.get_loss("bce", label_smoothing=0.1)
    expected = np.mean(0.9 * softplus(-r) + 0.1 * softplus(r)) + softplus(f).mean()
    assert float(smooth.discriminator(r, f)) == pytest.approx(expected, rel=1e-5)
    hinge = gans.get_loss("hinge")
    assert float(hinge.discriminator(r, f)) == pytest.approx(np.maximum(0, 1 - r).mean() + np.maximum(0, 1 + f).mean())
    assert float(hinge.generator(f)) == pytest.approx(-f.mean())
    w = gans.get_loss("wgan-gp")
    assert float(w.discriminator(r, f)) == pytest.approx(f.mean() - r.mean())
    assert w.n_critic == 5 and w.gp_weight == 10 and w.uses_gradient_penalty


def test_get_loss_rejects_bad_settings():
    with pytest.raises(ValueError, match="Unknown GAN loss 'lsgan'"):
        gans.get_loss("lsgan")
    with pytest.raises(ValueError, match="bce' loss only"):
        gans.get_loss("hinge", label_smoothing=0.1)
    with pytest.raises(ValueError, match="n_critic must be a positive integer"):
        gans.get_loss("wgan-gp", n_critic=0)


def test_gradient_penalty_closed_form_for_a_linear_critic():
    # f(x) = <w, x>: the gradient is w everywhere, so the penalty is (||w|| - 1)^2 whatever x_hat is.
    rng = np.random.default_rng(0)
    w = rng.normal(size=(1, 6, 6, 2)).astype("float32")
    critic = lambda x: keras.ops.sum(x * w, axis=(1, 2, 3))  # noqa: E731
    real, fake = rng.normal(size=(5, 6, 6, 2)).astype("float32"), rng.normal(size=(5, 6, 6, 2)).astype("float32")
    gp = gans.gradient_penalty(critic, real, fake, rng.uniform(size=5))
    assert float(gp) == pytest.approx((np.linalg.norm(w) - 1) ** 2, rel=1e-5)


def test_gradient_penalty_uses_one_alpha_per_sample_and_all_axes():
    # f(x) = ||x||^2 / 2 per example: grad = x_hat, so the norm is ||real + alpha_i (fake - real)|| over H, W, C.
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(4, 3, 3, 2)).astype("float32"), rng.normal(size=(4, 3, 3, 2)).astype("float32")
    alpha = np.array([0.0, 0.25, 0.5, 1.0], "float32")
    critic = lambda x: 0.5 * keras.ops.sum(x * x, axis=(1, 2, 3))  # noqa: E731
    x_hat = real + alpha[:, None, None, None] * (fake - real)
    expected = np.mean((np.linalg.norm(x_hat.reshape(4, -1), axis=1) - 1) ** 2)
    assert float(gans.gradient_penalty(critic, real, fake, alpha)) == pytest.approx(expected, rel=1e-5)


# -- training ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("loss", ["bce", "hinge", "wgan-gp"])
def test_train_steps_on_real_data_lower_d_loss(real, loss):
    gan = make_gan(gans.get_loss(loss, n_critic=1))
    ds = make_dataset(real[0], batch_size=32, drop_remainder=True, seed=0)
    batch = next(iter(ds))
    z = gan.sample_latent(32, seed=3)

    def d_loss():
        return float(gan.gan_loss.discriminator(gan.discriminator(batch, training=False), gan.discriminator(gan.generator(z), training=False)))

    before = d_loss()
    hist = gan.fit(ds.repeat(3), epochs=1, verbose=0)
    assert {"d_loss", "g_loss", "d_real", "d_fake"} <= set(hist.history)
    assert d_loss() < before


def test_xla_wgan_gp_and_acgan_train(real):
    gan = make_gan("wgan-gp", jit=True)
    h = gan.fit(make_dataset(real[0][:64], batch_size=32, drop_remainder=True), epochs=1, verbose=0)
    assert np.isfinite(h.history["gp"][0])
    ac = make_acgan(jit=True)
    h = ac.fit(make_dataset(real[0][:64], real[1][:64], batch_size=32, drop_remainder=True), epochs=1, verbose=0)
    assert {"aux_loss", "aux_acc_fake"} <= set(h.history)


def test_mixed_precision_wraps_both_optimizers(real):
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        gan = make_gan()
        assert isinstance(gan.g_optimizer, keras.optimizers.LossScaleOptimizer)
        assert isinstance(gan.d_optimizer, keras.optimizers.LossScaleOptimizer)
        assert gan.discriminator.output.dtype == "float32"
        h = gan.fit(make_dataset(real[0][:64], batch_size=32, drop_remainder=True), epochs=1, verbose=0)
        assert np.isfinite(h.history["d_loss"][0]) and np.isfinite(h.history["g_loss"][0])
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_training_is_reproducible_for_a_seed(real):
    def run():
        gan = make_gan(seed=4)
        gan.fit(make_dataset(real[0][:96], batch_size=32, drop_remainder=True, seed=4), epochs=1, verbose=0)
        return gan.generate(np.ones((2, 32), "float32"))

    np.testing.assert_array_equal(run(), run())


def test_generator_keras_round_trip(tmp_path, real):
    gan = make_gan()
    gan.fit(make_dataset(real[0][:64], batch_size=32, drop_remainder=True), epochs=1, verbose=0)
    z = gan.sample_latent(4, seed=1)
    gan.generator.save(tmp_path / "g.keras")
    loaded = keras.saving.load_model(tmp_path / "g.keras")
    np.testing.assert_array_equal(np.asarray(loaded(z, training=False)), gan.generate(z))


def test_bad_input_is_rejected(real):
    gan = make_gan()
    with pytest.raises(ValueError, match=r"z must have shape \(B, 32\), got \(2, 100\)"):
        gan.generate(np.zeros((2, 100), "float32"))
    with pytest.raises(ValueError, match=r"real images must have shape \(B, 28, 28, 1\)"):
        gan.fit(make_dataset(np.zeros((8, 32, 32, 1), "float32"), batch_size=4), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="discriminator expects"):
        gans.GAN(models.dcgan_generator(image_shape=(32, 32, 1)), models.dcgan_discriminator())
    with pytest.raises(ValueError, match="28x28, 32x32 or 64x64"):
        models.dcgan_generator(image_shape=(48, 48, 1))
    ac = make_acgan()
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 9\], got \[0, 12\]"):
        ac.generate(np.zeros((2, 32), "float32"), [0, 12])
    with pytest.raises(ValueError, match="needs labels"):
        ac.generate(np.zeros((2, 32), "float32"))


def test_reference_64x64_variant():
    g, d = models.dcgan_generator(image_shape=(64, 64, 3), base_filters=64), models.dcgan_discriminator(image_shape=(64, 64, 3))
    assert g.get_layer("to_map").output.shape[1:] == (8, 8, 256)
    assert g.output_shape == (None, 64, 64, 3) and d.output_shape == (None, 1)


# -- callbacks, checkpoints and resume -------------------------------------------------------------------
def test_sample_grid_gif_and_nan_guard(tmp_path, real):
    from kit import viz

    gan = make_gan()
    grid = gans.SampleGrid(tmp_path / "grid", n=8, show=False)
    history = gans.fit_gan(gan, make_dataset(real[0][:64], batch_size=32, drop_remainder=True), epochs=2, callbacks=[grid], verbose=0)
    assert [p.name for p in grid.frames] == ["epoch_001.png", "epoch_002.png"]
    assert viz.make_gif(grid.frames, tmp_path / "p.gif").stat().st_size > 0
    assert len(history["d_loss"]) == 2

    from kit.callbacks import NonFiniteLossError

    bad = gans.GAN(models.dcgan_generator(latent_dim=32), models.dcgan_discriminator())
    bad.compile(keras.optimizers.Adam(1e30), keras.optimizers.Adam(1e30), jit_compile=False)
    with pytest.raises(NonFiniteLossError, match="loss"):
        gans.fit_gan(bad, make_dataset(real[0], batch_size=32, drop_remainder=True), epochs=3, verbose=0)


RESUME_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    import keras, numpy as np
    from kit import gans, models
    from kit.data import load_fashion_mnist, make_dataset

    ckpt, dump = sys.argv[1], sys.argv[2]
    keras.utils.set_random_seed(0)
    x = load_fashion_mnist("tanh", train_samples=128, test_samples=8).x_train
    gan = gans.GAN(models.dcgan_generator(latent_dim=32), models.dcgan_discriminator())
    gan.compile(keras.optimizers.Adam(2e-4, beta_1=0.5), keras.optimizers.Adam(2e-4, beta_1=0.5), jit_compile=False)

    class Kill(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:  # epochs 1 and 2 are done and checkpointed: die like a disconnected Colab kernel
                np.savez(dump, *gan.generator.get_weights(), *gan.discriminator.get_weights(),
                         g_it=gan.g_optimizer.iterations.numpy(), d_it=gan.d_optimizer.iterations.numpy())
                os.kill(os.getpid(), signal.SIGKILL)

    gans.fit_gan(gan, make_dataset(x, batch_size=32, drop_remainder=True), epochs=4, checkpoint_dir=ckpt, callbacks=[Kill()], verbose=0)
    """
)


def test_killed_training_resumes_from_its_checkpoint(tmp_path, fmnist):
    script, ckpt, dump = tmp_path / "train.py", tmp_path / "ckpt", tmp_path / "at_kill.npz"
    script.write_text(RESUME_SCRIPT)
    proc = subprocess.run([sys.executable, str(script), str(ckpt), str(dump)], capture_output=True, text=True, timeout=300, env=os.environ.copy())
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    assert gans.checkpoint_state(ckpt)["epoch"] == 2

    gan = gans.GAN(models.dcgan_generator(latent_dim=32), models.dcgan_discriminator())
    gan.compile(adam(), adam(), jit_compile=False)
    assert gans.restore(gan, ckpt) == 2
    at_kill = np.load(dump)
    assert gan.g_optimizer.iterations.numpy() == at_kill["g_it"] == 8  # 2 epochs x 4 steps
    assert gan.d_optimizer.iterations.numpy() == at_kill["d_it"]
    weights = gan.generator.get_weights() + gan.discriminator.get_weights()
    for i, w in enumerate(weights):
        np.testing.assert_array_equal(w, at_kill[f"arr_{i}"])

    # Running "the same cell" again finishes the remaining epochs only.
    x = fmnist.x_train[:128] * 2 - 1
    history = gans.fit_gan(gan, make_dataset(x, batch_size=32, drop_remainder=True), epochs=3, checkpoint_dir=ckpt, verbose=0)
    assert gan.g_optimizer.iterations.numpy() == 12 and len(history["d_loss"]) == 3
    assert gans.checkpoint_state(ckpt)["epoch"] == 3

    # A changed model cannot resume from the old checkpoint: the error says which folder to delete.
    other = gans.GAN(models.dcgan_generator(latent_dim=16), models.dcgan_discriminator())
    other.compile(adam(), adam(), jit_compile=False)
    with pytest.raises(ValueError, match="saved by a different model.*delete that folder"), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Keras first warns about each layer it skips
        gans.restore(other, ckpt)


# -- metrics ---------------------------------------------------------------------------------------------------
def test_fid_kid_and_classifier_score_on_known_inputs():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4000, 4))
    assert metrics.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    shift = np.array([1.0, 2.0, 0.0, 0.0])
    assert metrics.frechet_distance(a, a + shift) == pytest.approx(5.0, rel=1e-3)  # ||mu_a - mu_b||^2
    kid_same, _ = metrics.kernel_inception_distance(a[:2000], a[2000:], subset_size=500)
    kid_shift, _ = metrics.kernel_inception_distance(a[:2000], a[2000:] + shift, subset_size=500)
    assert abs(kid_same) < 0.05 < kid_shift
    assert metrics.classifier_score(np.eye(10)) == pytest.approx(10.0)
    assert metrics.classifier_score(np.full((5, 10), 0.1)) == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        metrics.frechet_distance(np.zeros(5), np.zeros(5))
    with pytest.raises(ValueError, match="feature sizes differ"):
        metrics.frechet_distance(np.zeros((5, 2)), np.zeros((5, 3)))


def test_classifier_features(trained_dense, fmnist):
    feats = metrics.ClassifierFeatures(trained_dense)
    x = fmnist.x_test[:50] * 2 - 1
    assert feats(x).shape == (50, 128)
    assert feats.probabilities(x).shape == (50, 10)
    scores = metrics.fid_kid(x[:25], x[25:], feats)
    assert set(scores) == {"fid", "kid", "kid_std", "n"} and scores["n"] == 25
    with pytest.raises(ValueError, match=r"\[-1.0, 1.0\]"):
        feats(fmnist.x_test[:2] * 255)


def test_inception_features_resize_and_offline_fallback(monkeypatch):
    # The architecture with random weights (no download): grayscale 28x28 in [-1, 1] -> 2048-d pool features.
    keras.utils.set_random_seed(0)
    net = keras.applications.InceptionV3(include_top=False, pooling="avg", weights=None, input_shape=(299, 299, 3))
    feats = metrics.InceptionFeatures(net)(np.linspace(-1, 1, 2 * 28 * 28).reshape(2, 28, 28, 1).astype("float32"))
    assert feats.shape == (2, 2048) and np.all(np.isfinite(feats))

    def offline(*args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(keras.applications, "InceptionV3", offline)
    assert metrics.inception_features() is None  # the notebooks then report classifier FID only

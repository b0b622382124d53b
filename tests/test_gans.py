"""GAN and ACGAN of notebooks 02-03: losses against hand-computed values, training on real data, the data checks
of fit_gan, and the sample grid."""

import os
import re

import keras
import numpy as np
import pytest
import tensorflow as tf

from kit import gans, models, viz
from kit.callbacks import NonFiniteLossError
from kit.data import make_dataset
from kit.paths import UnwritableFolderError


def adam():
    return keras.optimizers.Adam(2e-4, beta_1=0.5)


def make_gan(loss="bce", jit=False, seed=0, latent_dim=32):
    keras.utils.set_random_seed(seed)
    gan = gans.GAN(models.dcgan_generator(latent_dim=latent_dim), models.dcgan_discriminator(), loss=loss, seed=seed)
    gan.compile(g_optimizer=adam(), d_optimizer=adam(), jit_compile=jit)
    return gan


def make_acgan(jit=False):
    keras.utils.set_random_seed(0)
    gan = gans.ACGAN(models.acgan_generator(latent_dim=32), models.acgan_discriminator())
    gan.compile(g_optimizer=adam(), d_optimizer=adam(), jit_compile=jit)
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


def test_auxiliary_loss_is_the_mean_cross_entropy():
    logits = np.array([[2.0, 0.0, -1.0], [0.5, 0.5, 3.0]], "float32")
    labels = np.array([0, 1])
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    assert float(gans.auxiliary_loss(labels, logits)) == pytest.approx(-np.mean(log_p[[0, 1], labels]), rel=1e-5)


def test_get_loss_rejects_bad_settings():
    with pytest.raises(ValueError, match="Unknown GAN loss 'least-squares'"):
        gans.get_loss("least-squares")
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
    hist = gan.fit(ds, epochs=3, verbose=0)
    assert {"d_loss", "g_loss", "d_real", "d_fake"} <= set(hist.history)
    assert d_loss() < before


@pytest.mark.ci_only  # the XLA path (the t4 profile's jit_compile) on a CPU: ~1 min; make ci runs it
def test_xla_wgan_gp_and_acgan_train(real):
    gan = make_gan("wgan-gp", jit=True)
    h = gan.fit(make_dataset(real[0][:64], batch_size=32, drop_remainder=True), epochs=1, verbose=0)
    assert np.isfinite(h.history["gp"][0])
    ac = make_acgan(jit=True)
    h = ac.fit(make_dataset(real[0][:64], real[1][:64], batch_size=32, drop_remainder=True), epochs=1, verbose=0)
    assert {"aux_loss", "aux_acc_fake"} <= set(h.history) and np.isfinite(h.history["aux_loss"][0])


def test_training_is_reproducible_for_a_seed(real, deterministic_ops):
    def run():
        gan = make_gan(seed=4)
        gan.fit(make_dataset(real[0][:96], batch_size=32, drop_remainder=True, seed=4), epochs=1, verbose=0)
        return gan.generate(np.ones((2, 32), "float32"))

    np.testing.assert_array_equal(run(), run())


def test_compile_takes_the_optimizers_by_keyword_and_builds_them():
    gan = gans.GAN(models.dcgan_generator(latent_dim=8), models.dcgan_discriminator())
    with pytest.raises(TypeError):
        gan.compile(adam(), adam(), jit_compile=False)  # positional optimizers are a trap (keras.io orders them d, g)
    gan.compile(g_optimizer=adam(), d_optimizer=adam(), jit_compile=False)
    assert gan.g_optimizer.built and gan.d_optimizer.built
    with pytest.raises(ValueError, match="steps_per_execution must be 1"):
        gan.compile(g_optimizer=adam(), d_optimizer=adam(), jit_compile=False, steps_per_execution=4)


def test_generator_keras_round_trip(tmp_path, real):
    gan = make_gan()
    gan.fit(make_dataset(real[0][:64], batch_size=32, drop_remainder=True), epochs=1, verbose=0)
    z = gan.sample_latent(4, seed=1)
    gan.generator.save(tmp_path / "g.keras")
    loaded = keras.saving.load_model(tmp_path / "g.keras")
    np.testing.assert_array_equal(np.asarray(loaded(z, training=False)), gan.generate(z))


def test_bad_arguments_are_rejected():
    gan = make_gan()
    with pytest.raises(ValueError, match=r"z must have shape \(B, 32\), got \(2, 100\)"):
        gan.generate(np.zeros((2, 100), "float32"))
    with pytest.raises(ValueError, match="z contains 1 NaN"):
        gan.generate(np.array([[np.nan] + [0.0] * 31], "float32"))
    with pytest.raises(ValueError, match="discriminator expects"):
        gans.GAN(models.dcgan_generator(image_shape=(32, 32, 1)), models.dcgan_discriminator())
    with pytest.raises(ValueError, match="28x28, 32x32 or 64x64"):
        models.dcgan_generator(image_shape=(48, 48, 1))
    ac = make_acgan()
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 9\], got \[0, 12\]"):
        ac.generate(np.zeros((2, 32), "float32"), [0, 12])
    with pytest.raises(ValueError, match="needs labels"):
        ac.generate(np.zeros((2, 32), "float32"))
    with pytest.raises(TypeError, match="n must be a positive integer, got 2.5"):
        gans.generate_many(gan, 2.5)
    with pytest.raises(TypeError, match="n must be a positive integer, got '100'"):
        gans.generate_many(gan, "100")


# -- the data checks of fit_gan: every case is refused before the first step, with what arrived -----------
@pytest.mark.parametrize("scale, match", [
    (lambda x: (x + 1) / 2, r"look scaled to \[0, 1\]"),
    (lambda x: (x + 1) * 127.5, r"must lie in \[-1, 1\].*scale_images"),
    (lambda x: ((x + 1) * 127.5).astype("uint8"), "must be floating point"),
])
def test_fit_gan_refuses_wrongly_scaled_images(real, scale, match):
    gan = make_gan()
    with pytest.raises(ValueError, match=match):
        gans.fit_gan(gan, make_dataset(scale(real[0][:64]), batch_size=32, drop_remainder=True), epochs=1, verbose=0)
    assert gan.g_optimizer.iterations.numpy() == 0  # refused before training


def test_fit_gan_refuses_data_that_makes_no_batch_and_wrong_sizes(real):
    gan = make_gan()
    with pytest.raises(ValueError, match="make no batch of 64"):
        make_dataset(real[0][:10], batch_size=64, drop_remainder=True)
    with pytest.raises(ValueError, match=r"shape \(B, 28, 28, 1\), got \(4, 32, 32, 1\)"):
        gans.fit_gan(gan, make_dataset(np.full((8, 32, 32, 1), -0.5, "float32"), batch_size=4), epochs=1, verbose=0)
    # A failed first fit leaves nothing half-built: the same model trains when given good data.
    h = gans.fit_gan(gan, make_dataset(real[0][:64], batch_size=32, drop_remainder=True), epochs=1, verbose=0)
    assert np.isfinite(h["d_loss"][0])


def test_fit_gan_refuses_a_plain_dataset_with_zero_batches_and_writes_no_checkpoint(real, tmp_path):
    import tensorflow as tf

    gan = make_gan()
    empty = tf.data.Dataset.from_tensor_slices(real[0][:10]).batch(64, drop_remainder=True)  # not made by make_dataset
    with pytest.raises(ValueError, match="the dataset yields no batches"):
        gans.fit_gan(gan, empty, epochs=2, checkpoint_dir=tmp_path / "ck", verbose=0)
    assert gan.g_optimizer.iterations.numpy() == 0
    assert not (tmp_path / "ck").exists() or not any((tmp_path / "ck").rglob("epoch-*"))


def test_fit_gan_refuses_an_array_for_dataset_before_anything(real, tmp_path):
    gan = make_gan()
    with pytest.raises(TypeError, match=r"dataset must be a tf.data.Dataset of batches, e.g. kit.data.make_dataset\(x, batch_size=64.*"
                                        r"got a numpy.ndarray of shape \(64, 28, 28, 1\)"):
        gans.fit_gan(gan, real[0][:64], epochs=1, checkpoint_dir=tmp_path / "ck", log_dir=tmp_path / "logs", verbose=0)
    assert gan.g_optimizer.iterations.numpy() == 0 and not any(tmp_path.iterdir())  # nothing trained, nothing written
    with pytest.raises(TypeError, match=r"dataset must be a tf.data.Dataset.*got a builtins.list"):
        gans.check_dataset(gan, list(real[0][:64]))


def test_generate_refuses_zero_latents():
    gan, ac = make_gan(), make_acgan()
    before = [np.asarray(v).copy() for v in gan.variables]
    with pytest.raises(ValueError, match=r"z must hold at least one latent vector, shape \(B >= 1, 32\), got \(0, 32\)"):
        gan.generate(np.zeros((0, 32), "float32"))
    with pytest.raises(ValueError, match=r"z must hold at least one latent vector.*got \(0, 32\)"):
        ac.generate(np.zeros((0, 32), "float32"), np.zeros(0, "int32"))
    with pytest.raises(ValueError, match="n must be a positive integer, got 0"):
        gans.generate_many(gan, 0)
    for a, v in zip(before, gan.variables):  # no seed stream advanced, no weight touched
        np.testing.assert_array_equal(a, np.asarray(v))


@pytest.mark.parametrize("where", ["checkpoint_dir", "log_dir"])
@pytest.mark.parametrize("under", [lambda file: file / "sub", lambda file: file / "a" / "b", lambda file: file], ids=["under", "deep", "itself"])
def test_fit_gan_refuses_a_folder_it_cannot_create_before_the_first_epoch(real, tmp_path, where, under):
    # A path under a regular file cannot be created, not even by root (tests may run as root, for whom a
    # read-only folder is writable).
    file = tmp_path / "notes.txt"
    file.write_text("not a folder")
    folder = under(file)
    gan = make_gan()
    with pytest.raises(UnwritableFolderError, match=rf"{where} {re.escape(str(folder))} cannot be created: .*notes.txt is a file, not a folder") as err:
        gans.fit_gan(gan, make_dataset(real[0][:64], batch_size=32, drop_remainder=True), epochs=1, verbose=0, **{where: folder})
    assert isinstance(err.value, ValueError)
    assert gan.g_optimizer.iterations.numpy() == 0  # refused before the first epoch
    assert sorted(tmp_path.iterdir()) == [file] and file.read_text() == "not a folder"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes into read-only folders")
def test_fit_gan_refuses_a_read_only_checkpoint_folder_before_the_first_epoch(real, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    gan = make_gan()
    try:
        with pytest.raises(UnwritableFolderError, match=rf"checkpoint_dir {re.escape(str(folder / 'ck'))} cannot be written: .*ro refuses new files"):
            gans.fit_gan(gan, make_dataset(real[0][:64], batch_size=32, drop_remainder=True), epochs=1, checkpoint_dir=folder / "ck", verbose=0)
    finally:
        folder.chmod(0o700)
    assert gan.g_optimizer.iterations.numpy() == 0 and not any(folder.iterdir())


def test_fit_gan_checks_acgan_labels_before_the_graph_sees_them(real):
    ac = make_acgan()
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 9\], the dataset holds \[0, 12\]"):
        gans.fit_gan(ac, make_dataset(real[0][:64], np.r_[real[1][:63], 12], batch_size=32, drop_remainder=True), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"\(images, labels\) batches"):
        gans.fit_gan(ac, make_dataset(real[0][:64], batch_size=32, drop_remainder=True), epochs=1, verbose=0)


def test_reference_64x64_variant():
    g, d = models.dcgan_generator(image_shape=(64, 64, 3), base_filters=64), models.dcgan_discriminator(image_shape=(64, 64, 3))
    assert g.get_layer("to_map").output.shape[1:] == (8, 8, 256)
    assert g.output_shape == (None, 64, 64, 3) and d.output_shape == (None, 1)


# -- callbacks ----------------------------------------------------------------------------------------------
def test_sample_grid_and_gif(tmp_path, real):
    gan = make_gan()
    grid = gans.SampleGrid(tmp_path / "grid", n=8, show=False)
    history = gans.fit_gan(gan, make_dataset(real[0][:64], batch_size=32, drop_remainder=True), epochs=2, callbacks=[grid], verbose=0)
    assert [p.name for p in grid.frames] == ["epoch_001.png", "epoch_002.png"]
    assert viz.make_gif(grid.frames, tmp_path / "p.gif").stat().st_size > 0
    assert len(history["d_loss"]) == 2
    # The grid is drawn from the same z every epoch: the same model gives the same grid.
    np.testing.assert_array_equal(grid.grid(), grid.grid())


def test_a_diverging_loss_stops_training_with_its_name(real):
    bad = gans.GAN(models.dcgan_generator(latent_dim=32), models.dcgan_discriminator())
    bad.compile(g_optimizer=keras.optimizers.Adam(1e30), d_optimizer=keras.optimizers.Adam(1e30), jit_compile=False)
    with pytest.raises(NonFiniteLossError, match="d_loss|g_loss"):
        gans.fit_gan(bad, make_dataset(real[0], batch_size=32, drop_remainder=True), epochs=3, verbose=0)


def test_fid_tracker_adds_fid_and_kid_to_the_history(real, trained_dense):
    from kit import metrics

    gan = make_gan()
    tracker = gans.FIDTracker(metrics.ClassifierFeatures(trained_dense), real[0][:64], n=64)
    history = gans.fit_gan(gan, make_dataset(real[0][:64], batch_size=32, drop_remainder=True), epochs=1, callbacks=[tracker], verbose=0)
    assert np.isfinite(history["fid"][0]) and history["fid"][0] > 0 and "kid" in history


def test_lsgan_losses_are_the_least_squares_formulas():
    rng = np.random.default_rng(4)
    real, fake = rng.normal(size=(6, 1)).astype("float32"), rng.normal(size=(5, 1)).astype("float32")
    loss = gans.get_loss("lsgan")
    assert float(loss.discriminator(real, fake)) == pytest.approx(0.5 * np.mean((real - 1) ** 2) + 0.5 * np.mean(fake**2), rel=1e-5)
    assert float(loss.generator(fake)) == pytest.approx(0.5 * np.mean((fake - 1) ** 2), rel=1e-5)
    assert loss.decision_threshold == 0.5 and gans.get_loss("bce").decision_threshold == 0.0
    assert gans.get_loss("wgan-gp").decision_threshold is None


def test_generator_loss_gradients_show_the_saturation():
    d = np.array([0.01, 0.5, 0.99])
    g = gans.generator_loss_gradients(d)
    # d/ds log(1 - sigmoid(s)) = -sigmoid(s); d/ds -log sigmoid(s) = sigmoid(s) - 1
    np.testing.assert_allclose(g["saturating"], d, rtol=1e-6)
    np.testing.assert_allclose(g["non-saturating"], 1 - d, rtol=1e-6)
    for bad in ([0.0, 0.5], [1.0], []):
        with pytest.raises(ValueError, match="strictly inside"):
            gans.generator_loss_gradients(bad)


def _tiny_gan(**kwargs):
    z = keras.Input((3,))
    g = keras.Model(z, keras.layers.Reshape((2, 2, 1))(keras.layers.Dense(4, activation="tanh")(keras.layers.BatchNormalization()(z))))
    x = keras.Input((2, 2, 1))
    d = keras.Model(x, keras.layers.Dense(1)(keras.layers.Flatten()(x)))
    gan = gans.GAN(g, d, seed=0, **kwargs)
    gan.compile(g_optimizer=keras.optimizers.SGD(0.1), d_optimizer=keras.optimizers.SGD(0.1), jit_compile=False)
    return gan


def test_weight_average_follows_the_generator_with_its_warm_up():
    gan = _tiny_gan(ema_decay=0.9)
    start = [np.array(w) for w in gan.generator_ema.weights]
    real = np.random.default_rng(0).uniform(-1, 1, (8, 2, 2, 1)).astype("float32")
    gan.fit(tf.data.Dataset.from_tensor_slices(real).batch(4), epochs=1, verbose=0, shuffle=False)  # two steps
    assert float(gan.ema_updates) == 2.0
    # By hand: decay_t = min(0.9, (1 + t) / (10 + t)) = 2/11 then 3/12; trainable weights averaged, the rest copied.
    for avg, w, w0 in zip(gan.generator_ema.weights, gan.generator.weights, start):
        if w.trainable:
            assert not np.allclose(np.asarray(avg), np.asarray(w)), "the average must lag the generator"
            assert not np.allclose(np.asarray(avg), w0)
        else:
            np.testing.assert_array_equal(np.asarray(avg), np.asarray(w))
    z = np.random.default_rng(1).standard_normal((3, 3)).astype("float32")
    np.testing.assert_allclose(gan.generate(z), np.asarray(gan.generator_ema(z, training=False)), atol=1e-6)
    assert _tiny_gan().generator_ema is None and _tiny_gan().sampler is not None
    with pytest.raises(ValueError, match="ema_decay must be a number in"):
        _tiny_gan(ema_decay=1.0)
    assert _tiny_gan(ema_decay=0.9).recipe()["ema_decay"] == 0.9


def test_discriminator_accuracy_reads_the_scores_against_the_threshold():
    gan = _tiny_gan()
    real = np.random.default_rng(2).uniform(-1, 1, (16, 2, 2, 1)).astype("float32")
    cb = gans.DiscriminatorAccuracy(real, n=16)
    cb.set_model(gan)
    # A discriminator that calls everything real: accuracy 1 on real, 0 on fake.
    gan.discriminator.set_weights([np.zeros((4, 1), "float32"), np.ones(1, "float32")])
    logs = {}
    cb.on_epoch_end(0, logs)
    assert logs == {"d_acc_real": 1.0, "d_acc_fake": 0.0}
    cb.threshold = 2.0  # the same scores against a higher boundary: everything fake
    cb.on_epoch_end(0, logs)
    assert logs == {"d_acc_real": 0.0, "d_acc_fake": 1.0}
    with pytest.raises(ValueError, match="in \\[-1, 1\\]|NHWC"):
        gans.DiscriminatorAccuracy(real[..., 0] * 5, n=4)


class _MeanFeatures:
    """A stand-in FID judge: per-image mean and std of the pixels as features."""

    def __call__(self, images):
        x = np.asarray(images, np.float64).reshape(len(images), -1)
        return np.stack([x.mean(1), x.std(1), x[:, 0]], axis=1)


def test_compare_losses_trains_each_loss_on_the_same_budget():
    real = np.random.default_rng(3).uniform(-1, 1, (32, 2, 2, 1)).astype("float32")

    def networks(loss):
        z = keras.Input((3,))
        g = keras.Model(z, keras.layers.Reshape((2, 2, 1))(keras.layers.Dense(4, activation="tanh")(z)))
        x = keras.Input((2, 2, 1))
        return g, keras.Model(x, keras.layers.Dense(1)(keras.layers.Flatten()(x)))

    z = np.random.default_rng(4).standard_normal((5, 3)).astype("float32")
    ds = tf.data.Dataset.from_tensor_slices(real).batch(8, drop_remainder=True)
    out = gans.compare_losses(networks, ds, steps=4, chunks=2, features=_MeanFeatures(), real_images=real, n=16, z=z)
    assert list(out) == list(gans.LOSSES)
    for name, r in out.items():
        assert r["steps"] == 4 and len(r["history"]["d_loss"]) == 2 and not r["diverged"], name
        assert np.isfinite(r["fid"]) and r["samples"].shape == (5, 2, 2, 1)
        assert ("d_acc_real" in r["history"]) == (name != "wgan-gp")
    with pytest.raises(ValueError, match="multiple of chunks"):
        gans.compare_losses(networks, ds, steps=5, chunks=2, features=_MeanFeatures(), real_images=real, n=16, z=z)
    with pytest.raises(ValueError, match="Unknown GAN loss"):
        gans.compare_losses(networks, ds, steps=4, chunks=2, features=_MeanFeatures(), real_images=real, n=16, z=z, losses=("l2",))

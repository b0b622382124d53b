"""Notebooks 04-05: palette and sketch data, U-Net and PatchGAN shapes, the pix2pix train_step, image-quality
metrics and user image folders."""

import keras
import numpy as np
import pytest

from kit import gans, metrics, models
from kit.data import img2img
from kit.imageops import resize
from kit.data.folders import ImageFolderError, load_image_folder, load_paired_folder, split_indices
from kit.metrics.img2img import colour_error_per_class, garment_mask, translation_metrics


def _gray(n=4, size=28, seed=0):
    rng = np.random.default_rng(seed)
    x = np.zeros((n, size, size, 1), np.float32)
    x[:, size // 4 : 3 * size // 4, size // 4 : 3 * size // 4] = rng.uniform(0.4, 1.0, (n, 1, 1, 1))
    return x


# -- palette and colorization ------------------------------------------------------------------------------
def test_colorize_applies_the_class_colour():
    gray = np.full((10, 4, 4, 1), 0.5, np.float32)
    rgb = img2img.colorize(gray, np.arange(10))
    assert rgb.shape == (10, 4, 4, 3) and rgb.dtype == np.float32
    np.testing.assert_allclose(rgb[:, 0, 0], 0.5 * img2img.palette_array(), atol=1e-6)
    assert np.all(img2img.colorize(np.zeros_like(gray), np.arange(10)) == 0)  # black background stays black


def test_colorize_jitter_is_seeded_and_bounded():
    gray, labels = np.ones((50, 2, 2, 1), np.float32), np.full(50, 3)
    a = img2img.colorize(gray, labels, hue_jitter=0.05, brightness_jitter=0.2, seed=1)
    b = img2img.colorize(gray, labels, hue_jitter=0.05, brightness_jitter=0.2, seed=1)
    c = img2img.colorize(gray, labels, hue_jitter=0.05, brightness_jitter=0.2, seed=2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.min() >= 0 and a.max() <= 1
    # hue moved by at most 0.05 of the circle (18 degrees) from the dress's red
    err = metrics.hue_error(a, img2img.colorize(gray, labels))
    assert err.max() <= 18.0 + 1e-3 and err.max() > 1.0


def test_second_colours_take_half_of_their_class_and_nothing_else():
    gray, labels = np.ones((400, 2, 2, 1), np.float32), np.arange(400) % 10
    one = img2img.colorize(gray, labels)
    two = img2img.colorize(gray, labels, second_colours=img2img.SECOND_COLOURS, seed=3)
    np.testing.assert_array_equal(two, img2img.colorize(gray, labels, second_colours=img2img.SECOND_COLOURS, seed=3))
    changed = np.any(two != one, axis=(1, 2, 3))
    two_colour = np.isin(labels, [img2img.CLASS_NAMES.index(n) for n in img2img.SECOND_COLOURS])
    assert not changed[~two_colour].any()  # other classes keep their palette colour
    assert 0.35 < changed[two_colour].mean() < 0.65  # about half of the dresses and sneakers
    dress = img2img.CLASS_NAMES.index("Dress")
    np.testing.assert_allclose(two[changed & (labels == dress), 0, 0], np.broadcast_to(img2img.SECOND_COLOURS["Dress"], (int((changed & (labels == dress)).sum()), 3)), atol=1e-6)
    with pytest.raises(ValueError, match="Unknown class name"):
        img2img.colorize(gray, labels, second_colours={"Hat": (1, 0, 0)})
    with pytest.raises(ValueError, match=r"second colour of 'Dress' must be 3 RGB values"):
        img2img.colorize(gray, labels, second_colours={"Dress": (1, 0)})


def test_palette_override_and_bad_input():
    table = img2img.palette_array({"Dress": (0.0, 0.0, 1.0)})
    np.testing.assert_array_equal(table[3], [0, 0, 1])
    with pytest.raises(ValueError, match="Unknown class name"):
        img2img.palette_array({"Hat": (1, 0, 0)})
    with pytest.raises(ValueError, match=r"3 RGB values in \[0, 1\]"):
        img2img.palette_array({"Dress": (2.0, 0.0, 0.0)})
    with pytest.raises(ValueError, match="channel"):
        img2img.colorize(np.zeros((2, 4, 4, 3), np.float32), [0, 1])  # RGB where grayscale is expected
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 9\]"):
        img2img.colorize(np.zeros((2, 4, 4, 1), np.float32), [0, 10])


# -- sketches ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", img2img.SKETCH_METHODS)
def test_sketch_draws_dark_lines_on_white(method):
    x = resize(_gray(3), 64)
    s = img2img.sketch(x, method=method)
    assert s.shape == (3, 64, 64, 1) and s.dtype == np.float32
    assert s.min() >= 0 and s.max() <= 1
    assert s[:, 0, 0, 0].tolist() == [1.0, 1.0, 1.0]  # blank paper away from the garment
    edge = s[:, 16, 12:20, 0]  # the square's top border runs along row 16
    assert edge.min() < 0.5, "the garment's outline must be drawn"
    np.testing.assert_array_equal(s, img2img.sketch(x, method=method))  # deterministic


def test_sketch_rejects_unknown_method_and_bad_sigma():
    with pytest.raises(ValueError, match="Unknown sketch method"):
        img2img.sketch(_gray(1), method="pencil")
    with pytest.raises(ValueError, match="sigma"):
        img2img.sketch(_gray(1), sigma=0.0)


def test_sketch_data_on_real_fashion_mnist():
    d = img2img.sketch_data(train_samples=20, test_samples=10, size=32)
    assert d.train.inputs.shape == (20, 32, 32, 1) and d.train.targets.shape == (20, 32, 32, 3)
    x, t, y = d.test.tanh()
    assert x.min() >= -1 and t.max() <= 1 and y.dtype == np.int32


def test_check_pairs_rejects_mismatches():
    with pytest.raises(ValueError, match="pair up"):
        img2img.check_pairs(np.zeros((2, 8, 8, 1), np.float32), np.zeros((2, 16, 16, 3), np.float32))
    with pytest.raises(ValueError, match="targets must have 3 channel"):
        img2img.check_pairs(np.zeros((2, 8, 8, 1), np.float32), np.zeros((2, 8, 8, 1), np.float32))


# -- models ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [28, 32, 64])
def test_unet_output_matches_input_size(size):
    g = models.unet_generator((size, size, 1), 3, num_classes=10, base_filters=8)
    out = g([np.zeros((2, size, size, 1), np.float32), np.array([0, 1])])
    assert tuple(out.shape) == (2, size, size, 3)
    assert np.abs(np.asarray(out)).max() <= 1.0


@pytest.mark.parametrize("size,depth", [(30, None), (27, None), (28, 3), (64, 1)])
def test_unet_rejects_sizes_it_cannot_handle(size, depth):
    with pytest.raises(ValueError, match="multiple of 4"):
        models.unet_generator((size, size, 1), 3, base_filters=8, depth=depth)


def test_patchgan_grid_and_receptive_field():
    d = models.patchgan_discriminator((64, 64, 1), 3, num_classes=10, base_filters=8, n_layers=2)
    assert d.output_shape == (None, 16, 16, 1)
    assert models.receptive_field(d) == 34  # pix2pix's 34x34 PatchGAN
    d3 = models.patchgan_discriminator((64, 64, 1), 3, num_classes=None, base_filters=8, n_layers=3)
    assert d3.output_shape == (None, 8, 8, 1) and models.receptive_field(d3) == 70
    with pytest.raises(ValueError, match="divisible"):
        models.patchgan_discriminator((28, 28, 1), 3, n_layers=3)


def test_label_conditioning_changes_the_output():
    keras.utils.set_random_seed(0)
    g = models.unet_generator((32, 32, 1), 3, num_classes=10, base_filters=8)
    x = np.repeat(_gray(1, 32), 2, axis=0) * 2 - 1
    out = np.asarray(g([x, np.array([0, 7])], training=False))
    assert np.abs(out[0] - out[1]).mean() > 1e-4


# -- the pix2pix train_step --------------------------------------------------------------------------------
def _model(conditional=True, gan_weight=1.0, g_steps=1):
    return gans.pix2pix((32, 32, 1), 3, num_classes=10 if conditional else None, base_filters=8, gan_weight=gan_weight,
                        g_steps=g_steps, jit_compile=False, learning_rate=1e-3, seed=0)


def _batches(conditional=True, n=64):
    d = img2img.sketch_data(train_samples=n, test_samples=8, size=32)
    x, t, y = d.train.tanh()
    return kit_dataset((x, t, y) if conditional else (x, t))


def kit_dataset(arrays):
    from kit.data import make_dataset

    return make_dataset(arrays, batch_size=16, drop_remainder=True, shuffle=False)


@pytest.mark.parametrize("gan_weight,g_steps", [(1.0, 1), (0.0, 1), (1.0, 2)])
def test_train_steps_lower_the_l1_term(gan_weight, g_steps):
    model = _model(gan_weight=gan_weight, g_steps=g_steps)
    h = model.fit(_batches(), epochs=4, verbose=0)
    l1 = h.history["l1"]
    assert l1[-1] < l1[0], l1
    assert ("d_loss" in h.history) == (gan_weight > 0)
    assert all(np.isfinite(v) for vs in h.history.values() for v in vs)


@pytest.mark.ci_only  # the XLA path (the t4 profile's jit_compile) on a CPU: ~1 min; make ci runs it
def test_pix2pix_xla_step_runs():
    model = gans.pix2pix((32, 32, 1), 3, num_classes=None, base_filters=8, jit_compile=True, seed=0)
    h = model.fit(_batches(conditional=False, n=32), epochs=1, verbose=0)
    assert np.isfinite(h.history["g_loss"][0])


def test_pix2pix_bad_input_is_rejected():
    model = _model()
    x = np.zeros((2, 32, 32, 1), np.float32)
    with pytest.raises(ValueError, match="label-conditioned"):
        model.translate(x)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 9\]"):
        model.translate(x, np.array([0, 12]))
    with pytest.raises(ValueError, match="channel"):
        model.translate(np.zeros((2, 32, 32, 3), np.float32), np.array([0, 1]))  # RGB where a sketch is expected
    with pytest.raises(ValueError, match="condition must have shape"):
        model.translate(np.zeros((2, 28, 28, 1), np.float32), np.array([0, 1]))
    with pytest.raises(ValueError, match="both take the class label"):
        gans.Pix2Pix(models.unet_generator((32, 32, 1), 3, num_classes=10, base_filters=8),
                     models.patchgan_discriminator((32, 32, 1), 3, num_classes=None, base_filters=8))
    with pytest.raises(ValueError, match="must not both be 0"):
        gans.Pix2Pix(model.generator, model.discriminator, l1_weight=0.0, gan_weight=0.0)


def test_pix2pix_keras_round_trip(tmp_path):
    model = _model()
    x, y = np.zeros((2, 32, 32, 1), np.float32), np.array([1, 2])
    model.generator.save(tmp_path / "g.keras")
    loaded = keras.saving.load_model(tmp_path / "g.keras")
    np.testing.assert_allclose(np.asarray(loaded([x, y])), model.translate(x, y), atol=1e-6)


def test_patch_scores_are_probabilities():
    model = _model()
    x, y = np.zeros((2, 32, 32, 1), np.float32), np.array([1, 2])
    s = model.patch_scores(x, model.translate(x, y), y)
    assert s.shape == (2, 8, 8) and s.min() >= 0 and s.max() <= 1


# -- image quality ---------------------------------------------------------------------------------------
def test_psnr_ssim_known_values():
    a = np.full((1, 16, 16, 3), 0.5, np.float32)
    b = a + 0.1
    np.testing.assert_allclose(metrics.psnr(b, a), 20.0, atol=1e-4)  # MSE 0.01 -> 20 dB
    assert np.isinf(metrics.psnr(a, a)[0])
    rng = np.random.default_rng(0)
    c = rng.uniform(0, 1, (2, 16, 16, 3)).astype(np.float32)
    np.testing.assert_allclose(metrics.ssim(c, c), 1.0, atol=1e-5)
    assert metrics.ssim(c, np.clip(c + rng.normal(0, 0.2, c.shape), 0, 1).astype(np.float32)).max() < 0.9
    assert metrics.psnr(c, c[::-1], on="y").shape == (2,)
    with pytest.raises(ValueError, match="same shape"):
        metrics.psnr(c, c[:1])
    with pytest.raises(ValueError, match=r"values must lie in \[0.0, 1.0\]"):
        metrics.psnr(c * 2 - 1, c)


def test_colourfulness_and_colour_errors():
    gray = np.repeat(_gray(2), 3, axis=-1)
    assert np.allclose(metrics.colourfulness(gray), 0)
    red = img2img.colorize(_gray(2), [3, 3])
    assert metrics.colourfulness(red).min() > 20
    np.testing.assert_allclose(metrics.mean_channel_error(red, red), 0)
    shifted = np.clip(red + np.array([0.1, 0, 0], np.float32), 0, 1)
    err = metrics.mean_channel_error(shifted, red)
    assert err[0] > 0.05 and abs(err[1]) < 1e-6
    assert metrics.lab_error(red, red, mask=garment_mask(red)).max() < 1e-3
    per_class = colour_error_per_class(red, red, [3, 3])
    assert set(per_class) == {"Dress", "all"} and per_class["all"] < 1e-3


def test_translation_metrics_keys():
    red = resize(img2img.colorize(_gray(4), [3, 3, 1, 1]), 32)
    m = translation_metrics(red, red)
    assert np.isinf(m["psnr"]) and m["ssim"] == pytest.approx(1.0, abs=1e-5)
    assert m["colourfulness"] == pytest.approx(m["colourfulness_target"])


def test_translation_metrics_inception_score_of_generated_and_real():
    """A classifier that is sure of class 0 for dark images and of class 1 for bright ones: real images half dark,
    half bright give IS about 2 (one-hot, two classes about equally often in each of the 10 shuffled splits);
    generated images all dark give IS 1."""
    import keras

    inputs = keras.Input((28, 28, 1))
    mean = keras.layers.GlobalAveragePooling2D()(inputs)
    logits = keras.layers.Dense(2, kernel_initializer=keras.initializers.Constant([[-200.0, 200.0]]),
                                bias_initializer=keras.initializers.Constant([100.0, -100.0]))(mean)
    classifier = keras.Model(inputs, logits)
    labels = np.arange(400) % 2
    real = np.where(labels[:, None, None, None] == 0, 0.05, 0.95) * np.ones((400, 16, 16, 3), np.float32)
    real[:, 0, 0, :] = [0.0, 0.5, 1.0]  # a little contrast, so stretching keeps each image dark or bright
    fake = np.repeat(real[:1], 400, axis=0)
    m = translation_metrics(fake, real, labels, classifier=classifier)
    assert m["is_classifier_real"] == pytest.approx(2.0, rel=0.03)
    assert m["is_classifier"] == pytest.approx(1.0, abs=1e-3)
    assert m["classifier_accuracy"] == 0.5 and m["classifier_accuracy_real"] == 1.0


# -- user folders ----------------------------------------------------------------------------------------
def _save(path, array):
    from skimage import io

    io.imsave(path, (np.clip(array, 0, 1) * 255).astype(np.uint8), check_contrast=False)


def test_image_folder_loading_and_errors(tmp_path):
    with pytest.raises(ImageFolderError, match="does not exist"):
        load_image_folder(tmp_path / "missing", 32)
    with pytest.raises(ImageFolderError, match="no images"):
        load_image_folder(tmp_path, 32)
    _save(tmp_path / "a.png", np.random.default_rng(0).uniform(0, 1, (40, 50, 3)))
    x = load_image_folder(tmp_path, 32)
    assert x.shape == (1, 32, 32, 3) and x.dtype == np.float32 and x.max() <= 1
    with pytest.raises(ImageFolderError, match="smaller than the 64x64"):
        load_image_folder(tmp_path, 64)
    (tmp_path / "b.png").write_bytes(b"not an image")
    with pytest.raises(ImageFolderError, match="cannot read image"):
        load_image_folder(tmp_path, 32)


def test_image_folder_limit_is_a_positive_count_of_the_first_files(tmp_path):
    rng = np.random.default_rng(0)
    for name in ("a.png", "b.png", "c.png"):
        _save(tmp_path / name, rng.uniform(0, 1, (40, 40, 3)))
    assert load_image_folder(tmp_path, 32).shape[0] == 3  # None reads them all
    np.testing.assert_array_equal(load_image_folder(tmp_path, 32, limit=2), load_image_folder(tmp_path, 32)[:2])
    assert load_image_folder(tmp_path, 32, limit=10).shape[0] == 3  # a limit above the count reads all
    for bad, error in [(-1, ValueError), (0, ValueError), (2.5, TypeError), (True, TypeError)]:
        with pytest.raises(error, match=f"limit must be a positive integer, got {bad!r}"):
            load_image_folder(tmp_path, 32, limit=bad)
        with pytest.raises(error, match="limit must be a positive integer"):
            load_paired_folder(tmp_path, 16, limit=bad)


def test_paired_folder(tmp_path):
    left, right = np.zeros((32, 32, 3)), np.ones((32, 32, 3))
    _save(tmp_path / "pair.png", np.concatenate([left, right], axis=1))
    inputs, targets = load_paired_folder(tmp_path, 16)
    assert inputs.shape == targets.shape == (1, 16, 16, 3)
    assert inputs.max() == 0 and targets.min() == 1
    _save(tmp_path / "wrong.png", np.zeros((32, 40, 3)))
    with pytest.raises(ImageFolderError, match="two square halves"):
        load_paired_folder(tmp_path, 16)


def test_split_indices_are_disjoint_and_seeded():
    a = split_indices(100, seed=3)
    assert [len(p) for p in a] == [80, 10, 10]
    assert len(np.unique(np.concatenate(a))) == 100
    np.testing.assert_array_equal(a[0], split_indices(100, seed=3)[0])
    with pytest.raises(ValueError, match="sum to 1"):
        split_indices(10, (0.5, 0.2))

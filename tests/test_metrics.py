"""Metrics against values computed by hand (kit.metrics), and the judge networks they are given (kit.judge)."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import kit
from kit import judge, metrics


def test_fid_and_kid_on_known_inputs():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4000, 4))
    assert metrics.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    shift = np.array([1.0, 2.0, 0.0, 0.0])
    assert metrics.frechet_distance(a, a + shift) == pytest.approx(5.0, rel=1e-3)  # ||mu_a - mu_b||^2
    kid_same, _ = metrics.kernel_inception_distance(a[:2000], a[2000:], subset_size=500)
    kid_shift, _ = metrics.kernel_inception_distance(a[:2000], a[2000:] + shift, subset_size=500)
    assert abs(kid_same) < 0.05 < kid_shift
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        metrics.frechet_distance(np.zeros(5), np.zeros(5))
    with pytest.raises(ValueError, match="feature sizes differ"):
        metrics.frechet_distance(np.zeros((5, 2)), np.zeros((5, 3)))
    bad = a[:10].copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="features_b contains 1 NaN"):
        metrics.frechet_distance(a[:10], bad)


def test_inception_score_on_hand_made_probability_tables():
    # Uniform predictions: p(y|x) = p(y), every KL term is 0, IS = exp(0) = 1.
    assert metrics.inception_score(np.full((20, 10), 0.1), splits=1) == (pytest.approx(1.0), 0.0)
    # One-hot predictions spread evenly over k classes: KL = log k for every image, IS = k.
    for k in (2, 5, 10):
        probs = np.eye(10)[np.arange(40) % k]
        assert metrics.inception_score(probs, splits=1)[0] == pytest.approx(k)
    # By hand on a 2-image, 2-class table: p(y) = (0.6, 0.4); KL_1 = 0.9 ln(0.9/0.6) + 0.1 ln(0.1/0.4), ...
    p = np.array([[0.9, 0.1], [0.3, 0.7]])
    kl = [sum(r[j] * np.log(r[j] / [0.6, 0.4][j]) for j in range(2)) for r in p]
    assert metrics.inception_score(p, splits=1)[0] == pytest.approx(np.exp(np.mean(kl)))
    # Splits: each part gets its own marginal; mean and std over the parts.
    two = np.concatenate([np.eye(2)[[0, 1, 0, 1]], np.full((4, 2), 0.5)])
    mean, std = metrics.inception_score(two, splits=2, shuffle=False)
    assert mean == pytest.approx(1.5) and std == pytest.approx(0.5)
    # Samples made class by class (100 confident images of each of 10 classes, in order): split in that order every
    # split holds one class and scores 1; shuffled first, every split holds about 10 images of each class.
    by_class = np.eye(10)[np.repeat(np.arange(10), 100)]
    assert metrics.inception_score(by_class, shuffle=False)[0] == pytest.approx(1.0)
    assert metrics.inception_score(by_class)[0] > 9.0
    assert metrics.inception_score(by_class) == metrics.inception_score(by_class)  # seeded: the same every time
    with pytest.raises(ValueError, match="logits"):
        metrics.inception_score(np.array([[2.0, -1.0], [0.5, 0.5]]), splits=1)
    with pytest.raises(ValueError, match="cannot be cut into 10 splits"):
        metrics.inception_score(np.full((5, 3), 1 / 3))


def test_ssim_agrees_with_tensorflows():
    # kit.metrics.ssim computes tf.image.ssim's formula with a separable window (for speed on a CPU). The two
    # differ only by rounding: TensorFlow works in float32 (relative error ~1e-7 per operation, a few hundred
    # operations per window), the kit in float32 with another order of sums, so 1e-5 is a bound with room, on images with and without structure.
    rng = np.random.default_rng(0)
    smooth = np.clip(np.cumsum(rng.normal(0, 0.05, (3, 40, 33, 3)), axis=1) + 0.5, 0, 1).astype(np.float32)
    for a in (rng.uniform(0, 1, (3, 40, 33, 3)).astype(np.float32), smooth):
        for b in (a, np.clip(a + rng.normal(0, 0.1, a.shape), 0, 1).astype(np.float32), rng.uniform(0, 1, a.shape).astype(np.float32)):
            expected = tf.image.ssim(tf.constant(a), tf.constant(b), max_val=1.0).numpy()
            np.testing.assert_allclose(metrics.ssim(b, a), expected, atol=1e-5)
            np.testing.assert_allclose(metrics.ssim(b[..., :1], a[..., :1]), tf.image.ssim(tf.constant(a[..., :1]), tf.constant(b[..., :1]), max_val=1.0).numpy(), atol=1e-5)


def test_psnr_and_ssim_on_y_follow_the_super_resolution_convention():
    rng = np.random.default_rng(0)
    ref = rng.uniform(0.2, 0.8, (2, 24, 24, 3)).astype(np.float32)
    out = np.clip(ref + rng.normal(0, 0.02, ref.shape), 0, 1).astype(np.float32)
    out[:, :4] = 0.0  # damage only a 4-pixel border strip
    # Y of BT.601 YCbCr, studio swing: 16/255 + (65.481 R + 128.553 G + 24.966 B) / 255, computed here by hand.
    y = lambda im: (16 + im @ np.array([65.481, 128.553, 24.966])) / 255.0  # noqa: E731
    crop = lambda im: im[:, 4:-4, 4:-4]  # noqa: E731
    mse = ((y(crop(out)) - y(crop(ref))) ** 2).mean(axis=(1, 2))
    np.testing.assert_allclose(metrics.psnr(out, ref, on="y", crop_border=4), 10 * np.log10(1 / mse), rtol=1e-5)
    assert metrics.psnr(out, ref, on="y", crop_border=4).mean() > metrics.psnr(out, ref, on="y").mean() + 5  # the border is cut
    assert metrics.ssim(out, ref, on="y", crop_border=4).shape == (2,)
    with pytest.raises(ValueError, match="crop_border 12 leaves nothing"):
        metrics.psnr(out, ref, crop_border=12)
    with pytest.raises(ValueError, match="crop_border must be an integer >= 0"):
        metrics.psnr(out, ref, crop_border=-1)


def test_sharpness_ranks_a_blurred_image_below_the_original():
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(1)
    sharp = rng.uniform(size=(3, 32, 32, 3)).astype(np.float32)
    blurred = np.stack([gaussian_filter(im, (1.5, 1.5, 0)) for im in sharp]).astype(np.float32)
    assert np.all(metrics.sharpness(blurred) < 0.5 * metrics.sharpness(sharp))
    flat = np.full((1, 16, 16, 3), 0.5, np.float32)
    assert metrics.sharpness(flat)[0] == 0.0


def test_classifier_features(trained_dense, fmnist):
    feats = metrics.ClassifierFeatures(trained_dense)
    x = fmnist.x_test[:50] * 2 - 1
    assert feats(x).shape == (50, 128)
    assert feats.probabilities(x).shape == (50, 10)
    scores = metrics.fid_kid(x[:25], x[25:], feats)
    assert set(scores) == {"fid", "kid", "kid_std", "n"} and scores["n"] == 25
    with pytest.raises(ValueError, match=r"\[-1.0, 1.0\]"):
        feats(fmnist.x_test[:2] * 255)
    with pytest.raises(ValueError, match="no layer named 'features'"):
        metrics.ClassifierFeatures(keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]))


def test_inception_features_give_pool_features_and_probabilities():
    # The architecture with random weights (no download): grayscale 28x28 in [-1, 1] -> 2048-d features, 1000 classes.
    keras.utils.set_random_seed(0)
    net = keras.applications.InceptionV3(include_top=True, weights=None)
    extractor = metrics.InceptionFeatures(net)
    x = np.linspace(-1, 1, 2 * 28 * 28).reshape(2, 28, 28, 1).astype("float32")
    feats, probs = extractor(x), extractor.probabilities(x)
    assert feats.shape == (2, 2048) and np.all(np.isfinite(feats))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-4)


def test_inception_weights_unavailable_offline_give_none(monkeypatch, capsys):
    def offline(*args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(keras.applications, "InceptionV3", offline)
    assert judge.inception_features() is None  # the notebooks then report the classifier FID and IS only
    assert "Inception FID/IS skipped" in capsys.readouterr().out


def test_the_judge_is_cached_per_recipe(tmp_path, monkeypatch, trained_dense):
    """A cached judge trained with other settings is not reused; the recipe is written beside it."""
    monkeypatch.setenv("KIT_ARTIFACTS", str(tmp_path))
    P = kit.profile("smoke")
    model = kit.models.build_classifier("improved_cnn", jit_compile=False)
    path = judge.save_fashion_classifier(model, P, 0.5)
    assert path.parent == tmp_path and json.loads(path.with_suffix(".json").read_text())["recipe"]["epochs"] == P.improved_epochs
    assert judge._load_cached(path, P) is not None
    assert judge._load_cached(path, P.replace(improved_epochs=P.improved_epochs + 1)) is None
    path.write_bytes(b"damaged")
    with pytest.warns(UserWarning, match="could not be loaded"):
        assert judge._load_cached(path, P) is None
    with pytest.raises(ValueError, match="improved_cnn"):
        judge.save_fashion_classifier(trained_dense, P)


def test_perceptual_features_say_why_they_are_a_stand_in(monkeypatch, capsys):
    """Offline, keras.applications' download raises a bare Exception: the stand-in's label carries its message."""
    real_vgg19 = keras.applications.VGG19

    def offline(*args, weights=None, **kwargs):
        if weights == "imagenet":
            raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- [Errno -3] name resolution")
        return real_vgg19(*args, weights=weights, **kwargs)

    monkeypatch.setattr(keras.applications, "VGG19", offline)
    f = judge.perceptual_features(download=True)
    assert f.label.startswith("STAND-IN") and "download failed: URL fetch failure" in f.label
    assert "Perceptual features: STAND-IN" in capsys.readouterr().out


def test_within_class_diversity_and_the_ratio_to_real_images():
    rng = np.random.default_rng(3)
    labels = np.repeat(np.arange(4), 300)
    centres = rng.normal(0, 5, (4, 8))
    real = centres[labels] + rng.normal(0, 1, (len(labels), 8))
    # By hand on one class of three points: distances 3, 4, 5 -> mean 4.
    assert metrics.within_class_diversity(np.array([[0.0, 0], [3, 0], [0, 4]]), [7, 7, 7]) == {7: pytest.approx(4.0)}
    # One image per class repeated, whatever z: no diversity at all.
    identical = centres[labels]
    assert all(d == 0.0 for d in metrics.within_class_diversity(identical, labels).values())
    assert metrics.diversity_ratio(identical, labels, real, labels) == 0.0
    # Samples drawn like the real set: about as diverse.
    like_real = centres[labels] + rng.normal(0, 1, (len(labels), 8))
    assert metrics.diversity_ratio(like_real, labels, real, labels) == pytest.approx(1.0, abs=0.03)
    # Half the spread: half as diverse. Only the samples' classes are averaged; real classes without samples are ignored.
    half = centres[labels] + rng.normal(0, 0.5, (len(labels), 8))
    assert metrics.diversity_ratio(half[labels < 2], labels[labels < 2], real, labels) == pytest.approx(0.5, abs=0.03)
    # Large classes are subsampled (seeded): the same value every time, close to the full one.
    sub = metrics.within_class_diversity(real, labels, max_per_class=100)
    assert sub == metrics.within_class_diversity(real, labels, max_per_class=100)
    assert sub[0] == pytest.approx(metrics.within_class_diversity(real, labels, max_per_class=None)[0], rel=0.1)


def test_diversity_rejects_bad_inputs_with_clear_errors():
    f, y = np.zeros((6, 3)), np.array([0, 0, 1, 1, 2, 2])
    with pytest.raises(ValueError, match=r"features must be \(N, D\)"):
        metrics.within_class_diversity(np.zeros(6), y)
    with pytest.raises(ValueError, match=r"labels must be rank 1"):
        metrics.within_class_diversity(f, y[:, None])
    with pytest.raises(ValueError, match="labels has 5 entries but features has 6 rows"):
        metrics.within_class_diversity(f, y[:5])
    with pytest.raises(TypeError, match="integer class ids"):
        metrics.within_class_diversity(f, y + 0.5)
    with pytest.raises(ValueError, match=r"at least 2 members.*\{2: 1\}"):
        metrics.within_class_diversity(f[:5], y[:5])
    with pytest.raises(ValueError, match="max_per_class must be at least 2"):
        metrics.within_class_diversity(f, y, max_per_class=1)
    with pytest.raises(ValueError, match="NaN"):
        metrics.within_class_diversity(np.full((6, 3), np.nan), y)
    rng = np.random.default_rng(0)
    real = rng.normal(size=(6, 3))
    with pytest.raises(ValueError, match="feature sizes differ"):
        metrics.diversity_ratio(np.zeros((6, 4)), y, real, y)
    with pytest.raises(ValueError, match=r"classes \[3\] have samples but no real images"):
        metrics.diversity_ratio(f, np.array([0, 0, 1, 1, 3, 3]), real, y)
    with pytest.raises(ValueError, match=r"sample_labels has 4 entries but sample_features has 6 rows"):
        metrics.diversity_ratio(f, y[:4], real, y)
    with pytest.raises(ValueError, match="identical features"):
        metrics.diversity_ratio(real, y, f, y)


def test_colour_error_words_follow_the_numbers():
    assert "looks right" in metrics.read_delta_e(1.0)
    assert "visibly different shade" in metrics.read_delta_e(5.0)
    assert "nearly a different colour" in metrics.read_delta_e(19.9)
    assert "a different colour" in metrics.read_delta_e(20.8) and "above 20" in metrics.read_delta_e(20.8)
    with pytest.raises(ValueError, match="finite distance"):
        metrics.read_delta_e(float("nan"))
    target = np.zeros((3, 8, 8, 3), np.float32)
    target[:, 2:6, 2:6] = [0.8, 0.1, 0.1]  # red garments on black
    wrong = target.copy()
    wrong[0, 2:6, 2:6] = [0.1, 0.6, 0.6]  # the first one teal
    assert metrics.different_colour_fraction(target, target) == 0.0
    assert metrics.different_colour_fraction(wrong, target) == pytest.approx(1 / 3)
    assert metrics.better_of("PSNR", {"A": 26.151, "B": 26.148}, higher_is_better=True, unit=" dB") == "A and B have the same PSNR (26.15 dB)."
    assert metrics.better_of("PSNR", {"A": 26.0, "B": 26.5}, higher_is_better=True).startswith("B has the better PSNR (26.50 vs 26.00")
    assert metrics.better_of("mean ΔE", {"A": 19.9, "B": 20.8}, higher_is_better=False, fmt="{:.1f}").startswith("A has the better mean ΔE (19.9 vs 20.8")


def test_readme_colorization_sentence_words_equal_and_signed_differences():
    from pathlib import Path

    from conftest import readme_tables

    rt = readme_tables()
    assert rt.shown_difference(26.1518, 26.1485, "{:.2f}", "PSNR", "lower", "higher", " dB") == "the same PSNR (26.15 dB)"
    assert rt.shown_difference(25.5, 26.15, "{:.2f}", "PSNR", "lower", "higher", " dB") == "a PSNR lower by 0.65 dB"
    assert rt.shown_difference(26.1551, 26.1549, "{:.2f}", "PSNR", "lower", "higher", " dB") == "a PSNR higher by 0.01 dB"
    result = json.loads((Path(__file__).resolve().parent.parent / "results" / "img2img.json").read_text())
    result["summary"].update(colorization_psnr=26.1518, colorization_psnr_l1_only=26.1485, lab_error_l1_only=19.86, lab_error_l1_gan=20.8)
    text = rt.img2img_table(result)
    assert "the same PSNR (26.15 dB)" in text and "by 0.00 dB" not in text
    assert "ΔE higher (worse) by 0.9" in text and "L1 + GAN 20.8 (above 20: a different colour)" in text

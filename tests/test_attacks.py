import keras
import numpy as np
import pytest

from kit import attacks, metrics


def _ce(model, x, y):
    logits = metrics.predict_logits(model, x)
    return float(np.mean(keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)))


@pytest.fixture(scope="module")
def batch(fmnist):
    return fmnist.x_test[:128], fmnist.y_test[:128]


@pytest.mark.parametrize("eps", [0.0, 0.05, 0.2])
def test_fgsm_is_bounded_and_clipped(trained_dense, batch, eps):
    x, y = batch
    x_adv = attacks.fgsm(trained_dense, x, y, eps)
    assert x_adv.shape == x.shape and x_adv.dtype == np.float32
    assert np.abs(x_adv - x).max() <= eps + 1e-6
    assert x_adv.min() >= 0.0 and x_adv.max() <= 1.0
    if eps > 0:
        # Clipping is active: background pixels at 0 can only go up, so some pixel moved by exactly eps.
        assert np.isclose(np.abs(x_adv - x).max(), eps, atol=1e-6)


def test_fgsm_raises_the_loss_and_lowers_accuracy(trained_dense, batch):
    x, y = batch
    x_adv = attacks.fgsm(trained_dense, x, y, 0.1)
    assert _ce(trained_dense, x_adv, y) > _ce(trained_dense, x, y) + 0.5
    assert metrics.accuracy(trained_dense, x_adv, y) < metrics.accuracy(trained_dense, x, y) - 0.3


def test_targeted_fgsm_lowers_the_target_loss(trained_dense, batch):
    x, _ = batch
    target = np.full(len(x), 8)
    x_adv = attacks.fgsm(trained_dense, x, target, 0.1, targeted=True)
    assert _ce(trained_dense, x_adv, target) < _ce(trained_dense, x, target)


def test_garment_mask_is_respected(trained_dense, batch):
    x, y = batch
    x_adv = attacks.fgsm(trained_dense, x, y, 0.2, mask="garment")
    background = x == 0
    assert background.any()
    assert np.all(x_adv[background] == 0)
    assert np.abs(x_adv - x)[~background].max() > 0
    custom = np.zeros_like(x)
    custom[:, :14] = 1
    x_half = attacks.pgd(trained_dense, x, y, 0.2, steps=3, mask=custom)
    assert np.all(x_half[:, 14:] == x[:, 14:])


def test_pgd_within_ball_and_at_least_as_strong_as_fgsm(trained_dense, batch):
    x, y = batch
    eps = 0.05
    x_pgd = attacks.pgd(trained_dense, x, y, eps, steps=10)
    assert np.abs(x_pgd - x).max() <= eps + 1e-6
    assert x_pgd.min() >= 0.0 and x_pgd.max() <= 1.0
    acc_fgsm = metrics.accuracy(trained_dense, attacks.fgsm(trained_dense, x, y, eps), y)
    acc_pgd = metrics.accuracy(trained_dense, x_pgd, y)
    assert acc_pgd <= acc_fgsm
    assert _ce(trained_dense, x_pgd, y) >= _ce(trained_dense, attacks.fgsm(trained_dense, x, y, eps), y)


def test_pgd_is_reproducible(trained_dense, batch):
    x, y = batch
    a = attacks.pgd(trained_dense, x[:16], y[:16], 0.1, steps=2, seed=5)
    b = attacks.pgd(trained_dense, x[:16], y[:16], 0.1, steps=2, seed=5)
    np.testing.assert_array_equal(a, b)


def test_accuracy_under_attack(trained_dense, batch):
    x, y = batch
    accs = attacks.accuracy_under_attack(trained_dense, x, y, [0.0, 0.1, 0.3])
    assert accs[0] == pytest.approx(metrics.accuracy(trained_dense, x, y))
    assert accs[0] > accs[1] >= accs[2]
    with pytest.raises(ValueError, match="Unknown attack 'cw'"):
        attacks.accuracy_under_attack(trained_dense, x, y, [0.1], attack="cw")
    with pytest.raises(ValueError, match="epsilons"):
        attacks.accuracy_under_attack(trained_dense, x, y, [])


@pytest.mark.parametrize(
    "bad, error, match",
    [
        (np.zeros((28, 28), np.float32), ValueError, r"rank 4 \(N, H, W, C\), got shape \(28, 28\)"),
        (np.zeros((2, 28, 28), np.float32), ValueError, r"add a channel axis"),
        (np.zeros((2, 28, 28, 3), np.float32), ValueError, r"1 channel\(s\).*\(2, 28, 28, 3\)"),
        (np.zeros((2, 28, 28, 1), np.uint8), TypeError, r"floating point.*uint8"),
        (np.full((2, 28, 28, 1), 255.0, np.float32), ValueError, r"\[0.0, 1.0\], got \[255, 255\]"),
        (np.full((2, 28, 28, 1), np.nan, np.float32), ValueError, r"NaN"),
    ],
)
def test_bad_images_are_rejected(trained_dense, bad, error, match):
    with pytest.raises(error, match=match):
        attacks.fgsm(trained_dense, bad, np.zeros(len(bad) if bad.ndim == 4 else 1, int), 0.1)


def test_bad_arguments_are_rejected(trained_dense, batch):
    x, y = batch
    with pytest.raises(ValueError, match=r"epsilon must be a finite number >= 0, got -0.1"):
        attacks.fgsm(trained_dense, x, y, -0.1)
    with pytest.raises(ValueError, match=r"<= 1"):
        attacks.pgd(trained_dense, x, y, 8)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 9\], got \[0, 10\]"):
        attacks.fgsm(trained_dense, x[:2], np.array([0, 10]), 0.1)
    with pytest.raises(ValueError, match=r"labels has 3 entries but there are 2 images"):
        attacks.fgsm(trained_dense, x[:2], np.array([0, 1, 2]), 0.1)
    with pytest.raises(ValueError, match="Unknown mask 'background'"):
        attacks.fgsm(trained_dense, x, y, 0.1, mask="background")
    with pytest.raises(ValueError, match="mask must have the images' shape"):
        attacks.fgsm(trained_dense, x, y, 0.1, mask=np.ones((1, 28, 28, 1)))
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        attacks.pgd(trained_dense, x, y, 0.1, steps=0)
    with pytest.raises(TypeError, match="keras.Model"):
        attacks.fgsm(lambda v: v, x, y, 0.1)


def test_adversarial_trainer_trains_a_copy(trained_dense, fmnist):
    from kit.training import fit_classifier

    before = [w.copy() for w in trained_dense.get_weights()]
    adv = attacks.adversarial_trainer(trained_dense, epsilon=0.1, jit_compile=False)
    hist = fit_classifier(adv, fmnist.x_train[:256], fmnist.y_train[:256], epochs=1, batch_size=64, verbose=0)
    assert {"loss", "accuracy", "adv_accuracy", "epoch_seconds"} <= set(hist.history)
    for a, b in zip(before, trained_dense.get_weights()):
        np.testing.assert_array_equal(a, b)  # the original model is untouched
    assert any(not np.array_equal(a, b) for a, b in zip(before, adv.classifier.get_weights()))
    assert metrics.predict_logits(adv, fmnist.x_test[:4]).shape == (4, 10)
    with pytest.raises(ValueError, match="adv_weight"):
        attacks.AdversarialTrainer(trained_dense, adv_weight=2.0)

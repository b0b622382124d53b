"""Feature extractors for FID/KID, and the independent Fashion-MNIST classifier that judges generated images.

Extractors take images float32 NHWC in [-1, 1] (the GAN convention) and return feature vectors (N, D).

- :func:`fashion_classifier`: notebook 01's improved CNN trained on real Fashion-MNIST, cached as a
  ``.keras`` artifact (trained automatically when absent). Offline, so it works everywhere.
- :class:`ClassifierFeatures`: its penultimate ("features") layer, 256-d: "classifier FID".
- :func:`inception_features`: InceptionV3 pool features (2048-d), the standard FID, when its ImageNet
  weights can be loaded (Colab); None otherwise.
"""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np

from kit.checks import check_images
from kit.data import keras_cache_dir, load_fashion_mnist
from kit.metrics.classification import accuracy, predict_logits
from kit.metrics.distribution import frechet_distance, kernel_inception_distance


def artifact_dir() -> Path:
    """Where trained artifacts are cached: ``<Keras cache>/kit-artifacts`` (``data/keras`` under make)."""
    return keras_cache_dir() / "kit-artifacts"


def _classifier_path(profile) -> Path:
    return artifact_dir() / f"fashion_classifier_{profile.name}.keras"


def save_fashion_classifier(model: keras.Model, profile, test_accuracy: float | None = None) -> Path:
    """Cache ``model`` (an improved CNN trained on real data) as the course's feature classifier for
    ``profile``; later notebooks load it with :func:`fashion_classifier`."""
    if model.name != "improved_cnn":
        raise ValueError(f"the feature classifier must be an improved_cnn, got {model.name!r}")
    path = _classifier_path(profile)
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    path.with_suffix(".json").write_text(json.dumps({"profile": profile.name, "test_accuracy": test_accuracy}))
    return path


def fashion_classifier(profile=None, *, verbose: int | str = 2) -> keras.Model:
    """The independent Fashion-MNIST classifier for ``profile`` (default: the active one), loaded from its
    cached artifact, or trained on real data with the profile's settings and cached when absent."""
    import kit
    from kit.models import build_classifier
    from kit.training import fit_classifier

    profile = profile or kit.profile()
    path = _classifier_path(profile)
    if path.exists():
        return keras.saving.load_model(path)
    print(f"No cached feature classifier for the {profile.name} profile: training one on real Fashion-MNIST ({path})")
    data = load_fashion_mnist(profile=profile, seed=123)
    model = build_classifier("improved_cnn", jit_compile=profile.jit_compile)
    fit_classifier(model, data.x_train, data.y_train, epochs=profile.improved_epochs, batch_size=profile.batch_size, verbose=verbose)
    save_fashion_classifier(model, profile, accuracy(model, data.x_test, data.y_test))
    return model


def _unit(images) -> np.ndarray:
    x = check_images(images, channels=(1, 3), value_range=(-1.0, 1.0))
    return (x + 1.0) / 2.0


class ClassifierFeatures:
    """Penultimate-layer features of a classifier with a ``"features"`` layer; images in [-1, 1]."""

    def __init__(self, classifier: keras.Model):
        self.classifier = classifier
        self.model = keras.Model(classifier.input, classifier.get_layer("features").output)
        self.name = "classifier"

    def __call__(self, images, batch_size: int = 512) -> np.ndarray:
        x = _unit(images)
        return predict_logits(self.model, x, batch_size)

    def probabilities(self, images) -> np.ndarray:
        """Class probabilities (N, C) of the classifier for images in [-1, 1]."""
        from kit.metrics.classification import predict_proba

        return predict_proba(self.classifier, _unit(images))


class InceptionFeatures:
    """InceptionV3 (ImageNet) global-average-pool features, 2048-d. Grayscale is repeated to 3 channels and
    images are resized to 299x299 with bilinear antialiased interpolation *before* the [-1, 1] scaling
    InceptionV3 expects, as the reference FID implementation does."""

    def __init__(self, model: keras.Model):
        self.model = model
        self.name = "inception"

    def __call__(self, images, batch_size: int = 64) -> np.ndarray:
        import tensorflow as tf

        x = check_images(images, channels=(1, 3), value_range=(-1.0, 1.0))
        out = []
        for i in range(0, len(x), batch_size):
            b = tf.convert_to_tensor(x[i : i + batch_size])
            if b.shape[-1] == 1:
                b = tf.repeat(b, 3, axis=-1)
            b = tf.image.resize((b + 1.0) * 127.5, (299, 299), method="bilinear", antialias=True)
            b = keras.applications.inception_v3.preprocess_input(b)
            out.append(np.asarray(self.model(b, training=False)))
        return np.concatenate(out)


def inception_features() -> InceptionFeatures | None:
    """InceptionV3 features if its ImageNet weights are cached or downloadable; None (with a printed
    reason) offline, so notebooks report Inception FID where they can and say plainly where they cannot."""
    try:
        model = keras.applications.InceptionV3(include_top=False, pooling="avg", weights="imagenet", input_shape=(299, 299, 3))
    except Exception as err:  # no network and no cached weights
        print(f"InceptionV3 weights unavailable ({type(err).__name__}); Inception FID/KID skipped, classifier FID still reported.")
        return None
    return InceptionFeatures(model)


def fid_kid(real_images, fake_images, extractor, *, kid_subsets: int = 10) -> dict:
    """FID and KID between two image sets (float32 NHWC in [-1, 1]) under ``extractor``.

    Returns ``{"fid": ..., "kid": ..., "kid_std": ..., "n": ...}``; N is the smaller set's size.
    """
    n = min(len(real_images), len(fake_images))
    fr, ff = extractor(real_images[:n]), extractor(fake_images[:n])
    kid, kid_std = kernel_inception_distance(fr, ff, subsets=kid_subsets, subset_size=min(1000, n))
    return {"fid": frechet_distance(fr, ff), "kid": kid, "kid_std": kid_std, "n": int(n)}

"""Feature extractors for FID/KID and the Inception Score: wrappers around a model you pass in (the judge
networks themselves are built and cached by :mod:`kit.judge`).

Extractors take images float32 NHWC in [-1, 1] (the GAN convention) and return feature vectors (N, D), and
class probabilities (N, C) for the Inception Score.

- :class:`ClassifierFeatures`: a classifier's penultimate ("features") layer, e.g. notebook 01's improved CNN
  (256-d): "classifier FID".
- :class:`InceptionFeatures`: InceptionV3 pool features (2048-d), the standard FID, and its ImageNet class
  probabilities for the standard Inception Score.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from kit.checks import check_images
from kit.metrics.classification import predict_logits, predict_proba
from kit.metrics.distribution import frechet_distance, kernel_inception_distance


def _unit(images) -> np.ndarray:
    x = check_images(images, channels=(1, 3), value_range=(-1.0, 1.0))
    return (x + 1.0) / 2.0


class ClassifierFeatures:
    """Penultimate-layer features of a classifier with a ``"features"`` layer taking images in [0, 1];
    call it with images in [-1, 1]."""

    def __init__(self, classifier: keras.Model):
        if not isinstance(classifier, keras.Model):
            raise TypeError(f"classifier must be a keras.Model, got {type(classifier).__name__}")
        try:
            features = classifier.get_layer("features")
        except ValueError:
            raise ValueError(f"classifier {classifier.name!r} has no layer named 'features' (its penultimate layer)") from None
        self.classifier = classifier
        self.model = keras.Model(classifier.input, features.output)
        self.name = "classifier"

    def __call__(self, images, batch_size: int = 512) -> np.ndarray:
        return predict_logits(self.model, _unit(images), batch_size)

    def probabilities(self, images) -> np.ndarray:
        """Class probabilities (N, C) of the classifier for images in [-1, 1]."""
        return predict_proba(self.classifier, _unit(images))


class InceptionFeatures:
    """InceptionV3 (ImageNet) global-average-pool features, 2048-d, and (given the full network with its top)
    ImageNet class probabilities. Grayscale is repeated to 3 channels and images are resized to 299x299 with
    bilinear antialiased interpolation *before* the [-1, 1] scaling InceptionV3 expects, as the reference FID
    implementation does.

    Args:
        model: InceptionV3 with ``include_top=True`` (features are read from its ``avg_pool`` layer) or
            ``include_top=False, pooling="avg"`` (features only; :meth:`probabilities` then raises).
    """

    def __init__(self, model: keras.Model):
        if not isinstance(model, keras.Model):
            raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
        self.classifier = None
        if model.output_shape[-1] == 1000:
            self.classifier = model
            self.model = keras.Model(model.input, [model.get_layer("avg_pool").output, model.output])
        else:
            self.model = model
        self.name = "inception"

    def _run(self, images, batch_size: int):
        x = check_images(images, channels=(1, 3), value_range=(-1.0, 1.0))
        feats, probs = [], []
        for i in range(0, len(x), batch_size):
            b = tf.convert_to_tensor(x[i : i + batch_size])
            if b.shape[-1] == 1:
                b = tf.repeat(b, 3, axis=-1)
            b = tf.image.resize((b + 1.0) * 127.5, (299, 299), method="bilinear", antialias=True)
            out = self.model(keras.applications.inception_v3.preprocess_input(b), training=False)
            if isinstance(out, (list, tuple)):
                feats.append(np.asarray(out[0]))
                probs.append(np.asarray(out[1]))
            else:
                feats.append(np.asarray(out))
        return np.concatenate(feats), (np.concatenate(probs) if probs else None)

    def __call__(self, images, batch_size: int = 64) -> np.ndarray:
        return self._run(images, batch_size)[0]

    def probabilities(self, images, batch_size: int = 64) -> np.ndarray:
        """ImageNet class probabilities (N, 1000), for the Inception Score."""
        if self.classifier is None:
            raise ValueError("this InceptionV3 has no classification top: build it with include_top=True for probabilities")
        return self._run(images, batch_size)[1]


def fid_kid(real_images, fake_images, extractor, *, kid_subsets: int = 10) -> dict:
    """FID and KID between two image sets (float32 NHWC in [-1, 1]) under ``extractor``.

    Returns ``{"fid": ..., "kid": ..., "kid_std": ..., "n": ...}``; N is the smaller set's size.
    """
    n = min(len(real_images), len(fake_images))
    fr, ff = extractor(real_images[:n]), extractor(fake_images[:n])
    kid, kid_std = kernel_inception_distance(fr, ff, subsets=kid_subsets, subset_size=min(1000, n))
    return {"fid": frechet_distance(fr, ff), "kid": kid, "kid_std": kid_std, "n": int(n)}

"""Evaluation metrics. Classifier inputs: images float32 NHWC in [0, 1]; models return logits."""

from __future__ import annotations

import weakref

import numpy as np
import tensorflow as tf

from kit.checks import as_array, check_images, check_labels

_LOGIT_FNS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def predict_logits(model, images, batch_size: int = 512) -> np.ndarray:
    """The model's outputs (N, num_classes) in inference mode, batch by batch.

    One ``tf.function`` per model with a free batch axis, so arrays of any length (and a last partial batch)
    reuse one trace instead of retracing ``model.predict`` for every new shape.
    """
    x = check_images(images, channels=None, value_range=None)
    fn = _LOGIT_FNS.get(model)
    if fn is None:
        fn = _LOGIT_FNS[model] = tf.function(lambda xb: model(xb, training=False), reduce_retracing=True)
    return np.concatenate([np.asarray(fn(x[i : i + batch_size])) for i in range(0, len(x), batch_size)], axis=0)


def predict_proba(model, images, batch_size: int = 512) -> np.ndarray:
    """Class probabilities (N, num_classes), softmax of the model's logits."""
    check_images(images)
    logits = predict_logits(model, images, batch_size).astype(np.float64)
    logits -= logits.max(axis=-1, keepdims=True)
    p = np.exp(logits)
    return (p / p.sum(axis=-1, keepdims=True)).astype(np.float32)


def accuracy(model, images, labels, batch_size: int = 512) -> float:
    """Fraction of ``images`` whose arg-max prediction equals ``labels`` (a float in [0, 1])."""
    x = check_images(images)
    y = check_labels(labels, len(x))
    pred = np.argmax(predict_logits(model, x, batch_size), axis=-1)
    return float(np.mean(pred == y))


CONFIDENT = 0.8  # a prediction with this probability or more counts as confident ("recognisable")


def confident_fraction(probabilities, threshold: float = CONFIDENT) -> float:
    """Fraction of rows of ``probabilities`` (N, num_classes), each a distribution over classes, whose largest
    probability is at least ``threshold`` (in (0, 1]): how often the classifier is sure of *some* class."""
    p = as_array(probabilities, "probabilities")
    if p.ndim != 2 or len(p) == 0:
        raise ValueError(f"probabilities must have shape (N, num_classes) with N >= 1, got shape {p.shape}")
    if p.min() < 0 or p.max() > 1:
        raise ValueError(f"probabilities must lie in [0, 1], got values in [{p.min():.3g}, {p.max():.3g}] (logits?)")
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must lie in (0, 1], got {threshold}")
    return float(np.mean(p.max(axis=-1) >= threshold))


def confusion_matrix(y_true, y_pred, num_classes: int = 10) -> np.ndarray:
    """Counts ``cm[true, predicted]``, int64 (num_classes, num_classes)."""
    t = check_labels(y_true, num_classes=num_classes, name="y_true")
    p = check_labels(y_pred, len(t), num_classes=num_classes, name="y_pred")
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (t, p), 1)
    return cm


def per_class_accuracy(cm) -> np.ndarray:
    """Recall of each class from a confusion matrix (rows = true class); NaN for absent classes."""
    cm = as_array(cm, "confusion matrix")
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"confusion matrix must be square (C, C), got shape {cm.shape}")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.diag(cm) / cm.sum(axis=1)

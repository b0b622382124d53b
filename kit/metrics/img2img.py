"""Evaluation of image-to-image models on Fashion-MNIST-derived pairs (notebooks 04 and 05): one call, every
number the notebooks (and so the results table) report.

Images float32 NHWC in [0, 1]; labels int (N,).
"""

from __future__ import annotations

import numpy as np

from kit.checks import check_images, check_labels
from kit.data.fashion_mnist import CLASS_NAMES
from kit.imageops import to_grayscale, to_luma
from kit.metrics.classification import accuracy, predict_proba
from kit.metrics.distribution import frechet_distance, inception_score
from kit.metrics.image_quality import colourfulness, lab_error, psnr, ssim


def garment_mask(targets, threshold: float = 0.08) -> np.ndarray:
    """Pixels (N, H, W) that belong to the garment: luminance of the target above ``threshold`` (the
    background of Fashion-MNIST is black, and hue/colour errors mean nothing there)."""
    return to_luma(targets)[..., 0] > threshold


def colour_error_per_class(generated, targets, labels) -> dict:
    """Mean CIELAB Delta E on garment pixels, per class name (and ``"all"``): how far each class's colour is
    from its palette colour. Lower is better; ~2.3 is just noticeable."""
    labels = check_labels(labels, len(generated))
    err = lab_error(generated, targets, mask=garment_mask(targets))
    out = {name: float(np.nanmean(err[labels == c])) for c, name in enumerate(CLASS_NAMES) if np.any(labels == c)}
    out["all"] = float(np.nanmean(err))
    return out


def translation_metrics(generated, targets, labels=None, *, classifier=None, features=None, classifier_size: int = 28) -> dict:
    """PSNR, SSIM and colourfulness of ``generated`` against ``targets``, and, given the Fashion-MNIST
    ``classifier`` (a keras model on 28x28x1 in [0, 1]) and ``labels``, its accuracy on the grayscale
    versions (28x28, contrast-stretched: :func:`kit.imageops.to_grayscale`) of the generated and of the
    target images; given ``features`` (e.g.
    :class:`kit.metrics.ClassifierFeatures`), the classifier FID between the two sets.

    Args:
        generated, targets: float32 (N, H, W, 3) in [0, 1].
        labels: int (N,), the true classes.

    Returns:
        A flat dict of floats: ``psnr``, ``ssim`` (means over images), ``colourfulness``,
        ``colourfulness_target``, and when available ``classifier_accuracy``, ``classifier_accuracy_real``,
        ``is_classifier``, ``is_classifier_real`` (the classifier's Inception Score of the generated and of the
        target images, between 1 and the class count) and ``fid_classifier``.
    """
    g = check_images(generated, "generated", channels=(3,))
    t = check_images(targets, "targets", channels=(3,))
    if g.shape != t.shape:
        raise ValueError(f"generated and targets must have the same shape, got {g.shape} and {t.shape}")
    out = {
        "psnr": float(np.mean(psnr(g, t))),
        "ssim": float(np.mean(ssim(g, t))) if min(g.shape[1:3]) >= 11 else float("nan"),
        "colourfulness": float(np.mean(colourfulness(g))),
        "colourfulness_target": float(np.mean(colourfulness(t))),
    }
    if classifier is not None or features is not None:
        g_gray, t_gray = to_grayscale(g, classifier_size, stretch=True), to_grayscale(t, classifier_size, stretch=True)
        if classifier is not None:
            if labels is None:
                raise ValueError("classifier accuracy needs the true labels")
            labels = check_labels(labels, len(g))
            out["classifier_accuracy"] = accuracy(classifier, g_gray, labels)
            out["classifier_accuracy_real"] = accuracy(classifier, t_gray, labels)
            out["is_classifier"] = inception_score(predict_proba(classifier, g_gray))[0]
            out["is_classifier_real"] = inception_score(predict_proba(classifier, t_gray))[0]
        if features is not None:
            out["fid_classifier"] = frechet_distance(features(2 * t_gray - 1), features(2 * g_gray - 1))
    return out

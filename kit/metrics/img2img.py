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


DELTA_E_NOTICEABLE = 2.3  # CIELAB Delta E of a just-noticeable difference
DELTA_E_DIFFERENT = 20.0  # the course's threshold for "a different colour" (notebook 04)


def read_delta_e(delta_e: float) -> str:
    """Words for a mean CIELAB Delta E on the course's scale (about 2.3 just noticeable, above 20 a different
    colour), so a sentence that reads a measured error follows the number."""
    d = float(delta_e)
    if not np.isfinite(d) or d < 0:
        raise ValueError(f"a Delta E is a finite distance >= 0, got {delta_e!r}")
    if d < DELTA_E_NOTICEABLE:
        return f"below the just-noticeable difference ({DELTA_E_NOTICEABLE}): the colour looks right"
    if d < 0.5 * DELTA_E_DIFFERENT:
        return (f"above the just-noticeable {DELTA_E_NOTICEABLE} but well under {DELTA_E_DIFFERENT:.0f}: the right colour "
                "in a visibly different shade")
    if d < 0.8 * DELTA_E_DIFFERENT:
        return f"a clearly different shade, though short of {DELTA_E_DIFFERENT:.0f}, where the colour counts as different"
    if d <= DELTA_E_DIFFERENT:
        return (f"just under {DELTA_E_DIFFERENT:.0f}, the threshold of a different colour: on average a garment's colour "
                "is nearly a different colour")
    return f"above {DELTA_E_DIFFERENT:.0f}: on this scale the average garment comes out a different colour"


def different_colour_fraction(generated, targets, *, threshold: float = DELTA_E_DIFFERENT) -> float:
    """The fraction of garments whose mean CIELAB Delta E over garment pixels (:func:`garment_mask`) exceeds
    ``threshold`` (default 20: a different colour). Images with no garment pixel are left out."""
    err = lab_error(generated, targets, mask=garment_mask(targets))
    err = err[np.isfinite(err)]
    if not len(err):
        raise ValueError("no target image has garment pixels (all below the mask's luminance threshold)")
    return float(np.mean(err > threshold))


def better_of(metric: str, values: dict, *, higher_is_better: bool, fmt: str = "{:.2f}", unit: str = "") -> str:
    """A sentence saying which of two models is better on ``metric``, from ``values`` ``{name: value}``; values
    equal to the digits ``fmt`` shows read as a tie, so the sentence never contradicts the numbers printed."""
    if len(values) != 2:
        raise ValueError(f"better_of compares exactly two models, got {list(values)}")
    (na, a), (nb, b) = values.items()
    sa, sb = fmt.format(a), fmt.format(b)
    if sa == sb:
        return f"{na} and {nb} have the same {metric} ({sa}{unit})."
    best = na if (a > b) == higher_is_better else nb
    other = nb if best == na else na
    shown = {na: sa, nb: sb}
    return (f"{best} has the better {metric} ({shown[best]}{unit} vs {shown[other]}{unit}, "
            f"{'higher' if higher_is_better else 'lower'} is better).")


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

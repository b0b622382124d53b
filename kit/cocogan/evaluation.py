"""Measurements of notebook 06 beyond FID and the seam score: does a garment keep its class when COCO-GAN
changes the image around it (beyond-boundary fine-tuning, patch-guided generation), and how varied and how
detailed are generated photographs next to real ones.

- :func:`class_agreement`: the share of image pairs to which a judge classifier gives the same class, each
  image judged on its centre crop (e.g. the centre 28x28 of a 48x48 beyond-boundary image before and after
  fine-tuning, or a real image and the image generated from one of its patches).
- :func:`diversity_ratio`: mean pairwise distance of generated images over that of real ones, in pixel space
  on block-averaged images (1: as varied as the real set; near 0: every sample alike).
- :func:`detail_ratio`: mean absolute difference of neighbouring pixels, generated over real (flat squares
  score near 0).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from kit.checks import as_array, check_positive_int
from kit.metrics import diversity_ratio as metrics_diversity_ratio
from kit.metrics import within_class_diversity

DIVERSITY_POOL = 4  # block-average 4x4 pixels before measuring distances (64x64 photographs -> 16x16)


def _images(images, what: str) -> np.ndarray:
    x = as_array(images, what).astype(np.float32)
    if x.ndim != 4 or x.shape[1] != x.shape[2] or not len(x):
        raise ValueError(f"{what} must be a non-empty square batch (N, H, H, C), got shape {x.shape}")
    return x


def centre_crop(images, size: int) -> np.ndarray:
    """The centre ``size`` x ``size`` of square images (N, H, H, C), H - size even (e.g. 28 of 32 or of 48)."""
    x = _images(images, "images")
    size = check_positive_int(size, "size")
    h = x.shape[1]
    if size > h or (h - size) % 2:
        raise ValueError(f"cannot cut a centred {size}x{size} from {h}x{h} images (the margin must be whole pixels)")
    off = (h - size) // 2
    return x[:, off : off + size, off : off + size]


def judged_classes(probabilities, images, *, size: int = 28) -> np.ndarray:
    """The class (N,) int that ``probabilities`` (a callable: images (N, size, size, C) in [-1, 1] -> (N,
    classes), e.g. :meth:`kit.metrics.ClassifierFeatures.probabilities` of :func:`kit.judge.classifier_features`)
    gives each image's centre ``size`` x ``size`` crop."""
    if not callable(probabilities):
        raise TypeError(f"probabilities must be a callable images -> (N, classes), got {type(probabilities).__name__}")
    x = centre_crop(images, size)
    p = np.asarray(probabilities(x))
    if p.ndim != 2 or len(p) != len(x):
        raise ValueError(f"probabilities must return (N, classes) = ({len(x)}, classes), got shape {p.shape}")
    return np.argmax(p, axis=-1).astype(np.int64)


def class_agreement(probabilities, images_a, images_b, *, size: int = 28, names=None) -> dict:
    """How often a judge gives two images of each pair the same class.

    Args:
        probabilities: the judge, images (N, size, size, C) in [-1, 1] -> class probabilities (N, classes).
        images_a, images_b: the pairs, (N, H, H, C) and (N, H', H', C) in [-1, 1] (the sizes may differ: each
            image is judged on its centre ``size`` x ``size``).
        size: the judge's input side.
        names: optional class names, for ``changes``.

    Returns:
        ``{"agreement": share of pairs judged alike (float), "n": pairs, "classes_a", "classes_b": (N,) int,
        "changes": [(class of a, class of b, count)] of the pairs judged differently, most frequent first}``
        (classes as names when ``names`` is given).
    """
    a, b = _images(images_a, "images_a"), _images(images_b, "images_b")
    if len(a) != len(b):
        raise ValueError(f"need one image b per image a, got {len(a)} and {len(b)}")
    ca, cb = judged_classes(probabilities, a, size=size), judged_classes(probabilities, b, size=size)
    label = (lambda c: int(c)) if names is None else (lambda c: names[int(c)])
    changes = Counter((label(x), label(y)) for x, y in zip(ca, cb) if x != y)
    return {"agreement": float(np.mean(ca == cb)), "n": len(a), "classes_a": ca, "classes_b": cb,
            "changes": [(x, y, n) for (x, y), n in changes.most_common()]}


def _pooled(images, pool: int) -> np.ndarray:
    x = _images(images, "images")
    pool = check_positive_int(pool, "pool")
    n, h, _, c = x.shape
    if h % pool:
        raise ValueError(f"pool ({pool}) must divide the image side ({h})")
    return x.reshape(n, h // pool, pool, h // pool, pool, c).mean(axis=(2, 4)).reshape(n, -1).astype(np.float64)


def mean_pairwise_distance(images, *, pool: int = DIVERSITY_POOL) -> float:
    """Mean Euclidean distance between all pairs of different images (N >= 2), each block-averaged over
    ``pool`` x ``pool`` pixels first (pixel space, coarse enough that a one-pixel shift counts for little): the
    within-class diversity of :mod:`kit.metrics.diversity` with every image in one class."""
    f = _pooled(images, pool)
    if len(f) < 2:
        raise ValueError("a pairwise distance needs at least 2 images")
    return within_class_diversity(f, np.zeros(len(f), np.int64), max_per_class=None)[0]


def diversity_ratio(samples, reference, *, pool: int = DIVERSITY_POOL) -> float:
    """:func:`mean_pairwise_distance` of ``samples`` over that of ``reference`` (same image size): about 1 when
    the samples are as varied as the reference, near 0 when they collapse to a few images. Pixel distances
    also count colour: samples that are flat squares of different colours can still score high, so read it
    with :func:`detail_ratio`. (:func:`kit.metrics.diversity_ratio` with one class, on pooled pixels.)"""
    s, r = _images(samples, "samples"), _images(reference, "reference")
    if s.shape[1:] != r.shape[1:]:
        raise ValueError(f"samples and reference must have the same image shape, got {s.shape[1:]} and {r.shape[1:]}")
    if len(s) < 2 or len(r) < 2:
        raise ValueError("a pairwise distance needs at least 2 images")
    fs, fr = _pooled(s, pool), _pooled(r, pool)
    return metrics_diversity_ratio(fs, np.zeros(len(fs), np.int64), fr, np.zeros(len(fr), np.int64), max_per_class=None)


def mean_gradient(images) -> float:
    """Mean absolute difference between horizontally and vertically neighbouring pixels of (N, H, W, C)."""
    x = _images(images, "images").astype(np.float64)
    return float((np.abs(np.diff(x, axis=1)).mean() + np.abs(np.diff(x, axis=2)).mean()) / 2)


def detail_ratio(samples, reference) -> float:
    """:func:`mean_gradient` of ``samples`` over that of ``reference``: about 1 when the samples carry as much
    fine detail as the reference, near 0 for flat patches of colour."""
    ref = mean_gradient(reference)
    if ref == 0:
        raise ValueError("the reference images are flat: the detail ratio is undefined")
    return mean_gradient(samples) / ref

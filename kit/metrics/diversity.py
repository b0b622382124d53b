"""Diversity within a class, on a judge network's feature vectors: how different the samples of one class are
from each other, next to how different real images of that class are.

A class-conditional GAN can satisfy its class objective with a few easy, look-alike samples per class: ACGAN's
auxiliary classifier loss rewards samples that are easy to classify, which biases it towards low diversity
within each class (Shu, 2017, "AC-GAN learns a biased distribution"; TAC-GAN, Gong et al., 2019). Accuracy and
the Inception Score cannot show this; the spread of a class's samples in feature space can.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import pdist

from kit.checks import check_finite, check_labels, check_positive_int


def _features_and_labels(features, labels, name: str = "") -> tuple[np.ndarray, np.ndarray]:
    fname, lname = (f"{name}_features", f"{name}_labels") if name else ("features", "labels")
    f = check_finite(features, fname).astype(np.float64)
    if f.ndim != 2:
        raise ValueError(f"{fname} must be (N, D) feature vectors, got shape {f.shape}")
    y = check_labels(labels, None, num_classes=None, name=lname)
    if len(y) != len(f):
        raise ValueError(f"{lname} has {len(y)} entries but {fname} has {len(f)} rows")
    return f, y


def within_class_diversity(features, labels, *, max_per_class: int | None = 2000, seed: int = 0) -> dict[int, float]:
    """Mean pairwise Euclidean distance between the feature vectors of each class: {class id: distance}.

    0 when every member of a class has the same features (one image repeated); larger when they spread.

    Args:
        features: (N, D) feature vectors, e.g. ``kit.judge.classifier_features(P)(images)``.
        labels: int (N,), the class of each row.
        max_per_class: at most this many rows of a class are used (a seeded random subset; pairwise distances
            grow with the square of the count). None: all of them.
        seed: the subset's seed.

    Raises:
        ValueError: features not (N, D), labels not (N,), or a class with fewer than 2 members.
    """
    f, y = _features_and_labels(features, labels)
    if max_per_class is not None:
        max_per_class = check_positive_int(max_per_class, "max_per_class")
        if max_per_class < 2:
            raise ValueError(f"max_per_class must be at least 2 (a pair), got {max_per_class}")
    classes, counts = np.unique(y, return_counts=True)
    if not len(classes):
        raise ValueError("no feature vectors: features and labels are empty")
    few = {int(c): int(n) for c, n in zip(classes, counts) if n < 2}
    if few:
        raise ValueError(f"every class needs at least 2 members for a pairwise distance; too few in {few} (class: count)")
    rng = np.random.default_rng(seed)
    out = {}
    for c in classes:
        rows = np.flatnonzero(y == c)
        if max_per_class is not None and len(rows) > max_per_class:
            rows = rng.choice(rows, max_per_class, replace=False)
        out[int(c)] = float(np.mean(pdist(f[rows])))
    return out


def diversity_ratio(sample_features, sample_labels, real_features, real_labels, *, max_per_class: int | None = 2000) -> float:
    """Within-class diversity of samples relative to real images, averaged over the samples' classes:
    ``mean over c of within_class_diversity(samples)[c] / within_class_diversity(real)[c]``.

    About 1 when the samples of each class spread as much as real images of that class; below 1 when they are
    more alike (0: one image per class, whatever z). Above 1 is possible (samples more varied than the real
    class, e.g. noisy ones); read it with a quality measure such as FID.

    Args:
        sample_features, real_features: (N, D) and (M, D) feature vectors of the same extractor.
        sample_labels, real_labels: int (N,) and (M,): the requested class of each sample, the true class of each
            real image.

    Raises:
        ValueError: bad shapes (see :func:`within_class_diversity`), different feature sizes, a sample class
            absent from the real images, or a real class whose members are all identical.
    """
    sf, sy = _features_and_labels(sample_features, sample_labels, "sample")
    rf, ry = _features_and_labels(real_features, real_labels, "real")
    if sf.shape[1] != rf.shape[1]:
        raise ValueError(f"feature sizes differ: samples {sf.shape[1]}, real images {rf.shape[1]}")
    missing = sorted(set(np.unique(sy).tolist()) - set(np.unique(ry).tolist()))
    if missing:
        raise ValueError(f"classes {missing} have samples but no real images to compare with")
    samples = within_class_diversity(sf, sy, max_per_class=max_per_class)
    keep = np.isin(ry, list(samples))  # real classes with no samples do not enter the average
    real = within_class_diversity(rf[keep], ry[keep], max_per_class=max_per_class)
    flat = [c for c, d in real.items() if d == 0.0]
    if flat:
        raise ValueError(f"the real images of classes {flat} all have identical features: no diversity to compare with")
    return float(np.mean([samples[c] / real[c] for c in samples]))

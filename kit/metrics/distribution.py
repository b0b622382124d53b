"""Distances between image distributions, computed on a judge network's feature vectors (N, D): FID and KID;
and the Inception Score, computed on its class probabilities (N, C)."""

from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg

from kit.checks import as_array, check_finite, check_positive_int


def _features(f, name):
    f = check_finite(f, name).astype(np.float64)
    if f.ndim != 2 or len(f) < 2:
        raise ValueError(f"{name} must be (N, D) feature vectors with N >= 2, got shape {f.shape}")
    return f


def frechet_distance(features_a, features_b) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (N, D) and (M, D): the FID when the
    features come from InceptionV3's pool layer, "classifier FID" when from another network.

    ``||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))``. Biased by sample size: compare values
    computed with the same N, and always next to the real-vs-real value.
    """
    a, b = _features(features_a, "features_a"), _features(features_b, "features_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"feature sizes differ: {a.shape[1]} vs {b.shape[1]}")
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    with warnings.catch_warnings():  # a singular product is handled just below
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(s_a @ s_b)  # (SciPy's `disp` argument is deprecated; the default returns the root)
    if not np.all(np.isfinite(covmean)):  # singular product: regularise, as the reference implementation does
        eps = 1e-6 * np.eye(len(s_a))
        covmean = linalg.sqrtm((s_a + eps) @ (s_b + eps))
    covmean = np.real(covmean)
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(s_a) + np.trace(s_b) - 2 * np.trace(covmean))


def kernel_inception_distance(features_a, features_b, *, subsets: int = 10, subset_size: int = 1000, seed: int = 0) -> tuple[float, float]:
    """KID (Bińkowski et al., 2018): unbiased MMD^2 with the cubic polynomial kernel
    ``k(x, y) = (x.y / D + 1)^3``, averaged over random subsets. Unlike FID it is unbiased, so small sample
    sizes compare fairly. Returns ``(mean, std)`` over the subsets."""
    a, b = _features(features_a, "features_a"), _features(features_b, "features_b")
    subsets = check_positive_int(subsets, "subsets")
    m = min(len(a), len(b), check_positive_int(subset_size, "subset_size"))
    d = a.shape[1]
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(subsets):
        x, y = a[rng.choice(len(a), m, replace=False)], b[rng.choice(len(b), m, replace=False)]
        kxx, kyy, kxy = (x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3, (x @ y.T / d + 1) ** 3
        mmd = (kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1)) - 2 * kxy.mean()
        values.append(mmd)
    return float(np.mean(values)), float(np.std(values))


def inception_score(probabilities, *, splits: int = 10, shuffle: bool = True) -> tuple[float, float]:
    """Inception Score (Salimans et al., 2016) from a judge's class probabilities (N, C) on generated images:
    ``exp(E_x KL(p(y|x) || p(y)))`` with p(y) the mean prediction, computed on ``splits`` equal parts of the
    images and returned as ``(mean, std)`` over them (the published protocol uses 10 splits of 50,000).

    ``shuffle`` (default): the rows are put in a seeded random order before they are split, so the score does not
    depend on the order the images were made in. Samples drawn class by class (an ACGAN's ten rows) would
    otherwise give each split one class, and every split's p(y) would equal p(y|x): a score near 1 for a
    generator that draws every class perfectly. ``shuffle=False`` splits in the given order.

    It lies between 1 (every image gets the same prediction, or none is confident) and C (every image
    confidently one class, all classes equally often). With InceptionV3's ImageNet probabilities it is "the"
    Inception Score; with the Fashion-MNIST judge it is the classifier Inception Score (at most 10)."""
    p = as_array(probabilities, "probabilities").astype(np.float64)
    splits = check_positive_int(splits, "splits")
    if p.ndim != 2 or p.shape[1] < 2:
        raise ValueError(f"probabilities must be (N, C) with C >= 2 classes, got shape {p.shape}")
    if len(p) < splits:
        raise ValueError(f"{len(p)} images cannot be cut into {splits} splits")
    if not np.all(np.isfinite(p)) or p.min() < 0 or p.max() > 1 or not np.allclose(p.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError("probabilities must be finite rows in [0, 1] that sum to 1 (softmax outputs, not logits)")
    if shuffle:
        p = p[np.random.default_rng(0).permutation(len(p))]
    scores = []
    for part in np.array_split(p, splits):
        marginal = part.mean(axis=0, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            kl = np.where(part > 0, part * (np.log(part) - np.log(marginal)), 0.0).sum(axis=1)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))

"""Distances between image distributions, computed on feature vectors (N, D): FID, KID, and the
classifier-based Inception-Score-style number for class-conditional generators."""

from __future__ import annotations

import warnings

import numpy as np

from kit.checks import as_array, check_positive_int


def _features(f, name):
    f = as_array(f, name).astype(np.float64)
    if f.ndim != 2 or len(f) < 2:
        raise ValueError(f"{name} must be (N, D) feature vectors with N >= 2, got shape {f.shape}")
    return f


def frechet_distance(features_a, features_b) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (N, D) and (M, D): the FID when the
    features come from InceptionV3's pool layer, "classifier FID" when from another network.

    ``||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))``. Biased by sample size: compare values
    computed with the same N, and always next to the real-vs-real value.
    """
    from scipy import linalg

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


def classifier_score(probs) -> float:
    """Inception-Score-style number from a classifier's probabilities (N, C) on generated images:
    ``exp(E_x KL(p(y|x) || p(y)))``. Between 1 (every image looks the same) and C (every image confidently
    one class, all classes equally often)."""
    p = as_array(probs, "probabilities").astype(np.float64)
    if p.ndim != 2:
        raise ValueError(f"probabilities must be (N, C), got shape {p.shape}")
    p = np.clip(p, 1e-12, 1.0)
    marginal = p.mean(axis=0, keepdims=True)
    return float(np.exp(np.mean(np.sum(p * (np.log(p) - np.log(marginal)), axis=1))))

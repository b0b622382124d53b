"""The 2-D targets of notebook 00 and the mode-coverage metric.

A :class:`Mixture` is an equal-weight mixture of K isotropic Gaussians in the plane: the ring of 8 (radius 2,
sigma 0.02, as in Metz et al. 2017, "Unrolled GANs", and Srivastava et al. 2017, VEEGAN) and the 5x5 grid of 25.
Its density is known exactly, which is what makes the plane a laboratory: the optimal discriminator and the
Jensen-Shannon divergence can be computed, not only estimated (:mod:`kit.game2d.theory`).

:func:`mode_coverage` measures mode collapse as VEEGAN does: a sample is *high quality* when it lies within
3 sigma of a mode's centre, and a mode is *covered* when at least ``min_share`` of the samples are high-quality
samples of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from kit.checks import as_array, check_number, check_positive_int


@dataclass(frozen=True, eq=False)
class Mixture:
    """An equal-weight mixture of isotropic Gaussians N(c_k, sigma^2 I) in the plane.

    Attributes:
        name: a short name ("ring", "grid"), used in titles and figure names.
        centers: float64 (K, 2), the modes' centres, K >= 1.
        sigma: the standard deviation of every component, > 0.
    """

    name: str
    centers: np.ndarray
    sigma: float

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"a mixture's name must be a non-empty string, got {self.name!r}")
        c = np.asarray(as_array(self.centers, "centers"), dtype=np.float64)
        if c.ndim != 2 or c.shape[1] != 2 or c.shape[0] < 1 or not np.all(np.isfinite(c)):
            raise ValueError(f"centers must be finite float (K >= 1, 2), got shape {c.shape}")
        object.__setattr__(self, "centers", c)
        object.__setattr__(self, "sigma", check_number(self.sigma, "sigma", low=0.0, open_low=True))

    @property
    def k(self) -> int:
        """The number of modes K."""
        return int(self.centers.shape[0])

    @property
    def extent(self) -> float:
        """Half the side of a square around the origin that holds every mode with a margin: the plots' and the
        density grids' window is [-extent, extent]^2."""
        return float(np.abs(self.centers).max() + max(1.0, 10 * self.sigma))

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        """``n`` points float32 (n, 2) drawn from the mixture with a NumPy generator seeded with ``seed``."""
        n = check_positive_int(n, "n")
        rng = np.random.default_rng(seed)
        which = rng.integers(0, self.k, n)
        return (self.centers[which] + self.sigma * rng.standard_normal((n, 2))).astype(np.float32)

    def sample_tf(self, n: int, generator: tf.random.Generator):
        """``n`` points float32 (n, 2) as a tensor, from a ``tf.random.Generator`` (inside a ``tf.function``)."""
        which = generator.uniform((n,), 0, self.k, dtype=tf.int32)
        centers = tf.constant(self.centers, tf.float32)
        return tf.gather(centers, which) + self.sigma * generator.normal((n, 2))

    def density(self, points, extra_sigma: float = 0.0) -> np.ndarray:
        """The mixture's density float64 (N,) at ``points`` (N, 2); with ``extra_sigma`` > 0, the density of the
        mixture blurred by a Gaussian kernel of that width (each component's variance sigma^2 + extra_sigma^2),
        which is what a kernel density estimate of its samples with that bandwidth tends to."""
        x = np.asarray(as_array(points, "points"), dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != 2:
            raise ValueError(f"points must have shape (N, 2), got {x.shape}")
        extra = check_number(extra_sigma, "extra_sigma", low=0.0)
        var = self.sigma**2 + extra**2
        out = np.zeros(len(x))
        for c in self.centers:  # K passes over N points: no (N, K) array for large grids
            out += np.exp(-np.sum((x - c) ** 2, axis=1) / (2 * var))
        return out / (self.k * 2 * np.pi * var)


def ring(k: int = 8, radius: float = 2.0, sigma: float = 0.02) -> Mixture:
    """``k`` Gaussians evenly spaced on a circle of ``radius`` (the first at angle 0): the ring of 8 of Metz et
    al. 2017 and VEEGAN with the defaults."""
    k = check_positive_int(k, "k")
    radius = check_number(radius, "radius", low=0.0, open_low=True)
    angles = 2 * np.pi * np.arange(k) / k
    return Mixture(f"ring of {k}", radius * np.stack([np.cos(angles), np.sin(angles)], axis=1), sigma)


def grid(side: int = 5, spacing: float = 2.0, sigma: float = 0.05) -> Mixture:
    """``side`` x ``side`` Gaussians on a square grid centred on the origin, ``spacing`` apart: with the
    defaults, 25 modes at (-4, -2, 0, 2, 4)^2."""
    side = check_positive_int(side, "side")
    spacing = check_number(spacing, "spacing", low=0.0, open_low=True)
    axis = spacing * (np.arange(side) - (side - 1) / 2)
    xx, yy = np.meshgrid(axis, axis)
    return Mixture(f"{side}x{side} grid", np.stack([xx.ravel(), yy.ravel()], axis=1), sigma)


def mode_coverage(samples, mixture: Mixture, *, min_share: float = 0.01, radius_sigmas: float = 3.0) -> dict:
    """How many modes of ``mixture`` the ``samples`` cover, and how many samples are good ones.

    Args:
        samples: float (N, 2), N >= 1, finite: e.g. a generator's samples.
        mixture: the target.
        min_share: a mode is covered when at least this share of all N samples lie within ``radius_sigmas``
            sigma of its centre, in (0, 1].
        radius_sigmas: the radius of "near a mode", in units of the mixture's sigma (3: VEEGAN's criterion).

    Returns:
        ``{"modes_covered": int in [0, K], "high_quality_share": float in [0, 1] (share of samples within the
        radius of some mode), "counts": int (K,) samples near each mode, "modes": K, "min_count": the count a
        covered mode needs}``.
    """
    x = np.asarray(as_array(samples, "samples"), dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2 or x.shape[0] < 1:
        raise ValueError(f"samples must have shape (N >= 1, 2), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"samples contain {int(np.sum(~np.isfinite(x)))} NaN or infinite values")
    if not isinstance(mixture, Mixture):
        raise TypeError(f"mixture must be a kit.game2d.Mixture (ring() or grid()), got {type(mixture).__name__}")
    min_share = check_number(min_share, "min_share", low=0.0, high=1.0, open_low=True)
    radius = check_number(radius_sigmas, "radius_sigmas", low=0.0, open_low=True) * mixture.sigma
    distances = np.sqrt(((x[:, None, :] - mixture.centers[None]) ** 2).sum(-1))  # (N, K)
    nearest, near = distances.argmin(axis=1), distances.min(axis=1) <= radius
    counts = np.bincount(nearest[near], minlength=mixture.k)
    min_count = int(np.ceil(min_share * len(x)))
    return {"modes_covered": int(np.sum(counts >= min_count)), "high_quality_share": float(near.mean()), "counts": counts,
            "modes": mixture.k, "min_count": min_count}


__all__ = ["Mixture", "grid", "mode_coverage", "ring"]

"""What the plane lets us compute exactly: the optimal discriminator, the value of the game and the
Jensen-Shannon divergence, from densities on a grid.

For a fixed generator with density p_g, the discriminator that maximises V(D, G) is
D*(x) = p_data(x) / (p_data(x) + p_g(x)), and V(D*, G) = 2 JS(p_data || p_g) - log 4 (Goodfellow et al. 2014,
Proposition 1 and Theorem 1). The data density is known; G's is estimated from its samples with a kernel
density estimate of bandwidth h (:func:`kde_on_grid`). So that both are seen at the same resolution, the data
density is blurred by the same kernel (exactly: a mixture with variance sigma^2 + h^2, :meth:`Mixture.density`):
then a perfect generator gives D* = 1/2 and JS = 0 up to sampling noise (:func:`js_floor` measures that noise).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from kit.checks import as_array, check_number, check_positive_int
from kit.game2d.data import Mixture

LOG4 = float(np.log(4.0))


def optimal_discriminator(p_data, p_g) -> np.ndarray:
    """D*(x) = p_data / (p_data + p_g), elementwise, float64 in [0, 1]; 1/2 where both densities are 0 (no
    point there is more likely real than generated).

    Args:
        p_data, p_g: finite, non-negative densities of the same shape (any shape).
    """
    p, q = (np.asarray(as_array(a, name), dtype=np.float64) for a, name in ((p_data, "p_data"), (p_g, "p_g")))
    if p.shape != q.shape:
        raise ValueError(f"p_data and p_g must have the same shape, got {p.shape} and {q.shape}")
    for a, name in ((p, "p_data"), (q, "p_g")):
        if not np.all(np.isfinite(a)) or np.any(a < 0):
            raise ValueError(f"{name} must be finite and non-negative (a density), got values in [{np.nanmin(a) if a.size else None}, "
                             f"{np.nanmax(a) if a.size else None}]")
    total = p + q
    return np.divide(p, total, out=np.full(p.shape, 0.5), where=total > 0)


@dataclass(frozen=True, eq=False)
class DensityGrid:
    """A square grid of R x R cell centres over [-extent, extent]^2: ``xs`` (R,), ``points`` (R*R, 2) in row-major
    order (y slow, x fast, so ``values.reshape(R, R)`` is an image with y down the rows), ``cell_area``."""

    extent: float
    resolution: int

    def __post_init__(self):
        object.__setattr__(self, "extent", check_number(self.extent, "extent", low=0.0, open_low=True))
        object.__setattr__(self, "resolution", check_positive_int(self.resolution, "resolution"))

    @property
    def step(self) -> float:
        return 2 * self.extent / self.resolution

    @property
    def xs(self) -> np.ndarray:
        return -self.extent + self.step * (np.arange(self.resolution) + 0.5)

    @property
    def points(self) -> np.ndarray:
        xx, yy = np.meshgrid(self.xs, self.xs)
        return np.stack([xx.ravel(), yy.ravel()], axis=1)

    @property
    def cell_area(self) -> float:
        return self.step**2


def kde_on_grid(samples, grid: DensityGrid, bandwidth: float) -> np.ndarray:
    """A Gaussian kernel density estimate of ``samples`` (N, 2), N >= 1, on ``grid``: float64 (R, R), a density
    (its sum times the cell area is the share of samples inside the grid, at most 1). Binned: the samples are
    counted into the grid's cells, then smoothed with a Gaussian of standard deviation ``bandwidth`` (> 0, in
    data units), which matches ``scipy.stats.gaussian_kde`` with an isotropic kernel up to the binning."""
    x = np.asarray(as_array(samples, "samples"), dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2 or x.shape[0] < 1 or not np.all(np.isfinite(x)):
        raise ValueError(f"samples must be finite with shape (N >= 1, 2), got shape {x.shape}")
    if not isinstance(grid, DensityGrid):
        raise TypeError(f"grid must be a kit.game2d.DensityGrid, got {type(grid).__name__}")
    h = check_number(bandwidth, "bandwidth", low=0.0, open_low=True)
    edges = np.linspace(-grid.extent, grid.extent, grid.resolution + 1)
    counts, _, _ = np.histogram2d(x[:, 1], x[:, 0], bins=[edges, edges])  # rows: y, columns: x
    return ndimage.gaussian_filter(counts / (len(x) * grid.cell_area), sigma=h / grid.step, mode="constant", truncate=4.0)


def js_divergence(p, q) -> float:
    """The Jensen-Shannon divergence in nats, in [0, log 2], between two densities given on the same grid
    (any shape, finite, non-negative, each with positive mass): each is normalised to sum to 1 over the grid
    first. JS = 1/2 KL(p || m) + 1/2 KL(q || m), m = (p + q) / 2."""
    p, q = (np.asarray(as_array(a, name), dtype=np.float64) for a, name in ((p, "p"), (q, "q")))
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same shape, got {p.shape} and {q.shape}")
    for a, name in ((p, "p"), (q, "q")):
        if not np.all(np.isfinite(a)) or np.any(a < 0) or a.sum() <= 0:
            raise ValueError(f"{name} must be finite, non-negative and not all 0 (a density on the grid)")
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2

    def kl(a):
        keep = a > 0
        return float(np.sum(a[keep] * np.log(a[keep] / m[keep])))

    return float(np.clip(0.5 * kl(p) + 0.5 * kl(q), 0.0, np.log(2.0)))


def value_function(real_logits, fake_logits) -> float:
    """V(D, G) = E[log D(x)] + E[log(1 - D(G(z)))] with D = sigmoid(logit), from D's logits on real points and
    on generated ones (any shapes, finite): a number <= 0, -log 4 when D says 1/2 everywhere."""
    r, f = (np.asarray(as_array(a, name), dtype=np.float64) for a, name in ((real_logits, "real_logits"), (fake_logits, "fake_logits")))
    for a, name in ((r, "real_logits"), (f, "fake_logits")):
        if a.size == 0 or not np.all(np.isfinite(a)):
            raise ValueError(f"{name} must be a non-empty array of finite logits, got shape {a.shape}")
    return float(-np.mean(np.logaddexp(0.0, -r)) - np.mean(np.logaddexp(0.0, f)))  # log sigmoid(s) = -softplus(-s)


def densities(samples, mixture: Mixture, grid: DensityGrid, bandwidth: float) -> tuple[np.ndarray, np.ndarray]:
    """``(p_data, p_g)`` float64 (R, R) on ``grid``, both at resolution ``bandwidth``: the mixture's density
    blurred by the kernel, and the KDE of ``samples``."""
    if not isinstance(mixture, Mixture):
        raise TypeError(f"mixture must be a kit.game2d.Mixture, got {type(mixture).__name__}")
    p_data = mixture.density(grid.points, extra_sigma=bandwidth).reshape(grid.resolution, grid.resolution)
    return p_data, kde_on_grid(samples, grid, bandwidth)


def js_floor(mixture: Mixture, grid: DensityGrid, bandwidth: float, n: int, seed: int = 0) -> float:
    """The JS estimate of a perfect generator: :func:`js_divergence` between the blurred data density and the KDE
    of ``n`` real samples (what sampling noise alone gives: the scale every JS estimate here is read against)."""
    return js_divergence(*densities(mixture.sample(n, seed), mixture, grid, bandwidth))


def compare_with_optimal(d_probabilities, samples, mixture: Mixture, grid: DensityGrid, bandwidth: float, *,
                         optimal=optimal_discriminator, floor: float = 0.01) -> dict:
    """The trained discriminator against the optimal one for the generator that drew ``samples``.

    Args:
        d_probabilities: the trained D's probabilities that each grid point is real, (R, R) or (R*R,), in [0, 1].
        samples: the generator's samples (N, 2), from the generator D was trained against.
        optimal: the formula D*(p_data, p_g) (yours, or :func:`optimal_discriminator`).
        floor: the comparison is made where both densities exceed ``floor`` times the data density's peak
            (elsewhere D* is 0, 1 or undefined, and D was never trained).

    Returns:
        ``{"d_star": (R, R), "d": (R, R), "mask": bool (R, R), "support": bool (R, R) where either density exceeds the
        level, "mean_abs_error": float or None (no such point), "constant_half_error": the error of a D that says 1/2
        on the same points, "points": int}``.
    """
    r = grid.resolution
    d = np.asarray(as_array(d_probabilities, "d_probabilities"), dtype=np.float64)
    if d.size != r * r or not np.all((d >= 0) & (d <= 1)):
        raise ValueError(f"d_probabilities must hold {r}x{r} probabilities in [0, 1], got shape {d.shape}")
    d = d.reshape(r, r)
    floor = check_number(floor, "floor", low=0.0, high=1.0, open_low=True)
    p_data, p_g = densities(samples, mixture, grid, bandwidth)
    d_star = np.asarray(optimal(p_data, p_g), dtype=np.float64).reshape(r, r)
    level = floor * p_data.max()
    mask = (p_data > level) & (p_g > level)
    points = int(mask.sum())
    error = float(np.mean(np.abs(d - d_star)[mask])) if points else None
    half = float(np.mean(np.abs(0.5 - d_star)[mask])) if points else None
    return {"d_star": d_star, "d": d, "mask": mask, "support": (p_data > level) | (p_g > level), "mean_abs_error": error,
            "constant_half_error": half, "points": points}


__all__ = ["LOG4", "DensityGrid", "compare_with_optimal", "densities", "js_divergence", "js_floor", "kde_on_grid", "optimal_discriminator",
           "value_function"]

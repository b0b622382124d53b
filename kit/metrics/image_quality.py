"""Full-reference image quality and colour metrics for image-to-image models (notebooks 04, 05 and 07).

Inputs are images float32 NHWC in [0, 1] (convert GAN outputs with ``(x + 1) / 2``); every function returns
one value per image (N,) unless it says otherwise, so callers can average, split by class, or report a spread.

- :func:`psnr`, :func:`ssim`: against a reference image, on RGB or on luma Y (``on="y"``), as the
  super-resolution literature reports them.
- :func:`colourfulness`: Hasler & Süsstrunk's colourfulness, the number that shows an L1-only colorizer's
  desaturated "sepia" outputs.
- :func:`lab_error`, :func:`hue_error`: colour distances in CIELAB and in hue angle.
- :func:`mean_channel_error`: the signed per-channel bias (a colour cast shows up as a non-zero channel).
"""

from __future__ import annotations

import numpy as np

from kit.checks import check_choice, check_images

# ITU-R BT.601 luma weights, as used by PSNR-Y / SSIM-Y in the super-resolution literature.
_Y_WEIGHTS = np.array([0.299, 0.587, 0.114], np.float32)


def _pair(a, b, name_a: str, name_b: str, channels=(1, 3)):
    a = check_images(a, name_a, channels=channels, value_range=(0.0, 1.0))
    b = check_images(b, name_b, channels=channels, value_range=(0.0, 1.0))
    if a.shape != b.shape:
        raise ValueError(f"{name_a} and {name_b} must have the same shape, got {a.shape} and {b.shape}")
    return a, b


def to_luma(images) -> np.ndarray:
    """Luma Y (BT.601) of RGB images float32 (N, H, W, 3) in [0, 1] -> (N, H, W, 1) in [0, 1];
    single-channel images are returned unchanged."""
    x = check_images(images, channels=(1, 3), value_range=(0.0, 1.0))
    if x.shape[-1] == 1:
        return x
    return (x @ _Y_WEIGHTS)[..., None].astype(np.float32)


def _select(a, b, on: str):
    check_choice(on, ("rgb", "y"), "channel space (on=)")
    return (to_luma(a), to_luma(b)) if on == "y" else (a, b)


def psnr(images, reference, *, on: str = "rgb") -> np.ndarray:
    """Peak signal-to-noise ratio in dB, per image (N,): ``10 log10(1 / MSE)`` for images in [0, 1].

    Args:
        images, reference: float32 NHWC in [0, 1], same shape, 1 or 3 channels.
        on: ``"rgb"`` (all channels) or ``"y"`` (BT.601 luma only).

    Identical images give ``inf``.
    """
    a, b = _select(*_pair(images, reference, "images", "reference"), on)
    mse = np.mean((a.astype(np.float64) - b) ** 2, axis=(1, 2, 3))
    with np.errstate(divide="ignore"):
        return (10.0 * np.log10(1.0 / mse)).astype(np.float32)


def ssim(images, reference, *, on: str = "rgb") -> np.ndarray:
    """Structural similarity per image (N,), in [-1, 1] (1: identical), with the standard 11x11 Gaussian
    window (sigma 1.5), K1 = 0.01, K2 = 0.03, averaged over channels (``tf.image.ssim``).

    Images smaller than 11x11 are rejected: the window would not fit.
    """
    import tensorflow as tf

    a, b = _select(*_pair(images, reference, "images", "reference"), on)
    if min(a.shape[1:3]) < 11:
        raise ValueError(f"SSIM needs images of at least 11x11 pixels (its window), got {a.shape[1]}x{a.shape[2]}")
    return tf.image.ssim(tf.constant(a), tf.constant(b), max_val=1.0).numpy().astype(np.float32)


def colourfulness(images) -> np.ndarray:
    """Hasler & Süsstrunk (2003) colourfulness per image (N,), on RGB float32 NHWC in [0, 1].

    ``sqrt(std(rg)^2 + std(yb)^2) + 0.3 sqrt(mean(rg)^2 + mean(yb)^2)`` on 0-255 values, with
    ``rg = R - G`` and ``yb = (R + G) / 2 - B``. 0 for gray images; roughly 15 "slightly", 33 "moderately",
    59 "quite", 82 "highly" colourful in the authors' perceptual study.
    """
    x = check_images(images, channels=(3,), value_range=(0.0, 1.0)).astype(np.float64) * 255.0
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    rg, yb = r - g, 0.5 * (r + g) - b
    std = np.sqrt(rg.std(axis=(1, 2)) ** 2 + yb.std(axis=(1, 2)) ** 2)
    mean = np.sqrt(rg.mean(axis=(1, 2)) ** 2 + yb.mean(axis=(1, 2)) ** 2)
    return (std + 0.3 * mean).astype(np.float32)


def _mask(reference, mask):
    if mask is None:
        return np.ones(reference.shape[:3], bool)
    m = np.asarray(mask, bool)
    if m.shape != reference.shape[:3]:
        raise ValueError(f"mask must have shape (N, H, W) = {reference.shape[:3]}, got {m.shape}")
    return m


def lab_error(images, reference, *, mask=None) -> np.ndarray:
    """Mean CIELAB colour difference (Delta E 1976, Euclidean in L*a*b*) per image (N,), over the pixels where
    ``mask`` (N, H, W) is True (default: all). About 2.3 is a just-noticeable difference."""
    from skimage.color import rgb2lab

    a, b = _pair(images, reference, "images", "reference", channels=(3,))
    m = _mask(b, mask)
    d = np.linalg.norm(rgb2lab(a) - rgb2lab(b), axis=-1)
    return np.array([d[i][m[i]].mean() if m[i].any() else np.nan for i in range(len(d))], np.float32)


def hue_error(images, reference, *, mask=None) -> np.ndarray:
    """Mean absolute hue difference in degrees (0-180) per image (N,), over the pixels where ``mask`` is True.
    Hue is undefined for grays: restrict ``mask`` to coloured pixels of the reference."""
    from skimage.color import rgb2hsv

    a, b = _pair(images, reference, "images", "reference", channels=(3,))
    m = _mask(b, mask)
    d = np.abs(rgb2hsv(a)[..., 0] - rgb2hsv(b)[..., 0])
    d = np.minimum(d, 1.0 - d) * 360.0  # hue is an angle: 350 and 10 degrees are 20 apart
    return np.array([d[i][m[i]].mean() if m[i].any() else np.nan for i in range(len(d))], np.float32)


def mean_channel_error(images, reference) -> np.ndarray:
    """Signed mean error per channel over all images, ``mean(images - reference)`` -> (C,): a colour cast
    (e.g. the reference report's reddish tint) is a clearly non-zero entry."""
    a, b = _pair(images, reference, "images", "reference")
    return (a.astype(np.float64) - b).mean(axis=(0, 1, 2)).astype(np.float32)

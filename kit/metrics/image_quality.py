"""Full-reference image quality and colour metrics for image-to-image models (notebooks 04, 05 and 07).

Inputs are images float32 NHWC in [0, 1] (convert GAN outputs with ``(x + 1) / 2``); every function returns
one value per image (N,) unless it says otherwise, so callers can average, split by class, or report a spread.

- :func:`psnr`, :func:`ssim`: against a reference image, on RGB or on Y (``on="y"``): the Y channel of BT.601
  YCbCr in studio swing ([16, 235] / 255), with ``crop_border`` pixels cut from every side first, the
  convention of the super-resolution literature (BasicSR's ``calculate_psnr(..., crop_border=4,
  test_y_channel=True)`` for 4x models).
- :func:`colourfulness`: Hasler & Süsstrunk's colourfulness, the number that shows an L1-only colorizer's
  desaturated "sepia" outputs.
- :func:`lab_error`, :func:`hue_error`: colour distances in CIELAB and in hue angle.
- :func:`mean_channel_error`: the signed per-channel bias (a colour cast shows up as a non-zero channel).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.color import rgb2hsv, rgb2lab

from kit.checks import check_choice, check_images
from kit.imageops import to_luma, to_ycbcr_y


def _pair(a, b, name_a: str, name_b: str, channels=(1, 3)):
    a = check_images(a, name_a, channels=channels, value_range=(0.0, 1.0))
    b = check_images(b, name_b, channels=channels, value_range=(0.0, 1.0))
    if a.shape != b.shape:
        raise ValueError(f"{name_a} and {name_b} must have the same shape, got {a.shape} and {b.shape}")
    return a, b


def _select(a, b, on: str, crop_border: int):
    check_choice(on, ("rgb", "y"), "channel space (on=)")
    if isinstance(crop_border, bool) or not isinstance(crop_border, (int, np.integer)) or crop_border < 0:
        raise ValueError(f"crop_border must be an integer >= 0, got {crop_border!r}")
    if 2 * crop_border >= min(a.shape[1:3]):
        raise ValueError(f"crop_border {crop_border} leaves nothing of {a.shape[1]}x{a.shape[2]} images")
    if crop_border:
        a, b = (x[:, crop_border:-crop_border, crop_border:-crop_border] for x in (a, b))
    if on == "y" and a.shape[-1] == 3:
        return to_ycbcr_y(a), to_ycbcr_y(b)
    return a, b


def psnr(images, reference, *, on: str = "rgb", crop_border: int = 0) -> np.ndarray:
    """Peak signal-to-noise ratio in dB, per image (N,): ``10 log10(1 / MSE)`` for images in [0, 1].

    Args:
        images, reference: float32 NHWC in [0, 1], same shape, 1 or 3 channels.
        on: ``"rgb"`` (all channels) or ``"y"`` (the Y of BT.601 YCbCr, studio swing; single-channel images
            are used as they are).
        crop_border: pixels cut from every side before measuring (the scale factor, by the super-resolution
            convention).

    Identical images give ``inf``.
    """
    a, b = _select(*_pair(images, reference, "images", "reference"), on, crop_border)
    mse = np.mean((a.astype(np.float64) - b) ** 2, axis=(1, 2, 3))
    with np.errstate(divide="ignore"):
        return (10.0 * np.log10(1.0 / mse)).astype(np.float32)


def ssim(images, reference, *, on: str = "rgb", crop_border: int = 0) -> np.ndarray:
    """Structural similarity per image (N,), in [-1, 1] (1: identical), with the standard 11x11 Gaussian
    window (sigma 1.5), K1 = 0.01, K2 = 0.03, averaged over channels (``tf.image.ssim``); ``on`` and
    ``crop_border`` as in :func:`psnr`.

    Images smaller than 11x11 (after cropping) are rejected: the window would not fit.
    """
    a, b = _select(*_pair(images, reference, "images", "reference"), on, crop_border)
    if min(a.shape[1:3]) < 11:
        raise ValueError(f"SSIM needs images of at least 11x11 pixels (its window), got {a.shape[1]}x{a.shape[2]}")
    return _ssim_separable(a.astype(np.float32), b.astype(np.float32))


# tf.image.ssim's window, as it builds it: a softmax over -x^2 / (2 sigma^2) on an 11x11 grid, which is the outer
# product of this normalised 1-D Gaussian with itself.
_SSIM_TAPS = np.exp(-0.5 * ((np.arange(11) - 5.0) / 1.5) ** 2)
_SSIM_TAPS /= _SSIM_TAPS.sum()


def _ssim_separable(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """tf.image.ssim (max_val 1, K1 0.01, K2 0.03, 'VALID' windows, mean over pixels then channels) computed with
    the Gaussian window as two 1-D passes. Why not call tf.image.ssim: on a CPU its 11x11 depthwise convolution took
    6.5 s for 176 crops of 128x128x3 (2 cores), and notebook 07 measures SSIM 36 times per evaluation; this takes
    a fraction of a second and agrees with it to 1e-5 (tests/test_image_quality.py)."""

    def window_mean(x):
        for axis in (1, 2):
            x = ndimage.correlate1d(x, _SSIM_TAPS, axis=axis, mode="nearest")
        return x[:, 5:-5, 5:-5]  # the valid windows only, as tf.image.ssim's 'VALID' convolution

    c1, c2 = 0.01**2, 0.03**2
    mu_a, mu_b = window_mean(a), window_mean(b)
    mu_ab, mu_sq = mu_a * mu_b, mu_a**2 + mu_b**2
    luminance = (2.0 * mu_ab + c1) / (mu_sq + c1)
    contrast_structure = (2.0 * (window_mean(a * b) - mu_ab) + c2) / (window_mean(a * a + b * b) - mu_sq + c2)
    return (luminance * contrast_structure).mean(axis=(1, 2, 3)).astype(np.float32)


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
    a, b = _pair(images, reference, "images", "reference", channels=(3,))
    m = _mask(b, mask)
    d = np.linalg.norm(rgb2lab(a) - rgb2lab(b), axis=-1)
    return np.array([d[i][m[i]].mean() if m[i].any() else np.nan for i in range(len(d))], np.float32)


def hue_error(images, reference, *, mask=None) -> np.ndarray:
    """Mean absolute hue difference in degrees (0-180) per image (N,), over the pixels where ``mask`` is True.
    Hue is undefined for grays: restrict ``mask`` to coloured pixels of the reference."""
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


def sharpness(images) -> np.ndarray:
    """Variance of the Laplacian of each image's luma, per image (N,), for images float32 NHWC in [0, 1] (luma
    scaled to 0-255, the usual units of this focus measure): high for crisp edges and fine texture, low for a
    blurred or over-smoothed image. A no-reference statistic: compare it with the reference images' value."""
    y = to_luma(images)[..., 0].astype(np.float64) * 255.0
    lap = np.stack([ndimage.laplace(img, mode="reflect") for img in y])
    return lap.var(axis=(1, 2)).astype(np.float32)

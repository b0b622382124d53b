"""Image operations every other part of the kit builds on: luma, grayscale and one resize.

Images are float32 NHWC arrays; the value range is the caller's (these functions only check it where the
formula needs it).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from kit.checks import check_choice, check_images, check_positive_int

# ITU-R BT.601 luma weights (full range: Y in [0, 1] for RGB in [0, 1]).
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], np.float32)
# BT.601 "studio swing" Y of YCbCr, the channel the super-resolution literature measures PSNR/SSIM on (BasicSR,
# MATLAB's rgb2ycbcr): Y = 16/255 + (65.481 R + 128.553 G + 24.966 B) / 255, in [16/255, 235/255].
YCBCR_Y_WEIGHTS = np.array([65.481, 128.553, 24.966], np.float64) / 255.0
YCBCR_Y_OFFSET = 16.0 / 255.0

RESIZE_METHODS = ("auto", "area", "bilinear", "bicubic", "nearest")


def to_luma(images) -> np.ndarray:
    """Full-range BT.601 luma of RGB images float32 (N, H, W, 3) in [0, 1] -> (N, H, W, 1) in [0, 1];
    single-channel images are returned unchanged."""
    x = check_images(images, channels=(1, 3), value_range=(0.0, 1.0))
    if x.shape[-1] == 1:
        return x
    return (x @ LUMA_WEIGHTS)[..., None].astype(np.float32)


def to_ycbcr_y(images) -> np.ndarray:
    """The Y channel of BT.601 YCbCr (studio swing, [16, 235] / 255) of RGB images float32 (N, H, W, 3) in
    [0, 1] -> (N, H, W, 1): what "PSNR on Y" means in the super-resolution literature."""
    x = check_images(images, channels=(3,), value_range=(0.0, 1.0)).astype(np.float64)
    return (x @ YCBCR_Y_WEIGHTS + YCBCR_Y_OFFSET)[..., None].astype(np.float32)


def resize(images, size, *, method: str = "auto", clip: tuple[float, float] | None = (0.0, 1.0)) -> np.ndarray:
    """Resize a batch of images: float (N, H, W, C) -> float32 (N, h, w, C).

    Args:
        size: ``s`` for s x s, or ``(h, w)``.
        method: ``"auto"`` (area when shrinking, which averages every source pixel and so cannot alias, and
            bilinear when growing), ``"area"``, ``"bilinear"``, ``"bicubic"`` or ``"nearest"``.
        clip: clip the result to this range (bicubic overshoots); None: no clipping.

    An integer downscaling factor with ``"area"`` is exactly the mean of each f x f block.
    """
    x = check_images(images, channels=None, value_range=None)
    check_choice(method, RESIZE_METHODS, "resize method")
    h, w = (size, size) if np.ndim(size) == 0 else tuple(size)
    h, w = check_positive_int(h, "height"), check_positive_int(w, "width")
    if x.shape[1:3] == (h, w):
        out = x
    else:
        if method == "auto":
            method = "area" if h <= x.shape[1] and w <= x.shape[2] else "bilinear"
        out = tf.image.resize(x, (h, w), method=method).numpy()
    if clip is not None:
        out = np.clip(out, clip[0], clip[1])
    return out.astype(np.float32, copy=False)


def to_grayscale(images, size: int | None = None, *, stretch: bool = False) -> np.ndarray:
    """Luma of RGB images float32 (N, H, W, 3) in [0, 1] -> (N, size, size, 1) in [0, 1], resized when ``size``
    differs: e.g. 64x64 generated colour garments -> 28x28 grayscale for the Fashion-MNIST classifier.

    ``stretch=True`` rescales each image so its brightest pixel is 1. A coloured garment is darker than the
    grayscale original (a dark-blue trouser's luminance is about 0.35 of it); stretching undoes that, so the
    classifier sees garments with Fashion-MNIST's contrast."""
    x = to_luma(images)
    if size is not None:
        x = resize(x, size)
    if stretch:
        x = x / np.maximum(x.max(axis=(1, 2, 3), keepdims=True), 1e-6)
    return np.clip(x, 0.0, 1.0).astype(np.float32)

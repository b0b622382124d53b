"""Perceptual distance between image pairs under a network you pass in: LPIPS (Zhang et al. 2018). The network
itself is built, converted or downloaded by :mod:`kit.lpips` (``lpips_network()`` or ``lpips_standin()``)."""

from __future__ import annotations

import keras
import numpy as np

from kit.checks import check_images, check_positive_int

LPIPS_MIN_SIZE = 16  # VGG16 pools 16x before its last tapped layer (relu5_3)


def lpips_distance(images, reference, network, *, batch_size: int = 32) -> np.ndarray:
    """LPIPS distance of each image to its reference: float32 (N,), >= 0, 0 for identical images; lower is closer.

    Args:
        images, reference: float32 (N, H, W, 3) RGB in [0, 1], the same shape, H and W >= 16 (convert GAN
            outputs in [-1, 1] with ``(x + 1) / 2``).
        network: the model of :func:`kit.lpips.lpips_network` or :func:`kit.lpips.lpips_standin` (the first
            element of the pair they return): ``network([images, reference]) -> (n,)``.
        batch_size: image pairs per call.
    """
    a = check_images(images, "images", channels=(3,), value_range=(0.0, 1.0))
    b = check_images(reference, "reference", channels=(3,), value_range=(0.0, 1.0))
    if a.shape != b.shape:
        raise ValueError(f"images and reference must have the same shape, got {a.shape} and {b.shape}")
    if min(a.shape[1:3]) < LPIPS_MIN_SIZE:
        raise ValueError(f"LPIPS needs images of at least {LPIPS_MIN_SIZE}x{LPIPS_MIN_SIZE} pixels (VGG16 pools 16x), got {a.shape}; "
                         "upsample small images first")
    if network is None:
        raise TypeError("network is None: the real LPIPS is unavailable here (kit.lpips.lpips_network returned None); "
                        "pass kit.lpips.lpips_standin()[0] for the labelled stand-in")
    if isinstance(network, tuple):
        raise TypeError("network is a tuple: lpips_network() and lpips_standin() return (model, label); pass the model")
    if not callable(network):
        raise TypeError(f"network must be a keras.Model taking [images, reference], got {type(network).__name__}")
    batch_size = check_positive_int(batch_size, "batch_size")
    out = []
    for i in range(0, len(a), batch_size):
        pair = [a[i : i + batch_size], b[i : i + batch_size]]
        d = network(pair, training=False) if isinstance(network, keras.Model) else network(pair)
        d = np.asarray(d, np.float32)
        if d.size != len(pair[0]) or d.ndim > 2:
            raise ValueError(f"network must return one distance per image pair, shape ({len(pair[0])},), got {d.shape}")
        out.append(d.reshape(-1))
    return np.concatenate(out) if out else np.zeros(0, np.float32)

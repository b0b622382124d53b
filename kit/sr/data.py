"""The data of notebook 07: photograph crops (the truth, ``hr``), their 4x smaller "raw" versions, and
degraded copies of those at every level (:mod:`kit.sr.degrade`), split without overlap; and the aligned,
augmented training pairs the refiner and the enhancer learn from."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from kit.checks import check_images, check_positive_int
from kit.imageops import resize
from kit.sr import degrade as degrade_lib
from kit.sr.rrdbnet import SCALE


def downscale(images, factor: int = SCALE) -> np.ndarray:
    """Antialiased downscaling by an integer ``factor`` (the mean of each factor x factor block): float32
    (N, H, W, C) in [0, 1] -> (N, H/f, W/f, C)."""
    x = check_images(images, channels=None)
    factor = check_positive_int(factor, "factor")
    n, h, w, c = x.shape
    if h % factor or w % factor:
        raise ValueError(f"image size {h}x{w} is not a multiple of the factor {factor}")
    return resize(x, (h // factor, w // factor), method="area")


def bicubic(images, factor: int = SCALE) -> np.ndarray:
    """Bicubic upscaling by ``factor``, clipped to [0, 1]: the simplest enhancer."""
    x = check_images(images, channels=None)
    h, w = x.shape[1:3]
    return resize(x, (check_positive_int(factor, "factor") * h, factor * w), method="bicubic")


@dataclass
class DegradedSet:
    """One split's images: ``hr`` (N, S, S, 3), ``raw`` (N, S/4, S/4, 3) and ``degraded[level]``, each
    (N * draws, S/4, S/4, 3) with crop ``i`` at rows ``i, i + N, ...`` (``hr_index`` maps rows to crops)."""

    hr: np.ndarray
    raw: np.ndarray
    degraded: dict
    draws: int

    @property
    def hr_index(self) -> np.ndarray:
        return np.tile(np.arange(len(self.hr)), self.draws)


def degrade_split(hr, levels=degrade_lib.LEVEL_NAMES, *, draws: int = 1, seed: int = 0) -> DegradedSet:
    """Raw (4x downscaled) and degraded versions of the crops ``hr`` (float32 (N, S, S, 3) in [0, 1]):
    ``draws`` independent degradations of every crop per level."""
    hr = check_images(hr, "hr crops", channels=(3,))
    draws = check_positive_int(draws, "draws")
    raw = downscale(hr)
    stacked = np.concatenate([raw] * draws)
    degraded = {lv: degrade_lib.degrade(stacked, lv, seed=seed + 1000 * i) for i, lv in enumerate(levels)}
    return DegradedSet(hr, raw, degraded, draws)


@dataclass
class EnhancedSet:
    """``E(raw)`` (N, S, S, 3) and ``E(degraded)[level]`` (N * draws, S, S, 3) of one :class:`DegradedSet`."""

    source: DegradedSet
    raw: np.ndarray
    degraded: dict

    @property
    def raw_per_image(self) -> np.ndarray:
        """E(raw) repeated to match the rows of ``degraded[level]``: (N * draws, S, S, 3)."""
        return self.raw[self.source.hr_index]

    @property
    def references(self) -> dict:
        """The two references of every row of ``degraded[level]``: ``{"baseline(raw)": E(raw), "raw": the true
        high-resolution crop}``, each (N * draws, S, S, 3)."""
        return {"baseline(raw)": self.raw_per_image, "raw": self.source.hr[self.source.hr_index]}

    def pairs(self, levels=None) -> tuple[np.ndarray, np.ndarray]:
        """(E(degraded), E(raw)) training pairs over ``levels`` (default all)."""
        levels = list(self.degraded) if levels is None else list(levels)
        x = np.concatenate([self.degraded[lv] for lv in levels])
        y = np.concatenate([self.raw_per_image for _ in levels])
        return x, y


def augment_pairs(x, y, patch: int | None, scale: int, seed: int, batch_size: int, shuffle: bool = True, drop_remainder: bool = False):
    """tf.data of (x, y) pairs float32 (N, h, w, C) / (N, scale h, scale w, C) with aligned random crops (``patch``
    input pixels, ``scale * patch`` output pixels) and the same random flip/transpose applied to both, batched
    (equal batches with ``drop_remainder``, as a GAN wants) and prefetched. Without ``shuffle``: whole images,
    in order, unaugmented (validation)."""
    batch_size = check_positive_int(batch_size, "batch_size")
    if drop_remainder and len(x) < batch_size:
        raise ValueError(f"{len(x)} pairs make no batch of {batch_size} with drop_remainder=True")
    ds = tf.data.Dataset.from_tensor_slices((x, y)).cache()
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)

    def crop_and_flip(a, b):
        if patch is not None:
            h, w = tf.shape(a)[0], tf.shape(a)[1]
            t = tf.random.uniform((), 0, h - patch + 1, tf.int32)
            l = tf.random.uniform((), 0, w - patch + 1, tf.int32)
            a = a[t : t + patch, l : l + patch]
            b = b[scale * t : scale * (t + patch), scale * l : scale * (l + patch)]
        k = tf.random.uniform((), 0, 8, tf.int32)
        # The 8 symmetries of the square: transpose or not, then a flip pattern.
        a, b = tf.cond(k >= 4, lambda: (tf.transpose(a, (1, 0, 2)), tf.transpose(b, (1, 0, 2))), lambda: (a, b))
        a, b = tf.cond(k % 2 == 1, lambda: (a[::-1], b[::-1]), lambda: (a, b))
        a, b = tf.cond((k // 2) % 2 == 1, lambda: (a[:, ::-1], b[:, ::-1]), lambda: (a, b))
        return a, b

    if shuffle:
        ds = ds.map(crop_and_flip, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)

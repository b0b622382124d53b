"""``tf.data`` input pipelines shared by every notebook."""

from __future__ import annotations

import numpy as np

from kit.checks import as_array, check_positive_int


def make_dataset(
    x,
    y=None,
    *,
    batch_size: int,
    shuffle: bool = True,
    seed: int = 0,
    cache: bool = True,
    drop_remainder: bool = False,
):
    """A batched ``tf.data.Dataset`` of ``x`` (and ``y``): cache -> shuffle -> batch -> prefetch.

    Args:
        x: array (N, ...), e.g. images float32 NHWC, or a tuple of arrays with the same N, yielded as tuples
            (e.g. ``(conditions, targets, labels)`` for pix2pix).
        y: optional array (N, ...) paired with ``x`` (labels); the dataset then yields ``(x, y)`` tuples.
        batch_size: examples per batch.
        shuffle: reshuffle every epoch (seeded, so runs are reproducible).
        cache: keep the decoded elements in memory after the first epoch.
        drop_remainder: drop a last partial batch (GANs want equal batch sizes).
    """
    import tensorflow as tf

    batch_size = check_positive_int(batch_size, "batch_size")
    if isinstance(x, (tuple, list)):
        if y is not None:
            raise ValueError("pass either a tuple of arrays as x, or x and y, not both")
        arrays = tuple(as_array(a, f"x[{i}]") for i, a in enumerate(x))
    else:
        arrays = (as_array(x, "x"),) + (() if y is None else (as_array(y, "y"),))
    x = arrays[0]
    if len(x) == 0:
        raise ValueError("x is empty: a dataset needs at least one example")
    lengths = [len(a) for a in arrays]
    if len(set(lengths)) != 1:
        raise ValueError(f"all arrays must have the same length, got {lengths}")
    tensors = arrays if len(arrays) > 1 else x
    ds = tf.data.Dataset.from_tensor_slices(tensors)
    if cache:
        ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(min(len(x), 10_000), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    return ds.prefetch(tf.data.AUTOTUNE)


def take_per_class(y, per_class: int, num_classes: int = 10, seed: int = 0) -> np.ndarray:
    """Indices of ``per_class`` examples of every class (seeded), ordered class by class."""
    y = as_array(y, "labels")
    rng = np.random.default_rng(seed)
    out = []
    for c in range(num_classes):
        idx = np.flatnonzero(y == c)
        if len(idx) < per_class:
            raise ValueError(f"class {c} has only {len(idx)} examples, asked for {per_class}")
        out.append(rng.choice(idx, per_class, replace=False))
    return np.concatenate(out)

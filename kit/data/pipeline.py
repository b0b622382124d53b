"""``tf.data`` input pipelines shared by every notebook, with a training order that can be resumed exactly.

:func:`make_dataset` shuffles with a permutation that is a pure function of ``(seed, epoch)``
(``tf.random.experimental.stateless_shuffle``), read from the dataset's epoch counter each time an epoch's
iterator starts. Left alone the counter advances by one per epoch, so ``model.fit`` reshuffles every epoch as
usual; the kit's training loops set it at the start of every epoch (:class:`EpochOrder`), so epoch 7 of a
resumed run sees exactly the batches epoch 7 of an uninterrupted run saw. (``Dataset.shuffle`` with
``reshuffle_each_iteration`` draws each epoch's order from a hidden iterator state that a checkpoint cannot
hold, which is why the kit does not use it for training data.)
"""

from __future__ import annotations

import hashlib

import keras
import numpy as np
import tensorflow as tf

from kit.checks import as_array, check_positive_int

EPOCH_ATTR = "kit_epoch"  # the tf.Variable of a dataset made by make_dataset(shuffle=True)
INFO_ATTR = "kit_info"  # what make_dataset knows about its data (count, shapes, value range, fingerprint)


def _fingerprint(arrays) -> str:
    """A short content hash of the arrays (their shapes, dtypes and a strided sample of their bytes)."""
    h = hashlib.sha256()
    for a in arrays:
        h.update(f"{a.shape}{a.dtype}".encode())
        flat = np.ascontiguousarray(a).reshape(-1)
        step = max(1, flat.size // 65536)
        h.update(np.ascontiguousarray(flat[::step]).tobytes())
    return h.hexdigest()[:16]


def make_dataset(x, y=None, *, batch_size: int, shuffle: bool = True, seed: int = 0, drop_remainder: bool = False):
    """A batched ``tf.data.Dataset`` of ``x`` (and ``y``) held in memory: epoch-seeded shuffle -> batch ->
    prefetch.

    Args:
        x: array (N, ...), e.g. images float32 NHWC, or a tuple of arrays with the same N, yielded as tuples
            (e.g. ``(conditions, targets, labels)`` for pix2pix).
        y: optional array (N, ...) paired with ``x`` (labels); the dataset then yields ``(x, y)`` tuples.
        batch_size: examples per batch.
        shuffle: a new order every epoch, a pure function of ``seed`` and the epoch index (see the module
            docstring), so runs are reproducible and resumable.
        drop_remainder: drop a last partial batch (GANs want equal batch sizes).

    Raises:
        ValueError: for empty or mismatched arrays, or when no batch at all would come out (fewer examples
            than ``batch_size`` with ``drop_remainder``).
    """
    batch_size = check_positive_int(batch_size, "batch_size")
    if isinstance(x, (tuple, list)):
        if y is not None:
            raise ValueError("pass either a tuple of arrays as x, or x and y, not both")
        arrays = tuple(as_array(a, f"x[{i}]") for i, a in enumerate(x))
    else:
        arrays = (as_array(x, "x"),) + (() if y is None else (as_array(y, "y"),))
    n = len(arrays[0])
    if n == 0:
        raise ValueError("x is empty: a dataset needs at least one example")
    lengths = [len(a) for a in arrays]
    if len(set(lengths)) != 1:
        raise ValueError(f"all arrays must have the same length, got {lengths}")
    if drop_remainder and n < batch_size:
        raise ValueError(f"{n} examples make no batch of {batch_size} with drop_remainder=True: lower batch_size or use more data")
    tensors = tuple(tf.constant(a) for a in arrays)
    index = tf.data.Dataset.range(n)
    epoch = None
    if shuffle:
        epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="data_epoch")
        base = tf.constant(int(seed), tf.int64)

        def epoch_order(_):
            e = epoch.assign_add(1) - 1  # the order of the epoch the counter points at; then advance it
            order = tf.random.experimental.stateless_shuffle(tf.range(n, dtype=tf.int64), seed=tf.stack([base, e]))
            return tf.data.Dataset.from_tensor_slices(order)

        index = tf.data.Dataset.from_tensors(0).flat_map(epoch_order)

    def gather(idx):
        parts = tuple(tf.gather(t, idx) for t in tensors)
        return parts if len(parts) > 1 else parts[0]

    batches = n // batch_size if drop_remainder else -(-n // batch_size)
    ds = index.batch(batch_size, drop_remainder=drop_remainder).map(gather, num_parallel_calls=tf.data.AUTOTUNE)
    # The shuffled index stream's length is unknown to tf.data (flat_map): state it, so fit() knows the steps.
    ds = ds.apply(tf.data.experimental.assert_cardinality(batches)).prefetch(tf.data.AUTOTUNE)
    setattr(ds, EPOCH_ATTR, epoch)
    floats = [a for a in arrays if np.issubdtype(a.dtype, np.floating)]
    setattr(ds, INFO_ATTR, {
        "examples": n,
        "batches": batches,
        "batch_size": batch_size,
        "shapes": [list(a.shape[1:]) for a in arrays],
        "dtypes": [str(a.dtype) for a in arrays],
        "value_range": [float(min(a.min() for a in floats)), float(max(a.max() for a in floats))] if floats else None,
        "label_range": [int(arrays[-1].min()), int(arrays[-1].max())] if np.issubdtype(arrays[-1].dtype, np.integer) else None,
        "fingerprint": _fingerprint(arrays),
        "seed": int(seed),
        "shuffle": bool(shuffle),
    })
    return ds


def dataset_info(dataset) -> dict | None:
    """What :func:`make_dataset` recorded about ``dataset`` (None for other datasets)."""
    return getattr(dataset, INFO_ATTR, None)


class EpochOrder(keras.callbacks.Callback):
    """Points a :func:`make_dataset` pipeline at the epoch about to run, so a resumed run sees the same order
    as an uninterrupted one. The kit's ``fit_*`` functions add it; it does nothing for other datasets."""

    def __init__(self, dataset):
        super().__init__()
        self.epoch = getattr(dataset, EPOCH_ATTR, None)

    def on_epoch_begin(self, epoch, logs=None):
        if self.epoch is not None:
            self.epoch.assign(epoch)


def take_per_class(y, per_class: int, num_classes: int = 10, seed: int = 0) -> np.ndarray:
    """Indices of ``per_class`` examples of every class (seeded), ordered class by class."""
    y = as_array(y, "labels")
    per_class = check_positive_int(per_class, "per_class")
    rng = np.random.default_rng(seed)
    out = []
    for c in range(num_classes):
        idx = np.flatnonzero(y == c)
        if len(idx) < per_class:
            raise ValueError(f"class {c} has only {len(idx)} examples, asked for {per_class}")
        out.append(rng.choice(idx, per_class, replace=False))
    return np.concatenate(out)

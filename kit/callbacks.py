"""Keras callbacks shared by the course's training runs: epoch timing, the NaN guard, cosine decay, and
TensorBoard logging with sample images."""

from __future__ import annotations

import importlib.util
import math
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from kit.checks import check_positive_int


class EpochTimer(keras.callbacks.Callback):
    """Adds ``epoch_seconds`` (wall-clock time of each epoch) to the training logs and history."""

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["epoch_seconds"] = time.perf_counter() - self._start


class NonFiniteLossError(FloatingPointError):
    """A training loss became NaN or infinite."""


def is_loss(name: str) -> bool:
    """Whether a logged metric is a loss (what :class:`NaNGuard` watches): its name says "loss" (``loss``,
    ``d_loss``, ``val_loss``, ...). Other metrics may legitimately be infinite, e.g. the PSNR of a perfect
    reconstruction."""
    return "loss" in name


class NaNGuard(keras.callbacks.Callback):
    """Stops training with a clear error naming every logged loss that became NaN or infinite.

    Keras' ``TerminateOnNaN`` only stops quietly; a student then plots a history full of NaN. This raises
    instead, after the batch that produced it, so the last good checkpoint is still the one on disk. Only
    losses are watched (:func:`is_loss`): a metric such as PSNR is +inf for a perfect result.

    Args:
        restore: a callable run before raising (e.g. restoring the last good weights into the model), so the
            model in memory is not left with the diverged weights.
    """

    def __init__(self, restore=None):
        super().__init__()
        self.restore = restore

    def on_train_batch_end(self, batch, logs=None):
        bad = {k: v for k, v in (logs or {}).items() if is_loss(k) and isinstance(v, (int, float)) and not math.isfinite(v)}
        if bad:
            self.model.stop_training = True
            names = ", ".join(f"{k}={v}" for k, v in bad.items())
            restored = ""
            if self.restore is not None:
                restored = " " + self.restore()
            raise NonFiniteLossError(
                f"Training stopped at batch {batch}: {names} is not finite. Lower the learning rate, check the "
                f"input scaling, or resume from the last checkpoint.{restored}"
            )


class CosineDecay(keras.callbacks.Callback):
    """Cosine learning-rate decay from the optimizer's initial rate to ``final_fraction`` of it over
    ``total_steps`` batches, set before every batch.

    A callback rather than a ``keras.optimizers.schedules.CosineDecay`` because the classifiers are compiled
    when they are built, before the number of training steps is known, and one compiled model can be trained
    again for another number of epochs (``fit_classifier`` knows the step count, ``compile`` does not). Short runs gain most: the last epoch
    fine-tunes at a small rate instead of bouncing around at the initial one.
    """

    def __init__(self, total_steps: int, final_fraction: float = 0.05):
        super().__init__()
        if total_steps < 1:
            raise ValueError(f"total_steps must be >= 1, got {total_steps}")
        self.total_steps = int(total_steps)
        self.final_fraction = float(final_fraction)
        self._step = 0
        self._initial = None

    def on_train_begin(self, logs=None):
        self._initial = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        self._step = 0

    def on_train_batch_begin(self, batch, logs=None):
        t = min(self._step / self.total_steps, 1.0)
        factor = self.final_fraction + (1 - self.final_fraction) * 0.5 * (1 + math.cos(math.pi * t))
        self.model.optimizer.learning_rate.assign(self._initial * factor)
        self._step += 1

    def on_train_end(self, logs=None):
        # Leave the optimizer as it was found, so a second fit() starts from the same rate.
        self.model.optimizer.learning_rate.assign(self._initial)


def image_tile(images, value_range=(-1.0, 1.0), ncols: int = 8) -> np.ndarray:
    """A batch of images float (N, H, W, C) in ``value_range`` as one grid image float32 (rows*H, ncols*W, C) in
    [0, 1] (C of 1 or 3), for an image summary."""
    x = np.asarray(images, np.float32)
    if x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise ValueError(f"images must be (N, H, W, 1|3), got shape {x.shape}")
    lo, hi = value_range
    x = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    n, h, w, c = x.shape
    ncols = max(1, min(ncols, n))
    rows = -(-n // ncols)
    canvas = np.zeros((rows * h, ncols * w, c), np.float32)
    for i, im in enumerate(x):
        r, k = divmod(i, ncols)
        canvas[r * h : (r + 1) * h, k * w : (k + 1) * w] = im
    return canvas


class TensorBoardImages(keras.callbacks.Callback):
    """Writes an image of ``make_images(model)`` (float (N, H, W, 1|3) in ``value_range``, e.g. the generator's
    samples from a fixed z) to TensorBoard under ``<log_dir>/images`` after every ``every`` epochs, beside the
    losses that ``keras.callbacks.TensorBoard`` writes: the sample grid of each epoch, in TensorBoard's image tab."""

    def __init__(self, log_dir, make_images, *, name: str = "samples", value_range=(-1.0, 1.0), every: int = 1):
        super().__init__()
        if not callable(make_images):
            raise TypeError(f"make_images must be a function of the model, got {type(make_images).__name__}")
        self.log_dir = Path(log_dir) / "images"
        self.make_images, self.name, self.value_range = make_images, str(name), value_range
        self.every = check_positive_int(every, "every")
        self._writer = None

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(str(self.log_dir))
        grid = image_tile(np.asarray(self.make_images(self.model)), self.value_range)
        with self._writer.as_default():
            tf.summary.image(self.name, grid[None], step=epoch + 1)
        self._writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def tensorboard_available() -> bool:
    """Whether the ``tensorboard`` package (which ``tf.summary`` needs) is installed: an optional extra."""
    return importlib.util.find_spec("tensorboard") is not None


def tensorboard(log_dir, make_images=None, *, value_range=(-1.0, 1.0)) -> list:
    """The callbacks that log a run to TensorBoard under ``log_dir``: Keras' own ``TensorBoard`` (every logged
    loss and metric per epoch) and, given ``make_images``, :class:`TensorBoardImages`. Empty when ``log_dir`` is
    None, so training functions can take ``log_dir=None`` to mean "off"."""
    if log_dir is None:
        return []
    if not tensorboard_available():
        print(f"TensorBoard logging to {log_dir} skipped: the tensorboard package is not installed (pip install tensorboard; "
              "Colab has it).")
        return []
    log_dir = Path(log_dir)
    out = [keras.callbacks.TensorBoard(str(log_dir), write_graph=False, profile_batch=0)]
    if make_images is not None:
        out.append(TensorBoardImages(log_dir, make_images, value_range=value_range))
    return out

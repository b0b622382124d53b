"""Keras callbacks shared by the course's training runs."""

from __future__ import annotations

import math
import time

import keras


class EpochTimer(keras.callbacks.Callback):
    """Adds ``epoch_seconds`` (wall-clock time of each epoch) to the training logs and history."""

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["epoch_seconds"] = time.perf_counter() - self._start


class NonFiniteLossError(FloatingPointError):
    """A training loss became NaN or infinite."""


class NaNGuard(keras.callbacks.Callback):
    """Stops training with a clear error naming every logged loss that became NaN or infinite.

    Keras' ``TerminateOnNaN`` only stops quietly; a student then plots a history full of NaN. This raises
    instead, after the batch that produced it, so the last good checkpoint is still the one on disk.
    """

    def on_train_batch_end(self, batch, logs=None):
        bad = {k: v for k, v in (logs or {}).items() if isinstance(v, (int, float)) and not math.isfinite(v)}
        if bad:
            self.model.stop_training = True
            names = ", ".join(f"{k}={v}" for k, v in bad.items())
            raise NonFiniteLossError(
                f"Training stopped at batch {batch}: {names} is not finite. Lower the learning rate, check the "
                "input scaling, or resume from the last checkpoint."
            )


class CosineDecay(keras.callbacks.Callback):
    """Cosine learning-rate decay from the optimizer's initial rate to ``final_fraction`` of it over
    ``total_steps`` batches, set before every batch.

    A callback rather than a schedule object so one compiled model can be trained for any number of epochs
    (``fit_classifier`` knows the step count, ``compile`` does not). Short runs gain most: the last epoch
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

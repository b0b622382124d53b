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

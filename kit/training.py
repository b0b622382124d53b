"""Training helpers: ``model.fit`` on ``tf.data`` with the course's standard callbacks."""

from __future__ import annotations

import keras

import math

from kit.callbacks import CosineDecay, EpochTimer, NaNGuard
from kit.checks import check_images, check_labels, check_positive_int
from kit.data import make_dataset


def fit_classifier(
    model: keras.Model,
    x,
    y,
    *,
    epochs: int,
    batch_size: int,
    validation_data=None,
    seed: int = 0,
    verbose: int | str = "auto",
    lr_decay: bool = True,
    callbacks=(),
) -> keras.callbacks.History:
    """Train a compiled classifier with ``model.fit`` on a shuffled ``tf.data`` pipeline.

    Args:
        model: compiled Keras classifier taking images float32 (N, 28, 28, 1) in [0, 1].
        x: training images, float32 NHWC in [0, 1].
        y: int labels (N,) in [0, 9].
        epochs, batch_size: from the run profile.
        validation_data: optional ``(x_val, y_val)``; gives the validation curves.
        lr_decay: cosine-decay the learning rate over the whole run (see :class:`kit.callbacks.CosineDecay`).

    Returns:
        The ``History``; ``history.history`` also holds ``epoch_seconds``.
    """
    x = check_images(x, "x")
    y = check_labels(y, len(x))
    epochs = check_positive_int(epochs, "epochs")
    train = make_dataset(x, y, batch_size=batch_size, seed=seed)
    val = None
    if validation_data is not None:
        xv, yv = validation_data
        xv = check_images(xv, "validation images")
        val = make_dataset(xv, check_labels(yv, len(xv), name="validation labels"), batch_size=512, shuffle=False)
    schedule = [CosineDecay(epochs * math.ceil(len(x) / batch_size))] if lr_decay else []
    return model.fit(
        train,
        epochs=epochs,
        validation_data=val,
        shuffle=False,  # the tf.data pipeline already reshuffles every epoch
        verbose=verbose,
        callbacks=[EpochTimer(), NaNGuard(), *schedule, *callbacks],
    )

"""Training helpers: ``model.fit`` on ``tf.data`` with the course's standard callbacks, and the two steps
every hand-written ``train_step`` of the kit shares (:func:`scale_loss`, :func:`apply_gradients`)."""

from __future__ import annotations

import math
import warnings

import keras

from kit.callbacks import CosineDecay, EpochTimer, NaNGuard, tensorboard
from kit.checks import check_images, check_labels, check_positive_int
from kit.data import EpochOrder, make_dataset
from kit.distribute import scale_for_replicas


def scale_loss(optimizer, loss):
    """The loss to differentiate in a hand-written ``train_step``, computed *inside* the tape: a mean over this
    replica's examples divided by the number of replicas (the optimizer sums their gradients), times the loss
    scale under ``mixed_float16`` (Keras wraps only ``self.optimizer`` itself, and only its own ``train_step``
    scales the loss; :func:`apply_gradients` divides the scale back out)."""
    loss = scale_for_replicas(keras.ops.cast(loss, "float32"))
    return optimizer.scale_loss(loss) if isinstance(optimizer, keras.optimizers.LossScaleOptimizer) else loss


def apply_gradients(optimizer, tape, scaled_loss, network: keras.Model) -> None:
    """One update of ``network``'s trainable weights from the gradient of ``scaled_loss`` (:func:`scale_loss`);
    a ``LossScaleOptimizer`` unscales it and skips steps whose gradients overflowed."""
    variables = network.trainable_variables
    optimizer.apply(tape.gradient(scaled_loss, variables), variables)


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
    log_dir=None,
) -> keras.callbacks.History:
    """Train a compiled classifier with ``model.fit`` on a shuffled ``tf.data`` pipeline.

    Args:
        model: compiled Keras classifier taking images float32 (N, 28, 28, 1) in [0, 1].
        x: training images, float32 NHWC in [0, 1].
        y: int labels (N,) in [0, 9].
        epochs, batch_size: from the run profile.
        validation_data: optional ``(x_val, y_val)``; gives the validation curves.
        lr_decay: cosine-decay the learning rate over the whole run (see :class:`kit.callbacks.CosineDecay`).
        log_dir: a folder for TensorBoard logs of every epoch's loss and accuracy (None: none).

    Returns:
        The ``History``; ``history.history`` also holds ``epoch_seconds``. With ``validation_data`` it also says
        whether the run helped: ``history.initial_val_loss`` (before the first epoch) and ``history.improved``
        (the last epoch's validation loss is lower); a run that ends no better than it started warns.
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
    initial = None if val is None else float(model.evaluate(val, verbose=0, return_dict=True)["loss"])
    history = model.fit(
        train,
        epochs=epochs,
        validation_data=val,
        shuffle=False,  # the tf.data pipeline already reshuffles every epoch
        verbose=verbose,
        callbacks=[EpochOrder(train), EpochTimer(), NaNGuard(), *schedule, *callbacks, *tensorboard(log_dir)],
    )
    if initial is not None:
        last = history.history["val_loss"][-1]
        history.initial_val_loss, history.improved = initial, bool(last < initial)
        if not history.improved:
            warnings.warn(f"{model.name}: this run ended no better than it started (validation loss {initial:.4f} before training, "
                          f"{last:.4f} after {epochs} epochs); lower the learning rate, check the labels, or train longer", stacklevel=2)
    return history

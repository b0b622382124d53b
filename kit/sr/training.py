"""Training image-to-image networks of notebook 07 with an L1/MSE objective: the restoration loss, the
learning-rate schedule, :func:`fit_restoration` (best epoch by validation PSNR, never worse than the untrained
model), and the two-stage refiner (:func:`train_refiner`, :func:`train_refiners`)."""

from __future__ import annotations

import warnings
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from kit.callbacks import EpochTimer, NaNGuard, tensorboard
from kit.checks import check_choice, check_images, check_number, check_positive_int
from kit.sr.data import EnhancedSet, augment_pairs
from kit.sr.refiner import chain, colour_stage, refine, refiner


@keras.saving.register_keras_serializable(package="kit")
class RestorationLoss(keras.losses.Loss):
    """``l1_weight * L1 + mse_weight * MSE + ssim_weight * (1 - SSIM)`` between images in [0, 1].
    L1 keeps edges sharp, MSE is what PSNR measures, the SSIM term (optional) rewards local structure."""

    def __init__(self, l1_weight: float = 1.0, mse_weight: float = 1.0, ssim_weight: float = 0.0, name="restoration_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.l1_weight, self.mse_weight, self.ssim_weight = (check_number(w, n, low=0.0) for w, n in (
            (l1_weight, "l1_weight"), (mse_weight, "mse_weight"), (ssim_weight, "ssim_weight")))

    def call(self, y_true, y_pred):
        d = y_pred - y_true
        loss = self.l1_weight * keras.ops.mean(keras.ops.abs(d), axis=(1, 2, 3)) + self.mse_weight * keras.ops.mean(d * d, axis=(1, 2, 3))
        if self.ssim_weight:
            loss = loss + self.ssim_weight * (1.0 - tf.image.ssim(y_true, y_pred, max_val=1.0))
        return loss

    def get_config(self):
        return {**super().get_config(), "l1_weight": self.l1_weight, "mse_weight": self.mse_weight, "ssim_weight": self.ssim_weight}


def psnr_metric(y_true, y_pred):
    """Mean PSNR in dB of a batch, for Keras' training logs (``tf.image.psnr``); evaluation uses
    :func:`kit.metrics.image_quality.psnr`."""
    return tf.image.psnr(y_true, keras.ops.clip(y_pred, 0.0, 1.0), max_val=1.0)


psnr_metric.__name__ = "psnr"


SCHEDULES = ("constant", "cosine")


def cosine_schedule(learning_rate: float, steps: int, *, warmup: float = 0.05, floor: float = 0.01):
    """Linear warm-up from ``learning_rate / 10`` over the first ``warmup`` fraction of ``steps``, then cosine
    decay to ``floor * learning_rate``. The warm-up keeps Adam's first, poorly estimated steps small; the decay
    lets the last epochs settle instead of jumping out of a good minimum (a constant 1e-3 once lost 6 dB of
    validation PSNR in the refiner's last epoch)."""
    steps = check_positive_int(steps, "steps")
    warm = int(warmup * steps)
    return keras.optimizers.schedules.CosineDecay(
        learning_rate / 10 if warm else learning_rate, steps - warm, alpha=floor, warmup_target=learning_rate if warm else None, warmup_steps=warm
    )


def fit_restoration(
    model: keras.Model,
    x,
    y,
    *,
    validation_data,
    epochs: int,
    batch_size: int,
    patch: int | None,
    learning_rate: float,
    loss: RestorationLoss,
    checkpoint: Path,
    jit_compile: bool,
    schedule: str = "constant",
    seed: int = 0,
    verbose: int | str = "auto",
    callbacks=(),
    log_dir=None,
    optimizer=None,
) -> keras.callbacks.History:
    """Train an image-to-image model (Adam, ``loss``) and keep the weights with the best validation PSNR.

    Args:
        x, y: inputs and targets, float32 NHWC in [0, 1]; ``y`` may be ``scale`` times larger than ``x``.
        validation_data: ``(x_val, y_val)``, evaluated whole after every epoch.
        patch: train on random aligned crops of ``patch`` input pixels (None: whole images).
        schedule: ``"constant"`` (``learning_rate`` throughout) or ``"cosine"`` (see :func:`cosine_schedule`).
        log_dir: a folder for TensorBoard logs (losses, PSNR, and input | output | target of 4 validation images
            per epoch); None: none.
        optimizer: instead of Adam(``learning_rate``, with the ``schedule``).
        checkpoint: ``.weights.h5`` path of the best weights (the untrained model counts as a candidate);
            they are loaded back into ``model`` at the end, also when a loss turns non-finite (the error then
            says so). When no epoch beats the untrained model a warning says that the untrained weights came
            back.

    Returns:
        The ``History`` (``loss``, ``psnr``, ``val_loss``, ``val_psnr``, ``epoch_seconds``), and what came back:
        ``history.initial_val_psnr`` (the untrained model's), ``history.best_epoch`` (the epoch whose weights the
        model holds; 0: the untrained ones) and ``history.improved`` (``best_epoch > 0``).
    """
    x = check_images(x, "inputs", channels=(3,))
    y = check_images(y, "targets", channels=(3,))
    xv, yv = (check_images(a, n, channels=(3,)) for a, n in zip(validation_data, ("validation inputs", "validation targets")))
    epochs = check_positive_int(epochs, "epochs")
    scale = y.shape[1] // x.shape[1]
    if len(x) != len(y) or y.shape[1] != scale * x.shape[1] or y.shape[2] != scale * x.shape[2]:
        raise ValueError(f"targets must be an integer multiple of the inputs' size, one per input: got {x.shape} and {y.shape}")
    if patch is not None and patch > min(x.shape[1:3]):
        patch = None  # crops larger than the images: train on the whole images
    checkpoint = Path(checkpoint)
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    learning_rate = check_number(learning_rate, "learning_rate", low=0.0, open_low=True)
    check_choice(schedule, SCHEDULES, "learning-rate schedule")
    batch_size = check_positive_int(batch_size, "batch_size")
    if schedule == "cosine":
        learning_rate = cosine_schedule(learning_rate, epochs * -(-len(x) // batch_size))
    if optimizer is None:
        optimizer = keras.optimizers.Adam(learning_rate)
    model.compile(optimizer=optimizer, loss=loss, metrics=[psnr_metric], jit_compile=jit_compile)
    val = augment_pairs(xv, yv, None, scale, seed, batch_size, shuffle=False)
    # The untrained model is a candidate too (a zero-initialised refiner is the identity): an epoch is kept
    # only if it beats it, so training can never hand back something worse than "no change".
    initial = model.evaluate(val, verbose=0, return_dict=True)["psnr"]
    # Build the optimizer first, so this checkpoint holds its (fresh) slots like every later one and restoring
    # it does not skip the optimizer with a warning.
    model.optimizer.build(model.trainable_variables)
    model.save_weights(checkpoint)
    best = keras.callbacks.ModelCheckpoint(
        checkpoint, monitor="val_psnr", mode="max", save_best_only=True, save_weights_only=True, initial_value_threshold=initial
    )

    def restore_best() -> str:
        model.load_weights(checkpoint)
        return f"The model in memory holds its best weights so far again ({checkpoint})."

    history = model.fit(
        augment_pairs(x, y, patch, scale, seed, batch_size),
        validation_data=val,
        epochs=epochs,
        verbose=verbose,
        shuffle=False,  # the tf.data pipeline shuffles itself
        callbacks=[EpochTimer(), *callbacks, NaNGuard(restore=restore_best), best,
                   *tensorboard(log_dir, lambda m: _examples(m, xv[:4], yv[:4], scale), value_range=(0.0, 1.0))],
    )
    model.load_weights(checkpoint)
    # ModelCheckpoint kept the first epoch with the highest score, if it beat the untrained model: that one is back.
    scores = history.history.get("val_psnr", [])
    history.initial_val_psnr = float(initial)
    history.best_epoch = int(np.argmax(scores)) + 1 if scores and max(scores) > initial else 0
    history.improved = history.best_epoch > 0
    if not history.improved:
        warnings.warn(f"{model.name}: no epoch beat the untrained model's validation PSNR ({initial:.2f} dB), so the untrained "
                      "weights were returned; lower the learning rate or train longer", stacklevel=2)
    return history


def _examples(model, x, y, scale: int) -> np.ndarray:
    """input | output | target rows of a few validation images for TensorBoard (no input row when the model
    enlarges its input, as the enhancer does)."""
    out = refine(model, x) if scale == 1 else np.clip(np.asarray(model.predict(x, verbose=0)), 0.0, 1.0)
    return np.concatenate(([x] if scale == 1 else []) + [out, y])


def train_refiner(
    profile, train: EnhancedSet, val: EnhancedSet, *, level: str | None = None, checkpoint_dir: Path, verbose: int | str = "auto"
):
    """Build and train the refiner on (E(degraded), E(raw)) pairs of one ``level`` (None: every level),
    validated on the same level(s); each stage keeps its best epoch by validation PSNR.

    Two stages, trained one after the other (the profile's ``colour_epochs`` = 0 leaves out the first):

    1. :func:`kit.models.refiner.colour_stage` on **whole** images, MSE loss: one offset per channel, for the
       global colour error (white balance) that a patch cannot reveal;
    2. :func:`kit.models.refiner.refiner`, the residual U-Net, on random **patches** of stage 1's output, the
       profile's L1 + MSE (+ SSIM) loss: the local damage (blur, noise, JPEG).

    Returns ``(model, histories)``: the stages chained into one model (:func:`kit.models.refiner.chain`; the
    colour stage is ``model.get_layer("colour_stage")``) and ``{"colour": History, "unet": History}`` (no
    ``"colour"`` without a colour stage).
    """
    e = profile.esrgan
    levels = None if level is None else [check_choice(level, list(train.degraded), "level")]
    tag = level or "all"
    x, y = train.pairs(levels)
    xv, yv = val.pairs(levels)
    common = dict(batch_size=e.batch_size, learning_rate=e.learning_rate, jit_compile=profile.jit_compile, schedule=e.schedule, seed=1, verbose=verbose)
    stages, histories = [], {}
    if e.colour_epochs > 0:
        colour = colour_stage(base_filters=e.colour_filters)
        histories["colour"] = fit_restoration(
            colour, x, y, validation_data=(xv, yv), epochs=e.colour_epochs, patch=None, loss=RestorationLoss(0.0, 1.0),
            checkpoint=Path(checkpoint_dir) / f"colour_{tag}.weights.h5", **common,
        )
        x, xv = (refine(colour, a) for a in (x, xv))
        stages.append(colour)
    unet = refiner(base_filters=e.refiner_filters, depth=e.refiner_depth, residual_scale=e.residual_scale, name="unet")
    histories["unet"] = fit_restoration(
        unet, x, y, validation_data=(xv, yv), epochs=e.refiner_epochs, patch=e.patch,
        loss=RestorationLoss(e.l1_weight, e.mse_weight, e.ssim_weight), checkpoint=Path(checkpoint_dir) / f"unet_{tag}.weights.h5", **common,
    )
    stages.append(unet)
    return chain(*stages, name=f"refiner_{tag}"), histories


def train_refiners(profile, train: EnhancedSet, val: EnhancedSet, *, checkpoint_dir: Path, verbose: int | str = "auto"):
    """One refiner per degradation level, each trained and validated on its own level's pairs (the profile's
    ``refiner_per_level``), or one for all levels. Returns ``({level: model}, {level: {stage: History}})`` (the
    key ``"all"`` for a shared refiner; stages as :func:`train_refiner` returns them).

    Why per level: a shared refiner learns the large corrections that moderate and severe damage need and
    applies a little of them to mildly damaged images too, where they do harm (measured with an earlier,
    U-Net-only refiner: +2.4 dB at moderate, +0.0 dB at mild with one shared refiner)."""
    if not profile.esrgan.refiner_per_level:
        model, history = train_refiner(profile, train, val, checkpoint_dir=checkpoint_dir, verbose=verbose)
        return {"all": model}, {"all": history}
    models, histories = {}, {}
    for level in train.degraded:
        if verbose:
            print(f"-- refiner for the {level} level")
        models[level], histories[level] = train_refiner(profile, train, val, level=level, checkpoint_dir=checkpoint_dir, verbose=verbose)
    return models, histories

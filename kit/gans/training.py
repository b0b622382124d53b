"""Training GANs with ``model.fit``: fixed-seed sample grids, a progress GIF, and checkpoints that keep the last
good state and resume exactly after a Colab disconnect or a killed kernel.

:func:`fit_gan` is the one call a notebook makes. It checks the data before the first step, and given a
``checkpoint_dir`` it saves every variable of the model and both optimizers (seed generators included), the
epoch and the history after every epoch (:mod:`kit.checkpoints`), and restores the last one at the start, so
re-running the same cell after a disconnect picks up where training stopped and ends exactly where an
uninterrupted run would have. Checkpoints are kept per training recipe: change the loss, a learning rate or
the data and training starts afresh in a new folder, saying what changed. With :func:`kit.colab.persist` the
folder is on Google Drive and survives the runtime itself.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from kit import viz
from kit.callbacks import EpochTimer, NaNGuard, NonFiniteLossError, tensorboard
from kit.checkpoints import Checkpoints, UnhealthyStateError, collect_variables, finite_state, restore_variables
from kit.checks import check_finite, check_positive_int
from kit.data.pipeline import EpochOrder, dataset_info
from kit.gans.base import AdversarialModel, fixed_latent, image_problems
from kit.metrics import frechet_distance, kernel_inception_distance
from kit.paths import check_writable_folder


class EpochFigure(keras.callbacks.Callback):
    """Base of the progress callbacks: every ``every`` epochs, draw :meth:`figure`, save it as
    ``<directory>/epoch_NNN.png`` and show it inline (``show=True``). ``frames`` lists the PNG paths in order,
    for :func:`kit.viz.make_gif`."""

    def __init__(self, directory, *, show: bool = True, every: int = 1):
        super().__init__()
        self.directory = Path(directory)
        self.show, self.every = show, check_positive_int(every, "every")
        self.frames: list[Path] = []

    def figure(self, epoch: int):
        """The figure for ``epoch`` (1-based), drawn with ``show=False``."""
        raise NotImplementedError

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        fig = self.figure(epoch + 1)
        path = self.directory / f"epoch_{epoch + 1:03d}.png"
        fig.savefig(path)
        self.frames.append(path)
        if self.show:
            viz.show(fig)
        viz.close(fig)


class SampleGrid(EpochFigure):
    """After every epoch, generate a grid from one fixed latent batch (and fixed labels for conditional
    models), save it as ``<directory>/epoch_NNN.png`` and show it inline (``show=True``).

    The same z every epoch makes the grids comparable: the change between two frames is what training did.
    ``frames`` lists the PNG paths in order, for :func:`kit.viz.make_gif`.
    """

    def __init__(self, directory, *, n: int = 40, labels=None, seed: int = 1234, ncols: int = 10, show: bool = True, every: int = 1):
        super().__init__(directory, show=show, every=every)
        self.n = check_positive_int(n if labels is None else len(labels), "n")
        self.labels = None if labels is None else np.asarray(labels, dtype=np.int32)
        self.seed, self.ncols = seed, ncols

    def grid(self):
        """The fixed-seed samples, float32 (n, H, W, C) in [-1, 1]."""
        z = fixed_latent(self.model, self.n, self.seed)
        return self.model.generate(z) if self.labels is None else self.model.generate(z, self.labels)

    def figure(self, epoch):
        # Say which weights drew the grid: with ema_decay the samples come from G's weight average, not from G.
        source = ", G's weight average (EMA)" if getattr(self.model, "generator_ema", None) is not None else ""
        return viz.image_grid(self.grid(), ncols=self.ncols, value_range=(-1, 1), cell=0.8, title=f"epoch {epoch}{source}",
                              name=f"{self.directory.name}_epoch_{epoch:03d}", show=False)


def _first_batch(dataset):
    try:
        return next(iter(dataset.take(1)))
    except StopIteration:
        info = dataset_info(dataset)
        more = f" ({info['examples']} examples in batches of {info['batch_size']})" if info else ""
        raise ValueError(f"the dataset yields no batches{more}: use more data or a smaller batch_size") from None


def check_is_dataset(dataset) -> None:
    """``dataset`` must be a ``tf.data.Dataset`` (of batches): else TypeError saying what arrived and how to make
    one. Arrays are refused rather than batched here: the batch size, shuffling and exact resume belong to
    :func:`kit.data.make_dataset`."""
    if not isinstance(dataset, tf.data.Dataset):
        shape = f" of shape {tuple(np.shape(dataset))}" if hasattr(dataset, "shape") else ""
        raise TypeError(f"dataset must be a tf.data.Dataset of batches, e.g. kit.data.make_dataset(x, batch_size=64, drop_remainder=True) "
                        f"(make_dataset(x, y, ...) for (images, labels)), got a {type(dataset).__module__}.{type(dataset).__name__}{shape}")


def check_dataset(gan: AdversarialModel, dataset):
    """Check the training data before the first step: a ``tf.data.Dataset`` (TypeError otherwise), at least one
    batch, and a first batch that ``gan`` accepts (dtype, shape, value range, labels). Returns that batch.
    Raises ValueError saying what is wrong."""
    check_is_dataset(dataset)
    info = dataset_info(dataset)
    if info is not None:
        if info["batches"] < 1:
            raise ValueError(f"the dataset yields no batches ({info['examples']} examples in batches of {info['batch_size']}, "
                             "drop_remainder=True): use more data or a smaller batch_size")
        lr = info.get("label_range")
        if isinstance(gan, AdversarialModel) and hasattr(gan, "num_classes") and lr is not None and (lr[0] < 0 or lr[1] >= gan.num_classes):
            raise ValueError(f"labels must lie in [0, {gan.num_classes - 1}], the dataset holds [{lr[0]}, {lr[1]}]")
    batch = _first_batch(dataset)
    problems = gan.check_real_batch(batch)
    if problems:
        raise ValueError("the training data does not fit the model: " + "; ".join(problems))
    return batch


class GANCheckpoint(keras.callbacks.Callback):
    """After every epoch: check the model's health on a fixed real batch (:meth:`AdversarialModel.health_problems`,
    its weights' magnitude judged against the last good state's) and, if it is healthy, save a checkpoint
    (:class:`kit.checkpoints.Checkpoints`); if not, restore the last good checkpoint into the model and raise
    :class:`kit.checkpoints.UnhealthyStateError`, leaving the good one on disk."""

    def __init__(self, checkpoints: Checkpoints, probe_batch, history: dict | None = None, data_state: dict | None = None):
        super().__init__()
        self.checkpoints, self.probe_batch = checkpoints, probe_batch
        self.history = {k: list(v) for k, v in (history or {}).items()}
        self.data_state = data_state or {}
        self.reference = None  # weight_scales() of the last good state: the resumed or initial one, then each one saved

    def on_train_begin(self, logs=None):
        self.reference = self.model.weight_scales()

    def restore_last_good(self) -> str:
        epochs = self.checkpoints.epochs()
        if not epochs:
            return "There is no earlier checkpoint; the model in memory keeps its diverged weights."
        state, arrays = self.checkpoints.load()
        restore_variables(self.model, self.model.optimizers(), arrays, self.checkpoints.folder(state["epoch"]))
        return f"The model in memory was restored to the last good checkpoint (epoch {state['epoch']}), which stays on disk."

    def on_epoch_end(self, epoch, logs=None):
        arrays = collect_variables(self.model, self.model.optimizers())
        problems = [f"non-finite values in {', '.join(finite_state(arrays)[:4])}"] if finite_state(arrays) else []
        problems = problems or self.model.health_problems(self.probe_batch, self.reference)
        if problems:
            self.model.stop_training = True
            raise UnhealthyStateError(f"training diverged in epoch {epoch + 1}: {'; '.join(problems)}. Not saved. "
                                      f"{self.restore_last_good()} Lower the learning rate or check the data.")
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(float(v))
        self.checkpoints.save(epoch + 1, arrays, {"history": self.history, "data": self.data_state})
        self.reference = self.model.weight_scales()


def checkpoints_for(gan: AdversarialModel, dataset, checkpoint_dir, *, profile_name: str | None = None) -> Checkpoints:
    """The :class:`kit.checkpoints.Checkpoints` of ``gan`` trained on ``dataset`` under ``checkpoint_dir``:
    the recipe is the model's :meth:`~AdversarialModel.recipe`, the data's fingerprint and batch size, and the
    profile."""
    recipe = dict(gan.recipe())
    info = dataset_info(dataset)
    if info is not None:
        recipe.update({"data": info["fingerprint"], "data.examples": info["examples"], "data.batch_size": info["batch_size"],
                       "data.seed": info["seed"], "data.shuffle": info["shuffle"]})
    else:
        recipe["data"] = str(dataset.element_spec)
    if profile_name is not None:
        recipe["profile"] = profile_name
    return Checkpoints(checkpoint_dir, recipe)


def restore(gan: AdversarialModel, checkpoints: Checkpoints) -> tuple[int, dict]:
    """Load the newest checkpoint into a compiled ``gan``; returns ``(completed epochs, history)``, (0, {})
    when there is none."""
    if not checkpoints.epochs():
        return 0, {}
    state, arrays = checkpoints.load()
    restore_variables(gan, gan.optimizers(), arrays, checkpoints.folder(state["epoch"]))
    return int(state["epoch"]), state.get("history", {})


def fit_gan(gan, dataset, *, epochs: int, checkpoint_dir=None, callbacks=(), verbose="auto", profile_name: str | None = None,
            log_dir=None) -> dict:
    """Train a compiled GAN for ``epochs`` epochs in total with ``model.fit``, resuming from
    ``checkpoint_dir`` when it holds a checkpoint of the same recipe.

    Args:
        gan: a compiled :class:`~kit.gans.base.AdversarialModel` (``GAN``, ``ACGAN``, ``Pix2Pix``, ``COCOGAN``
            or your own subclass).
        dataset: a ``tf.data.Dataset`` of real images float32 NHWC in [-1, 1] (or ``(images, labels)`` for
            ACGAN), batched with ``drop_remainder=True``; made with :func:`kit.data.make_dataset` for an exact
            resume. Arrays are refused (TypeError): batch them with ``make_dataset(x, batch_size=...)``.
        epochs: total epochs (from the run profile); a resumed run trains only the missing ones.
        checkpoint_dir: folder for this model's checkpoints (e.g. ``kit.paths.checkpoint_root() / "02_dcgan"``);
            None: no checkpoints. It must be creatable and writable (checked before training).
        profile_name: recorded in the recipe (a checkpoint of another profile is not resumed).
        log_dir: a folder for TensorBoard (e.g. ``kit.paths.log_root() / "02_dcgan"``): every loss per epoch and
            the generator's images from a fixed input; None: no logs. Checked like ``checkpoint_dir``.

    Returns:
        The history of the whole run, ``{metric: [one value per epoch]}``, resumed epochs included.

    Raises:
        TypeError: ``dataset`` is not a ``tf.data.Dataset``.
        ValueError: data the model cannot train on (checked on the first batch before training).
        kit.paths.UnwritableFolderError: ``checkpoint_dir`` or ``log_dir`` cannot be created or written
            (checked before training).
        kit.callbacks.NonFiniteLossError / kit.checkpoints.UnhealthyStateError: training diverged; the last
            good checkpoint stays on disk and is restored into the model.
    """
    epochs = check_positive_int(epochs, "epochs")
    if not isinstance(gan, AdversarialModel):
        raise TypeError(f"fit_gan trains a kit.gans.AdversarialModel (GAN, ACGAN, Pix2Pix, COCOGAN or a subclass), got {type(gan).__name__}")
    gan.optimizers()  # compiled?
    check_is_dataset(dataset)
    # The folders are checked before the first epoch: a checkpoint folder that cannot be written would otherwise
    # fail only once the first epoch has trained, and a log folder as TensorBoard starts.
    if checkpoint_dir is not None:
        checkpoint_dir = check_writable_folder(checkpoint_dir, "checkpoint_dir")
    if log_dir is not None:
        log_dir = check_writable_folder(log_dir, "log_dir")
    probe = check_dataset(gan, dataset)
    done, history, extra = 0, {}, []
    if checkpoint_dir is not None:
        ckpts = checkpoints_for(gan, dataset, checkpoint_dir, profile_name=profile_name)
        note = ckpts.explain_fresh_start()
        if note:
            print(note)
        done, history = restore(gan, ckpts)
        if done:
            print(f"Resuming from {ckpts.folder(done)}: {done} of {epochs} epochs already done")
        extra = [GANCheckpoint(ckpts, probe, history, {"epoch_order": "seed and epoch index (kit.data.make_dataset)"})]
    if done >= epochs:
        return history
    guard = NaNGuard(restore=extra[0].restore_last_good if extra else None)
    logs = tensorboard(log_dir, lambda model: model.probe_outputs(probe)["the generator"])
    h = gan.fit(dataset, epochs=epochs, initial_epoch=done, verbose=verbose, shuffle=False,
                callbacks=[EpochOrder(dataset), EpochTimer(), guard, *callbacks, *logs, *extra])
    if extra:
        return extra[0].history
    return {k: [float(v) for v in vs] for k, vs in h.history.items()}


class FIDTracker(keras.callbacks.Callback):
    """Classifier FID and KID of the generator against real images after every ``every`` epochs, added to
    the logs (``fid``, ``kid``) and so to the history: the curve that says whether training helps.

    Args:
        extractor: a feature extractor taking images in [-1, 1] (e.g. ``kit.judge.classifier_features()``).
        real_images: float32 NHWC in [-1, 1]; ``n`` of them are compared with ``n`` generated images.
        labels: for conditional models, the labels to generate (e.g. the real images' labels).
    """

    def __init__(self, extractor, real_images, *, n: int, labels=None, every: int = 1, seed: int = 99):
        super().__init__()
        self.extractor, self.n, self.every, self.seed = extractor, check_positive_int(n, "n"), check_positive_int(every, "every"), seed
        self.real_features = extractor(real_images[: self.n])
        self.labels = None if labels is None else np.asarray(labels[: self.n], np.int32)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every or logs is None:
            return
        fake = generate_many(self.model, len(self.real_features), labels=self.labels, seed=self.seed)
        ff = self.extractor(fake)
        logs["fid"] = frechet_distance(self.real_features, ff)
        logs["kid"] = kernel_inception_distance(self.real_features, ff, subsets=5, subset_size=min(1000, len(ff)))[0]


class DiscriminatorAccuracy(keras.callbacks.Callback):
    """The discriminator's accuracy on held-out real images and on fresh fakes after every epoch of an
    unconditional GAN, added to the
    logs (``d_acc_real``, ``d_acc_fake``) and so to the history. Read together: both near 1 means D wins
    (G's gradients may be vanishing), both near 0.5 means D cannot tell (a balanced game, or a D that
    stopped learning), real high with fake low means G fools D.

    Args:
        real_images: float32 NHWC in [-1, 1] the discriminator never trained on (e.g. test images); ``n`` used.
        threshold: the score above which D calls an image real: 0 for logits (BCE, hinge), 0.5 for LSGAN
            (``model.gan_loss.decision_threshold``). A Wasserstein critic has none.
    """

    def __init__(self, real_images, *, n: int, threshold: float = 0.0, seed: int = 98):
        super().__init__()
        real = np.asarray(real_images)
        problems = image_problems(real[:n], real.shape[1:]) if real.ndim == 4 else [f"real_images must be NHWC, got shape {real.shape}"]
        if problems:
            raise ValueError("DiscriminatorAccuracy: " + "; ".join(problems))
        self.n, self.seed = check_positive_int(n, "n"), seed
        self.real = real[: self.n]
        self.threshold = float(check_finite(np.asarray(threshold, np.float64), "threshold"))

    def scores(self, images) -> np.ndarray:
        out = self.model.discriminator.predict(images, batch_size=500, verbose=0)
        out = out[0] if isinstance(out, (list, tuple)) else out  # ACGAN: (score, class logits)
        return np.asarray(out, np.float64).reshape(len(images), -1).mean(axis=1)  # a PatchGAN's map: its mean

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        fake = generate_many(self.model, len(self.real), seed=self.seed)
        logs["d_acc_real"] = float(np.mean(self.scores(self.real) > self.threshold))
        logs["d_acc_fake"] = float(np.mean(self.scores(fake) <= self.threshold))


def generate_many(gan, n: int, *, labels=None, seed: int = 0, batch_size: int = 500, **generate_kwargs) -> np.ndarray:
    """``n`` generated images float32 NHWC in [-1, 1], in batches, from seeded z (and ``labels`` (n,) for a
    conditional GAN). ``generate_kwargs`` go to ``gan.generate`` (e.g. ``average=False`` for a COCO-GAN)."""
    n = check_positive_int(n, "n")
    batch_size = check_positive_int(batch_size, "batch_size")
    z = np.random.default_rng(seed).standard_normal((n, gan.latent_dim)).astype(np.float32)
    if labels is not None and len(labels) != n:
        raise ValueError(f"labels must hold one class per image: {n} images, got {len(labels)} labels")
    out = []
    for i in range(0, n, batch_size):
        if labels is None:
            out.append(gan.generate(z[i : i + batch_size], **generate_kwargs))
        else:
            out.append(gan.generate(z[i : i + batch_size], np.asarray(labels)[i : i + batch_size], **generate_kwargs))
    return np.concatenate(out)


__all__ = ["DiscriminatorAccuracy", "EpochFigure", "FIDTracker", "GANCheckpoint", "NonFiniteLossError", "SampleGrid", "check_dataset", "check_is_dataset", "checkpoints_for",
           "fit_gan", "generate_many", "restore"]

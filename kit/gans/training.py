"""Training GANs with ``model.fit``: fixed-seed sample grids, a progress GIF, and checkpoints that survive a
Colab disconnect or a killed kernel.

:func:`fit_gan` is the one call a notebook makes. Given a ``checkpoint_dir`` it restores the last completed
epoch (generator, discriminator, both optimizers, the noise seed state and the loss history) and continues
from there, so re-running the same cell after a disconnect picks up where training stopped. On Colab the
directory can be on Google Drive (``/content/drive/MyDrive/...``) to survive the runtime itself.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import keras
import numpy as np

from kit import viz
from kit.callbacks import EpochTimer, NaNGuard
from kit.checks import check_positive_int

WEIGHTS = "gan.weights.h5"
STATE = "state.json"


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
            import matplotlib.pyplot as plt

            plt.show()
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
        z = np.random.default_rng(self.seed).standard_normal((self.n, self.model.latent_dim)).astype(np.float32)
        return self.model.generate(z) if self.labels is None else self.model.generate(z, self.labels)

    def figure(self, epoch):
        return viz.image_grid(self.grid(), ncols=self.ncols, value_range=(-1, 1), cell=0.8, title=f"epoch {epoch}",
                              name=f"{self.directory.name}_epoch_{epoch:03d}", show=False)


class GANCheckpoint(keras.callbacks.Callback):
    """Saves the whole GAN (both networks, both optimizers, seed state, metrics) and the epoch count after
    every epoch, atomically: a kill mid-save leaves the previous checkpoint intact."""

    def __init__(self, directory, history: dict | None = None):
        super().__init__()
        self.directory = Path(directory)
        self.history = {k: list(v) for k, v in (history or {}).items()}

    def on_epoch_end(self, epoch, logs=None):
        self.directory.mkdir(parents=True, exist_ok=True)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(float(v))
        tmp = self.directory / ("tmp-" + WEIGHTS)
        self.model.save_weights(tmp)
        os.replace(tmp, self.directory / WEIGHTS)
        state_tmp = self.directory / (STATE + ".tmp")
        state_tmp.write_text(json.dumps({"epoch": epoch + 1, "history": self.history}))
        os.replace(state_tmp, self.directory / STATE)


def checkpoint_state(directory) -> dict | None:
    """``{"epoch": completed epochs, "history": {...}}`` of the checkpoint in ``directory``, or None."""
    path = Path(directory) / STATE
    if not path.exists() or not (Path(directory) / WEIGHTS).exists():
        return None
    return json.loads(path.read_text())


def restore(gan, directory) -> int:
    """Load the checkpoint in ``directory`` into a compiled ``gan``; returns the completed epochs (0: none)."""
    state = checkpoint_state(directory)
    if state is None:
        return 0
    if not hasattr(gan, "g_optimizer"):
        raise RuntimeError("compile the GAN (with its optimizers) before restoring a checkpoint into it")
    gan.build_optimizers()  # load_weights restores optimizer slots only into built optimizers
    try:
        gan.load_weights(Path(directory) / WEIGHTS)
    except ValueError as e:  # Keras lists every layer whose variables did not match
        raise ValueError(
            f"the checkpoint in {Path(directory).resolve()} was saved by a different model (changed layers or sizes), "
            f"so training cannot resume from it: delete that folder (or `make clean`) to start afresh. Keras said: {str(e)[:300]}"
        ) from e
    return int(state["epoch"])


def fit_gan(gan, dataset, *, epochs: int, checkpoint_dir=None, callbacks=(), verbose="auto") -> dict:
    """Train a compiled GAN for ``epochs`` epochs in total with ``model.fit``, resuming from
    ``checkpoint_dir`` when it holds a checkpoint.

    Args:
        gan: a compiled :class:`~kit.gans.GAN` or :class:`~kit.gans.ACGAN`.
        dataset: ``tf.data`` of real images float32 NHWC in [-1, 1] (or ``(images, labels)`` for ACGAN),
            batched with ``drop_remainder=True``.
        epochs: total epochs (from the run profile); a resumed run trains only the missing ones.
        checkpoint_dir: folder for the checkpoint (local or a mounted Google Drive); None: no checkpoints.

    Returns:
        The loss history of the whole run, ``{metric: [one value per epoch]}``, resumed epochs included.
    """
    epochs = check_positive_int(epochs, "epochs")
    done, history = 0, {}
    if checkpoint_dir is not None:
        done = restore(gan, checkpoint_dir)
        history = (checkpoint_state(checkpoint_dir) or {}).get("history", {})
        if done:
            print(f"Resuming from {checkpoint_dir}: {done} of {epochs} epochs already done")
    if done >= epochs:
        return history
    extra = [GANCheckpoint(checkpoint_dir, history)] if checkpoint_dir is not None else []
    h = gan.fit(dataset, epochs=epochs, initial_epoch=done, verbose=verbose, shuffle=False,
                callbacks=[EpochTimer(), NaNGuard(), *callbacks, *extra])
    if extra:
        return extra[0].history
    return {k: [float(v) for v in vs] for k, vs in h.history.items()}


class FIDTracker(keras.callbacks.Callback):
    """Classifier FID and KID of the generator against real images after every ``every`` epochs, added to
    the logs (``fid``, ``kid``) and so to the history: the curve that says whether training helps.

    Args:
        extractor: a feature extractor taking images in [-1, 1] (e.g. ``kit.metrics.ClassifierFeatures``).
        real_images: float32 NHWC in [-1, 1]; ``n`` of them are compared with ``n`` generated images.
        labels: for conditional models, the labels to generate (e.g. the real images' labels).
    """

    def __init__(self, extractor, real_images, *, n: int, labels=None, every: int = 1, seed: int = 99):
        super().__init__()
        self.extractor, self.n, self.every, self.seed = extractor, check_positive_int(n, "n"), every, seed
        self.real_features = extractor(real_images[: self.n])
        self.labels = None if labels is None else np.asarray(labels[: self.n], np.int32)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every or logs is None:
            return
        from kit.metrics import frechet_distance, kernel_inception_distance

        fake = generate_many(self.model, len(self.real_features), labels=self.labels, seed=self.seed)
        ff = self.extractor(fake)
        logs["fid"] = frechet_distance(self.real_features, ff)
        logs["kid"] = kernel_inception_distance(self.real_features, ff, subsets=5, subset_size=min(1000, len(ff)))[0]


def generate_many(gan, n: int, *, labels=None, seed: int = 0, batch_size: int = 500, **generate_kwargs) -> np.ndarray:
    """``n`` generated images float32 NHWC in [-1, 1], in batches, from seeded z (and ``labels`` (n,) for a
    conditional GAN). ``generate_kwargs`` go to ``gan.generate`` (e.g. ``average=False`` for a COCO-GAN)."""
    n = check_positive_int(n, "n")
    z = np.random.default_rng(seed).standard_normal((n, gan.latent_dim)).astype(np.float32)
    out = []
    for i in range(0, n, batch_size):
        if labels is None:
            out.append(gan.generate(z[i : i + batch_size], **generate_kwargs))
        else:
            out.append(gan.generate(z[i : i + batch_size], np.asarray(labels)[i : i + batch_size], **generate_kwargs))
    return np.concatenate(out)

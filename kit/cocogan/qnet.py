"""Patch-guided generation (the COCO-GAN paper's Q network): an encoder reads z off one real macro patch, and
the generator draws the whole image around it."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from kit import distribute
from kit.callbacks import EpochTimer, NaNGuard
from kit.checkpoints import Checkpoints, collect_variables, digest, restore_variables, weights_digest
from kit.checks import check_images, check_number, check_positive_int
from kit.data.pipeline import EpochOrder, dataset_info
from kit.cocogan.model import COCOGAN
from kit.cocogan.networks import macro_encoder
from kit.gans import AdversarialModel


class QNetwork(keras.Model):
    """Patch-guided generation (the paper's Q network): an encoder that reads z off one macro patch, so a
    real patch can seed a whole generated image that continues it.

    The paper trains Q with the GAN; here it is trained afterwards against the frozen :attr:`COCOGAN.sampler`
    (the network that draws the images), which leaves
    the GAN's training (and its numbers) untouched. Each ``train_step`` draws z and in-range macro positions and
    minimises, over the encoder's weights only,

        ||Q(Phi(G(z, c)), c) - z||^2  +  rec_weight * |Phi(G(Q(x, c), c)) - x|_1

    the first on generated patches (z is known), the second on the batch's real patches x (z is not known,
    but the generator must redraw x from it): without it Q only ever sees the generator's own patches.

    Args:
        gan: a trained :class:`COCOGAN` (not changed). encoder: ``[patch, c] -> z`` as built by
        :func:`kit.cocogan.networks.macro_encoder` for ``gan``'s grid. rec_weight: weight of the real-patch
        reconstruction term. seed: seed of z and positions.

    Metrics: ``z_loss`` (mean squared z error on generated patches), ``rec_l1`` (mean absolute error of the
    redrawn real patches, pixel units of [-1, 1]).
    """

    def __init__(self, gan: COCOGAN, encoder: keras.Model, *, rec_weight: float = 1.0, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(gan, COCOGAN):
            raise TypeError(f"gan must be a COCOGAN, got {type(gan).__name__}")
        if not isinstance(encoder, keras.Model):
            raise TypeError(f"encoder must be a keras.Model, got {type(encoder).__name__}")
        g = gan.grid
        want_in, want_out = (g.macro_size, g.macro_size, gan.channels), gan.latent_dim
        if tuple(encoder.input_shape[0][1:]) != want_in or encoder.output_shape[-1] != want_out:
            raise ValueError(f"encoder must map {want_in} patches to z of size {want_out}, got {encoder.input_shape[0][1:]} "
                             f"-> {encoder.output_shape[-1]}")
        self.gan, self.encoder = gan, encoder
        self.rec_weight = float(rec_weight)
        self.seed_generator = keras.random.SeedGenerator(int(seed))
        self.trackers = {n: keras.metrics.Mean(name=n) for n in ("z_loss", "rec_l1")}
        self.built = True  # the encoder is a built functional model; fit must not trace call() on full images

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, inputs, training=False):
        """``[patches (B, M, M, C), coords (B, 2)] -> z (B, latent_dim)``."""
        return self.encoder(inputs, training=training)

    def train_step(self, data):
        gan = self.gan
        real_full = data[0] if isinstance(data, (tuple, list)) else data
        batch = ops.shape(real_full)[0]
        z = distribute.normal((batch, gan.latent_dim), self.seed_generator)
        top_left, inside = gan._sample_positions(batch, margin=0.0, seed_generator=self.seed_generator)  # in range only
        c = gan._macro_coord(inside)
        fake = ops.stop_gradient(gan.fake_macro(z, top_left))
        real = gan._real_macro(real_full, inside)
        with tf.GradientTape() as tape:
            z_loss = ops.mean(ops.square(self.encoder([fake, c], training=True) - z))
            redrawn = gan.fake_macro(self.encoder([real, c], training=True), top_left)
            rec_l1 = ops.mean(ops.abs(ops.cast(redrawn, "float32") - ops.cast(real, "float32")))
            # Divided by the replicas and loss-scaled under mixed_float16 (compile wraps self.optimizer there).
            scaled = AdversarialModel.scale_loss(self.optimizer, z_loss + self.rec_weight * rec_l1)
        AdversarialModel.apply_gradients(self.optimizer, tape, scaled, self.encoder)
        for name, value in (("z_loss", z_loss), ("rec_l1", rec_l1)):
            self.trackers[name].update_state(ops.cast(value, "float32"))
        return {name: t.result() for name, t in self.trackers.items()}

    def guided(self, patches, positions):
        """Full images that continue real macro patches.

        Args:
            patches: float32 (B, M, M, C) in [-1, 1], e.g. cut from real images at ``positions``.
            positions: int (B, 2) macro (row, col) of each patch on the grid.

        Returns:
            ``(images, z)``: assembled images float32 (B, S, S, C) in [-1, 1] and the recovered z (B, latent_dim).
        """
        g = self.gan.grid
        patches = np.asarray(patches)
        want = (g.macro_size, g.macro_size, self.gan.channels)
        if patches.ndim != 4 or patches.shape[1:] != want:
            raise ValueError(f"patches must have shape (B, {', '.join(map(str, want))}), got {patches.shape}")
        patches = check_images(patches, "patches", channels=None, value_range=(-1, 1))
        pos = g.check_macro_positions(positions, len(patches))
        c = self.gan._macro_coord(ops.convert_to_tensor(pos))
        z = ops.convert_to_numpy(self.encoder([ops.convert_to_tensor(patches), c], training=False))
        return self.gan.generate(z), z.astype("float32")

    def patch_errors(self, images, positions, *, seed: int = 0) -> dict:
        """How well guided generation redraws the patch it was given: mean absolute error (pixel units of
        [-1, 1]) between each real macro patch of ``images`` (B, S, S, C) at ``positions`` int (B, 2) and the same
        patch of the image generated from it (``guided``), next to the same for images from random z (``random``,
        the error of a generator that ignores the patch)."""
        g = self.gan.grid
        real = g.crop_macro(images, positions)
        guided, _ = self.guided(real, positions)
        random = self.gan.generate(self.gan.sample_latent(len(real), seed=seed))
        return {"guided": float(np.mean(np.abs(g.crop_macro(guided, positions) - real))),
                "random": float(np.mean(np.abs(g.crop_macro(random, positions) - real)))}


def q_network(gan: COCOGAN, *, base_filters: int = 32, rec_weight: float = 1.0, seed: int = 0) -> QNetwork:
    """A :class:`QNetwork` for ``gan`` with :func:`kit.cocogan.networks.macro_encoder`."""
    g = gan.grid
    return QNetwork(gan, macro_encoder(g.macro_size, gan.channels, gan.latent_dim, base_filters), rec_weight=rec_weight, seed=seed)


def fit_q_network(q: QNetwork, dataset, *, epochs: int, learning_rate: float = 1e-3, checkpoint_dir=None, jit_compile: bool = False,
                  verbose="auto", optimizer=None) -> dict:
    """Train ``q`` (its encoder only) for ``epochs`` epochs on ``dataset`` (real full images float32 (B, S, S, C) in
    [-1, 1], ``drop_remainder=True``), with Adam.

    ``checkpoint_dir``: where the trained encoder is kept. Its recipe includes a hash of the frozen GAN's
    weights, so an encoder trained against another generator (the GAN retrained with other settings) is never
    reused; with a matching checkpoint the encoder is loaded instead of trained. ``optimizer``: instead of
    Adam(``learning_rate``).

    Returns the history ``{metric: [one value per epoch]}`` (empty when loaded)."""
    epochs = check_positive_int(epochs, "epochs")
    learning_rate = check_number(learning_rate, "learning_rate", low=0.0, open_low=True)
    ckpts = None
    if checkpoint_dir is not None:
        recipe = {"encoder": digest(q.encoder.get_config()), "rec_weight": q.rec_weight, "learning_rate": learning_rate,
                  "epochs": epochs, "gan_weights": weights_digest(q.gan.sampler), "data": (dataset_info(dataset) or {}).get("fingerprint")}
        ckpts = Checkpoints(checkpoint_dir, recipe)
        if ckpts.epochs():
            state, arrays = ckpts.load()
            restore_variables(q.encoder, {}, arrays, ckpts.folder(state["epoch"]))
            print(f"Q network loaded from {ckpts.folder(state['epoch'])}")
            return {}
    q.compile(optimizer=optimizer if optimizer is not None else keras.optimizers.Adam(learning_rate), jit_compile=bool(jit_compile))
    h = q.fit(dataset, epochs=epochs, verbose=verbose, shuffle=False, callbacks=[EpochOrder(dataset), EpochTimer(), NaNGuard()])
    history = {k: [float(v) for v in vs] for k, vs in h.history.items()}
    if ckpts is not None:
        ckpts.save(epochs, collect_variables(q.encoder, {}), {"history": history})
    return history

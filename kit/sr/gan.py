"""ESRGAN's objective for notebook 07's refiner (Wang et al., 2018, "ESRGAN: Enhanced Super-Resolution GANs").

After the PSNR-oriented warm-up (the L1/MSE refiner of :mod:`kit.sr.training`), the refiner is fine-tuned as the
generator of a GAN with ESRGAN's three terms::

    L_G = perceptual_weight * L_percep + gan_weight * L_G^Ra + l1_weight * L_1

- ``L_percep``: L1 between VGG19 features *before activation* (conv5_4) of the refined and the reference image
  (:class:`kit.judge.PerceptualFeatures`; a labelled random-weight stand-in offline);
- ``L_G^Ra``: the relativistic average GAN loss. The discriminator does not ask "is this real?" but "is this
  real image more realistic than the generated ones on average?"::

      D_Ra(x_r, x_f) = sigmoid(C(x_r) - E[C(x_f)])
      L_D^Ra = -E[log D_Ra(x_r, x_f)] - E[log(1 - D_Ra(x_f, x_r))]
      L_G^Ra = -E[log(1 - D_Ra(x_r, x_f))] - E[log D_Ra(x_f, x_r)]

  so the generator gets gradients from the real images as well as from its own (:func:`relativistic_losses`);
- ``L_1``: a small pixel term (ESRGAN's lambda = 1e-2, eta = 5e-3 for the GAN term, 1 for the perceptual one).

The trade-off it teaches (Blau & Michaeli, 2018, "the perception-distortion tradeoff"): the GAN refiner's
images are sharper and closer in perceptual distance, and a little further in PSNR.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from kit.checkpoints import weights_digest
from kit.checks import check_number, check_positive_int
from kit.gans import AdversarialModel, fit_gan
from kit.sr.data import augment_pairs


def _bce(targets_one: bool, logits):
    logits = ops.cast(logits, "float32")
    return ops.mean(ops.binary_crossentropy(ops.ones_like(logits) if targets_one else ops.zeros_like(logits), logits, from_logits=True))


def relativistic_losses(real_logits, fake_logits):
    """ESRGAN's relativistic average losses from the discriminator's raw scores C(x) on a batch of real and of
    generated images (any shape, e.g. (B, 1)): ``(d_loss, g_loss)``, each the mean of its two terms (as
    BasicSR's ESRGAN does), computed as binary cross-entropies on the score differences."""
    real_vs_fake = ops.cast(real_logits, "float32") - ops.mean(ops.cast(fake_logits, "float32"))
    fake_vs_real = ops.cast(fake_logits, "float32") - ops.mean(ops.cast(real_logits, "float32"))
    d_loss = 0.5 * (_bce(True, real_vs_fake) + _bce(False, fake_vs_real))
    g_loss = 0.5 * (_bce(False, real_vs_fake) + _bce(True, fake_vs_real))
    return d_loss, g_loss


def patch_discriminator(*, channels: int = 3, base_filters: int = 32, depth: int = 3, name: str = "esrgan_discriminator") -> keras.Model:
    """A VGG-style discriminator for refined patches of any size: ``depth`` blocks of [conv 3x3, conv 4x4 stride 2],
    LeakyReLU(0.2), filters doubling from ``base_filters``, then global average pooling and one float32 score.
    Unconditional, as ESRGAN's: it judges the image, not the pair. images float32 (B, H, W, C) in [0, 1] -> (B, 1)."""
    base_filters, depth = check_positive_int(base_filters, "base_filters"), check_positive_int(depth, "depth")
    inputs = keras.Input((None, None, check_positive_int(channels, "channels")), name="image")
    x = layers.Rescaling(2.0, offset=-1.0, name="to_tanh_range")(inputs)
    for d in range(depth):
        f = base_filters * 2**d
        x = layers.Conv2D(f, 3, padding="same", name=f"d{d}_conv")(x)
        x = layers.LeakyReLU(0.2, name=f"d{d}_act")(x)
        x = layers.Conv2D(f, 4, strides=2, padding="same", name=f"d{d}_down")(x)
        x = layers.LeakyReLU(0.2, name=f"d{d}_down_act")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.Dense(base_filters * 2 ** (depth - 1), name="dense")(x)
    x = layers.LeakyReLU(0.2, name="dense_act")(x)
    score = layers.Dense(1, dtype="float32", name="score")(x)
    return keras.Model(inputs, score, name=name)


@keras.saving.register_keras_serializable(package="kit")
class ESRGANRefiner(AdversarialModel):
    """The refiner fine-tuned with ESRGAN's objective: ``generator`` is the (warmed-up) refiner, float32 (B, H, W, 3)
    in [0, 1] -> same, ``discriminator`` a :func:`patch_discriminator`, ``features`` a
    :class:`kit.judge.PerceptualFeatures`. Fit on ``(E(degraded), E(raw))`` patch pairs (:func:`kit.sr.augment_pairs`)
    with :func:`kit.gans.fit_gan`.

    Args:
        perceptual_weight, gan_weight, l1_weight: the weights of the three generator terms (ESRGAN: 1, 5e-3, 1e-2).
        loss_fn: your own relativistic losses ``f(real_logits, fake_logits) -> (d_loss, g_loss)`` (the lab
            passage of notebook 07) instead of :func:`relativistic_losses`.

    Metrics: ``d_loss``, ``g_loss`` (total), ``g_adv``, ``perceptual``, ``l1``.
    """

    def __init__(self, generator, discriminator, *, features, perceptual_weight: float = 1.0, gan_weight: float = 5e-3,
                 l1_weight: float = 1e-2, loss_fn=None, **kwargs):
        super().__init__(generator, discriminator, trackers=("d_loss", "g_loss", "g_adv", "perceptual", "l1"), **kwargs)
        if not callable(features):
            raise TypeError(f"features must be a PerceptualFeatures (callable), got {type(features).__name__}")
        if loss_fn is not None and not callable(loss_fn):
            raise TypeError(f"loss_fn must be a function, got {type(loss_fn).__name__}")
        self.features = features
        self.perceptual_weight = check_number(perceptual_weight, "perceptual_weight", low=0.0)
        self.gan_weight = check_number(gan_weight, "gan_weight", low=0.0)
        self.l1_weight = check_number(l1_weight, "l1_weight", low=0.0)
        self.loss_fn = loss_fn or relativistic_losses

    def call(self, images, training=False):
        return self.generator(images, training=training)

    def check_real_batch(self, batch) -> list[str]:
        if not isinstance(batch, (tuple, list)) or len(batch) != 2:
            return ["ESRGANRefiner trains on (E(degraded), E(raw)) batches: kit.sr.augment_pairs(...)"]
        problems = []
        for name, x in zip(("inputs", "targets"), batch):
            x = np.asarray(x)
            if x.ndim != 4 or x.shape[-1] != 3 or not np.issubdtype(x.dtype, np.floating):
                problems.append(f"{name} must be float (B, H, W, 3), got {x.dtype} {x.shape}")
            elif not np.all(np.isfinite(x)) or x.min() < -1e-5 or x.max() > 1 + 1e-5:
                problems.append(f"{name} must be finite and in [0, 1], got [{x.min():.4g}, {x.max():.4g}]")
        return problems

    def probe_outputs(self, batch) -> dict:
        x, y = batch[0][:4], batch[1][:4]
        fake = self.generator(x, training=False)
        return {"the refiner": fake, "the discriminator (references)": self.discriminator(y, training=False),
                "the discriminator (refined)": self.discriminator(fake, training=False)}

    def train_step(self, data):
        x, y = data
        fake = self.generator(x, training=True)
        with tf.GradientTape() as tape:  # 1. the discriminator: real references more realistic than refined images
            d_loss, _ = self.loss_fn(self.discriminator(y, training=True), self.discriminator(fake, training=True))
            scaled = self.scale_loss(self.d_optimizer, d_loss)
        self.apply_gradients(self.d_optimizer, tape, scaled, self.discriminator)
        with tf.GradientTape() as tape:  # 2. the refiner: ESRGAN's perceptual + relativistic + L1 objective
            fake = self.generator(x, training=True)
            real_logits = ops.stop_gradient(self.discriminator(y, training=True))
            _, g_adv = self.loss_fn(real_logits, self.discriminator(fake, training=True))
            perceptual = ops.mean(ops.abs(ops.cast(self.features(fake), "float32") - ops.stop_gradient(ops.cast(self.features(y), "float32"))))
            l1 = ops.mean(ops.abs(ops.cast(fake, "float32") - ops.cast(y, "float32")))
            g_loss = self.perceptual_weight * perceptual + self.gan_weight * g_adv + self.l1_weight * l1
            scaled = self.scale_loss(self.g_optimizer, g_loss)
        self.apply_gradients(self.g_optimizer, tape, scaled, self.generator)
        return self.track(d_loss=d_loss, g_loss=g_loss, g_adv=g_adv, perceptual=perceptual, l1=l1)

    def recipe(self) -> dict:
        """As :meth:`AdversarialModel.recipe`, plus the feature network (label and weights) and the weights the
        refiner starts from (the L1 warm-up): a GAN refiner fine-tuned from another warm-up is never resumed."""
        return {**super().recipe(), "features": f"{self.features.label} ({weights_digest(self.features.model)})",
                "refiner_init": weights_digest(self.generator), "perceptual_weight": self.perceptual_weight,
                "gan_weight": self.gan_weight, "l1_weight": self.l1_weight}


def esrgan_refiner(refiner: keras.Model, features, *, learning_rate: float = 1e-4, perceptual_weight: float = 1.0, gan_weight: float = 5e-3,
                   l1_weight: float = 1e-2, base_filters: int = 32, jit_compile: bool, seed: int = 0, loss_fn=None) -> ESRGANRefiner:
    """A compiled :class:`ESRGANRefiner` around a warmed-up ``refiner`` (fine-tuned in place; clone it first to
    keep the L1 one), with Adam(learning_rate, beta_1=0.9, beta_2=0.99) for both players, as ESRGAN. A global
    colour stage inside ``refiner`` (``get_layer("colour_stage")``) is frozen: it corrects white balance, which is
    not what a discriminator of patches can judge."""
    learning_rate = check_number(learning_rate, "learning_rate", low=0.0, open_low=True)
    try:
        refiner.get_layer("colour_stage").trainable = False
    except ValueError:
        pass
    model = ESRGANRefiner(refiner, patch_discriminator(base_filters=base_filters), features=features, perceptual_weight=perceptual_weight,
                          gan_weight=gan_weight, l1_weight=l1_weight, seed=seed, loss_fn=loss_fn)
    model.compile(g_optimizer=keras.optimizers.Adam(learning_rate, beta_1=0.9, beta_2=0.99),
                  d_optimizer=keras.optimizers.Adam(learning_rate, beta_1=0.9, beta_2=0.99), jit_compile=jit_compile)
    return model


def clone_refiner(model: keras.Model) -> keras.Model:
    """An independent copy of a refiner (same architecture and weights), e.g. to keep the L1 refiner while a copy
    is fine-tuned with the GAN objective."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy


def train_gan_refiner(profile, train, val, refiner: keras.Model, features, *, level: str, checkpoint_dir=None, log_dir=None,
                      verbose="auto", loss_fn=None):
    """Fine-tune a copy of the warmed-up (L1) ``refiner`` of ``level`` with ESRGAN's objective on random patches of
    that level's (E(degraded), E(raw)) pairs, for the profile's ``gan_epochs``, with checkpoints.

    Args:
        train, val: :class:`kit.sr.EnhancedSet` splits (``val`` is unused by training; kept for the probe).
        features: :func:`kit.judge.perceptual_features` (ImageNet VGG19, or the labelled stand-in).

    Returns:
        ``(model, history)``: the :class:`ESRGANRefiner` (its ``generator`` is the GAN refiner) and the history.
    """
    e = profile.esrgan
    x, y = train.pairs([level])
    model = esrgan_refiner(clone_refiner(refiner), features, learning_rate=e.gan_learning_rate, perceptual_weight=e.perceptual_weight,
                           gan_weight=e.gan_weight, l1_weight=e.gan_l1_weight, jit_compile=profile.jit_compile, loss_fn=loss_fn)
    data = augment_pairs(x, y, e.patch, 1, 1, e.batch_size, drop_remainder=True)
    history = fit_gan(model, data, epochs=e.gan_epochs, checkpoint_dir=checkpoint_dir, verbose=verbose, profile_name=profile.name,
                      log_dir=log_dir)
    return model, history

"""The GANs of notebooks 02-03 as ``keras.Model`` subclasses that override ``train_step`` (TensorFlow
backend, ``tf.GradientTape``).

Train them with :func:`kit.gans.fit_gan` (or ``model.fit``) on a ``tf.data`` pipeline of real images float32
NHWC in [-1, 1] (``GAN``) or ``(images, labels)`` pairs (``ACGAN``). ``compile`` takes the two optimizers by
keyword; the running means of the losses are ``keras.metrics.Mean`` trackers exposed by the ``metrics``
property, so the progress bar, ``History`` and callbacks see them (and reset them every epoch). Everything a
step needs for mixed precision and for several devices comes from :class:`~kit.gans.base.AdversarialModel`.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from kit import distribute
from kit.checks import check_labels, check_number, check_positive_int
from kit.gans.base import AdversarialModel, fixed_latent
from kit.gans.losses import GANLoss, auxiliary_loss, get_loss, gradient_penalty


@keras.saving.register_keras_serializable(package="kit")
class GAN(AdversarialModel):
    """Unconditional GAN: ``generator(z) -> images``, ``discriminator(images) -> scores (B, 1)``.

    Each ``train_step`` on a batch of real images makes ``loss.n_critic`` discriminator updates (fresh z each
    time), then one generator update. ``model(z)`` returns generated images.

    Args:
        generator: functional model z (B, latent_dim) -> images (B, H, W, C) in [-1, 1].
        discriminator: functional model images -> scores (B, 1) (logits for BCE).
        loss: a name (``"bce"``, ``"hinge"``, ``"wgan-gp"``) or a :class:`~kit.gans.losses.GANLoss`.
        seed: seed of the latent noise (and WGAN-GP interpolation) drawn in ``train_step``.
        ema_decay: decay of the moving average of the generator's weights that draws images at inference
            (``generate``, sample grids, FID); 0: the generator itself (see ``AdversarialModel.update_average``).

    Metrics: ``d_loss``, ``g_loss``, ``d_real`` and ``d_fake`` (mean scores), and ``gp`` for WGAN-GP.
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model, *, loss="bce", seed: int = 0, **kwargs):
        gan_loss = get_loss(loss)
        names = ["d_loss", "g_loss", "d_real", "d_fake"] + (["gp"] if gan_loss.uses_gradient_penalty else [])
        super().__init__(generator, discriminator, seed=seed, trackers=names, **kwargs)
        self.gan_loss: GANLoss = gan_loss
        gen_shape = tuple(generator.output_shape[1:])
        if gen_shape != self.image_shape:
            raise ValueError(f"generator makes images of shape {gen_shape} but the discriminator expects {self.image_shape}")

    def _check_real(self, real):
        if tuple(real.shape[1:]) != self.image_shape:
            raise ValueError(f"real images must have shape (B, {', '.join(map(str, self.image_shape))}), got {tuple(real.shape)}")

    def discriminator_loss(self, real, fake, real_scores, fake_scores, critic_fn):
        """The discriminator's adversarial loss, with the gradient penalty (returned too, else None) for WGAN-GP."""
        d_loss = self.gan_loss.discriminator(real_scores, fake_scores)
        gp = None
        if self.gan_loss.uses_gradient_penalty:
            alpha = distribute.uniform((ops.shape(real)[0],), self.seed_generator)
            gp = gradient_penalty(critic_fn, real, fake, alpha)
            d_loss = d_loss + self.gan_loss.gp_weight * gp
        return d_loss, gp

    def train_step(self, data):
        real = data[0] if isinstance(data, (tuple, list)) else data
        self._check_real(real)
        batch = ops.shape(real)[0]
        critic = lambda x: self.discriminator(x, training=True)  # noqa: E731
        for _ in range(self.gan_loss.n_critic):  # 1. the discriminator learns to tell real from generated
            z = self.sample_latent(batch)
            with tf.GradientTape() as tape:
                fake = self.generator(z, training=True)
                real_scores, fake_scores = critic(real), critic(fake)
                d_loss, gp = self.discriminator_loss(real, fake, real_scores, fake_scores, critic)
                scaled = self.scale_loss(self.d_optimizer, d_loss)
            self.apply_gradients(self.d_optimizer, tape, scaled, self.discriminator)
        z = self.sample_latent(batch)  # 2. the generator learns to fool it
        with tf.GradientTape() as tape:
            g_loss = self.gan_loss.generator(critic(self.generator(z, training=True)))
            scaled = self.scale_loss(self.g_optimizer, g_loss)
        self.apply_gradients(self.g_optimizer, tape, scaled, self.generator)
        return self.track(d_loss=d_loss, g_loss=g_loss, d_real=ops.mean(real_scores), d_fake=ops.mean(fake_scores), gp=gp)

    # -- serialisation -------------------------------------------------------------------------------------
    def get_config(self):
        return {
            **super().get_config(),
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "loss": {"name": self.gan_loss.name, "label_smoothing": self.gan_loss.label_smoothing,
                     "gp_weight": self.gan_loss.gp_weight, "n_critic": self.gan_loss.n_critic},
            "seed": self.seed,
            "ema_decay": self.ema_decay,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "discriminator"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        loss = dict(config.pop("loss"))
        config["loss"] = get_loss(loss.pop("name"), **loss)
        return cls(**config)


def acgan_discriminator_loss(adversarial, real_logits, real_labels, fake_logits, fake_labels, aux_weight):
    """ACGAN's discriminator loss with the auxiliary classifier trained on *real* images only: ``adversarial +
    aux_weight * CE(real_labels, real_logits)``. ``fake_logits``/``fake_labels`` are unused on purpose (see
    :class:`ACGAN`). Scalars and tensors: logits (B, C), labels int (B,)."""
    return adversarial + aux_weight * auxiliary_loss(real_labels, real_logits)


def acgan_generator_loss(adversarial, fake_logits, fake_labels, aux_weight):
    """ACGAN's generator loss: ``adversarial + aux_weight * CE(fake_labels, fake_logits)``: fool D and make D's
    class head recognise the requested class."""
    return adversarial + aux_weight * auxiliary_loss(fake_labels, fake_logits)


@keras.saving.register_keras_serializable(package="kit")
class ACGAN(GAN):
    """Auxiliary-classifier GAN (Odena et al., 2017): ``generator([z, labels]) -> images``,
    ``discriminator(images) -> [score (B, 1), class logits (B, num_classes)]``; fit on ``(images, labels)``.

    D minimises adversarial loss + ``aux_weight`` * CE(class logits of *real* images, true labels).
    G minimises adversarial loss + ``aux_weight`` * CE(class logits of its fakes, requested labels).

    The known failure: when D's auxiliary head is also trained on fakes (the original paper), D can lower its
    loss by learning the generator's *mistakes* as classes, the generator then satisfies it with class cues
    that are not the real ones, and an independent classifier no longer recognises the samples. Training the
    auxiliary head on real images only (``aux_on_fakes=False``, the default) keeps it a classifier of real
    garments, so the generator has to produce garments of the class it was asked for.

    Args:
        d_loss_fn, g_loss_fn: your own ACGAN losses (the lab passage of notebook 03) in place of
            :func:`acgan_discriminator_loss` and :func:`acgan_generator_loss`, with the same arguments.

    Metrics: as :class:`GAN` plus ``aux_loss`` (D's CE on real) and ``aux_acc_fake`` (how often D's auxiliary
    head recognises the class requested from G).
    """

    def __init__(self, generator, discriminator, *, num_classes: int = 10, aux_weight: float = 1.0, aux_on_fakes: bool = False,
                 d_loss_fn=None, g_loss_fn=None, **kwargs):
        super().__init__(generator, discriminator, **kwargs)
        self.num_classes = check_positive_int(num_classes, "num_classes")
        self.aux_weight = check_number(aux_weight, "aux_weight", low=0.0)
        self.aux_on_fakes = bool(aux_on_fakes)
        for name, fn in (("d_loss_fn", d_loss_fn), ("g_loss_fn", g_loss_fn)):
            if fn is not None and not callable(fn):
                raise TypeError(f"{name} must be a function, got {type(fn).__name__}")
        if self.aux_on_fakes and d_loss_fn is not None:
            raise ValueError("aux_on_fakes is the kit's own discriminator loss; with your own d_loss_fn leave it False")
        self.d_loss_fn = d_loss_fn or acgan_discriminator_loss
        self.g_loss_fn = g_loss_fn or acgan_generator_loss
        self.trackers["aux_loss"] = keras.metrics.Mean(name="aux_loss")
        self.trackers["aux_acc_fake"] = keras.metrics.SparseCategoricalAccuracy(name="aux_acc_fake")

    def call(self, inputs, training=False):
        z, labels = inputs
        return self.generator([z, labels], training=training)

    def sample_labels(self, n):
        """Requested classes int32 (n,), uniform, from the model's seed stream (different on every replica)."""
        return distribute.randint((n,), self.seed_generator, 0, self.num_classes)

    def generate(self, z, labels=None):
        """Images in [-1, 1] of the requested classes: z (B, latent_dim), B >= 1, labels int (B,) in [0, num_classes)."""
        z = ops.convert_to_tensor(self.check_latent(z))
        if labels is None:
            raise ValueError("ACGAN.generate needs labels: int class ids (B,)")
        labels = check_labels(labels, int(z.shape[0]), num_classes=self.num_classes)
        return ops.convert_to_numpy(self.sampler([z, ops.convert_to_tensor(labels)], training=False)).astype("float32")

    def check_real_batch(self, batch) -> list[str]:
        if not isinstance(batch, (tuple, list)) or len(batch) < 2:
            return ["ACGAN trains on (images, labels) batches: make_dataset(x, y, ...)"]
        problems = super().check_real_batch(batch)
        labels = np.asarray(batch[1])
        if not np.issubdtype(labels.dtype, np.integer) or labels.ndim != 1:
            problems.append(f"labels must be int class ids (B,), got dtype {labels.dtype} and shape {labels.shape}")
        elif labels.min() < 0 or labels.max() >= self.num_classes:
            problems.append(f"labels must lie in [0, {self.num_classes - 1}], got [{labels.min()}, {labels.max()}]")
        return problems

    def train_step(self, data):
        if not isinstance(data, (tuple, list)) or len(data) < 2:
            raise ValueError("ACGAN.fit needs (images, labels) batches")
        real, labels = data[0], ops.cast(data[1], "int32")
        self._check_real(real)
        batch = ops.shape(real)[0]
        critic = lambda x: self.discriminator(x, training=True)[0]  # noqa: E731
        for _ in range(self.gan_loss.n_critic):
            z, fake_labels = self.sample_latent(batch), self.sample_labels(batch)
            with tf.GradientTape() as tape:
                fake = self.generator([z, fake_labels], training=True)
                real_scores, real_logits = self.discriminator(real, training=True)
                fake_scores, fake_logits = self.discriminator(fake, training=True)
                adversarial, gp = self.discriminator_loss(real, fake, real_scores, fake_scores, critic)
                aux = auxiliary_loss(labels, real_logits)  # the class head learns from real garments only
                if self.aux_on_fakes:  # the original paper's variant, for comparison
                    d_loss = adversarial + self.aux_weight * 0.5 * (aux + auxiliary_loss(fake_labels, fake_logits))
                else:
                    d_loss = self.d_loss_fn(adversarial, real_logits, labels, fake_logits, fake_labels, self.aux_weight)
                scaled = self.scale_loss(self.d_optimizer, d_loss)
            self.apply_gradients(self.d_optimizer, tape, scaled, self.discriminator)
        z, fake_labels = self.sample_latent(batch), self.sample_labels(batch)
        with tf.GradientTape() as tape:
            scores, logits = self.discriminator(self.generator([z, fake_labels], training=True), training=True)
            g_loss = self.g_loss_fn(self.gan_loss.generator(scores), logits, fake_labels, self.aux_weight)
            scaled = self.scale_loss(self.g_optimizer, g_loss)
        self.apply_gradients(self.g_optimizer, tape, scaled, self.generator)
        self.trackers["aux_acc_fake"].update_state(fake_labels, logits)
        return self.track(d_loss=d_loss, g_loss=g_loss, d_real=ops.mean(real_scores), d_fake=ops.mean(fake_scores), gp=gp, aux_loss=aux)

    def probe_outputs(self, batch) -> dict:
        real = batch[0]
        fake = self.generator([fixed_latent(self, 8), np.arange(8) % self.num_classes], training=False)
        return {"the discriminator (real images)": self.discriminator(real[:8], training=False)[0],
                "the discriminator (generated images)": self.discriminator(fake, training=False)[0],
                "the generator": fake}

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes, "aux_weight": self.aux_weight, "aux_on_fakes": self.aux_on_fakes}

"""GANs as ``keras.Model`` subclasses that override ``train_step`` (TensorFlow backend, ``tf.GradientTape``).

Train them with ``model.fit`` on a ``tf.data`` pipeline of real images float32 NHWC in [-1, 1] (``GAN``)
or ``(images, labels)`` pairs (``ACGAN``). ``compile`` takes separate generator and discriminator optimizers;
the running means of the losses are ``keras.metrics.Mean`` trackers exposed by the ``metrics`` property, so the
progress bar, ``History`` and callbacks see them (and reset them every epoch).

Mixed precision: under a ``mixed_float16`` policy Keras wraps only ``self.optimizer``. These classes wrap
their own two optimizers in ``keras.optimizers.LossScaleOptimizer`` at ``compile`` and scale each loss inside
its tape; ``LossScaleOptimizer.apply`` unscales the gradients and skips steps whose gradients overflowed.
"""

from __future__ import annotations

import keras
from keras import ops

from kit.checks import check_labels, check_positive_int
from kit.gans.losses import GANLoss, get_loss, gradient_penalty


def _mixed_precision() -> bool:
    return keras.mixed_precision.global_policy().compute_dtype == "float16"


def _wrap(optimizer, role: str):
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise TypeError(f"{role}_optimizer must be a keras.optimizers.Optimizer, got {type(optimizer).__name__}")
    if _mixed_precision() and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


class AdversarialModel(keras.Model):
    """What every two-player model of the course shares: a ``generator`` and a ``discriminator`` attribute,
    ``compile`` with one optimizer each (loss-scaled under ``mixed_float16``), ``keras.metrics`` trackers in
    ``self.trackers`` exposed by the ``metrics`` property, and the mixed-precision-safe update helpers.
    Subclasses build ``self.trackers`` and write ``train_step``."""

    def compile(self, g_optimizer, d_optimizer, *, jit_compile: bool, **kwargs):
        """Set the generator and discriminator optimizers. ``jit_compile`` is required (pass
        ``profile.jit_compile``): Keras' "auto" would silently differ between CPU and GPU."""
        super().compile(jit_compile=bool(jit_compile), **kwargs)
        self.g_optimizer = _wrap(g_optimizer, "g")
        self.d_optimizer = _wrap(d_optimizer, "d")

    @property
    def metrics(self):
        return list(self.trackers.values())

    def build_optimizers(self):
        """Create the optimizers' variables now (before restoring a checkpoint into them)."""
        self.g_optimizer.build(self.generator.trainable_variables)
        self.d_optimizer.build(self.discriminator.trainable_variables)

    @staticmethod
    def _scaled(optimizer, loss):
        """The loss to differentiate: multiplied by the loss scale under mixed precision. Call it *inside*
        the tape, so the multiplication is recorded; ``LossScaleOptimizer.apply`` divides it back out."""
        return optimizer.scale_loss(loss) if isinstance(optimizer, keras.optimizers.LossScaleOptimizer) else loss

    @staticmethod
    def _apply(optimizer, tape, scaled_loss, variables):
        optimizer.apply(tape.gradient(scaled_loss, variables), variables)

    def _update(self, **values):
        for name, value in values.items():
            if name in self.trackers and value is not None:
                self.trackers[name].update_state(ops.cast(value, "float32"))
        return {name: t.result() for name, t in self.trackers.items()}


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

    Metrics: ``d_loss``, ``g_loss``, ``d_real`` and ``d_fake`` (mean scores), and ``gp`` for WGAN-GP.
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model, *, loss="bce", seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        for role, m in (("generator", generator), ("discriminator", discriminator)):
            if not isinstance(m, keras.Model):
                raise TypeError(f"{role} must be a keras.Model, got {type(m).__name__}")
        self.generator = generator
        self.discriminator = discriminator
        self.gan_loss: GANLoss = get_loss(loss)
        self.seed = int(seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)
        self.latent_dim = int(self._latent_input_shape()[-1])
        self.image_shape = tuple(discriminator.input_shape[1:])
        gen_shape = tuple(generator.output_shape[1:])
        if gen_shape != self.image_shape:
            raise ValueError(f"generator makes images of shape {gen_shape} but the discriminator expects {self.image_shape}")
        names = ["d_loss", "g_loss", "d_real", "d_fake"] + (["gp"] if self.gan_loss.uses_gradient_penalty else [])
        self.trackers = {n: keras.metrics.Mean(name=n) for n in names}
        # Generator and discriminator are built functional models, so the wrapper is too: mark it, so that
        # save_weights/load_weights work before the first fit (a checkpoint is restored before training).
        self.built = True

    def _latent_input_shape(self):
        shape = self.generator.input_shape
        return shape[0] if isinstance(shape, list) else shape

    def call(self, z, training=False):
        return self.generator(z, training=training)

    # -- sampling ------------------------------------------------------------------------------------------
    def sample_latent(self, n: int, seed: int | None = None):
        """z ~ N(0, I), float32 (n, latent_dim); from the model's seed stream, or a fixed ``seed``."""
        return keras.random.normal((n, self.latent_dim), seed=self.seed_generator if seed is None else seed)

    def generate(self, z):
        """Images float32 (B, H, W, C) in [-1, 1] for latent vectors z (B, latent_dim)."""
        z = ops.convert_to_tensor(z, "float32")
        if len(z.shape) != 2 or z.shape[-1] != self.latent_dim:
            raise ValueError(f"z must have shape (B, {self.latent_dim}), got {tuple(z.shape)}")
        return ops.convert_to_numpy(self.generator(z, training=False)).astype("float32")

    # -- training ------------------------------------------------------------------------------------------
    def _check_real(self, real):
        if tuple(real.shape[1:]) != self.image_shape:
            raise ValueError(f"real images must have shape (B, {', '.join(map(str, self.image_shape))}), got {tuple(real.shape)}")

    def _d_adversarial_loss(self, real, fake, real_scores, fake_scores, critic_fn):
        """The discriminator's adversarial loss, with the gradient penalty for WGAN-GP."""
        d_loss = self.gan_loss.discriminator(real_scores, fake_scores)
        gp = None
        if self.gan_loss.uses_gradient_penalty:
            alpha = keras.random.uniform((ops.shape(real)[0],), seed=self.seed_generator)
            gp = gradient_penalty(critic_fn, real, fake, alpha)
            d_loss = d_loss + self.gan_loss.gp_weight * gp
        return d_loss, gp

    def train_step(self, data):
        import tensorflow as tf

        real = data[0] if isinstance(data, (tuple, list)) else data
        self._check_real(real)
        batch = ops.shape(real)[0]
        critic = lambda x: self.discriminator(x, training=True)  # noqa: E731
        for _ in range(self.gan_loss.n_critic):
            z = self.sample_latent(batch)
            with tf.GradientTape() as tape:
                fake = self.generator(z, training=True)
                real_scores, fake_scores = critic(real), critic(fake)
                d_loss, gp = self._d_adversarial_loss(real, fake, real_scores, fake_scores, critic)
                scaled = self._scaled(self.d_optimizer, d_loss)
            self._apply(self.d_optimizer, tape, scaled, self.discriminator.trainable_variables)
        z = self.sample_latent(batch)
        with tf.GradientTape() as tape:
            g_loss = self.gan_loss.generator(critic(self.generator(z, training=True)))
            scaled = self._scaled(self.g_optimizer, g_loss)
        self._apply(self.g_optimizer, tape, scaled, self.generator.trainable_variables)
        return self._update(d_loss=d_loss, g_loss=g_loss, d_real=ops.mean(real_scores), d_fake=ops.mean(fake_scores), gp=gp)

    # -- serialisation -------------------------------------------------------------------------------------
    def get_config(self):
        return {
            **super().get_config(),
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "loss": {"name": self.gan_loss.name, "label_smoothing": self.gan_loss.label_smoothing,
                     "gp_weight": self.gan_loss.gp_weight, "n_critic": self.gan_loss.n_critic},
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "discriminator"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        loss = config.pop("loss")
        config["loss"] = get_loss(loss.pop("name"), **loss)
        return cls(**config)


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

    Metrics: as :class:`GAN` plus ``aux_loss`` (D's CE on real) and ``aux_acc_fake`` (how often D's auxiliary
    head recognises the class requested from G).
    """

    def __init__(self, generator, discriminator, *, num_classes: int = 10, aux_weight: float = 1.0, aux_on_fakes: bool = False, **kwargs):
        super().__init__(generator, discriminator, **kwargs)
        self.num_classes = check_positive_int(num_classes, "num_classes")
        self.aux_weight = float(aux_weight)
        self.aux_on_fakes = bool(aux_on_fakes)
        self.trackers["aux_loss"] = keras.metrics.Mean(name="aux_loss")
        self.trackers["aux_acc_fake"] = keras.metrics.SparseCategoricalAccuracy(name="aux_acc_fake")

    def call(self, inputs, training=False):
        z, labels = inputs
        return self.generator([z, labels], training=training)

    def sample_labels(self, n: int):
        return keras.random.randint((n,), 0, self.num_classes, seed=self.seed_generator, dtype="int32")

    def generate(self, z, labels=None):
        """Images in [-1, 1] of the requested classes: z (B, latent_dim), labels int (B,) in [0, num_classes)."""
        z = ops.convert_to_tensor(z, "float32")
        if len(z.shape) != 2 or z.shape[-1] != self.latent_dim:
            raise ValueError(f"z must have shape (B, {self.latent_dim}), got {tuple(z.shape)}")
        if labels is None:
            raise ValueError("ACGAN.generate needs labels: int class ids (B,)")
        labels = check_labels(labels, int(z.shape[0]), num_classes=self.num_classes)
        return ops.convert_to_numpy(self.generator([z, ops.convert_to_tensor(labels)], training=False)).astype("float32")

    def train_step(self, data):
        import tensorflow as tf

        if not isinstance(data, (tuple, list)) or len(data) < 2:
            raise ValueError("ACGAN.fit needs (images, labels) batches")
        real, labels = data[0], ops.cast(data[1], "int32")
        self._check_real(real)
        batch = ops.shape(real)[0]
        ce = keras.losses.sparse_categorical_crossentropy
        critic = lambda x: self.discriminator(x, training=True)[0]  # noqa: E731
        for _ in range(self.gan_loss.n_critic):
            z, fake_labels = self.sample_latent(batch), self.sample_labels(batch)
            with tf.GradientTape() as tape:
                fake = self.generator([z, fake_labels], training=True)
                real_scores, real_logits = self.discriminator(real, training=True)
                fake_scores, fake_logits = self.discriminator(fake, training=True)
                d_loss, gp = self._d_adversarial_loss(real, fake, real_scores, fake_scores, critic)
                aux = ops.mean(ce(labels, real_logits, from_logits=True))
                if self.aux_on_fakes:
                    aux = 0.5 * (aux + ops.mean(ce(fake_labels, fake_logits, from_logits=True)))
                d_loss = d_loss + self.aux_weight * aux
                scaled = self._scaled(self.d_optimizer, d_loss)
            self._apply(self.d_optimizer, tape, scaled, self.discriminator.trainable_variables)
        z, fake_labels = self.sample_latent(batch), self.sample_labels(batch)
        with tf.GradientTape() as tape:
            scores, logits = self.discriminator(self.generator([z, fake_labels], training=True), training=True)
            g_loss = self.gan_loss.generator(scores) + self.aux_weight * ops.mean(ce(fake_labels, logits, from_logits=True))
            scaled = self._scaled(self.g_optimizer, g_loss)
        self._apply(self.g_optimizer, tape, scaled, self.generator.trainable_variables)
        self.trackers["aux_acc_fake"].update_state(fake_labels, logits)
        return self._update(d_loss=d_loss, g_loss=g_loss, d_real=ops.mean(real_scores), d_fake=ops.mean(fake_scores), gp=gp, aux_loss=aux)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes, "aux_weight": self.aux_weight, "aux_on_fakes": self.aux_on_fakes}

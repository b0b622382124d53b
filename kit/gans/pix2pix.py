"""Conditional image-to-image GAN (pix2pix, Isola et al., 2017), shared by notebooks 04 and 05.

``Pix2Pix`` is fit on ``(condition, target, label)`` batches (or ``(condition, target)`` for an
unconditional U-Net), images float32 NHWC in [-1, 1]:

- D (a PatchGAN) minimises the adversarial loss on (condition, target) vs (condition, G(condition)) pairs,
  averaged over its grid of patch scores.
- G minimises ``gan_weight * adversarial + l1_weight * |G(condition) - target|_1``. L1 alone gets the layout
  right but averages every plausible colour into a dull one; the adversarial term, judged patch by patch,
  pushes each patch towards a colour that actually occurs. ``gan_weight=0`` trains the L1-only baseline
  (D is then not updated at all).
- ``g_steps=2`` makes two generator updates per discriminator update, as in the course's reference cGAN
  report (it keeps a fast PatchGAN from overpowering G early on).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

import tensorflow as tf

from kit import viz
from kit.checks import check_images, check_labels, check_number, check_positive_int
from kit.gans.base import AdversarialModel
from kit.gans.losses import get_loss
from kit.gans.training import EpochFigure
from kit.models.img2img import patchgan_discriminator, unet_generator


@keras.saving.register_keras_serializable(package="kit")
class Pix2Pix(AdversarialModel):
    """pix2pix: ``generator([condition, label]) -> image``, ``discriminator([condition, image, label]) ->
    patch logits``; with ``conditional=False`` the label inputs are absent.

    Args:
        generator, discriminator: functional models (e.g. :func:`kit.models.unet_generator`,
            :func:`kit.models.patchgan_discriminator`) with or without the label input.
        loss: adversarial loss name or :class:`~kit.gans.GANLoss` (``"bce"`` as in pix2pix).
        l1_weight: lambda of the L1 term (100 in pix2pix).
        gan_weight: weight of G's adversarial term; 0 trains an L1-only regressor.
        g_steps: generator updates per discriminator update (1 or 2).
        generator_loss_fn: your own generator objective ``f(fake_scores, fake, target, *, gan_weight, l1_weight)
            -> scalar`` (the lab passage of notebook 04) in place of :meth:`generator_loss`'s; ``fake_scores`` is
            None when ``gan_weight`` is 0.

    Metrics: ``d_loss``, ``g_loss`` (total), ``g_adv``, ``l1``, ``d_real`` and ``d_fake`` (mean patch scores);
    only ``g_loss`` and ``l1`` when ``gan_weight=0``.
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model, *, loss="bce", l1_weight: float = 100.0,
                 gan_weight: float = 1.0, g_steps: int = 1, generator_loss_fn=None, **kwargs):
        super().__init__(**kwargs)
        for role, m in (("generator", generator), ("discriminator", discriminator)):
            if not isinstance(m, keras.Model):
                raise TypeError(f"{role} must be a keras.Model, got {type(m).__name__}")
        self.generator, self.discriminator = generator, discriminator
        self.conditional = len(generator.inputs) == 2
        if len(discriminator.inputs) != 2 + self.conditional:
            raise ValueError("generator and discriminator must both take the class label, or neither")
        self.gan_loss = get_loss(loss)
        if self.gan_loss.uses_gradient_penalty:
            raise ValueError("Pix2Pix uses 'bce' or 'hinge'; WGAN-GP's penalty is not defined for patch pairs here")
        self.l1_weight, self.gan_weight = check_number(l1_weight, "l1_weight", low=0.0), check_number(gan_weight, "gan_weight", low=0.0)
        if self.l1_weight == 0 and self.gan_weight == 0:
            raise ValueError("l1_weight and gan_weight must not both be 0")
        self.g_steps = check_positive_int(g_steps, "g_steps")
        if generator_loss_fn is not None and not callable(generator_loss_fn):
            raise TypeError(f"generator_loss_fn must be a function, got {type(generator_loss_fn).__name__}")
        self.generator_loss_fn = generator_loss_fn
        shape = generator.inputs[0].shape
        self.condition_shape = tuple(shape[1:])
        self.image_shape = tuple(generator.output_shape[1:])
        if self.image_shape[:2] != self.condition_shape[:2]:
            raise ValueError(f"generator maps {self.condition_shape} to {self.image_shape}: sizes must match")
        # An L1-only model trains no discriminator: it tracks only what it computes.
        names = ["d_loss", "g_loss", "g_adv", "l1", "d_real", "d_fake"] if self.gan_weight > 0 else ["g_loss", "l1"]
        self.trackers = {n: keras.metrics.Mean(name=n) for n in names}
        self.built = True  # both halves are built functional models (see GAN)

    # -- inference -----------------------------------------------------------------------------------------
    def _g_inputs(self, condition, labels):
        return [condition, labels] if self.conditional else condition

    def _d_inputs(self, condition, image, labels):
        return [condition, image, labels] if self.conditional else [condition, image]

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def translate(self, condition, labels=None, batch_size: int = 256) -> np.ndarray:
        """Generated images float32 (N, H, W, C_out) in [-1, 1] for conditions (N, H, W, C_in) in [-1, 1]
        (and int labels (N,) for a conditional model). Inference mode: dropout off."""
        condition = check_images(condition, "condition", channels=(self.condition_shape[-1],), value_range=(-1.0, 1.0))
        if tuple(condition.shape[1:]) != self.condition_shape:
            raise ValueError(f"condition must have shape (N, {', '.join(map(str, self.condition_shape))}), got {condition.shape}")
        if self.conditional and labels is None:
            raise ValueError("this model is label-conditioned: pass labels, int class ids (N,)")
        labels = check_labels(labels, len(condition)) if self.conditional else None
        out = []
        for i in range(0, len(condition), batch_size):
            batch_labels = None if labels is None else labels[i : i + batch_size]
            out.append(ops.convert_to_numpy(self.generator(self._g_inputs(condition[i : i + batch_size], batch_labels), training=False)))
        return np.concatenate(out).astype(np.float32)

    def patch_scores(self, condition, image, labels=None) -> np.ndarray:
        """D's patch probabilities (sigmoid of its logits), float32 (N, h, w) in [0, 1]: where D thinks
        the pair is real."""
        logits = self.discriminator(self._d_inputs(condition, image, labels), training=False)
        return ops.convert_to_numpy(ops.sigmoid(logits))[..., 0]

    # -- training ------------------------------------------------------------------------------------------
    def _unpack(self, data):
        if not isinstance(data, (tuple, list)) or len(data) != 2 + self.conditional:
            want = "(condition, target, label)" if self.conditional else "(condition, target)"
            raise ValueError(f"Pix2Pix.fit needs {want} batches")
        condition, target = data[0], data[1]
        if tuple(condition.shape[1:]) != self.condition_shape or tuple(target.shape[1:]) != self.image_shape:
            raise ValueError(f"batches must hold conditions (B, {self.condition_shape}) and targets (B, {self.image_shape}), "
                             f"got {tuple(condition.shape)} and {tuple(target.shape)}")
        labels = ops.cast(data[2], "int32") if self.conditional else None
        return condition, target, labels

    def check_real_batch(self, batch) -> list[str]:
        want = 2 + self.conditional
        if not isinstance(batch, (tuple, list)) or len(batch) != want:
            return [f"Pix2Pix trains on {'(condition, target, label)' if self.conditional else '(condition, target)'} batches"]
        problems = []
        for name, x, shape in (("conditions", batch[0], self.condition_shape), ("targets", batch[1], self.image_shape)):
            x = np.asarray(x)
            if not np.issubdtype(x.dtype, np.floating) or tuple(x.shape[1:]) != shape:
                problems.append(f"{name} must be float (B, {', '.join(map(str, shape))}), got {x.dtype} {x.shape}")
            elif not np.all(np.isfinite(x)) or x.min() < -1 - 1e-5 or x.max() > 1 + 1e-5:
                problems.append(f"{name} must be finite and lie in [-1, 1] (PairedSplit.tanh() scales them), got [{x.min():.4g}, {x.max():.4g}]")
        if self.conditional:
            labels = np.asarray(batch[2])
            if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0:
                problems.append(f"labels must be non-negative int class ids, got {labels.dtype} in [{labels.min()}, {labels.max()}]")
            else:
                n = self.generator.get_layer("g_label_embedding").input_dim
                if labels.max() >= n:
                    problems.append(f"labels must lie in [0, {n - 1}], got up to {labels.max()}")
        return problems

    def probe_outputs(self, batch) -> dict:
        condition, target = batch[0][:8], batch[1][:8]
        labels = batch[2][:8] if self.conditional else None
        fake = self.generator(self._g_inputs(condition, labels), training=False)
        out = {"the generator": fake}
        if self.gan_weight > 0:
            out["the discriminator (real pairs)"] = self.discriminator(self._d_inputs(condition, target, labels), training=False)
            out["the discriminator (generated pairs)"] = self.discriminator(self._d_inputs(condition, fake, labels), training=False)
        return out

    def generator_loss(self, fake_scores, fake, target):
        """pix2pix's generator objective: ``gan_weight * adversarial(fake_scores) + l1_weight * |target - fake|``,
        returned as ``(total, adversarial, l1)``; the adversarial term is 0 (and ``fake_scores`` unused) when
        ``gan_weight`` is 0. With a ``generator_loss_fn`` the total is that function's."""
        l1 = ops.mean(ops.abs(ops.cast(target, "float32") - ops.cast(fake, "float32")))
        g_adv = self.gan_loss.generator(fake_scores) if self.gan_weight > 0 else ops.zeros(())
        if self.generator_loss_fn is not None:
            total = self.generator_loss_fn(fake_scores, fake, target, gan_weight=self.gan_weight, l1_weight=self.l1_weight)
            return ops.cast(total, "float32"), g_adv, l1
        return self.gan_weight * g_adv + self.l1_weight * l1, g_adv, l1

    def train_step(self, data):
        condition, target, labels = self._unpack(data)
        d_loss = real_scores = fake_scores = None
        if self.gan_weight > 0:  # 1. the PatchGAN learns to tell real from generated pairs, patch by patch
            with tf.GradientTape() as tape:
                fake = self.generator(self._g_inputs(condition, labels), training=True)
                real_scores = self.discriminator(self._d_inputs(condition, target, labels), training=True)
                fake_scores = self.discriminator(self._d_inputs(condition, fake, labels), training=True)
                d_loss = self.gan_loss.discriminator(real_scores, fake_scores)
                scaled = self.scale_loss(self.d_optimizer, d_loss)
            self.apply_gradients(self.d_optimizer, tape, scaled, self.discriminator)
        for _ in range(self.g_steps):  # 2. the generator: fool the PatchGAN and stay close to the target (L1)
            with tf.GradientTape() as tape:
                fake = self.generator(self._g_inputs(condition, labels), training=True)
                scores = self.discriminator(self._d_inputs(condition, fake, labels), training=True) if self.gan_weight > 0 else None
                g_loss, g_adv, l1 = self.generator_loss(scores, fake, target)
                scaled = self.scale_loss(self.g_optimizer, g_loss)
            self.apply_gradients(self.g_optimizer, tape, scaled, self.generator)
        return self.track(
            d_loss=d_loss, g_loss=g_loss, g_adv=g_adv if self.gan_weight > 0 else None, l1=l1,
            d_real=None if real_scores is None else ops.mean(real_scores),
            d_fake=None if fake_scores is None else ops.mean(fake_scores),
        )

    def get_config(self):
        return {
            **super().get_config(),
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "loss": self.gan_loss.name, "l1_weight": self.l1_weight, "gan_weight": self.gan_weight, "g_steps": self.g_steps,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "discriminator"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)


class TranslationGrid(EpochFigure):
    """After every epoch, translate a fixed set of conditions and save (and show) a figure with one row each
    for condition, generated and target images. ``frames`` lists the PNGs for :func:`kit.viz.make_gif`.

    Args:
        directory: where ``epoch_NNN.png`` files go.
        condition, target: float32 NHWC in [-1, 1] (a handful of held-out pairs); labels int (N,) for a
            conditional model.
    """

    def __init__(self, directory, condition, target, labels=None, *, show: bool = True, every: int = 1):
        super().__init__(directory, show=show, every=every)
        self.condition, self.target, self.labels = condition, target, labels

    def figure(self, epoch):
        fake = self.model.translate(self.condition, self.labels)
        return viz.side_by_side({"input": self.condition, "generated": fake, "target": self.target},
                                value_ranges={k: (-1, 1) for k in ("input", "generated", "target")},
                                cell=0.9, title=f"epoch {epoch}", name=f"{self.directory.name}_epoch_{epoch:03d}", show=False)


def pix2pix(condition_shape, out_channels: int = 3, *, num_classes: int | None, jit_compile: bool, base_filters: int = 32,
            l1_weight: float = 100.0, gan_weight: float = 1.0, g_steps: int = 1, learning_rate: float = 2e-4,
            n_layers: int | None = None, seed: int = 0, discriminator: keras.Model | None = None, generator_loss_fn=None) -> Pix2Pix:
    """A compiled :class:`Pix2Pix` with pix2pix's settings: U-Net generator, PatchGAN discriminator
    (``n_layers`` default: 2, a 34x34 receptive field, or 1 for images under 32 pixels), BCE, and Adam
    (``learning_rate``, beta_1 = 0.5) for both players.

    Args:
        condition_shape: (H, W, C) of the inputs (grayscale or sketch), float32 in [-1, 1].
        out_channels: channels of the generated images.
        num_classes: class count for label conditioning, None for none.
        jit_compile: pass ``profile.jit_compile``.
        gan_weight: 0 for the L1-only baseline.
        seed: seeds the weight initialisation, so two models built with the same seed start identical.
        discriminator: your own PatchGAN (e.g. the one notebook 05 has you build) instead of
            :func:`kit.models.patchgan_discriminator`.
        generator_loss_fn: your own generator objective (see :class:`Pix2Pix`).
    """
    keras.utils.set_random_seed(seed)
    h = tuple(condition_shape)[0]
    n_layers = n_layers or (2 if h >= 32 else 1)
    g = unet_generator(condition_shape, out_channels, num_classes=num_classes, base_filters=base_filters)
    d = discriminator or patchgan_discriminator(condition_shape, out_channels, num_classes=num_classes, base_filters=base_filters, n_layers=n_layers)
    model = Pix2Pix(g, d, l1_weight=l1_weight, gan_weight=gan_weight, g_steps=g_steps, generator_loss_fn=generator_loss_fn)
    model.compile(g_optimizer=keras.optimizers.Adam(learning_rate, beta_1=0.5), d_optimizer=keras.optimizers.Adam(learning_rate, beta_1=0.5),
                  jit_compile=jit_compile)
    return model

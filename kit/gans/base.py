"""What every two-player model of the course shares: :class:`AdversarialModel`.

A subclass holds a ``generator`` and a ``discriminator``, fills ``self.trackers`` with ``keras.metrics.Mean``
trackers and writes ``train_step`` with one ``tf.GradientTape`` per player, the way the keras.io GAN examples
do. The base class supplies the pieces that keep such a step correct everywhere:

- ``compile(*, g_optimizer, d_optimizer, jit_compile)`` takes both optimizers by keyword, wraps them in
  ``keras.optimizers.LossScaleOptimizer`` under a ``mixed_float16`` policy (Keras only wraps
  ``self.optimizer``), and builds them at once, inside the distribution strategy's scope: a failed first
  ``fit`` can simply be re-run, and optimizers are never created inside a replica function;
- :meth:`scale_loss` (call it inside the tape) divides a per-replica mean by the number of replicas and
  multiplies by the loss scale; :meth:`apply_gradients` unscales and applies;
- :meth:`sample_latent` draws z from the model's seed stream, different on every replica;
- :meth:`track` updates the trackers and returns the logs.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from kit import distribute, training
from kit.checkpoints import code_digest, digest, method_code_digest
from kit.checks import check_finite
from kit.gans.losses import GANLoss

NETWORK_KEYS = ("generator", "discriminator")


def mixed_precision() -> bool:
    """Whether the global Keras policy computes in float16 (``keras.mixed_precision.set_global_policy``)."""
    return keras.mixed_precision.global_policy().compute_dtype == "float16"


def wrap_optimizer(optimizer, role: str):
    """``optimizer`` checked, and wrapped in a ``LossScaleOptimizer`` under ``mixed_float16``."""
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise TypeError(f"{role} must be a keras.optimizers.Optimizer, got {type(optimizer).__name__}")
    if mixed_precision() and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


class AdversarialModel(keras.Model):
    """Base of the course's GANs: a ``generator`` and a ``discriminator``, one optimizer each, a seed stream
    for the noise, and ``keras.metrics.Mean`` trackers in ``self.trackers`` exposed by the ``metrics``
    property. A subclass writes ``train_step`` (see the module docstring for the helpers a step uses)::

        class DCGAN(kit.gans.AdversarialModel):
            def train_step(self, real_images):
                ...  # two tapes: update the discriminator, then the generator
                return self.track(d_loss=d_loss, g_loss=g_loss)

        gan = DCGAN(generator, discriminator, seed=0)   # trackers: d_loss, g_loss

    Args:
        generator: functional model z (B, latent_dim) [+ labels] -> images (B, H, W, C) in [-1, 1].
        discriminator: functional model images [+ condition] -> scores.
        seed: seed of the noise drawn in ``train_step`` (:meth:`sample_latent`).
        trackers: names of the losses and statistics ``train_step`` reports through :meth:`track`.
    """

    latent_dim: int

    def __init__(self, generator: keras.Model | None = None, discriminator: keras.Model | None = None, *, seed: int = 0,
                 trackers=("d_loss", "g_loss"), ema_decay: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(ema_decay, (int, float)) or isinstance(ema_decay, bool) or not 0.0 <= ema_decay < 1.0:
            raise ValueError(f"ema_decay must be a number in [0, 1) (0: no weight average), got {ema_decay!r}")
        self.ema_decay = float(ema_decay)
        self.generator_ema = None
        self.seed = int(seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)
        self.trackers = {n: keras.metrics.Mean(name=n) for n in trackers}
        if generator is None and discriminator is None:
            return  # a subclass sets the networks itself
        for role, m in (("generator", generator), ("discriminator", discriminator)):
            if not isinstance(m, keras.Model):
                raise TypeError(f"{role} must be a keras.Model, got {type(m).__name__}")
        self.generator, self.discriminator = generator, discriminator
        z_shape = generator.input_shape[0] if isinstance(generator.input_shape, list) else generator.input_shape
        self.latent_dim = int(z_shape[-1])
        d_shape = discriminator.input_shape[0] if isinstance(discriminator.input_shape, list) else discriminator.input_shape
        self.image_shape = tuple(d_shape[1:])
        self.start_average()
        # Both networks are built functional models, so the wrapper is too: mark it, so that its variables
        # exist before the first fit (a checkpoint is restored before training).
        self.built = True

    def call(self, z, training=False):
        return self.generator(z, training=training)

    def generate(self, z):
        """Images float32 (B, H, W, C) in [-1, 1] for finite latent vectors z (B, latent_dim), B >= 1."""
        z = self.check_latent(z)
        return ops.convert_to_numpy(self.sampler(ops.convert_to_tensor(z), training=False)).astype("float32")

    def check_latent(self, z) -> np.ndarray:
        """``z`` as float32 (B, latent_dim) with B >= 1 and every value finite; else ValueError saying what arrived.
        An empty batch is refused: the networks would return an empty array that only fails later, in a plot."""
        z = check_finite(z, "z").astype(np.float32)
        if z.ndim != 2 or z.shape[-1] != self.latent_dim:
            raise ValueError(f"z must have shape (B, {self.latent_dim}), got {tuple(z.shape)}")
        if z.shape[0] == 0:
            raise ValueError(f"z must hold at least one latent vector, shape (B >= 1, {self.latent_dim}), got {tuple(z.shape)}")
        return z

    def compile(self, *, g_optimizer, d_optimizer, jit_compile: bool, steps_per_execution: int = 1, **kwargs):
        """Set and build the generator and discriminator optimizers. ``jit_compile`` is required (pass
        ``profile.jit_compile``): Keras' "auto" would silently differ between CPU and GPU. Call it inside
        ``strategy.scope()`` when training on several devices (see :mod:`kit.distribute`)."""
        # No optimizer of Keras' own: both players' optimizers are ours (Keras would create an unused RMSprop).
        super().compile(optimizer=None, jit_compile=bool(jit_compile),
                        steps_per_execution=distribute.check_steps_per_execution(steps_per_execution), **kwargs)
        self.g_optimizer = wrap_optimizer(g_optimizer, "g_optimizer")
        self.d_optimizer = wrap_optimizer(d_optimizer, "d_optimizer")
        self.build_optimizers()

    def build_optimizers(self):
        """Create both optimizers' variables now (``compile`` does this)."""
        self.g_optimizer.build(self.generator.trainable_variables)
        self.d_optimizer.build(self.discriminator.trainable_variables)

    def optimizers(self) -> dict:
        """``{"g_optimizer": ..., "d_optimizer": ...}``: what a checkpoint saves beside the model."""
        if not hasattr(self, "g_optimizer"):
            raise RuntimeError(f"compile the {type(self).__name__} (with g_optimizer and d_optimizer) first")
        return {"g_optimizer": self.g_optimizer, "d_optimizer": self.d_optimizer}

    @property
    def metrics(self):
        return list(self.trackers.values())

    # -- the helpers of a train_step -----------------------------------------------------------------------
    def sample_latent(self, n, seed: int | None = None):
        """z ~ N(0, I), float32 (n, latent_dim): from the model's seed stream (different on every replica), or
        from a fixed integer ``seed``."""
        if seed is not None:
            return keras.random.normal((n, self.latent_dim), seed=int(seed))
        return distribute.normal((n, self.latent_dim), self.seed_generator)

    # The loss to differentiate, computed inside the tape: divided by the replicas, times the loss scale.
    scale_loss = staticmethod(training.scale_loss)
    # One update of a network's trainable weights; a LossScaleOptimizer unscales and skips overflowed steps.
    apply_gradients = staticmethod(training.apply_gradients)

    def track(self, **values):
        """End a ``train_step``: update the trackers named in ``values`` (None values are skipped) and the
        generator's weight average (if ``ema_decay`` > 0), and return every tracker's result: the logs
        ``train_step`` returns."""
        self.update_average()
        for name, value in values.items():
            if name in self.trackers and value is not None:
                self.trackers[name].update_state(ops.cast(value, "float32"))
        return {name: t.result() for name, t in self.trackers.items()}

    # -- the weight average ---------------------------------------------------------------------------------
    # An exponential moving average of the generator's weights draws the images (Yazici et al. 2018,
    # https://arxiv.org/abs/1806.04498; used by ProGAN, StyleGAN, BigGAN): the generator's own weights chase a
    # moving discriminator and oscillate around a good solution, and their average sits nearer its middle. It
    # costs one multiply-add per weight per step and changes nothing in training.
    def start_average(self):
        """Create the weight average (``generator_ema``, a frozen copy of the generator) when ``ema_decay`` > 0.
        Called by ``__init__``; a subclass that sets its networks itself calls it after setting them."""
        if self.ema_decay > 0 and self.generator_ema is None:
            self.generator_ema = keras.models.clone_model(self.generator)
            self.generator_ema.set_weights(self.generator.get_weights())
            self.generator_ema.trainable = False  # set before compile: never a gradient target
        if not hasattr(self, "ema_updates"):
            self.ema_updates = self.add_weight(shape=(), initializer="zeros", trainable=False, name="ema_updates")

    @property
    def sampler(self) -> keras.Model:
        """The network that draws images at inference: the weight average (``generator_ema``) when
        ``ema_decay`` > 0, else the generator."""
        return self.generator if self.generator_ema is None else self.generator_ema

    def update_average(self):
        """One step of the weight average, called by :meth:`track` at the end of every ``train_step``. The decay
        warms up as min(ema_decay, (1 + t) / (10 + t)) after t updates, so a short run is averaged over its own
        last steps rather than pulled back to the initial weights. Trainable weights are averaged; the rest
        (batch-norm statistics) are copied. Through ``kit.distribute.assign``: under a strategy a step may not
        assign mirrored variables itself."""
        if self.generator_ema is None:
            return
        t = self.ema_updates + 1.0
        decay = ops.minimum(self.ema_decay, (1.0 + t) / (10.0 + t))
        values = [decay * avg + (1.0 - decay) * w if w.trainable else w for avg, w in zip(self.generator_ema.weights, self.generator.weights)]
        distribute.assign([self.ema_updates, *self.generator_ema.weights], [t, *values])

    def reset_average(self):
        """Restart the weight average at the generator's current weights (its warm-up starts again): for a
        fine-tuning run whose changes the long average would otherwise hide."""
        if self.generator_ema is not None:
            self.generator_ema.set_weights(self.generator.get_weights())
        self.ema_updates.assign(0.0)

    # -- checks ---------------------------------------------------------------------------------------------
    def check_real_batch(self, batch) -> list[str]:
        """Problems with one batch of training data as ``fit_gan`` sees it (empty list: none): real images
        float (B, H, W, C) of the discriminator's input shape, in [-1, 1] and not all in [0, 1]. Subclasses
        with other data say what theirs must be."""
        real = batch[0] if isinstance(batch, (tuple, list)) else batch
        return image_problems(real, self.image_shape)

    def health_problems(self, batch, reference: dict | None = None) -> list[str]:
        """What is wrong with the model's current state, judged on one real ``batch`` without training: names of
        non-finite weights; of networks whose outputs on it are not finite (a state whose weights exploded to
        1e30 is still finite, but its discriminator's scores usually are not); and of networks whose weights
        exploded while their outputs stayed finite (a generator bias of 1e30 before a tanh draws finite, all-white
        images): a weight beyond ``MAX_WEIGHT`` in magnitude, or a largest weight or RMS that grew more than
        ``MAX_GROWTH`` times since ``reference`` (:meth:`weight_scales` of the last good state). Empty: healthy."""
        bad = [v.path for v in self.variables if v.dtype in ("float16", "float32", "float64") and not np.all(np.isfinite(np.asarray(v)))]
        if bad:
            return [f"non-finite weights in {', '.join(bad[:4])}"]
        problems = [f"{name} gives non-finite outputs" for name, out in self.probe_outputs(batch).items()
                    if not np.all(np.isfinite(np.asarray(out, np.float64)))]
        return problems + self.weight_problems(reference)

    # Healthy networks of the course keep every weight (batch-norm statistics included) far below 1e6 in
    # magnitude, and no sound epoch multiplies a network's largest weight or its RMS by 1e3.
    MAX_WEIGHT = 1e6
    MAX_GROWTH = 1e3

    def networks(self) -> dict:
        """``{name: keras.Model}``: the generator, the discriminator and, when ``ema_decay`` > 0, the weight
        average (``generator_ema``): the networks whose weights :meth:`health_problems` watches."""
        nets = {key: getattr(self, key) for key in NETWORK_KEYS if isinstance(getattr(self, key, None), keras.Model)}
        if getattr(self, "generator_ema", None) is not None:
            nets["generator_ema"] = self.generator_ema
        return nets

    def weight_scales(self) -> dict:
        """``{network: {"max": largest |w|, "rms": RMS, "largest": path of the variable holding the largest}}``
        over each network's floating-point weights (float64 statistics), for :meth:`health_problems`."""
        out = {}
        for name, net in self.networks().items():
            top, path, squares, count = 0.0, "", 0.0, 0
            for v in net.weights:
                a = np.asarray(v)
                if not np.issubdtype(a.dtype, np.floating) or a.size == 0:
                    continue
                a = np.abs(a.astype(np.float64))
                if float(a.max()) > top:
                    top, path = float(a.max()), v.path
                squares, count = squares + float(np.sum(a * a)), count + a.size
            out[name] = {"max": top, "rms": float(np.sqrt(squares / count)) if count else 0.0, "largest": path}
        return out

    def weight_problems(self, reference: dict | None = None) -> list[str]:
        """The weight-magnitude part of :meth:`health_problems` (empty: none): each network with a weight beyond
        ``MAX_WEIGHT``, or whose largest weight or RMS grew more than ``MAX_GROWTH`` times since ``reference``
        (:meth:`weight_scales` of the last good state; None: the absolute bound only)."""
        problems = []
        for name, now in self.weight_scales().items():
            if now["max"] > self.MAX_WEIGHT:
                problems.append(f"the {name}'s weights exploded: |w| = {now['max']:.3g} in {now['largest']}, beyond {self.MAX_WEIGHT:.0e}")
                continue
            before = (reference or {}).get(name)
            if not before:
                continue
            for stat, label in (("max", "largest weight"), ("rms", "weight RMS")):
                if before[stat] > 0 and now[stat] > self.MAX_GROWTH * before[stat]:
                    problems.append(f"the {name}'s {label} grew from {before[stat]:.3g} to {now[stat]:.3g} since the last good state "
                                    f"(more than {self.MAX_GROWTH:.0e} times; largest in {now['largest']})")
                    break
        return problems

    def probe_outputs(self, batch) -> dict:
        """``{name: array}`` of network outputs on a real batch and on images from a fixed z (no training),
        for :meth:`health_problems`: an unconditional generator and its discriminator."""
        real = batch[0] if isinstance(batch, (tuple, list)) else batch
        fake = self.generator(fixed_latent(self, 8), training=False)
        return {"the discriminator (real images)": self.discriminator(real[:8], training=False),
                "the discriminator (generated images)": self.discriminator(fake, training=False),
                "the generator": fake}

    # -- what a checkpoint records --------------------------------------------------------------------------
    def recipe(self) -> dict:
        """A flat dict of what this model trains with: its class, each network's architecture (a hash of its
        config, and its parameter count), its loss settings and both optimizers' settings, the precision
        policy, and hashes of the code that trains it: ``train_step`` (and the methods it calls) as the classes
        below this one define it, and the loss functions the model holds (``d_loss_fn``, a ``GANLoss``...).
        ``fit_gan`` names checkpoint folders after it, so changed code trains afresh."""
        out = {"model": type(self).__name__, "precision": keras.mixed_precision.global_policy().name,
               "train_step source": method_code_digest(type(self), "train_step", AdversarialModel)}
        for name, value in sorted(vars(self).items()):  # the loss functions it holds: ACGAN's d_loss_fn, a GANLoss
            if "loss" in name and not name.startswith("_") and (callable(value) or isinstance(value, GANLoss)) \
                    and not isinstance(value, (keras.layers.Layer, keras.metrics.Metric, keras.optimizers.Optimizer)):
                out[f"{name} source"] = code_digest(value)
        try:
            config = self.get_config()
        except NotImplementedError:
            config = {}
        for key in NETWORK_KEYS:
            net = getattr(self, key)
            out[key] = f"{net.name} ({net.count_params():,} parameters, config {digest(net.get_config())})"
        for key, value in config.items():
            if key in NETWORK_KEYS or key in ("name", "trainable", "dtype"):
                continue
            if isinstance(value, dict):
                out.update({f"{key}.{k}": v for k, v in value.items() if not isinstance(v, (dict, list))})
            elif not isinstance(value, list):
                out[key] = value
        for role, opt in self.optimizers().items():
            inner = opt.inner_optimizer if isinstance(opt, keras.optimizers.LossScaleOptimizer) else opt
            out[f"{role}"] = type(inner).__name__
            for k, v in inner.get_config().items():
                if k != "name":
                    out[f"{role}.{k}"] = v if not isinstance(v, dict) else digest(v)
        return out


def image_problems(real, image_shape) -> list[str]:
    """What is wrong with a batch of real images for a generator with a tanh output (empty: nothing)."""
    x = np.asarray(real)
    if not np.issubdtype(x.dtype, np.floating):
        return [f"real images must be floating point in [-1, 1], got dtype {x.dtype} (scale uint8 pixels with "
                "kit.data.scale_images(x, 'tanh'))"]
    if tuple(x.shape[1:]) != tuple(image_shape):
        return [f"real images must have shape (B, {', '.join(map(str, image_shape))}), got {tuple(x.shape)}"]
    if not np.all(np.isfinite(x)):
        return ["real images contain NaN or infinite values"]
    lo, hi = float(x.min()), float(x.max())
    if lo < -1.0 - 1e-5 or hi > 1.0 + 1e-5:
        return [f"real images must lie in [-1, 1] (the generator's tanh range), got [{lo:.4g}, {hi:.4g}]; scale 0-255 pixels with "
                "kit.data.scale_images(x, 'tanh')"]
    if lo >= 0.0:
        return [f"real images look scaled to [0, 1] (a whole batch in [{lo:.4g}, {hi:.4g}]), but the generator draws in [-1, 1]: "
                "use 2 * x - 1, or load_fashion_mnist('tanh')"]
    return []


def fixed_latent(model: AdversarialModel, n: int, seed: int = 1234):
    """``n`` latent vectors float32 (n, latent_dim) from a NumPy generator seeded with ``seed``: the same z for
    every call, independent of the model's seed stream (probes, sample grids)."""
    return np.random.default_rng(seed).standard_normal((n, model.latent_dim)).astype(np.float32)


__all__ = ["AdversarialModel", "fixed_latent", "image_problems", "mixed_precision", "wrap_optimizer"]

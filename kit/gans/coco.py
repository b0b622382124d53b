"""COCO-GAN (Lin et al., 2019): generation by parts with coordinate conditioning.

The generator never draws a whole image while training. For each image it draws the k x k micro patches of
one macro patch, all from the same z, each at its own coordinate; Phi (:func:`~kit.gans.coco_grid.merge_patches`)
puts them together, and the discriminator judges the macro patch against a real one cut at the same
coordinate, and regresses that coordinate. At inference the same generator draws every micro patch of the
grid and Phi assembles the full image; extending the grid past [-1, 1] draws beyond the training boundary.

Losses (the course's reference report, with a correct WGAN-GP):

    D:  L_W + lambda * L_GP + alpha * L_S(real)          L_W = E[D(fake)] - E[D(real)]
    G: -E[D(fake)] + alpha * L_S(fake) [+ l1 * L_1 coarse + fm * L_FM, by stage]

L_S is the spatial-consistency loss: the mean squared error of D's coordinate head. D learns it on real
macro patches only (on fakes it could learn G's own quirks as positions, the ACGAN failure); G is rewarded
when D can tell where its patch belongs. L_GP is :func:`kit.gans.losses.gradient_penalty`: one interpolation
weight per example, the gradient norm over all of (H, W, C).

Cloudy-to-lucid training runs as named stages of one model (:data:`STAGES`, :func:`fit_stages`):

1. ``cloudy``: real macro patches are low-passed (average-pool by 4, bilinear back up), so G first learns
   the coarse layout; an L1 loss pulls the batch-mean fake macro patch towards the batch-mean coarse real one
   at the same coordinates (a stable signal that does not pull every sample to the same image). No L_S yet.
2. ``detail``: low-pass by 2; feature matching on D's pooled features and the spatial-consistency loss join.
3. ``lucid``: full-resolution real patches; adversarial + L_S.

Beyond-boundary fine-tuning (:func:`fine_tune_beyond`, stage ``beyond``): fake macro positions are drawn from
a grid extended by ``margin`` micro patches on every side; D judges each at the nearest in-range coordinate
(it has never seen others), against real patches there, and L_S is off.

Patch-guided generation (:class:`QNetwork`, :func:`fit_q_network`): an encoder reads z off one real macro
patch, and the generator draws the whole image around it.

Images are drawn with an exponential moving average of the generator's weights (``ema_decay``, as in
ProGAN, StyleGAN and BigGAN): a WGAN generator's weights keep circling around a good solution from one update
to the next, and their average draws cleaner samples than the last iterate. Training always uses and
updates the generator itself; the average only follows it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import keras
import numpy as np
from keras import ops

from kit.callbacks import EpochTimer, NaNGuard
from kit.checks import check_choice, check_images, check_positive_int
from kit.gans.coco_grid import PatchGrid, merge_patches
from kit.gans.losses import get_loss, gradient_penalty
from kit.gans.models import AdversarialModel
from kit.gans.training import fit_gan

LOWPASS_FACTORS = (1, 2, 4)
PATCHES_PER_CALL = 4096  # micro patches per generator call when generating images (bounds inference memory)
EMA_DECAY = 0.999  # weight average half-life about 700 generator updates (about one epoch at the cpu profile)


@dataclass(frozen=True)
class Stage:
    """One stage of cloudy-to-lucid training: what D sees and which extra losses G gets.

    lowpass: real macro patches are average-pooled by this factor (1, 2 or 4) and resized back up.
    l1_weight: weight of the L1 between batch-mean fake and batch-mean low-passed real macro patches.
    fm_weight: weight of feature matching (L1 between batch-mean D features of real and fake).
    coord_weight: alpha, the weight of the spatial-consistency loss L_S (both players).
    margin: micro patches beyond the boundary on every side from which fake macro positions are drawn.
    """

    name: str
    lowpass: int
    l1_weight: float
    fm_weight: float
    coord_weight: float
    margin: int = 0

    def __post_init__(self):
        check_choice(self.lowpass, LOWPASS_FACTORS, "low-pass factor")
        if min(self.l1_weight, self.fm_weight, self.coord_weight) < 0:
            raise ValueError(f"stage weights must be >= 0, got {self}")
        if self.margin < 0:
            raise ValueError(f"margin must be >= 0, got {self.margin}")


ALPHA = 1.0  # weight of L_S in the detail and lucid stages
STAGES = (
    Stage("cloudy", lowpass=4, l1_weight=10.0, fm_weight=0.0, coord_weight=0.0),
    Stage("detail", lowpass=2, l1_weight=0.0, fm_weight=1.0, coord_weight=ALPHA),
    Stage("lucid", lowpass=1, l1_weight=0.0, fm_weight=0.0, coord_weight=ALPHA),
)
BEYOND = Stage("beyond", lowpass=1, l1_weight=0.0, fm_weight=0.0, coord_weight=0.0, margin=1)


def coordinate_loss(predicted, target):
    """L_S: mean squared error between predicted and true coordinates, both (B, 2); 0 when they agree."""
    predicted, target = ops.cast(predicted, "float32"), ops.cast(target, "float32")
    if tuple(predicted.shape[1:]) != (2,) or tuple(target.shape[1:]) != (2,):
        raise ValueError(f"coordinates must be (B, 2) (y, x), got {tuple(predicted.shape)} and {tuple(target.shape)}")
    return ops.mean(ops.square(predicted - target))


def lowpass(images, factor: int):
    """Coarse version of images (B, H, W, C): average-pool by ``factor``, bilinear resize back to (H, W)."""
    if factor == 1:
        return images
    h, w = int(images.shape[1]), int(images.shape[2])
    if h % factor or w % factor:
        raise ValueError(f"low-pass factor {factor} must divide the patch size {h}x{w}")
    small = ops.average_pool(images, pool_size=factor, strides=factor, padding="valid")
    return ops.image.resize(small, (h, w), interpolation="bilinear")


@keras.saving.register_keras_serializable(package="kit")
class COCOGAN(AdversarialModel):
    """COCO-GAN: ``generator([z, c]) -> micro patch``, ``discriminator([macro patch, c]) -> [score, coord,
    features]`` (see :mod:`kit.models.coco_models`). Fit on real full images float32 (B, S, S, C) in [-1, 1].

    Each ``train_step`` draws, per image of the batch, one z and one macro position (real and fake patches at
    the same position), makes ``n_critic`` critic updates and one generator update. ``model(z)`` and
    :meth:`generate` return assembled full images, so :class:`kit.gans.SampleGrid` and
    :func:`kit.gans.generate_many` work unchanged.

    Args:
        generator, discriminator: functional models as built by ``micro_generator`` / ``macro_discriminator``.
        grid: the :class:`~kit.gans.coco_grid.PatchGrid` (must match the networks' patch sizes).
        gp_weight: lambda of the gradient penalty. n_critic: critic updates per generator update.
        ema_decay: decay of the moving average of the generator's weights that draws images at inference
            (:attr:`sampler`); 0 turns the average off (images come from the generator itself). The decay
            warms up as min(ema_decay, (1 + t) / (10 + t)) after t updates, so a short stage is averaged over
            its own last steps rather than pulled back to the initial weights.
        seed: seed of z, positions and GP interpolation weights drawn in ``train_step``.

    Metrics: ``d_loss``, ``g_loss``, ``w_dist`` (E[D(real)] - E[D(fake)]), ``gp``, ``coord_real`` and
    ``coord_fake`` (L_S on real / fake patches), ``l1``, ``fm``.
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model, *, grid: PatchGrid, gp_weight: float = 10.0,
                 n_critic: int = 1, ema_decay: float = EMA_DECAY, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        for role, m in (("generator", generator), ("discriminator", discriminator)):
            if not isinstance(m, keras.Model):
                raise TypeError(f"{role} must be a keras.Model, got {type(m).__name__}")
        if not isinstance(grid, PatchGrid):
            raise TypeError(f"grid must be a kit.gans.coco_grid.PatchGrid, got {type(grid).__name__}")
        self.generator, self.discriminator, self.grid = generator, discriminator, grid
        self.gan_loss = get_loss("wgan-gp", gp_weight=gp_weight, n_critic=n_critic)
        self.seed = int(seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)
        if not isinstance(ema_decay, (int, float)) or not 0.0 <= ema_decay < 1.0:
            raise ValueError(f"ema_decay must be a number in [0, 1), got {ema_decay!r}")
        self.ema_decay = float(ema_decay)
        self.generator_ema = None
        if self.ema_decay > 0:
            self.generator_ema = keras.models.clone_model(generator)
            self.generator_ema.set_weights(generator.get_weights())
            self.generator_ema.trainable = False  # set before compile: never a gradient target
        self.ema_updates = self.add_weight(shape=(), initializer="zeros", trainable=False, name="ema_updates")
        self.latent_dim = int(generator.input_shape[0][-1])
        m, big = grid.micro_size, grid.macro_size
        patch_shape = tuple(generator.output_shape[1:])
        self.channels = patch_shape[-1]
        if patch_shape[:2] != (m, m):
            raise ValueError(f"generator draws {patch_shape} patches but the grid's micro patches are {m}x{m}")
        d_shape = tuple(discriminator.input_shape[0][1:])
        if d_shape != (big, big, self.channels):
            raise ValueError(f"discriminator expects {d_shape} but the grid's macro patches are ({big}, {big}, {self.channels})")
        self.image_shape = (grid.image_size, grid.image_size, self.channels)
        # Stage settings live in variables: switching stage needs no retrace, and checkpoints carry them.
        self.lowpass_mix = self.add_weight(shape=(len(LOWPASS_FACTORS),), initializer="zeros", trainable=False, name="lowpass_mix")
        self.stage_weights = self.add_weight(shape=(4,), initializer="zeros", trainable=False, name="stage_weights")
        self.stage = None
        self.set_stage(STAGES[-1])
        names = ["d_loss", "g_loss", "w_dist", "gp", "coord_real", "coord_fake", "l1", "fm"]
        self.trackers = {n: keras.metrics.Mean(name=n) for n in names}
        self.built = True

    # -- stages --------------------------------------------------------------------------------------------
    def set_stage(self, stage: Stage | str, **changes) -> Stage:
        """Switch training to a :class:`Stage` (or the name of one of :data:`STAGES` / ``"beyond"``), with
        optional field changes, e.g. ``set_stage("beyond", margin=2)``. Returns the stage now active."""
        if isinstance(stage, str):
            known = {s.name: s for s in (*STAGES, BEYOND)}
            stage = known[check_choice(stage, known, "stage")]
        stage = replace(stage, **changes)
        if stage.lowpass > 1 and self.grid.macro_size % stage.lowpass:
            raise ValueError(f"low-pass factor {stage.lowpass} does not divide the {self.grid.macro_size}-pixel macro patch")
        self.lowpass_mix.assign(np.array([f == stage.lowpass for f in LOWPASS_FACTORS], np.float32))
        self.stage_weights.assign(np.array([stage.l1_weight, stage.fm_weight, stage.coord_weight, stage.margin], np.float32))
        self.stage = stage
        return stage

    # -- coordinates on the device -------------------------------------------------------------------------
    def _sample_positions(self, batch, margin=None, seed_generator=None):
        """Per image: the top-left micro index (row, col) of its fake macro patch, float (B, 2), possibly
        outside the grid by ``margin`` (default: the stage's), and the in-range macro position (B, 2) int32
        nearest to it. ``seed_generator``: whose random stream to draw from (default: the model's)."""
        margin = self.stage_weights[3] if margin is None else margin
        n_ext = self.grid.n_macro + 2.0 * margin
        u = keras.random.uniform((batch, 2), seed=self.seed_generator if seed_generator is None else seed_generator)
        top_left = ops.minimum(ops.floor(u * n_ext), n_ext - 1.0) - margin
        inside = ops.cast(ops.clip(top_left, 0.0, self.grid.n_macro - 1.0), "int32")
        return top_left, inside

    def _macro_coord(self, inside):
        """Macro coordinates (B, 2) in [-1, 1] of in-range macro positions (B, 2) int32."""
        g = self.grid
        return ops.cast(inside, "float32") * g.macro_step - (1.0 if g.n_macro > 1 else 0.0)

    def _micro_inputs(self, z, top_left):
        """Generator inputs for the k x k micro patches of each macro patch: z repeated (B k k, latent) and
        their coordinates (B k k, 2), row-major inside each macro patch."""
        g, k = self.grid, self.grid.ratio
        offsets = np.stack(np.meshgrid(np.arange(k), np.arange(k), indexing="ij"), -1).reshape(1, k * k, 2)
        index = top_left[:, None, :] + offsets.astype(np.float32)  # (B, k k, 2)
        coords = index * g.micro_step - (1.0 if g.n_micro > 1 else 0.0)
        return ops.repeat(z, k * k, axis=0), ops.reshape(coords, (-1, 2))

    def _real_macro(self, real, inside):
        """Cut each real image's macro patch at its position: (B, S, S, C) -> (B, M, M, C)."""
        import tensorflow as tf

        g = self.grid
        crops = [real[:, r * g.micro_size : r * g.micro_size + g.macro_size, c * g.micro_size : c * g.micro_size + g.macro_size]
                 for r in range(g.n_macro) for c in range(g.n_macro)]
        index = inside[:, 0] * g.n_macro + inside[:, 1]
        return tf.gather(ops.stack(crops, axis=1), index, batch_dims=1)

    def _lowpassed(self, patches):
        mix = ops.cast(self.lowpass_mix, patches.dtype)
        out = 0.0
        for i, f in enumerate(LOWPASS_FACTORS):
            if self.grid.macro_size % f == 0:
                out = out + mix[i] * lowpass(patches, f)
        return out

    def fake_macro(self, z, top_left, training=False):
        """Phi(G(z, c) for the k x k micro patches whose top-left micro index is ``top_left`` (B, 2)), drawn
        by the generator when ``training``, else by the :attr:`sampler`."""
        z_rep, coords = self._micro_inputs(z, top_left)
        return merge_patches(self._network(training)([z_rep, coords], training=training), self.grid.ratio)

    # -- the weight average --------------------------------------------------------------------------------
    @property
    def sampler(self) -> keras.Model:
        """The network that draws images at inference: the weight average (``generator_ema``) when
        ``ema_decay`` > 0, else the generator."""
        return self.generator if self.generator_ema is None else self.generator_ema

    def _update_average(self):
        if self.generator_ema is None:
            return
        self.ema_updates.assign_add(1.0)
        t = self.ema_updates
        decay = ops.minimum(self.ema_decay, (1.0 + t) / (10.0 + t))
        for avg, w in zip(self.generator_ema.weights, self.generator.weights):
            # Trainable weights are averaged; anything else (normalisation statistics) is copied.
            avg.assign(decay * avg + (1.0 - decay) * w if w.trainable else w)

    def reset_average(self):
        """Restart the weight average at the generator's current weights (its warm-up starts again): for a
        fine-tuning run whose changes the long average would otherwise hide."""
        if self.generator_ema is not None:
            self.generator_ema.set_weights(self.generator.get_weights())
        self.ema_updates.assign(0.0)

    # -- training ------------------------------------------------------------------------------------------
    def train_step(self, data):
        import tensorflow as tf

        real_full = data[0] if isinstance(data, (tuple, list)) else data
        if tuple(real_full.shape[1:]) != self.image_shape:
            raise ValueError(f"real images must have shape (B, {', '.join(map(str, self.image_shape))}), got {tuple(real_full.shape)}")
        batch = ops.shape(real_full)[0]
        l1_w, fm_w, alpha = self.stage_weights[0], self.stage_weights[1], self.stage_weights[2]
        for _ in range(self.gan_loss.n_critic):
            z = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
            top_left, inside = self._sample_positions(batch)
            c = self._macro_coord(inside)
            real = self._lowpassed(self._real_macro(real_full, inside))
            fake = self.fake_macro(z, top_left, training=True)
            critic = lambda x: self.discriminator([x, c], training=True)[0]  # noqa: E731
            with tf.GradientTape() as tape:
                real_scores, real_coord, _ = self.discriminator([real, c], training=True)
                fake_scores = critic(fake)
                gp = gradient_penalty(critic, real, fake, keras.random.uniform((batch,), seed=self.seed_generator))
                coord_real = coordinate_loss(real_coord, c)
                d_loss = self.gan_loss.discriminator(real_scores, fake_scores) + self.gan_loss.gp_weight * gp + alpha * coord_real
                scaled = self._scaled(self.d_optimizer, d_loss)
            self._apply(self.d_optimizer, tape, scaled, self.discriminator.trainable_variables)

        z = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
        top_left, inside = self._sample_positions(batch)
        c = self._macro_coord(inside)
        real = self._lowpassed(self._real_macro(real_full, inside))
        _, _, real_features = self.discriminator([real, c], training=True)
        with tf.GradientTape() as tape:
            fake = self.fake_macro(z, top_left, training=True)
            scores, fake_coord, fake_features = self.discriminator([fake, c], training=True)
            coord_fake = coordinate_loss(fake_coord, c)
            l1 = ops.mean(ops.abs(ops.mean(ops.cast(fake, "float32"), axis=0) - ops.mean(ops.cast(real, "float32"), axis=0)))
            fm = ops.mean(ops.abs(ops.mean(fake_features, axis=0) - ops.stop_gradient(ops.mean(real_features, axis=0))))
            g_loss = self.gan_loss.generator(scores) + alpha * coord_fake + l1_w * l1 + fm_w * fm
            scaled = self._scaled(self.g_optimizer, g_loss)
        self._apply(self.g_optimizer, tape, scaled, self.generator.trainable_variables)
        self._update_average()
        return self._update(d_loss=d_loss, g_loss=g_loss, w_dist=ops.mean(real_scores) - ops.mean(fake_scores), gp=gp,
                            coord_real=coord_real, coord_fake=coord_fake, l1=l1, fm=fm)

    # -- generation ----------------------------------------------------------------------------------------
    def _check_z(self, z):
        z = ops.convert_to_tensor(z, "float32")
        if len(z.shape) != 2 or z.shape[-1] != self.latent_dim:
            raise ValueError(f"z must have shape (B, {self.latent_dim}), got {tuple(z.shape)}")
        return z

    def _network(self, training=False, average=True) -> keras.Model:
        """The generator while training or when the average is not wanted, else the :attr:`sampler`."""
        return self.generator if training or not average else self.sampler

    def _patches(self, z, extra: int, training=False, average=True):
        """Every micro patch of the grid extended by ``extra``, for each z: (B n n, m, m, C), image-major;
        drawn by the generator when ``training`` or not ``average``, else by the :attr:`sampler`."""
        coords = self.grid.micro_coords(extra)  # (n, n, 2)
        n = coords.shape[0]
        flat = ops.tile(ops.convert_to_tensor(coords.reshape(1, n * n, 2)), (ops.shape(z)[0], 1, 1))
        return self._network(training, average)([ops.repeat(z, n * n, axis=0), ops.reshape(flat, (-1, 2))], training=training)

    def _assemble(self, z, extra: int, training=False, average=True):
        return merge_patches(self._patches(z, extra, training, average), self.grid.n_micro + 2 * extra)

    def call(self, z, training=False):
        """Full images (B, S, S, C) in [-1, 1]: every micro patch of the grid, assembled by Phi (drawn by the
        generator when ``training``, else by the :attr:`sampler`)."""
        return self._assemble(z, 0, training=training)

    def sample_latent(self, n: int, seed: int | None = None):
        """z ~ N(0, I), float32 (n, latent_dim); from the model's seed stream, or a fixed ``seed``."""
        return keras.random.normal((n, self.latent_dim), seed=self.seed_generator if seed is None else seed)

    def _infer(self, build, z, extra: int, average=True):
        """``build(z chunk, extra)`` at inference as float32 numpy, a few thousand micro patches per generator
        call: every image is n x n patches, so a few thousand images at once would not fit in memory."""
        z = self._check_z(z)
        n = self.grid.n_micro + 2 * extra
        chunk = max(1, PATCHES_PER_CALL // (n * n))
        return np.concatenate([ops.convert_to_numpy(build(z[i : i + chunk], extra, average=bool(average))).astype("float32")
                               for i in range(0, int(z.shape[0]), chunk)])

    def generate(self, z, *, average: bool = True):
        """Assembled full images float32 (B, S, S, C) in [-1, 1] for z (B, latent_dim), drawn by the
        :attr:`sampler` (the weight average), or by the generator itself with ``average=False``."""
        return self._infer(self._assemble, z, 0, average)

    def generate_beyond(self, z, size: int):
        """Beyond-boundary images float32 (B, size, size, C) in [-1, 1]: the micro grid extended past
        [-1, 1]; ``size`` = image_size + 2 e micro_size (e.g. 48 from a 32x32 model with 8x8 micro patches).
        Drawn by the :attr:`sampler`, as are :meth:`micro_patches` and :meth:`generate_macro`."""
        return self._infer(self._assemble, z, self.grid.beyond_extra(size))

    def micro_patches(self, z, extra: int = 0):
        """Every micro patch of each image, not assembled: float32 (B, n, n, m, m, C), [b, row, col]."""
        n, m = self.grid.n_micro + 2 * extra, self.grid.micro_size
        return self._infer(self._patches, z, extra).reshape(-1, n, n, m, m, self.channels)

    def generate_macro(self, z, positions):
        """Generated macro patches float32 (B, M, M, C) at in-range macro positions int (B, 2) (row, col)."""
        z = self._check_z(z)
        pos = self.grid.check_macro_positions(positions, int(z.shape[0]))
        return ops.convert_to_numpy(self.fake_macro(z, ops.convert_to_tensor(pos.astype(np.float32)))).astype("float32")

    def predict_coords(self, patches, coords=None):
        """D's coordinate head on macro patches (B, M, M, C) in [-1, 1]: predicted (y, x) float32 (B, 2)."""
        patches = ops.convert_to_tensor(patches, "float32")
        c = ops.zeros((patches.shape[0], 2)) if coords is None else ops.convert_to_tensor(coords, "float32")
        return ops.convert_to_numpy(self.discriminator([patches, c], training=False)[1])

    # -- serialisation -------------------------------------------------------------------------------------
    def get_config(self):
        return {
            **super().get_config(),
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "grid": {"image_size": self.grid.image_size, "macro_size": self.grid.macro_size, "micro_size": self.grid.micro_size},
            "gp_weight": self.gan_loss.gp_weight,
            "n_critic": self.gan_loss.n_critic,
            "ema_decay": self.ema_decay,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        load = keras.saving.deserialize_keras_object
        return cls(**{**config, "generator": load(config["generator"]), "discriminator": load(config["discriminator"]),
                      "grid": PatchGrid(**config["grid"])})


def cocogan(grid: PatchGrid, *, channels: int = 1, latent_dim: int = 64, base_filters: int = 32, gp_weight: float = 10.0,
            n_critic: int = 2, pixel_coordinates: bool = True, ema_decay: float = EMA_DECAY, seed: int = 0) -> COCOGAN:
    """A COCO-GAN with the kit's networks for ``grid``: ``micro_generator`` + ``macro_discriminator``.

    ``pixel_coordinates`` (default): the generator gets every pixel's image coordinates instead of the patch
    coordinate in its normalisation, and draws each patch with the border of neighbouring pixels its 'valid'
    convolutions need (``micro_generator(pixel_step=grid.micro_step)``), so a patch is exactly a window of one
    continuous image; False: the paper's conditional normalisation on (z, c), where each patch learns on its
    own where its neighbours' strokes end (visible seams). ``n_critic``: critic updates per generator update;
    with one, the lucid stage collapsed to a few shapes at the cpu profile. ``ema_decay``: see :class:`COCOGAN`
    (0: images from the generator itself). Compile with :func:`ttur_optimizers`.
    """
    from kit.models.coco_models import macro_discriminator, micro_generator

    if pixel_coordinates and grid.n_micro == 1:
        raise ValueError("pixel coordinates need a grid of more than one micro patch per side")
    g = micro_generator(latent_dim, grid.micro_size, channels, base_filters, pixel_step=grid.micro_step if pixel_coordinates else None)
    d = macro_discriminator(grid.macro_size, channels, base_filters)
    return COCOGAN(g, d, grid=grid, gp_weight=gp_weight, n_critic=n_critic, ema_decay=ema_decay, seed=seed)


def ttur_optimizers(g_learning_rate: float = 2e-4, d_learning_rate: float = 4e-4):
    """The optimizers COCO-GAN trains with: Adam(beta_1=0, beta_2=0.99) for both networks, the critic's learning
    rate 2x the generator's (the two time-scale update rule of Heusel et al., 2017). The paper's code gives the
    generator 1e-4 (4x); measured at the cpu profile (benchmarks/cocogan.py, same seed, 2026-11-28), 2e-4 with
    the weight average drew 54% confidently classified samples at FID 26.1, against 47% at 29.8 with 1e-4.

    Returns:
        ``(g_optimizer, d_optimizer)``, fresh ``keras.optimizers.Adam`` instances for :meth:`COCOGAN.compile`.
    """
    for value, name in ((g_learning_rate, "g_learning_rate"), (d_learning_rate, "d_learning_rate")):
        if not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"{name} must be a positive number, got {value!r}")
    return (keras.optimizers.Adam(g_learning_rate, beta_1=0.0, beta_2=0.99),
            keras.optimizers.Adam(d_learning_rate, beta_1=0.0, beta_2=0.99))


def fit_stages(gan: COCOGAN, dataset, *, epochs, checkpoint_dir=None, snapshot_z=None, callbacks=(), verbose="auto") -> tuple[dict, dict]:
    """Cloudy-to-lucid training: the three :data:`STAGES` in order, each with ``fit_gan`` (so each resumes
    from its own checkpoint under ``checkpoint_dir / "<i>_<stage>"``).

    Args:
        gan: a compiled :class:`COCOGAN`.
        dataset: ``tf.data`` of real full images float32 (B, S, S, C) in [-1, 1], ``drop_remainder=True``.
        epochs: three epoch counts, one per stage (from the run profile).
        snapshot_z: optional z (N, latent_dim): the assembled images after each stage are returned for it.

    Returns:
        ``(histories, snapshots)``: ``{stage name: history}`` and ``{stage name: images (N, S, S, C)}``.
    """
    epochs = tuple(epochs)
    if len(epochs) != len(STAGES):
        raise ValueError(f"epochs needs one count per stage {[s.name for s in STAGES]}, got {epochs}")
    histories, snapshots = {}, {}
    for i, (stage, n) in enumerate(zip(STAGES, epochs)):
        gan.set_stage(stage)
        ckpt = None if checkpoint_dir is None else Path(checkpoint_dir) / f"{i + 1}_{stage.name}"
        print(f"stage {i + 1}/{len(STAGES)}: {stage.name} ({n} epochs)")
        histories[stage.name] = fit_gan(gan, dataset, epochs=check_positive_int(n, f"epochs of stage {stage.name!r}"),
                                        checkpoint_dir=ckpt, callbacks=callbacks, verbose=verbose)
        if snapshot_z is not None:
            snapshots[stage.name] = gan.generate(snapshot_z)
    gan.set_stage(STAGES[-1])
    return histories, snapshots


def fine_tune_beyond(gan: COCOGAN, dataset, *, steps: int, size: int, checkpoint_dir=None, verbose="auto") -> dict:
    """Beyond-boundary fine-tuning for ``size`` x ``size`` outputs: ``steps`` train steps in stage ``beyond``
    with the margin that size needs (fake macro positions drawn up to that far past the boundary). The weight
    average restarts at the generator's weights first (a few hundred steps would hardly move a long average).
    Returns the history; the model is left in the ``lucid`` stage."""
    steps = check_positive_int(steps, "steps")
    gan.reset_average()
    gan.set_stage(BEYOND, margin=max(1, gan.grid.beyond_extra(size)))
    try:
        ckpt = None if checkpoint_dir is None else Path(checkpoint_dir)
        return fit_gan(gan, dataset.repeat().take(steps), epochs=1, checkpoint_dir=ckpt, verbose=verbose)
    finally:
        gan.set_stage(STAGES[-1])


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
        :func:`kit.models.coco_models.macro_encoder` for ``gan``'s grid. rec_weight: weight of the real-patch
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
        import tensorflow as tf

        gan = self.gan
        real_full = data[0] if isinstance(data, (tuple, list)) else data
        batch = ops.shape(real_full)[0]
        z = keras.random.normal((batch, gan.latent_dim), seed=self.seed_generator)
        top_left, inside = gan._sample_positions(batch, margin=0.0, seed_generator=self.seed_generator)  # in range only
        c = gan._macro_coord(inside)
        fake = ops.stop_gradient(gan.fake_macro(z, top_left))
        real = gan._real_macro(real_full, inside)
        with tf.GradientTape() as tape:
            z_loss = ops.mean(ops.square(self.encoder([fake, c], training=True) - z))
            redrawn = gan.fake_macro(self.encoder([real, c], training=True), top_left)
            rec_l1 = ops.mean(ops.abs(ops.cast(redrawn, "float32") - ops.cast(real, "float32")))
            # Scaled under mixed_float16 (compile wraps self.optimizer in a LossScaleOptimizer there).
            scaled = AdversarialModel._scaled(self.optimizer, z_loss + self.rec_weight * rec_l1)
        AdversarialModel._apply(self.optimizer, tape, scaled, self.encoder.trainable_variables)
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
    """A :class:`QNetwork` for ``gan`` with :func:`kit.models.coco_models.macro_encoder`."""
    from kit.models.coco_models import macro_encoder

    g = gan.grid
    return QNetwork(gan, macro_encoder(g.macro_size, gan.channels, gan.latent_dim, base_filters), rec_weight=rec_weight, seed=seed)


def fit_q_network(q: QNetwork, dataset, *, epochs: int, learning_rate: float = 1e-3, checkpoint=None, jit_compile: bool = False,
                  verbose="auto") -> dict:
    """Train ``q`` (its encoder only) for ``epochs`` epochs on ``dataset`` (real full images float32 (B, S, S, C) in
    [-1, 1], ``drop_remainder=True``), with Adam. ``checkpoint``: a ``.weights.h5`` path; when it exists the
    encoder's weights are loaded from it instead of training, else they are saved there after training.
    Returns the history ``{metric: [one value per epoch]}`` (empty when loaded)."""
    epochs = check_positive_int(epochs, "epochs")
    if checkpoint is not None and Path(checkpoint).exists():
        q.encoder.load_weights(checkpoint)
        print(f"Q network loaded from {checkpoint}")
        return {}
    q.compile(optimizer=keras.optimizers.Adam(learning_rate), jit_compile=bool(jit_compile))
    h = q.fit(dataset, epochs=epochs, verbose=verbose, shuffle=False, callbacks=[EpochTimer(), NaNGuard()])
    if checkpoint is not None:
        Path(checkpoint).parent.mkdir(parents=True, exist_ok=True)
        q.encoder.save_weights(checkpoint)
    return {k: [float(v) for v in vs] for k, vs in h.history.items()}

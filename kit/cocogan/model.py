"""COCO-GAN (Lin et al., 2019): generation by parts with coordinate conditioning.

The generator never draws a whole image while training. For each image it draws the k x k micro patches of
one macro patch, all from the same z, each at its own coordinate; Phi (:func:`~kit.cocogan.grid.merge_patches`)
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

Cloudy-to-lucid training runs as named stages of one model (:mod:`kit.cocogan.stages`,
:func:`kit.cocogan.fit_stages`); patch-guided generation is :mod:`kit.cocogan.qnet`.

Images are drawn with an exponential moving average of the generator's weights (``ema_decay``, as in
ProGAN, StyleGAN and BigGAN): a WGAN generator's weights keep circling around a good solution from one update
to the next, and their average draws cleaner samples than the last iterate. Training always uses and
updates the generator itself; the average only follows it.
"""


from __future__ import annotations

from dataclasses import replace

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from kit import distribute
from kit.checks import check_choice, check_finite, check_images
from kit.cocogan.grid import PatchGrid, merge_patches
from kit.cocogan.networks import without_context
from kit.cocogan.stages import BEYOND, LOWPASS_FACTORS, STAGES, Stage, coordinate_loss, lowpass
from kit.gans import AdversarialModel, get_loss, gradient_penalty
from kit.gans.base import fixed_latent

PATCHES_PER_CALL = 4096  # micro patches per generator call when generating images (bounds inference memory)
EMA_DECAY = 0.999  # weight average half-life about 700 generator updates (about one epoch at the cpu profile)


@keras.saving.register_keras_serializable(package="kit")
class COCOGAN(AdversarialModel):
    """COCO-GAN: ``generator([z, c]) -> micro patch``, ``discriminator([macro patch, c]) -> [score, coord,
    features]`` (see :mod:`kit.cocogan.networks`). Fit on real full images float32 (B, S, S, C) in [-1, 1].

    Each ``train_step`` draws, per image of the batch, one z and one macro position (real and fake patches at
    the same position), makes ``n_critic`` critic updates and one generator update. ``model(z)`` and
    :meth:`generate` return assembled full images, so :class:`kit.gans.SampleGrid` and
    :func:`kit.gans.generate_many` work unchanged.

    Args:
        generator, discriminator: functional models as built by ``micro_generator`` / ``macro_discriminator``.
        grid: the :class:`~kit.cocogan.grid.PatchGrid` (must match the networks' patch sizes).
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
        super().__init__(seed=seed, trackers=("d_loss", "g_loss", "w_dist", "gp", "coord_real", "coord_fake", "l1", "fm"), **kwargs)
        for role, m in (("generator", generator), ("discriminator", discriminator)):
            if not isinstance(m, keras.Model):
                raise TypeError(f"{role} must be a keras.Model, got {type(m).__name__}")
        if not isinstance(grid, PatchGrid):
            raise TypeError(f"grid must be a kit.cocogan.PatchGrid, got {type(grid).__name__}")
        self.generator, self.discriminator, self.grid = generator, discriminator, grid
        self.gan_loss = get_loss("wgan-gp", gp_weight=gp_weight, n_critic=n_critic)
        if not isinstance(ema_decay, (int, float)) or not 0.0 <= ema_decay < 1.0:
            raise ValueError(f"ema_decay must be a number in [0, 1), got {ema_decay!r}")
        self.ema_decay = float(ema_decay)
        self.start_average()  # the weight average of kit.gans.AdversarialModel, updated by track()
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
        u = distribute.uniform((batch, 2), self.seed_generator if seed_generator is None else seed_generator)
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

    # -- training ------------------------------------------------------------------------------------------
    def train_step(self, data):
        real_full = data[0] if isinstance(data, (tuple, list)) else data
        if tuple(real_full.shape[1:]) != self.image_shape:
            raise ValueError(f"real images must have shape (B, {', '.join(map(str, self.image_shape))}), got {tuple(real_full.shape)}")
        batch = ops.shape(real_full)[0]
        l1_w, fm_w, alpha = self.stage_weights[0], self.stage_weights[1], self.stage_weights[2]
        for _ in range(self.gan_loss.n_critic):
            z = self.sample_latent(batch)
            top_left, inside = self._sample_positions(batch)
            c = self._macro_coord(inside)
            real = self._lowpassed(self._real_macro(real_full, inside))
            fake = self.fake_macro(z, top_left, training=True)
            critic = lambda x: self.discriminator([x, c], training=True)[0]  # noqa: E731
            with tf.GradientTape() as tape:
                real_scores, real_coord, _ = self.discriminator([real, c], training=True)
                fake_scores = critic(fake)
                gp = gradient_penalty(critic, real, fake, distribute.uniform((batch,), self.seed_generator))
                coord_real = coordinate_loss(real_coord, c)
                d_loss = self.gan_loss.discriminator(real_scores, fake_scores) + self.gan_loss.gp_weight * gp + alpha * coord_real
                scaled = self.scale_loss(self.d_optimizer, d_loss)
            self.apply_gradients(self.d_optimizer, tape, scaled, self.discriminator)

        z = self.sample_latent(batch)
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
            scaled = self.scale_loss(self.g_optimizer, g_loss)
        self.apply_gradients(self.g_optimizer, tape, scaled, self.generator)
        return self.track(d_loss=d_loss, g_loss=g_loss, w_dist=ops.mean(real_scores) - ops.mean(fake_scores), gp=gp,
                            coord_real=coord_real, coord_fake=coord_fake, l1=l1, fm=fm)

    def check_real_batch(self, batch) -> list[str]:
        real = batch[0] if isinstance(batch, (tuple, list)) else batch
        x = np.asarray(real)
        if not np.issubdtype(x.dtype, np.floating) or tuple(x.shape[1:]) != self.image_shape:
            return [f"real images must be float (B, {', '.join(map(str, self.image_shape))}) in [-1, 1], got {x.dtype} {x.shape}"]
        if not np.all(np.isfinite(x)) or x.min() < -1 - 1e-5 or x.max() > 1 + 1e-5:
            return [f"real images must be finite and lie in [-1, 1], got [{x.min():.4g}, {x.max():.4g}]"]
        if x.min() >= 0:
            return [f"real images look scaled to [0, 1] (a whole batch in [{x.min():.4g}, {x.max():.4g}]); the generator draws in [-1, 1]"]
        return []

    def probe_outputs(self, batch) -> dict:
        real = batch[0] if isinstance(batch, (tuple, list)) else batch
        z = ops.convert_to_tensor(fixed_latent(self, 4))
        top_left, inside = ops.zeros((4, 2)), ops.zeros((4, 2), "int32")
        c = self._macro_coord(inside)
        fake = self.fake_macro(z, top_left, training=True)
        return {"the generator": fake,
                "the discriminator (real patches)": self.discriminator([self._real_macro(real[:4], inside), c], training=False)[0],
                "the discriminator (generated patches)": self.discriminator([fake, c], training=False)[0]}

    # -- generation ----------------------------------------------------------------------------------------
    def _check_z(self, z):
        z = check_finite(z, "z").astype(np.float32)
        if z.ndim != 2 or z.shape[-1] != self.latent_dim:
            raise ValueError(f"z must have shape (B, {self.latent_dim}), got {tuple(z.shape)}")
        return ops.convert_to_tensor(z)

    def _network(self, training=False, average=True) -> keras.Model:
        """The generator while training or when the average is not wanted, else the :attr:`sampler`."""
        return self.generator if training or not average else self.sampler

    def _patches(self, z, extra: int, training=False, average=True, network=None):
        """Every micro patch of the grid extended by ``extra``, for each z: (B n n, m, m, C), image-major;
        drawn by ``network`` if given, else by the generator when ``training`` or not ``average``, else by the
        :attr:`sampler`."""
        coords = self.grid.micro_coords(extra)  # (n, n, 2)
        n = coords.shape[0]
        flat = ops.tile(ops.convert_to_tensor(coords.reshape(1, n * n, 2)), (ops.shape(z)[0], 1, 1))
        net = self._network(training, average) if network is None else network
        return net([ops.repeat(z, n * n, axis=0), ops.reshape(flat, (-1, 2))], training=training)

    def _assemble(self, z, extra: int, training=False, average=True, network=None):
        return merge_patches(self._patches(z, extra, training, average, network), self.grid.n_micro + 2 * extra)

    def call(self, z, training=False):
        """Full images (B, S, S, C) in [-1, 1]: every micro patch of the grid, assembled by Phi (drawn by the
        generator when ``training``, else by the :attr:`sampler`)."""
        return self._assemble(z, 0, training=training)

    def _infer(self, build, z, extra: int, average=True, **kwargs):
        """``build(z chunk, extra)`` at inference as float32 numpy, a few thousand micro patches per generator
        call: every image is n x n patches, so a few thousand images at once would not fit in memory."""
        z = self._check_z(z)
        n = self.grid.n_micro + 2 * extra
        chunk = max(1, PATCHES_PER_CALL // (n * n))
        return np.concatenate([ops.convert_to_numpy(build(z[i : i + chunk], extra, average=bool(average), **kwargs)).astype("float32")
                               for i in range(0, int(z.shape[0]), chunk)])

    def generate(self, z, *, average: bool = True, context: bool = True):
        """Assembled full images float32 (B, S, S, C) in [-1, 1] for z (B, latent_dim), drawn by the
        :attr:`sampler` (the weight average), or by the generator itself with ``average=False``.

        ``context=False``: every micro patch drawn the paper's way, on its own with zero padding in place of
        its neighbours' pixels (:func:`kit.cocogan.networks.without_context`, the same weights), so the seams
        the pixel-coordinate generator's border avoids can be seen and measured."""
        if context:
            return self._infer(self._assemble, z, 0, average)
        return self._infer(self._assemble, z, 0, average, network=without_context(self._network(False, average)))

    def generate_beyond(self, z, size: int, *, average: bool = True):
        """Beyond-boundary images float32 (B, size, size, C) in [-1, 1]: the micro grid extended past
        [-1, 1]; ``size`` = image_size + 2 e micro_size (e.g. 48 from a 32x32 model with 8x8 micro patches).
        Drawn by the :attr:`sampler` (as are :meth:`micro_patches` and :meth:`generate_macro`), or by the
        generator itself with ``average=False``."""
        return self._infer(self._assemble, z, self.grid.beyond_extra(size), average)

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

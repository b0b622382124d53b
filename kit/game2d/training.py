"""Training the 2-D GANs of notebook 00 and recording the game as it goes.

The networks are small MLPs (:func:`mlp_generator`, :func:`mlp_discriminator`) and the model is the course's own
:class:`kit.gans.GAN`, whose ``train_step`` works on any generator/discriminator pair: its loss is ``"bce"`` (the
plain, non-saturating GAN) or ``"wgan-gp"`` (the fix). :func:`train` runs its ``train_step`` inside one
``tf.function`` loop (thousands of tiny steps: ``model.fit``'s per-step overhead would dominate) and takes a
:class:`Snapshot` at evenly spaced steps: G's samples, D's surface over the plane, the value of the game, the
Jensen-Shannon estimate and the modes covered.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import keras
import numpy as np
import tensorflow as tf

from kit import gans
from kit.checks import check_choice, check_positive_int
from kit.game2d.data import Mixture, mode_coverage
from kit.game2d.theory import DensityGrid, compare_with_optimal, densities, js_divergence, optimal_discriminator, value_function

LOSSES = ("bce", "wgan-gp")


def mlp_generator(latent_dim: int, width: int, depth: int, name: str = "generator") -> keras.Model:
    """G: z float32 (B, latent_dim) -> points (B, 2): ``depth`` ReLU layers of ``width`` units, a linear output
    (the plane is unbounded: no tanh)."""
    latent_dim, width, depth = (check_positive_int(v, n) for v, n in ((latent_dim, "latent_dim"), (width, "width"), (depth, "depth")))
    z = keras.Input((latent_dim,), name="z")
    x = z
    for i in range(depth):
        x = keras.layers.Dense(width, activation="relu", name=f"dense_{i + 1}")(x)
    return keras.Model(z, keras.layers.Dense(2, name="point")(x), name=name)


def mlp_discriminator(width: int, depth: int, name: str = "discriminator") -> keras.Model:
    """D: points float32 (B, 2) -> scores (B, 1): ``depth`` ReLU layers of ``width`` units, a linear output (a
    logit for BCE, a critic's score for WGAN-GP)."""
    width, depth = check_positive_int(width, "width"), check_positive_int(depth, "depth")
    x_in = keras.Input((2,), name="point")
    x = x_in
    for i in range(depth):
        x = keras.layers.Dense(width, activation="relu", name=f"dense_{i + 1}")(x)
    return keras.Model(x_in, keras.layers.Dense(1, name="score")(x), name=name)


def density_grid(mixture: Mixture, bandwidth: float) -> DensityGrid:
    """The grid the densities of ``mixture`` are compared on: its plotting window, cells of half the bandwidth."""
    return DensityGrid(mixture.extent, int(np.ceil(4 * mixture.extent / bandwidth)))


@dataclass
class Snapshot:
    """The game at one step. ``samples`` (N, 2): the generator's (its weight average's, when ``ema_decay`` > 0)
    points from the run's fixed z; ``surface`` (S, S): D's probability that a point is real (BCE) or the critic's
    score (WGAN-GP) over the run's surface grid; ``value``: V(D, G) on fresh real points and G's own points
    (BCE only, else None); ``js``: the JS estimate between the data and ``samples`` (:mod:`kit.game2d.theory`);
    the modes covered and the high-quality share of ``samples`` (:func:`~kit.game2d.mode_coverage`)."""

    step: int
    samples: np.ndarray
    surface: np.ndarray
    value: float | None
    js: float
    modes_covered: int
    high_quality_share: float
    mode_counts: np.ndarray  # int (K,): high-quality samples near each mode


@dataclass
class Run:
    """One trained 2-D GAN: the model (``gan.generator``, ``gan.discriminator``), its target, loss, seed, the
    snapshots in step order, the wall seconds of training, and the settings it ran with."""

    gan: gans.GAN
    mixture: Mixture
    loss: str
    seed: int
    snapshots: list[Snapshot] = field(default_factory=list)
    seconds: float = 0.0
    settings: object = None

    @property
    def final(self) -> Snapshot:
        return self.snapshots[-1]

    def history(self) -> dict:
        """``{"step", "value", "js", "modes_covered", "high_quality_share"}``: NumPy arrays over the snapshots
        (``value`` is NaN where it is not defined)."""
        s = self.snapshots
        return {"step": np.array([x.step for x in s]), "value": np.array([np.nan if x.value is None else x.value for x in s]),
                "js": np.array([x.js for x in s]), "modes_covered": np.array([x.modes_covered for x in s]),
                "high_quality_share": np.array([x.high_quality_share for x in s])}

    def surface_points(self) -> np.ndarray:
        """The points (S*S, 2) of the surface grid, row-major like :class:`DensityGrid`."""
        return DensityGrid(self.mixture.extent, self.settings.surface_resolution).points

    def fixed_latent(self) -> np.ndarray:
        """The z float32 (eval_samples, latent_dim) every snapshot draws from."""
        return np.random.default_rng(10_000 + self.seed).standard_normal((self.settings.eval_samples, self.gan.latent_dim)).astype(np.float32)

    def discriminator_probabilities(self, points) -> np.ndarray:
        """D's probability float64 (N,) that each of ``points`` (N, 2) is real: sigmoid of its logit (BCE only)."""
        if self.loss != "bce":
            raise ValueError(f"a {self.loss} critic's scores are not probabilities; use a BCE run")
        return _probabilities(self.gan.discriminator, points)

    def generator_samples(self, n: int | None = None, seed: int = 0) -> np.ndarray:
        """Points (n, 2) of the generator itself (not its weight average): the player D was trained against."""
        n = check_positive_int(n or self.settings.eval_samples, "n")
        z = np.random.default_rng(seed).standard_normal((n, self.gan.latent_dim)).astype(np.float32)
        return np.asarray(self.gan.generator(z, training=False), np.float32)


def _probabilities(discriminator, points) -> np.ndarray:
    """sigmoid(D(points)) as float64 (N,): a BCE discriminator's probability that each point (N, 2) is real."""
    logits = discriminator(np.asarray(points, np.float32), training=False)
    return 1.0 / (1.0 + np.exp(-np.asarray(logits, np.float64).ravel()))


def _snapshot(run: Run, step: int, grid: DensityGrid, z: np.ndarray) -> Snapshot:
    s = run.settings
    samples = run.gan.generate(z)
    scores = np.asarray(run.gan.discriminator(run.surface_points().astype(np.float32), training=False), np.float64).ravel()
    surface = (1.0 / (1.0 + np.exp(-scores)) if run.loss == "bce" else scores).reshape(s.surface_resolution, s.surface_resolution)
    value = None
    if run.loss == "bce":
        real = run.mixture.sample(s.eval_samples, seed=20_000 + step)
        fake = run.gan.generator(z, training=False)
        value = value_function(run.gan.discriminator(real, training=False), run.gan.discriminator(fake, training=False))
    cover = mode_coverage(samples, run.mixture, min_share=s.min_mode_share)
    return Snapshot(step, samples, surface.astype(np.float32), value, js_divergence(*densities(samples, run.mixture, grid, s.kde_bandwidth)),
                    cover["modes_covered"], cover["high_quality_share"], cover["counts"])


def train(mixture: Mixture, settings, *, loss: str, seed: int, steps: int | None = None) -> Run:
    """Train a 2-D GAN on ``mixture`` and record its snapshots.

    Args:
        mixture: the target (:func:`~kit.game2d.ring`, :func:`~kit.game2d.grid`).
        settings: the run profile's section ``P.game2d`` (networks, optimizer, steps, frames, evaluation sizes).
        loss: ``"bce"`` (the plain GAN, non-saturating) or ``"wgan-gp"``.
        seed: seeds the networks' initial weights, the noise of training and the evaluation z.
        steps: generator steps (default ``settings.steps``); each makes ``settings.n_critic`` D steps first.

    Returns:
        A :class:`Run` with ``settings.frames + 1`` snapshots (step 0 included).
    """
    if not isinstance(mixture, Mixture):
        raise TypeError(f"mixture must be a kit.game2d.Mixture (ring() or grid()), got {type(mixture).__name__}")
    check_choice(loss, LOSSES, "2-D GAN loss")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    s = settings
    steps = check_positive_int(steps if steps is not None else s.steps, "steps")
    keras.utils.set_random_seed(int(seed))
    gan_loss = gans.get_loss(loss, n_critic=s.n_critic, **({"gp_weight": s.gp_weight} if loss == "wgan-gp" else {}))
    policy = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("float32")  # points need float32 (sigma 0.02 at radius 2), also under mixed_float16
    try:
        gan = gans.GAN(mlp_generator(s.latent_dim, s.width, s.depth), mlp_discriminator(s.width, s.depth), loss=gan_loss, seed=int(seed),
                       ema_decay=s.ema_decay)
        gan.compile(g_optimizer=keras.optimizers.Adam(s.learning_rate, beta_1=0.5, beta_2=0.9),
                    d_optimizer=keras.optimizers.Adam(s.learning_rate, beta_1=0.5, beta_2=0.9), jit_compile=False)
    finally:
        keras.mixed_precision.set_global_policy(policy)
    run = Run(gan, mixture, loss, int(seed), settings=s)
    noise = tf.random.Generator.from_seed(int(seed) + 1)

    @tf.function
    def advance(n):
        for _ in tf.range(n):
            gan.train_step(mixture.sample_tf(s.batch_size, noise))

    grid, z = density_grid(mixture, s.kde_bandwidth), run.fixed_latent()
    run.snapshots.append(_snapshot(run, 0, grid, z))
    marks = np.linspace(0, steps, min(s.frames, steps) + 1).round().astype(int)
    start = time.perf_counter()
    for a, b in zip(marks[:-1], marks[1:]):
        advance(tf.constant(int(b - a)))
        run.seconds += time.perf_counter() - start
        run.snapshots.append(_snapshot(run, int(b), grid, z))
        start = time.perf_counter()
    return run


@dataclass
class BestResponse:
    """A discriminator trained alone against a generator whose density is known exactly (a :class:`Mixture`), so
    that D* is exact, not estimated: ``steps`` (S,) D steps at each reading, ``mean_abs_error`` (S,) E|D - D*| over
    points drawn from (p_data + p_g) / 2 (where D is trained; elsewhere D* does not matter), ``constant_half_error``
    the same for a D that says 1/2, ``d_star`` and ``d`` (R, R) on the surface grid at the end, and the grid's extent."""

    steps: np.ndarray
    mean_abs_error: np.ndarray
    constant_half_error: float
    d_star: np.ndarray
    d: np.ndarray
    extent: float


def best_response(mixture: Mixture, generator: Mixture, settings, *, steps: int, readings: int = 10, seed: int = 0,
                  optimal=optimal_discriminator) -> BestResponse:
    """Proposition 1 of Goodfellow et al. (2014), checked numerically: for a *fixed* generator, training D on
    V(D, G) drives it to D* = p_data / (p_data + p_g).

    The "generator" is a known mixture (e.g. a collapsed one covering some of the modes, a little too wide), so D*
    is exact. D is a fresh :func:`mlp_discriminator` of the profile's size, trained with the non-saturating BCE
    loss on fresh points from both every step (Adam at the profile's learning rate, betas (0.5, 0.9)).

    Args:
        mixture: the data, ``generator``: the fixed generator's distribution (both :class:`Mixture`).
        settings: the profile's ``P.game2d``; steps: D steps in all; readings: error readings along the way.
        optimal: the formula D*(p_data, p_g) (yours, or :func:`optimal_discriminator`).
    """
    for m, name in ((mixture, "mixture"), (generator, "generator")):
        if not isinstance(m, Mixture):
            raise TypeError(f"{name} must be a kit.game2d.Mixture, got {type(m).__name__}")
    steps, readings = check_positive_int(steps, "steps"), check_positive_int(readings, "readings")
    s = settings
    keras.utils.set_random_seed(int(seed))
    d = mlp_discriminator(s.width, s.depth, name="best_response")
    optimizer = keras.optimizers.Adam(s.learning_rate, beta_1=0.5, beta_2=0.9)
    noise = tf.random.Generator.from_seed(int(seed) + 1)

    @tf.function
    def advance(n):
        for _ in tf.range(n):
            real, fake = mixture.sample_tf(s.batch_size, noise), generator.sample_tf(s.batch_size, noise)
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.nn.softplus(-d(real, training=True))) + tf.reduce_mean(tf.nn.softplus(d(fake, training=True)))
            optimizer.apply_gradients(zip(tape.gradient(loss, d.trainable_variables), d.trainable_variables))

    n = s.eval_samples
    points = np.concatenate([mixture.sample(n, seed=30_000 + seed), generator.sample(n, seed=40_000 + seed)])
    d_star = np.asarray(optimal(mixture.density(points), generator.density(points)), np.float64)

    def error():
        return float(np.mean(np.abs(_probabilities(d, points) - d_star)))

    marks = np.linspace(0, steps, min(readings, steps) + 1).round().astype(int)
    errors = [error()]
    for a, b in zip(marks[:-1], marks[1:]):
        advance(tf.constant(int(b - a)))
        errors.append(error())
    surface = DensityGrid(mixture.extent, s.surface_resolution)
    star = np.asarray(optimal(mixture.density(surface.points), generator.density(surface.points)), np.float64)
    r = s.surface_resolution
    return BestResponse(marks, np.array(errors), float(np.mean(np.abs(0.5 - d_star))), star.reshape(r, r),
                        _probabilities(d, surface.points).reshape(r, r), mixture.extent)


def versus_optimal(run: Run, *, optimal=optimal_discriminator, floor: float = 0.01) -> dict:
    """The trained D of a BCE ``run`` against D* for the generator it was trained against (G itself, not its
    weight average), on the run's density grid: :func:`~kit.game2d.theory.compare_with_optimal`, with your
    ``optimal`` formula or the kit's."""
    if not isinstance(run, Run):
        raise TypeError(f"run must be a kit.game2d.Run, got {type(run).__name__}")
    grid = density_grid(run.mixture, run.settings.kde_bandwidth)
    return compare_with_optimal(run.discriminator_probabilities(grid.points), run.generator_samples(), run.mixture, grid,
                                run.settings.kde_bandwidth, optimal=optimal, floor=floor)


def coverage_table(runs: dict) -> dict:
    """``{label: {"seeds": [...], "modes_covered": [...], "high_quality_share": [...], "modes": K}}`` from
    ``{label: [Run, ...]}``: the final snapshot of each run."""
    out = {}
    for label, group in runs.items():
        if not group or not all(isinstance(r, Run) for r in group):
            raise ValueError(f"runs[{label!r}] must be a non-empty list of kit.game2d.Run, got {group!r}")
        out[label] = {"seeds": [r.seed for r in group], "modes_covered": [r.final.modes_covered for r in group],
                      "high_quality_share": [r.final.high_quality_share for r in group], "modes": group[0].mixture.k}
    return out


__all__ = ["LOSSES", "BestResponse", "Run", "Snapshot", "best_response", "coverage_table", "density_grid", "mlp_discriminator", "mlp_generator", "train", "versus_optimal"]

"""Several GAN losses on one budget (notebook 02): the same networks, seed, data order, number of steps and
latent vectors for each loss, so that their FIDs, loss curves and samples differ by the loss alone.

Each loss keeps the optimizer settings of the paper that introduced it (:data:`LOSS_OPTIMIZERS`): a loss is
only as good as the settings it was designed with, and an equal learning rate would favour one of them.
"""

from __future__ import annotations

import time

import keras
import numpy as np

from kit.checks import check_choice, check_positive_int
from kit.gans.losses import LOSSES
from kit.gans.models import GAN
from kit.gans.training import DiscriminatorAccuracy, generate_many
from kit.metrics import fid_kid

# Adam's settings per loss, from the papers (and what the keras.io examples use).
LOSS_OPTIMIZERS = {
    "bce": dict(learning_rate=2e-4, beta_1=0.5),  # DCGAN, Radford et al. 2015
    "lsgan": dict(learning_rate=2e-4, beta_1=0.5),  # LSGAN, Mao et al. 2017 (their DCGAN-like setting)
    "hinge": dict(learning_rate=2e-4, beta_1=0.5),  # Geometric GAN / SN-GAN's DCGAN-like setting
    "wgan-gp": dict(learning_rate=1e-4, beta_1=0.0, beta_2=0.9),  # Gulrajani et al. 2017, 5 critic steps
}


def compare_losses(make_networks, dataset, *, steps: int, chunks: int, features, real_images, n: int, z, losses=LOSSES,
                   ema_decay: float = 0.0, jit_compile: bool = False, seed: int = 0) -> dict:
    """Train one :class:`~kit.gans.GAN` per loss for the same number of steps and measure each.

    Args:
        make_networks: ``make_networks(loss_name) -> (generator, discriminator)``, fresh networks (called after
            the same ``keras.utils.set_random_seed``, so they start from the same weights where the loss allows).
        dataset: ``tf.data`` of real images float32 NHWC in [-1, 1], batched (it is repeated as needed).
        steps: training steps (``train_step`` calls, one real batch each) per loss; WGAN-GP's step holds its
            5 critic updates, so it costs more time: the seconds are reported beside the FID.
        chunks: the steps are split into this many "epochs" for the loss curves (``steps % chunks == 0``).
        features: the FID judge (``kit.judge.classifier_features()``); ``real_images`` (float32 NHWC in
            [-1, 1], held out) and ``n`` of each kind for the FID and D's accuracy.
        z: float32 (k, latent_dim): the latent vectors every loss draws its sample row from.

    Returns:
        ``{loss: {"history": {metric: [per chunk]}, "fid": float, "samples": (k, H, W, C) in [-1, 1],
        "seconds": float, "steps": int}}`` in the order of ``losses``. A run whose losses became non-finite
        stops early and reports ``fid`` None and ``"diverged": True``; it never raises.
    """
    steps, chunks, n = check_positive_int(steps, "steps"), check_positive_int(chunks, "chunks"), check_positive_int(n, "n")
    if steps % chunks:
        raise ValueError(f"steps ({steps}) must be a multiple of chunks ({chunks})")
    for name in losses:
        check_choice(name, LOSSES, "GAN loss")
    z = np.asarray(z, np.float32)
    real = np.asarray(real_images)
    if real.ndim != 4 or len(real) < n:
        raise ValueError(f"real_images must be NHWC with at least n={n} images, got shape {real.shape}")
    out = {}
    for name in losses:
        keras.utils.set_random_seed(seed)
        generator, discriminator = make_networks(name)
        gan = GAN(generator, discriminator, loss=name, seed=seed, ema_decay=ema_decay)
        gan.compile(g_optimizer=keras.optimizers.Adam(**LOSS_OPTIMIZERS[name]), d_optimizer=keras.optimizers.Adam(**LOSS_OPTIMIZERS[name]),
                    jit_compile=jit_compile)
        callbacks = [keras.callbacks.TerminateOnNaN()]
        if gan.gan_loss.decision_threshold is not None:
            callbacks.append(DiscriminatorAccuracy(real, n=min(n, 500), threshold=gan.gan_loss.decision_threshold))
        start = time.perf_counter()
        h = gan.fit(dataset.repeat(), steps_per_epoch=steps // chunks, epochs=chunks, verbose=0, shuffle=False, callbacks=callbacks)
        seconds = time.perf_counter() - start
        history = {k: [float(v) for v in vs] for k, vs in h.history.items()}
        diverged = not all(np.all(np.isfinite(v)) for v in history.values()) or len(history["d_loss"]) < chunks
        fid = None if diverged else fid_kid(real[:n], generate_many(gan, n), features)["fid"]
        out[name] = {"history": history, "fid": fid, "samples": gan.generate(z), "seconds": seconds, "steps": steps,
                     "diverged": diverged}
    return out


__all__ = ["LOSS_OPTIMIZERS", "compare_losses"]

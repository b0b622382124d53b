"""Building and training a COCO-GAN: the kit's networks for a grid, the two time-scale optimizers, the three
cloudy-to-lucid stages and beyond-boundary fine-tuning, each stage through :func:`kit.gans.fit_gan` (so each
one checkpoints and resumes on its own)."""

from __future__ import annotations

from pathlib import Path

import keras

from kit.checks import check_positive_int
from kit.cocogan.grid import PatchGrid
from kit.cocogan.model import COCOGAN, EMA_DECAY
from kit.cocogan.networks import macro_discriminator, micro_generator
from kit.cocogan.stages import BEYOND, STAGES
from kit.data.pipeline import INFO_ATTR, dataset_info
from kit.gans import fit_gan


def repeat_for(dataset, steps: int):
    """``dataset`` repeated and cut to ``steps`` batches, keeping what :func:`kit.data.make_dataset` recorded
    about it (so the checkpoint recipe still names the data)."""
    out = dataset.repeat().take(check_positive_int(steps, "steps"))
    info = dataset_info(dataset)
    if info is not None:
        setattr(out, INFO_ATTR, {**info, "batches": steps, "steps": steps})
    return out


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
    if pixel_coordinates and grid.n_micro == 1:
        raise ValueError("pixel coordinates need a grid of more than one micro patch per side")
    g = micro_generator(latent_dim, grid.micro_size, channels, base_filters, pixel_step=grid.micro_step if pixel_coordinates else None)
    d = macro_discriminator(grid.macro_size, channels, base_filters)
    return COCOGAN(g, d, grid=grid, gp_weight=gp_weight, n_critic=n_critic, ema_decay=ema_decay, seed=seed)


def ttur_optimizers(g_learning_rate: float = 2e-4, d_learning_rate: float = 4e-4):
    """The optimizers COCO-GAN trains with: Adam(beta_1=0, beta_2=0.99) for both networks, the critic's learning
    rate 2x the generator's (the two time-scale update rule of Heusel et al., 2017). The paper's code gives the
    generator 1e-4 (4x); measured at the cpu profile (version 0.1's benchmarks/cocogan.py, same seed, 2026-11-28), 2e-4 with
    the weight average drew 54% confidently classified samples at FID 26.1, against 47% at 29.8 with 1e-4.

    Returns:
        ``{"g_optimizer": ..., "d_optimizer": ...}``, fresh ``keras.optimizers.Adam`` instances:
        ``gan.compile(**ttur_optimizers(), jit_compile=P.jit_compile)``.
    """
    for value, name in ((g_learning_rate, "g_learning_rate"), (d_learning_rate, "d_learning_rate")):
        if not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"{name} must be a positive number, got {value!r}")
    return {"g_optimizer": keras.optimizers.Adam(g_learning_rate, beta_1=0.0, beta_2=0.99),
            "d_optimizer": keras.optimizers.Adam(d_learning_rate, beta_1=0.0, beta_2=0.99)}


def fit_stages(gan: COCOGAN, dataset, *, epochs, checkpoint_dir=None, snapshot_z=None, callbacks=(), verbose="auto",
               profile_name: str | None = None) -> tuple[dict, dict]:
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
                                        checkpoint_dir=ckpt, callbacks=callbacks, verbose=verbose, profile_name=profile_name)
        if snapshot_z is not None:
            snapshots[stage.name] = gan.generate(snapshot_z)
    gan.set_stage(STAGES[-1])
    return histories, snapshots


def fine_tune_beyond(gan: COCOGAN, dataset, *, steps: int, size: int, checkpoint_dir=None, verbose="auto", profile_name: str | None = None) -> dict:
    """Beyond-boundary fine-tuning for ``size`` x ``size`` outputs: ``steps`` train steps in stage ``beyond``
    with the margin that size needs (fake macro positions drawn up to that far past the boundary). The weight
    average restarts at the generator's weights first (a few hundred steps would hardly move a long average).
    Returns the history; the model is left in the ``lucid`` stage."""
    steps = check_positive_int(steps, "steps")
    gan.reset_average()
    gan.set_stage(BEYOND, margin=max(1, gan.grid.beyond_extra(size)))
    try:
        ckpt = None if checkpoint_dir is None else Path(checkpoint_dir)
        return fit_gan(gan, repeat_for(dataset, steps), epochs=1, checkpoint_dir=ckpt, verbose=verbose, profile_name=profile_name)
    finally:
        gan.set_stage(STAGES[-1])

"""GANs: ``keras.Model`` subclasses with ``train_step`` overrides, the shared losses, and training with
sample grids, GIFs and resumable checkpoints."""

from kit.gans.losses import LOSSES, GANLoss, get_loss, gradient_penalty
from kit.gans.models import ACGAN, GAN
from kit.gans.training import FIDTracker, GANCheckpoint, SampleGrid, checkpoint_state, fit_gan, generate_many, restore

__all__ = [
    "ACGAN",
    "GAN",
    "FIDTracker",
    "GANCheckpoint",
    "GANLoss",
    "LOSSES",
    "SampleGrid",
    "checkpoint_state",
    "fit_gan",
    "generate_many",
    "get_loss",
    "gradient_penalty",
    "restore",
]

"""GANs: ``keras.Model`` subclasses with ``train_step`` overrides, the shared losses, and training with
sample grids, GIFs and resumable checkpoints."""

from kit.gans.losses import LOSSES, GANLoss, get_loss, gradient_penalty
from kit.gans.models import ACGAN, GAN, AdversarialModel
from kit.gans.pix2pix import Pix2Pix, TranslationGrid, pix2pix
from kit.gans.training import EpochFigure, FIDTracker, GANCheckpoint, SampleGrid, checkpoint_state, fit_gan, generate_many, restore

__all__ = [
    "ACGAN",
    "AdversarialModel",
    "GAN",
    "EpochFigure",
    "FIDTracker",
    "GANCheckpoint",
    "GANLoss",
    "LOSSES",
    "Pix2Pix",
    "SampleGrid",
    "TranslationGrid",
    "checkpoint_state",
    "fit_gan",
    "generate_many",
    "get_loss",
    "pix2pix",
    "gradient_penalty",
    "restore",
]

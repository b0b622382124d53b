"""GANs shared by several notebooks: the :class:`AdversarialModel` base every two-player model of the course
extends, the unconditional and class-conditional GANs (notebooks 02-03), pix2pix (04-05), the adversarial
losses, and training with sample grids, FID tracking and checkpoints that resume exactly."""

from kit.gans.base import AdversarialModel, fixed_latent, image_problems, mixed_precision, wrap_optimizer
from kit.gans.losses import LOSSES, GANLoss, auxiliary_loss, generator_loss_gradients, get_loss, gradient_penalty
from kit.gans.models import ACGAN, GAN, acgan_discriminator_loss, acgan_generator_loss
from kit.gans.pix2pix import Pix2Pix, TranslationGrid, pix2pix
from kit.gans.compare import LOSS_OPTIMIZERS, compare_losses
from kit.gans.training import DiscriminatorAccuracy, EpochFigure, FIDTracker, GANCheckpoint, SampleGrid, check_dataset, checkpoints_for, fit_gan, generate_many, restore

__all__ = [
    "ACGAN",
    "AdversarialModel",
    "DiscriminatorAccuracy",
    "EpochFigure",
    "FIDTracker",
    "GAN",
    "GANCheckpoint",
    "GANLoss",
    "LOSSES",
    "LOSS_OPTIMIZERS",
    "Pix2Pix",
    "SampleGrid",
    "TranslationGrid",
    "acgan_discriminator_loss",
    "acgan_generator_loss",
    "auxiliary_loss",
    "check_dataset",
    "checkpoints_for",
    "compare_losses",
    "fit_gan",
    "fixed_latent",
    "generate_many",
    "generator_loss_gradients",
    "get_loss",
    "gradient_penalty",
    "image_problems",
    "mixed_precision",
    "pix2pix",
    "restore",
    "wrap_optimizer",
]

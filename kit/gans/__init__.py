"""GANs: ``keras.Model`` subclasses with ``train_step`` overrides, the shared losses, and training with
sample grids, GIFs and resumable checkpoints."""

from kit.gans.coco import (COCOGAN, STAGES, QNetwork, Stage, cocogan, coordinate_loss, fine_tune_beyond, fit_q_network, fit_stages,
                           q_network, ttur_optimizers)
from kit.gans.coco_grid import PatchGrid, merge_patches, seam_score, split_patches
from kit.gans.losses import LOSSES, GANLoss, get_loss, gradient_penalty
from kit.gans.models import ACGAN, GAN, AdversarialModel
from kit.gans.pix2pix import Pix2Pix, TranslationGrid, pix2pix
from kit.gans.training import EpochFigure, FIDTracker, GANCheckpoint, SampleGrid, checkpoint_state, fit_gan, generate_many, restore

__all__ = [
    "ACGAN",
    "AdversarialModel",
    "COCOGAN",
    "EpochFigure",
    "FIDTracker",
    "GAN",
    "GANCheckpoint",
    "GANLoss",
    "LOSSES",
    "PatchGrid",
    "Pix2Pix",
    "QNetwork",
    "SampleGrid",
    "Stage",
    "STAGES",
    "TranslationGrid",
    "checkpoint_state",
    "cocogan",
    "coordinate_loss",
    "fine_tune_beyond",
    "fit_gan",
    "fit_q_network",
    "fit_stages",
    "generate_many",
    "get_loss",
    "gradient_penalty",
    "merge_patches",
    "pix2pix",
    "q_network",
    "restore",
    "seam_score",
    "split_patches",
    "ttur_optimizers",
]

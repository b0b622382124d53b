"""COCO-GAN (Lin et al., 2019, "Generation by Parts via Conditional Coordinating"), notebook 06, in one place:
the coordinate grid and Phi (:mod:`~kit.cocogan.grid`), the networks (:mod:`~kit.cocogan.networks`), the model
and its ``train_step`` (:mod:`~kit.cocogan.model`), the cloudy-to-lucid stages (:mod:`~kit.cocogan.stages`,
:mod:`~kit.cocogan.training`), patch-guided generation (:mod:`~kit.cocogan.qnet`), its data
(:mod:`~kit.cocogan.data`), figures (:mod:`~kit.cocogan.viz`) and the peak-memory comparison
(:mod:`~kit.cocogan.memory`)."""

from kit.cocogan.data import FOLDER_SIZES, crop28, fashion_mnist_32, folder_images, pad32, photo_images
from kit.cocogan.grid import PatchGrid, merge_patches, seam_score, split_patches
from kit.cocogan.memory import MODELS, compare_memory, describe_row, images_at, measure
from kit.cocogan.model import COCOGAN, EMA_DECAY
from kit.cocogan.networks import full_discriminator, full_generator, macro_discriminator, macro_encoder, micro_generator
from kit.cocogan.qnet import QNetwork, fit_q_network, q_network
from kit.cocogan.stages import BEYOND, STAGES, Stage, coordinate_loss, lowpass
from kit.cocogan.training import cocogan, fine_tune_beyond, fit_stages, ttur_optimizers
from kit.cocogan.viz import plot_coordinates, plot_guided, plot_patch_grid

__all__ = [
    "BEYOND",
    "COCOGAN",
    "EMA_DECAY",
    "FOLDER_SIZES",
    "MODELS",
    "PatchGrid",
    "QNetwork",
    "STAGES",
    "Stage",
    "cocogan",
    "compare_memory",
    "coordinate_loss",
    "crop28",
    "describe_row",
    "fashion_mnist_32",
    "fine_tune_beyond",
    "fit_q_network",
    "fit_stages",
    "folder_images",
    "full_discriminator",
    "full_generator",
    "images_at",
    "lowpass",
    "macro_discriminator",
    "macro_encoder",
    "measure",
    "merge_patches",
    "micro_generator",
    "pad32",
    "photo_images",
    "plot_coordinates",
    "plot_guided",
    "plot_patch_grid",
    "q_network",
    "seam_score",
    "split_patches",
    "ttur_optimizers",
]

"""COCO-GAN (Lin et al., 2019, "Generation by Parts via Conditional Coordinating"), notebook 06, in one place:
the coordinate grid and Phi (:mod:`~kit.cocogan.grid`), the networks (:mod:`~kit.cocogan.networks`), the model
and its ``train_step`` (:mod:`~kit.cocogan.model`), the cloudy-to-lucid stages (:mod:`~kit.cocogan.stages`,
:mod:`~kit.cocogan.training`), patch-guided generation (:mod:`~kit.cocogan.qnet`), its data
(:mod:`~kit.cocogan.data`), figures (:mod:`~kit.cocogan.viz`), the peak-memory comparison
(:mod:`~kit.cocogan.memory`) and the measurements of class agreement, diversity and detail
(:mod:`~kit.cocogan.evaluation`)."""

from kit.cocogan.data import FOLDER_SIZES, crop28, fashion_mnist_32, folder_images, pad32, photo_images
from kit.cocogan.evaluation import (centre_crop, class_agreement, detail_ratio, diversity_ratio, judged_classes, mean_gradient,
                                    mean_pairwise_distance)
from kit.cocogan.grid import PatchGrid, merge_patches, seam_score, split_patches
from kit.cocogan.memory import MODELS, REFERENCE_PEAK_MB, compare_memory, describe_row, images_at, measure, saving_grows
from kit.cocogan.model import COCOGAN, EMA_DECAY
from kit.cocogan.networks import (full_discriminator, full_generator, macro_discriminator, macro_encoder, micro_generator,
                                  without_context)
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
    "REFERENCE_PEAK_MB",
    "STAGES",
    "Stage",
    "centre_crop",
    "class_agreement",
    "cocogan",
    "compare_memory",
    "coordinate_loss",
    "crop28",
    "describe_row",
    "detail_ratio",
    "diversity_ratio",
    "fashion_mnist_32",
    "fine_tune_beyond",
    "fit_q_network",
    "fit_stages",
    "folder_images",
    "full_discriminator",
    "full_generator",
    "images_at",
    "judged_classes",
    "lowpass",
    "macro_discriminator",
    "macro_encoder",
    "mean_gradient",
    "mean_pairwise_distance",
    "measure",
    "merge_patches",
    "micro_generator",
    "pad32",
    "photo_images",
    "plot_coordinates",
    "plot_guided",
    "plot_patch_grid",
    "q_network",
    "saving_grows",
    "seam_score",
    "split_patches",
    "ttur_optimizers",
    "without_context",
]

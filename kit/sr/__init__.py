"""Super-resolution refinement, notebook 07, in one place: degrade real photographs (:mod:`~kit.sr.degrade`),
enhance them 4x with Real-ESRGAN's RRDBNet (:mod:`~kit.sr.rrdbnet`; official weights ported from PyTorch by
:mod:`~kit.sr.port`, or a labelled stand-in: :mod:`~kit.sr.enhance`), and train a refinement CNN
(:mod:`~kit.sr.refiner`, :mod:`~kit.sr.training`) that corrects the enhanced damaged image; then measure it
(:mod:`~kit.sr.evaluate`).

The protocol, per test crop (``hr``: a photograph crop, the true high-resolution image)::

    raw       = hr downscaled 4x                    what a camera delivered (the enhancer's normal input)
    degraded  = degrade(raw, level)                 blur, noise, JPEG, colour shift, downscale
    E(raw), E(degraded)                             the baseline enhancer, 4x up: same size as hr
    refined   = R(E(degraded))                      the refinement CNN, trained to map E(degraded) -> E(raw)

PSNR/SSIM are measured against ``E(raw)`` (the reference report's protocol: "how close do we get to what the
enhancer makes of an undamaged photo") and against ``hr`` (true fidelity: "how close to the real scene").
"""

from kit.sr import demo, degrade
from kit.sr.data import DegradedSet, EnhancedSet, augment_pairs, bicubic, degrade_split, downscale
from kit.sr.degrade import KINDS, LEVEL_NAMES, LEVELS, Degradation, DegradationConfig
from kit.sr.enhance import BASELINES, Enhancer, choose_baseline, enhance_split, official_weights, weights_dir
from kit.sr.evaluate import (REFERENCES, ROWS, colour_oracle_gain, colour_stage_gain, evaluate, gains, metrics_table, perception_distortion,
                             perception_distortion_table, refine_split, seconds_per_image, transfer_gains)
from kit.sr.gan import ESRGANRefiner, clone_refiner, esrgan_refiner, patch_discriminator, relativistic_losses, train_gan_refiner
from kit.sr.photos import SKIMAGE_PHOTOS, PhotoCrops, load_photo_crops, photo_tiles, skimage_photos, tile
from kit.sr.port import CheckpointError, convert_checkpoint, load_converted, read_torch_checkpoint
from kit.sr.refiner import BoundedResidual, GlobalOffset, chain, colour_stage, refine, refiner
from kit.sr.rrdbnet import SCALE, enhance, receptive_radius, rrdbnet, tiled_predict
from kit.sr.training import RestorationLoss, cosine_schedule, fit_restoration, psnr_metric, train_refiner, train_refiners
from kit.sr.viz import detailed, pipeline_figure, refinement_figure

__all__ = [
    "BASELINES",
    "BoundedResidual",
    "CheckpointError",
    "Degradation",
    "DegradationConfig",
    "DegradedSet",
    "ESRGANRefiner",
    "EnhancedSet",
    "Enhancer",
    "GlobalOffset",
    "KINDS",
    "LEVELS",
    "LEVEL_NAMES",
    "PhotoCrops",
    "REFERENCES",
    "ROWS",
    "RestorationLoss",
    "SCALE",
    "SKIMAGE_PHOTOS",
    "augment_pairs",
    "bicubic",
    "chain",
    "clone_refiner",
    "choose_baseline",
    "colour_oracle_gain",
    "colour_stage",
    "colour_stage_gain",
    "convert_checkpoint",
    "cosine_schedule",
    "degrade",
    "demo",
    "detailed",
    "degrade_split",
    "downscale",
    "enhance",
    "enhance_split",
    "esrgan_refiner",
    "evaluate",
    "fit_restoration",
    "gains",
    "load_converted",
    "load_photo_crops",
    "photo_tiles",
    "metrics_table",
    "official_weights",
    "patch_discriminator",
    "perception_distortion",
    "pipeline_figure",
    "perception_distortion_table",
    "psnr_metric",
    "read_torch_checkpoint",
    "receptive_radius",
    "refine",
    "refine_split",
    "refinement_figure",
    "refiner",
    "relativistic_losses",
    "rrdbnet",
    "seconds_per_image",
    "skimage_photos",
    "tile",
    "train_gan_refiner",
    "train_refiner",
    "train_refiners",
    "transfer_gains",
    "weights_dir",
]

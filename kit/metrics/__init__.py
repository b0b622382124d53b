"""Evaluation metrics on arrays and on models you pass in: classifier accuracy and confusion, FID/KID and the
Inception Score on a judge network's outputs, full-reference image quality (PSNR, SSIM, colour) and the
perceptual distance LPIPS, and diversity within a class (a conditional GAN's samples against real images). The judge
networks themselves come from :mod:`kit.judge`."""

from kit.metrics.classification import CONFIDENT, accuracy, confident_fraction, confusion_matrix, per_class_accuracy, predict_logits, predict_proba
from kit.metrics.distribution import frechet_distance, inception_score, kernel_inception_distance
from kit.metrics.diversity import diversity_ratio, within_class_diversity
from kit.metrics.features import ClassifierFeatures, InceptionFeatures, fid_kid
from kit.metrics.image_quality import colourfulness, hue_error, lab_error, mean_channel_error, psnr, sharpness, ssim
from kit.metrics.img2img import (
    DELTA_E_DIFFERENT,
    DELTA_E_NOTICEABLE,
    better_of,
    colour_error_per_class,
    different_colour_fraction,
    garment_mask,
    read_delta_e,
    translation_metrics,
)
from kit.metrics.perceptual import lpips_distance

__all__ = [
    "CONFIDENT",
    "ClassifierFeatures",
    "DELTA_E_DIFFERENT",
    "DELTA_E_NOTICEABLE",
    "InceptionFeatures",
    "accuracy",
    "better_of",
    "colour_error_per_class",
    "colourfulness",
    "confident_fraction",
    "confusion_matrix",
    "different_colour_fraction",
    "diversity_ratio",
    "fid_kid",
    "frechet_distance",
    "garment_mask",
    "hue_error",
    "inception_score",
    "kernel_inception_distance",
    "lab_error",
    "lpips_distance",
    "mean_channel_error",
    "per_class_accuracy",
    "predict_logits",
    "predict_proba",
    "psnr",
    "read_delta_e",
    "sharpness",
    "ssim",
    "translation_metrics",
    "within_class_diversity",
]

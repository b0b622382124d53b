"""Evaluation metrics on arrays and on models you pass in: classifier accuracy and confusion, FID/KID and the
Inception Score on a judge network's outputs, full-reference image quality (PSNR, SSIM, colour) and the
perceptual distance LPIPS. The judge networks themselves come from :mod:`kit.judge`."""

from kit.metrics.classification import CONFIDENT, accuracy, confident_fraction, confusion_matrix, per_class_accuracy, predict_logits, predict_proba
from kit.metrics.distribution import frechet_distance, inception_score, kernel_inception_distance
from kit.metrics.features import ClassifierFeatures, InceptionFeatures, fid_kid
from kit.metrics.image_quality import colourfulness, hue_error, lab_error, mean_channel_error, psnr, sharpness, ssim
from kit.metrics.img2img import colour_error_per_class, garment_mask, translation_metrics
from kit.metrics.perceptual import lpips_distance

__all__ = [
    "CONFIDENT",
    "ClassifierFeatures",
    "InceptionFeatures",
    "accuracy",
    "colour_error_per_class",
    "colourfulness",
    "confident_fraction",
    "confusion_matrix",
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
    "sharpness",
    "ssim",
    "translation_metrics",
]

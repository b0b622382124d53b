"""Evaluation metrics: classifier accuracy and confusion, FID/KID on feature vectors, and the feature
extractors (the cached Fashion-MNIST classifier, InceptionV3 where available)."""

from kit.metrics.classification import CONFIDENT, accuracy, confident_fraction, confusion_matrix, per_class_accuracy, predict_logits, predict_proba
from kit.metrics.image_quality import colourfulness, hue_error, lab_error, mean_channel_error, psnr, ssim, to_luma
from kit.metrics.distribution import classifier_score, frechet_distance, kernel_inception_distance
from kit.metrics.features import (
    ClassifierFeatures,
    InceptionFeatures,
    artifact_dir,
    fashion_classifier,
    fid_kid,
    inception_features,
    save_fashion_classifier,
)

__all__ = [
    "CONFIDENT",
    "accuracy",
    "artifact_dir",
    "classifier_score",
    "ClassifierFeatures",
    "colourfulness",
    "confident_fraction",
    "confusion_matrix",
    "fashion_classifier",
    "fid_kid",
    "frechet_distance",
    "hue_error",
    "inception_features",
    "InceptionFeatures",
    "kernel_inception_distance",
    "lab_error",
    "mean_channel_error",
    "per_class_accuracy",
    "predict_logits",
    "predict_proba",
    "psnr",
    "save_fashion_classifier",
    "ssim",
    "to_luma",
]

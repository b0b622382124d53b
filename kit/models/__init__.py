"""Keras model builders (functional models built on ``keras.Input``)."""

from kit.models.classifiers import CLASSIFIERS, build_classifier, dense_classifier, improved_cnn, reference_cnn
from kit.models.coco_models import ConditionalNorm, full_discriminator, full_generator, macro_discriminator, micro_generator
from kit.models.gan_models import acgan_discriminator, acgan_generator, dcgan_discriminator, dcgan_generator
from kit.models.img2img import patchgan_discriminator, receptive_field, unet_depth, unet_generator

__all__ = [
    "CLASSIFIERS",
    "ConditionalNorm",
    "acgan_discriminator",
    "acgan_generator",
    "build_classifier",
    "dcgan_discriminator",
    "dcgan_generator",
    "dense_classifier",
    "full_discriminator",
    "full_generator",
    "improved_cnn",
    "macro_discriminator",
    "micro_generator",
    "patchgan_discriminator",
    "receptive_field",
    "reference_cnn",
    "unet_depth",
    "unet_generator",
]

"""Keras model builders shared by several notebooks (functional models built on ``keras.Input``): the
Fashion-MNIST classifiers, the DCGAN/ACGAN networks and the pix2pix U-Net and PatchGAN. The networks of one
topic live with it (:mod:`kit.cocogan`, :mod:`kit.sr`)."""

from kit.models.classifiers import CLASSIFIERS, build_classifier, dense_classifier, improved_cnn, reference_cnn
from kit.models.gan_models import acgan_discriminator, acgan_generator, dcgan_discriminator, dcgan_generator
from kit.models.img2img import patchgan_discriminator, receptive_field, unet_depth, unet_generator

__all__ = [
    "CLASSIFIERS",
    "acgan_discriminator",
    "acgan_generator",
    "build_classifier",
    "dcgan_discriminator",
    "dcgan_generator",
    "dense_classifier",
    "improved_cnn",
    "patchgan_discriminator",
    "receptive_field",
    "reference_cnn",
    "unet_depth",
    "unet_generator",
]

"""Datasets and input pipelines: Fashion-MNIST from the Keras cache, scaling, ``tf.data``."""

from kit.data.fashion_mnist import (
    CLASS_NAMES,
    FILES,
    IMAGE_SHAPE,
    NUM_CLASSES,
    DataMissingError,
    FashionMNIST,
    fashion_mnist_dir,
    keras_cache_dir,
    load_fashion_mnist,
    scale_images,
)
from kit.data.folders import ImageFolderError, load_image_folder, load_paired_folder, split_indices
from kit.data.img2img import PALETTE, SECOND_COLOURS, colorization_data, colorize, palette_array, second_colour_classes, sketch, sketch_data
from kit.data.pipeline import make_dataset, take_per_class

__all__ = [
    "CLASS_NAMES",
    "FILES",
    "IMAGE_SHAPE",
    "NUM_CLASSES",
    "PALETTE",
    "SECOND_COLOURS",
    "colorization_data",
    "colorize",
    "DataMissingError",
    "fashion_mnist_dir",
    "FashionMNIST",
    "ImageFolderError",
    "keras_cache_dir",
    "load_fashion_mnist",
    "load_image_folder",
    "load_paired_folder",
    "make_dataset",
    "palette_array",
    "second_colour_classes",
    "scale_images",
    "sketch",
    "sketch_data",
    "split_indices",
    "take_per_class",
]

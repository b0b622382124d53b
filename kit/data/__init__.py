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
from kit.data.pipeline import make_dataset, take_per_class

__all__ = [
    "CLASS_NAMES",
    "FILES",
    "IMAGE_SHAPE",
    "NUM_CLASSES",
    "DataMissingError",
    "FashionMNIST",
    "fashion_mnist_dir",
    "keras_cache_dir",
    "load_fashion_mnist",
    "make_dataset",
    "scale_images",
    "take_per_class",
]

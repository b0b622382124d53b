"""Datasets and input pipelines: Fashion-MNIST from the Keras cache, the colorized and sketched pairs derived
from it, images from the user's own folders, photo collections from tensorflow-datasets, and ``tf.data``
pipelines that can be resumed exactly."""

from kit.data.collections import (
    COLLECTIONS,
    CollectionMissingError,
    PhotoCollection,
    iter_photos,
    load_photos,
    photo_splits,
    square_images,
)
from kit.data.fashion_mnist import (
    CLASS_NAMES,
    FILES,
    IMAGE_SHAPE,
    NUM_CLASSES,
    DataMissingError,
    FashionMNIST,
    fashion_mnist_dir,
    load_fashion_mnist,
    scale_images,
)
from kit.data.folders import ImageFolderError, image_files, load_image_folder, load_paired_folder, read_image, split_indices
from kit.data.img2img import (
    PALETTE,
    SECOND_COLOURS,
    PairedData,
    PairedSplit,
    check_pairs,
    colorization_data,
    colorize,
    palette_array,
    second_colour_classes,
    sketch,
    sketch_data,
)
from kit.data.photos import SKIMAGE_PHOTOS, check_photo, check_seed, skimage_photos, tile
from kit.data.pipeline import EpochOrder, dataset_info, make_dataset, take_per_class

__all__ = [
    "CLASS_NAMES",
    "COLLECTIONS",
    "CollectionMissingError",
    "DataMissingError",
    "EpochOrder",
    "FILES",
    "FashionMNIST",
    "IMAGE_SHAPE",
    "ImageFolderError",
    "NUM_CLASSES",
    "PALETTE",
    "PairedData",
    "PairedSplit",
    "PhotoCollection",
    "SECOND_COLOURS",
    "SKIMAGE_PHOTOS",
    "check_pairs",
    "check_photo",
    "check_seed",
    "colorization_data",
    "colorize",
    "dataset_info",
    "fashion_mnist_dir",
    "image_files",
    "iter_photos",
    "load_fashion_mnist",
    "load_image_folder",
    "load_paired_folder",
    "load_photos",
    "make_dataset",
    "palette_array",
    "photo_splits",
    "read_image",
    "scale_images",
    "second_colour_classes",
    "sketch",
    "sketch_data",
    "skimage_photos",
    "split_indices",
    "square_images",
    "tile",
]

"""Data of notebook 06 (COCO-GAN): Fashion-MNIST padded to 32x32, or a folder of the user's own images.

Both come back float32 NHWC in [-1, 1] (the generator's tanh range). 32 = 4 x 8, so a 32x32 image is a
4 x 4 grid of 8x8 micro patches; the 2-pixel border is background (-1), as the garments' own background.
"""

from __future__ import annotations

import numpy as np

from kit.checks import check_choice, check_images
from kit.data.fashion_mnist import FashionMNIST, load_fashion_mnist
from kit.data.folders import load_image_folder

PAD = 2  # 28 + 2 + 2 = 32
FOLDER_SIZES = (64, 128)


def pad32(images) -> np.ndarray:
    """Fashion-MNIST images (N, 28, 28, C) in [-1, 1] -> (N, 32, 32, C), padded with background (-1)."""
    x = check_images(images, channels=None, value_range=(-1.0, 1.0), size=(28, 28))
    return np.pad(x, ((0, 0), (PAD, PAD), (PAD, PAD), (0, 0)), constant_values=-1.0)


def crop28(images) -> np.ndarray:
    """The inverse of :func:`pad32`: the centre 28x28 of (N, 32, 32, C) images, e.g. for notebook 01's
    classifier (FID features, recognisability)."""
    x = check_images(images, channels=None, value_range=None, size=(32, 32))
    return x[:, PAD:-PAD, PAD:-PAD]


def fashion_mnist_32(*, train_samples: int | None, test_samples: int | None, seed: int = 0) -> FashionMNIST:
    """Fashion-MNIST at 32x32 in [-1, 1] (a seeded subset; ``None``: all): x (N, 32, 32, 1), labels (N,)."""
    fm = load_fashion_mnist("tanh", train_samples=train_samples, test_samples=test_samples, seed=seed)
    return FashionMNIST(pad32(fm.x_train), fm.y_train, pad32(fm.x_test), fm.y_test)


def folder_images(folder, size: int = 64, *, limit: int | None = None) -> np.ndarray:
    """The user's own images (e.g. jewellery or faces) for COCO-GAN: centre-cropped and resized to ``size``
    (64 or 128), float32 (N, size, size, 3) in [-1, 1]. Unreadable or too-small images raise
    :class:`kit.data.folders.ImageFolderError` naming the file."""
    check_choice(size, FOLDER_SIZES, "COCO-GAN folder image size")
    return load_image_folder(folder, size, limit=limit) * 2.0 - 1.0

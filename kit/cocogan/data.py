"""Data of notebook 06 (COCO-GAN): Fashion-MNIST padded to 32x32, a folder of the user's own images, or
photographs: a tensorflow-datasets photo collection (:mod:`kit.data.collections`) on Colab, crops of the
scikit-image photographs offline.

All come back float32 NHWC in [-1, 1] (the generator's tanh range). 32 = 4 x 8, so a 32x32 image is a
4 x 4 grid of 8x8 micro patches; the 2-pixel border is background (-1), as the garments' own background.
"""

from __future__ import annotations

import numpy as np

from kit.checks import check_choice, check_images, check_optional_count, check_positive_int
from kit.data.collections import iter_photos, square_images
from kit.data.fashion_mnist import FashionMNIST, load_fashion_mnist
from kit.data.folders import load_image_folder
from kit.data.photos import check_seed, skimage_photos, tile

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


def photo_images(size: int = 64, *, collection: str | None = None, limit: int | None = None, seed: int = 0,
                 data_dir=None, download: bool = True) -> np.ndarray:
    """Photographs for COCO-GAN's photo section, float32 (N, size, size, 3) RGB in [-1, 1], in a seeded order.

    Args:
        size: height = width of the images in pixels.
        collection: a tensorflow-datasets photo collection (a key of :data:`kit.data.COLLECTIONS`, e.g.
            ``"tf_flowers"``): each photograph centre-cropped to a square and resized (a photograph smaller
            than ``size`` raises an error naming it). None: every non-overlapping ``size`` x ``size`` crop
            with detail of the seven scikit-image photographs (offline, a few hundred at 64).
        limit: at most this many images (a positive integer; with a collection, a seeded sample of its
            photographs); None: all.
        seed: of the order (and of the collection sample).
        data_dir, download: with ``collection``: tensorflow-datasets' data folder (default
            :func:`kit.paths.datasets_dir`) and whether to download the collection there when it is missing
            (else :class:`kit.data.CollectionMissingError` says how to get it).
    """
    size = check_positive_int(size, "size")
    limit = check_optional_count(limit, "limit")
    rng = np.random.default_rng(check_seed(seed))
    if collection is None:
        x = np.concatenate([tile(p, size) for p in skimage_photos().values()])
        if not len(x):
            raise ValueError(f"no {size}x{size} crop with detail in the scikit-image photographs; use a smaller size")
        return x[rng.permutation(len(x))[:limit]] * 2.0 - 1.0
    # One photograph at a time: only the small squares are kept, never the whole collection at full size.
    photos = iter_photos(collection, limit=limit, seed=seed, data_dir=data_dir, download=download)
    x = [square_images([p], size, names=[f"{collection}/{i}"]) for i, p in photos]
    if not x:
        raise ValueError(f"the collection {collection!r} gave no photographs")
    x = np.concatenate(x)
    return x[rng.permutation(len(x))]

"""Fashion-MNIST through ``keras.datasets`` and the Keras cache, offline-first.

Keras keeps downloaded datasets in ``$KERAS_HOME/datasets`` (default ``~/.keras/datasets``). When the four
files are already there nothing is downloaded; when they are missing and there is no network,
:func:`load_fashion_mnist` raises :class:`DataMissingError` naming the files and the folder to put them in.
It never falls back to random data.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

from kit.checks import as_array, check_choice

FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
CLASS_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
NUM_CLASSES = len(CLASS_NAMES)
IMAGE_SHAPE = (28, 28, 1)
SCALES = {"unit": (0.0, 1.0), "tanh": (-1.0, 1.0)}


class DataMissingError(FileNotFoundError):
    """A dataset's files are not in the cache and could not be downloaded."""


class FashionMNIST(NamedTuple):
    """Images float32 NHWC (N, 28, 28, 1) in the requested scale; labels int32 (N,) in [0, 9]."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def keras_cache_dir() -> Path:
    """The folder Keras caches downloads in: ``$KERAS_HOME`` or ``~/.keras`` (as Keras resolves it)."""
    try:  # Keras' own resolution (reads KERAS_HOME when keras is imported)
        from keras.src.backend.config import keras_home

        base = keras_home()
    except ImportError:  # pragma: no cover - older layouts
        base = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
    base = os.path.expanduser(base)
    if os.path.isdir(base) and not os.access(base, os.W_OK):
        base = os.path.join("/tmp", ".keras")  # what keras.utils.get_file falls back to
    return Path(base)


def fashion_mnist_dir() -> Path:
    """Where ``keras.datasets.fashion_mnist`` looks for its four files."""
    return keras_cache_dir() / "datasets" / "fashion-mnist"


def _missing_error(folder: Path, cause: BaseException | None) -> DataMissingError:
    missing = [f for f in FILES if not (folder / f).is_file()]
    lines = [
        "Fashion-MNIST is not in the Keras cache and could not be downloaded"
        + (f" ({type(cause).__name__}: {cause})" if cause else "")
        + ".",
        f"Put these {len(FILES)} files into {folder}:",
        *[f"  - {f}" + ("   (missing)" if f in missing else "") for f in FILES],
        "They are the files https://github.com/zalandoresearch/fashion-mnist distributes. Or point KERAS_HOME "
        "at a Keras cache that holds datasets/fashion-mnist/ (set it before Python starts; `make` does this "
        "for ../shared/data/keras).",
    ]
    return DataMissingError("\n".join(lines))


def _read_raw():
    import keras

    folder = fashion_mnist_dir()
    try:
        return keras.datasets.fashion_mnist.load_data()
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile, ValueError) as err:
        if all((folder / f).is_file() for f in FILES):
            raise DataMissingError(
                f"Fashion-MNIST files in {folder} could not be read ({type(err).__name__}: {err}); "
                f"they may be truncated or corrupt. Replace them: {', '.join(FILES)}."
            ) from err
        raise _missing_error(folder, err) from err
    except Exception as err:  # keras.utils.get_file raises a bare Exception on a failed download
        raise _missing_error(folder, err) from err


def scale_images(x, scale: str = "unit") -> np.ndarray:
    """uint8 pixels in [0, 255] -> float32 in [0, 1] (``"unit"``) or [-1, 1] (``"tanh"``), shape kept."""
    check_choice(scale, SCALES, "scale")
    arr = as_array(x, "images")
    if arr.dtype != np.uint8:
        raise TypeError(f"scale_images expects uint8 pixels in [0, 255], got dtype {arr.dtype}")
    unit = arr.astype(np.float32) / 255.0
    return unit if scale == "unit" else unit * 2.0 - 1.0


def _subset(x, y, n, rng):
    if n is None or n >= len(x):
        return x, y
    if n < 1:
        raise ValueError(f"sample count must be >= 1 or None, got {n}")
    idx = np.sort(rng.permutation(len(x))[:n])
    return x[idx], y[idx]


def load_fashion_mnist(
    scale: str = "unit",
    *,
    profile=None,
    train_samples: int | None = -1,
    test_samples: int | None = -1,
    seed: int = 0,
) -> FashionMNIST:
    """Load Fashion-MNIST from the Keras cache (downloading it if missing and possible).

    Args:
        scale: ``"unit"`` for [0, 1] (classifiers) or ``"tanh"`` for [-1, 1] (GAN generators with tanh).
        profile: a :class:`kit.Profile`; its ``train_samples``/``test_samples`` pick a seeded random subset.
        train_samples, test_samples: override the profile (``None``: all images).
        seed: seed of the subset choice.

    Returns:
        :class:`FashionMNIST` with images float32 (N, 28, 28, 1) and labels int32 (N,).

    Raises:
        DataMissingError: files not cached and not downloadable, or unreadable.
    """
    check_choice(scale, SCALES, "scale")
    if train_samples == -1:
        train_samples = profile.train_samples if profile is not None else None
    if test_samples == -1:
        test_samples = profile.test_samples if profile is not None else None
    (x_train, y_train), (x_test, y_test) = _read_raw()
    rng = np.random.default_rng(seed)
    x_train, y_train = _subset(x_train, y_train, train_samples, rng)
    x_test, y_test = _subset(x_test, y_test, test_samples, rng)
    return FashionMNIST(
        scale_images(x_train, scale)[..., None],
        y_train.astype(np.int32),
        scale_images(x_test, scale)[..., None],
        y_test.astype(np.int32),
    )

"""Fashion-MNIST from the Keras cache, offline-first, checked on every load.

The four files live where ``keras.datasets.fashion_mnist`` keeps them, ``$KERAS_HOME/datasets/fashion-mnist``
(default ``~/.keras``), and nowhere else: the kit never falls back to another cache. When they are there they
are read, also from a read-only cache; when they are missing, they are downloaded into it with
``keras.utils.get_file`` if the network allows, else :class:`DataMissingError` names the files and the folder.
It never falls back to random data.

The kit reads the gzipped idx files itself rather than through ``keras.datasets`` because it checks what it
reads (Keras does not): the idx magic number and shape, the expected counts (60,000 / 10,000), labels in
[0, 9], images that are not blank, and a decompressed size bounded by what the header announces.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path
from typing import NamedTuple

import keras
import numpy as np

from kit.checks import as_array, check_choice, check_optional_count
from kit.paths import keras_cache_dir

FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"  # where keras.datasets downloads them from
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
# idx format: magic 0x00000803 (uint8 data, 3 dimensions) for images, 0x00000801 for labels; then big-endian sizes.
_IDX = {"images": (0x803, (28, 28)), "labels": (0x801, ())}
_COUNTS = {"train": 60000, "t10k": 10000}


class DataMissingError(FileNotFoundError):
    """A dataset's files are not in the cache and could not be downloaded, or they are damaged."""


class FashionMNIST(NamedTuple):
    """Images float32 NHWC (N, 28, 28, 1) in the requested scale; labels int32 (N,) in [0, 9]."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def fashion_mnist_dir() -> Path:
    """Where the four files are read from: ``<Keras cache>/datasets/fashion-mnist``."""
    return keras_cache_dir() / "datasets" / "fashion-mnist"


def _missing_error(folder: Path, cause: BaseException | None) -> DataMissingError:
    missing = [f for f in FILES if not (folder / f).is_file()]
    lines = [
        "Fashion-MNIST is not in the Keras cache and could not be downloaded"
        + (f" ({type(cause).__name__}: {str(cause)[:200]})" if cause else "")
        + ".",
        f"Put these {len(FILES)} files into {folder}:",
        *[f"  - {f}" + ("   (missing)" if f in missing else "") for f in FILES],
        "They are the files https://github.com/zalandoresearch/fashion-mnist distributes. Or point KERAS_HOME "
        "at a Keras cache that holds datasets/fashion-mnist/ (set it before Python starts; `make` does this "
        "for ../shared/data/keras).",
    ]
    return DataMissingError("\n".join(lines))


def _download(folder: Path, name: str) -> None:
    """Fetch one file into ``folder`` with Keras' downloader (resumable, atomic)."""
    if not os.access(folder.parent if not folder.exists() else folder, os.W_OK):
        raise PermissionError(f"{folder} is not writable")
    keras.utils.get_file(name, origin=ORIGIN + name, cache_dir=str(folder.parent.parent), cache_subdir="datasets/fashion-mnist")


def read_idx(path: Path, kind: str, count: int) -> np.ndarray:
    """One gzipped idx file as uint8 (count, 28, 28) images or (count,) labels, checked: the magic number,
    the announced shape and count, and no byte more or less than announced (the decompression stops there, so
    a damaged or malicious file cannot make it allocate more)."""
    magic, shape = _IDX[kind]
    header_size = 4 + 4 * (1 + len(shape))
    expected = count * int(np.prod(shape, dtype=np.int64))
    try:
        with gzip.open(path, "rb") as f:
            header = f.read(header_size)
            if len(header) != header_size:
                raise DataMissingError(f"{path} ends inside its idx header: truncated file; replace it")
            got_magic, *dims = struct.unpack(f">{1 + 1 + len(shape)}I", header)
            if got_magic != magic or tuple(dims) != (count, *shape):
                raise DataMissingError(
                    f"{path} is not Fashion-MNIST's {kind} file: idx magic {got_magic:#x} with shape {tuple(dims)}, "
                    f"expected magic {magic:#x} with shape {(count, *shape)}"
                )
            data = f.read(expected + 1)  # one byte more than announced reveals trailing garbage
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as err:
        raise DataMissingError(f"{path} could not be read ({type(err).__name__}: {err}); it may be truncated or corrupt. Replace it.") from err
    if len(data) != expected:
        raise DataMissingError(f"{path} holds {len(data)} {kind} bytes after its header, expected {expected}: damaged file, replace it")
    return np.frombuffer(data, np.uint8).reshape(count, *shape)


_CACHE: dict = {}


def _read_raw():
    """((x_train, y_train), (x_test, y_test)) uint8, checked; kept in memory per folder and file versions, so
    a notebook that loads several subsets decompresses the files once."""
    folder = fashion_mnist_dir()
    key = (str(folder), tuple((f, (folder / f).stat().st_mtime_ns, (folder / f).stat().st_size) if (folder / f).is_file() else (f,) for f in FILES))
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = _read_files(folder)
    return _CACHE[key]


def _read_files(folder: Path):
    missing = [f for f in FILES if not (folder / f).is_file()]
    for name in missing:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            _download(folder, name)
        except Exception as err:  # keras.utils.get_file raises a bare Exception on a failed download
            raise _missing_error(folder, err) from None
    out = []
    for split in ("train", "t10k"):
        n = _COUNTS[split]
        x = read_idx(folder / f"{split}-images-idx3-ubyte.gz", "images", n)
        y = read_idx(folder / f"{split}-labels-idx1-ubyte.gz", "labels", n)
        if y.max() >= NUM_CLASSES:
            raise DataMissingError(f"{folder / f'{split}-labels-idx1-ubyte.gz'} holds labels up to {y.max()}; Fashion-MNIST's are 0-9")
        blank = int(np.count_nonzero(x.reshape(n, -1).max(axis=1) == 0))
        if blank:
            raise DataMissingError(f"{folder / f'{split}-images-idx3-ubyte.gz'} holds {blank} blank (all-zero) images: not Fashion-MNIST")
        out.append((x, y))
    return tuple(out)


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
    idx = np.sort(rng.permutation(len(x))[:n])
    return x[idx], y[idx]


_FROM_PROFILE = object()


def load_fashion_mnist(
    scale: str = "unit",
    *,
    profile=None,
    train_samples: int | None = _FROM_PROFILE,
    test_samples: int | None = _FROM_PROFILE,
    seed: int = 0,
) -> FashionMNIST:
    """Load Fashion-MNIST from the Keras cache (downloading it if missing and possible).

    Args:
        scale: ``"unit"`` for [0, 1] (classifiers) or ``"tanh"`` for [-1, 1] (GAN generators with tanh).
        profile: a :class:`kit.Profile`; its ``train_samples``/``test_samples`` pick a seeded random subset.
        train_samples, test_samples: override the profile: a positive count, or ``None`` for all images.
        seed: seed of the subset choice.

    Returns:
        :class:`FashionMNIST` with images float32 (N, 28, 28, 1) and labels int32 (N,).

    Raises:
        DataMissingError: files not cached and not downloadable, or damaged.
    """
    check_choice(scale, SCALES, "scale")
    if train_samples is _FROM_PROFILE:
        train_samples = profile.train_samples if profile is not None else None
    if test_samples is _FROM_PROFILE:
        test_samples = profile.test_samples if profile is not None else None
    train_samples = check_optional_count(train_samples, "train_samples")
    test_samples = check_optional_count(test_samples, "test_samples")
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

"""Photo collections from tensorflow-datasets: hundreds or thousands of real photographs for notebooks 06
(COCO-GAN at 64x64) and 07 (super-resolution), where the seven scikit-image photographs are too few to learn
anything general from.

The collections are read with tensorflow-datasets' standard split API (``tfds.load(name, split=...,
data_dir=..., download=...)``, so tfds slicing such as ``"train[:80%]"`` works) from ``data_dir``, by default
:func:`kit.paths.datasets_dir` (``$KIT_DATASETS``, which :func:`kit.colab.persist` puts on Google Drive so the
download happens once). When a collection is not prepared there and cannot be downloaded (offline, or
``download=False``), :class:`CollectionMissingError` says where to put it and how to get it; the kit never
falls back to other images silently.

tensorflow-datasets is an optional dependency: Colab has it preinstalled; elsewhere
``pip install tensorflow-datasets``. It is imported only when a collection is read.

Photographs come back one array each, float32 (H, W, 3) RGB in [0, 1] (they differ in size), downscaled so
that their longer side is at most ``max_side`` pixels. :func:`photo_splits` splits them train/val/test *by
photograph*, so a test crop is never cut from a training photograph.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf

from kit.checks import as_array, check_choice, check_optional_count, check_positive_int
from kit.data.fashion_mnist import DataMissingError
from kit.data.folders import split_indices
from kit.data.photos import check_photo, check_seed
from kit.imageops import resize
from kit.paths import datasets_dir


@dataclass(frozen=True)
class PhotoCollection:
    """What the kit knows about one tensorflow-datasets photo collection."""

    tfds_name: str  # the name tfds.load knows it by
    image_key: str  # the feature that holds the photograph
    photos: int  # photographs in all splits together
    download_mb: int  # size of the download (the prepared copy is about the same)
    splits: tuple[str, ...]  # the splits tfds defines; slice them for a train/val/test split
    archive: str  # the file tfds downloads; put it into <data_dir>/downloads/manual to prepare offline
    url: str
    license: str  # license and citation line


COLLECTIONS = {
    "tf_flowers": PhotoCollection(
        tfds_name="tf_flowers",
        image_key="image",
        photos=3670,
        download_mb=218,
        splits=("train",),
        archive="flower_photos.tgz",
        url="http://download.tensorflow.org/example_images/flower_photos.tgz",
        license='Flickr photographs under CC BY 2.0 (photographers credited in the archive\'s LICENSE.txt); '
        'cite The TensorFlow Team, "Flowers", 2019, http://download.tensorflow.org/example_images/flower_photos.tgz',
    ),
}
SPLITS = ("train", "val", "test")
SCALES = {"unit": (0.0, 1.0), "tanh": (-1.0, 1.0)}


class CollectionMissingError(DataMissingError):
    """A photo collection is not prepared in the data folder and could not be downloaded."""


def _tfds():
    """The tensorflow_datasets module, or an ImportError that names the package and how to install it."""
    try:
        import tensorflow_datasets as tfds  # optional: preinstalled on Colab; pip install tensorflow-datasets
    except ImportError as err:
        raise ImportError(
            "the photo collections are read with the package tensorflow-datasets, which is not installed here: "
            "pip install tensorflow-datasets (Colab has it preinstalled)"
        ) from err
    return tfds


def _check_data_dir(data_dir) -> Path:
    if data_dir is None:
        return datasets_dir()
    if not isinstance(data_dir, (str, os.PathLike)) or not str(data_dir).strip():
        raise TypeError(f"data_dir must be a folder path or None (kit.paths.datasets_dir()), got {data_dir!r}")
    folder = Path(data_dir).expanduser()
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"data_dir {folder} is a file, not a folder")
    return folder


def _missing_message(name: str, folder: Path, download: bool, cause: BaseException) -> str:
    c = COLLECTIONS[name]
    why = (
        "download=False was passed"
        if not download
        else f"it could not be downloaded ({type(cause).__name__}: {str(cause)[:300]})"
    )
    return "\n".join(
        [
            f"The photo collection {name!r} ({c.photos:,} photographs, about {c.download_mb} MB) is not prepared in "
            f"{folder}, and {why}. Get it in one of these ways:",
            f"  - run the notebook on Colab (the 't4' profile): it downloads {name} into the data folder "
            "(kit.paths.datasets_dir(), $KIT_DATASETS) by itself;",
            f"  - on a machine with internet: tfds build {c.tfds_name} --data_dir {folder}",
            f"    (or copy a prepared {c.tfds_name} folder, the one holding <version>/dataset_info.json, into {folder});",
            f"  - tfds's manual download folder: download {c.url} yourself, put {c.archive} into "
            f"{folder / 'downloads' / 'manual'} and call again with download=True (tfds prepares it from there "
            "without the network).",
        ]
    )


def _is_prepared(tfds, name: str, folder: Path) -> bool:
    try:
        return bool(tfds.builder(name, data_dir=str(folder)).is_prepared())
    except Exception:  # an unreadable folder counts as not prepared: the missing-data message says what to do
        return False


def _open(tfds, name: str, split: str, folder: Path, download: bool):
    """The split as a tf.data.Dataset whose photographs are still encoded (decoding only the ones kept)."""
    c = COLLECTIONS[name]
    try:
        return tfds.load(
            c.tfds_name,
            split=split,
            data_dir=str(folder),
            download=download,
            decoders={c.image_key: tfds.decode.SkipDecoding()},
        )
    except Exception as err:
        if _is_prepared(tfds, c.tfds_name, folder):
            raise  # the data are there: the error is about the arguments (an unknown split, a bad slice)
        raise CollectionMissingError(_missing_message(name, folder, download, err)) from err


def _decode(data: bytes, max_side: int | None, label: str, folder: Path) -> np.ndarray:
    try:
        img = tf.io.decode_image(data, channels=3, expand_animations=False).numpy()
    except (tf.errors.InvalidArgumentError, ValueError) as err:
        raise DataMissingError(
            f"{label} in {folder} cannot be decoded ({type(err).__name__}: {str(err)[:200]}); the prepared copy is "
            f"damaged: delete {folder / label.split('/')[0]} and prepare it again"
        ) from None
    photo = img.astype(np.float32) / np.float32(np.iinfo(img.dtype).max)
    h, w = photo.shape[:2]
    if max_side is not None and max(h, w) > max_side:
        # Area averaging: every source pixel counts, so the smaller photo does not alias.
        f = max_side / max(h, w)
        photo = resize(photo[None], (max(1, round(h * f)), max(1, round(w * f))), method="area")[0]
    return photo


def iter_photos(
    name: str = "tf_flowers",
    *,
    split: str = "train",
    limit: int | None = None,
    data_dir=None,
    download: bool = True,
    max_side: int | None = 512,
    seed: int = 0,
):
    """The photographs of a collection one at a time, so that only the ones in use are held in memory.

    The arguments are checked, and the collection opened (downloaded if needed), when this is called, not
    when the first photograph is asked for. See :func:`load_photos` for the arguments.

    Returns:
        an iterator of ``(index, photo)``: the photograph's position in the (sliced) split, the same whatever
        ``limit`` and ``seed`` (so ``f"{name}/{index}"`` names it for that split string), and float32 (H, W, 3)
        RGB in [0, 1], in split order.
    """
    check_choice(name, COLLECTIONS, "photo collection")
    if not isinstance(split, str) or not split.strip():
        raise TypeError(f"split must be a tfds split string such as 'train' or 'train[:80%]', got {split!r}")
    limit = check_optional_count(limit, "limit")
    max_side = check_optional_count(max_side, "max_side")
    seed = check_seed(seed)
    if not isinstance(download, bool):
        raise TypeError(f"download must be True or False, got {download!r}")
    folder = _check_data_dir(data_dir)
    tfds = _tfds()
    ds = _open(tfds, name, split, folder, download)
    n = int(ds.cardinality())  # tfds knows the size of every (sliced) split; < 0 if it did not
    if limit is None or 0 <= n <= limit:
        chosen = None
    elif n >= 0:
        # A seeded sample across the whole split, not its first photographs.
        chosen = set(np.random.default_rng(seed).choice(n, size=limit, replace=False).tolist())
    else:  # size unknown: the first ones (tfds shuffles the examples when it prepares a collection)
        chosen = set(range(limit))
    key = COLLECTIONS[name].image_key

    def photos():
        taken = 0
        for index, data in enumerate(ds.map(lambda ex: ex[key]).as_numpy_iterator()):
            if chosen is not None and index not in chosen:
                continue
            yield index, _decode(data, max_side, f"{name}/{index}", folder)
            taken += 1
            if chosen is not None and taken == len(chosen):
                return

    return photos()


def load_photos(
    name: str = "tf_flowers",
    *,
    split: str = "train",
    limit: int | None = None,
    data_dir=None,
    download: bool = True,
    max_side: int | None = 512,
    seed: int = 0,
) -> list[np.ndarray]:
    """The photographs of a tensorflow-datasets collection.

    Args:
        name: a key of :data:`COLLECTIONS`, e.g. ``"tf_flowers"``.
        split: a tfds split string, slicing allowed: ``"train"``, ``"train[:80%]"``, ``"train[100:200]"``.
        limit: read at most this many photographs (a positive integer), a seeded random sample of the split;
            None reads them all.
        data_dir: tensorflow-datasets' data folder (default :func:`kit.paths.datasets_dir`).
        download: download and prepare the collection there when it is missing.
        max_side: photographs whose longer side is larger are downscaled (area averaging) to this many pixels,
            so memory stays bounded (tf_flowers at 512: at most about 3 MB a photograph); None keeps them whole.
        seed: of the ``limit`` sample.

    Returns:
        a list of float32 (H, W, 3) RGB in [0, 1], in split order.

    Raises:
        CollectionMissingError: the collection is not in ``data_dir`` and could not be downloaded.
        ImportError: tensorflow-datasets is not installed.
    """
    it = iter_photos(name, split=split, limit=limit, data_dir=data_dir, download=download, max_side=max_side, seed=seed)
    return [photo for _, photo in it]


def photo_splits(name: str = "tf_flowers", *, photos=None, fractions=(0.8, 0.1, 0.1), seed: int = 0, **load_kwargs) -> dict:
    """Photographs split train/val/test *by photograph*: disjoint, seeded (:func:`kit.data.split_indices`),
    so crops cut from the test photographs come from photographs training never saw.

    Args:
        name: the collection to read when ``photos`` is None (with ``load_kwargs`` and ``seed`` passed on to
            :func:`load_photos`).
        photos: photographs already read, a list of float32 (H, W, 3) in [0, 1]; then ``name`` is unused.
        fractions: of train, val and test (positive, summing to 1).
        seed: of the split (the same seed gives the same split).

    Returns:
        ``{"train": [...], "val": [...], "test": [...]}``: lists of float32 (H, W, 3) RGB in [0, 1]; the split
        holding ``photos[i]`` is the one whose ``split_indices(len(photos), fractions, seed)`` part holds ``i``.
    """
    seed = check_seed(seed)
    if len(tuple(fractions)) != len(SPLITS):
        raise ValueError(f"fractions must be 3 numbers (train, val, test), got {tuple(fractions)}")
    if photos is None:
        photos = load_photos(name, seed=seed, **load_kwargs)
    elif load_kwargs:
        raise TypeError(f"{sorted(load_kwargs)} are arguments of load_photos; they are unused when photos are passed in")
    if isinstance(photos, np.ndarray) or not isinstance(photos, (list, tuple)):
        raise TypeError(f"photos must be a list of (H, W, 3) photographs, got {type(photos).__name__}")
    photos = [check_photo(p, f"photo {i}") for i, p in enumerate(photos)]
    if not photos:
        raise ValueError("photos is empty: need at least 3 photographs for a train/val/test split")
    parts = split_indices(len(photos), fractions, seed=seed)
    empty = [s for s, p in zip(SPLITS, parts) if not len(p)]
    if empty:
        raise ValueError(f"{len(photos)} photographs are too few for fractions {tuple(fractions)}: {empty} would be empty")
    return {s: [photos[i] for i in p] for s, p in zip(SPLITS, parts)}


def square_images(photos, size: int, *, scale: str = "tanh", names=None) -> np.ndarray:
    """Each photograph centre-cropped to a square and resized (area averaging when shrinking) to ``size``.

    Args:
        photos: a list of float32 (H, W, 3) RGB in [0, 1], or one (N, H, W, 3) batch.
        size: output height = width in pixels; a photograph whose shorter side is smaller is refused (no
            upscaling), the error naming it.
        scale: ``"tanh"``: [-1, 1] (a generator's tanh range); ``"unit"``: [0, 1].
        names: one name per photograph for the error messages (default ``"photo <i>"``).

    Returns:
        float32 (N, size, size, 3) in [-1, 1] or [0, 1].
    """
    size = check_positive_int(size, "size")
    check_choice(scale, SCALES, "scale")
    if isinstance(photos, np.ndarray) or hasattr(photos, "numpy"):
        batch = as_array(photos, "photos")
        if batch.ndim != 4:
            raise ValueError(f"photos must be a list of (H, W, 3) photographs or an (N, H, W, 3) batch, got shape {batch.shape}")
        photos = list(batch)
    if not isinstance(photos, (list, tuple)) or not photos:
        raise ValueError(f"photos must be a non-empty list of (H, W, 3) photographs, got {type(photos).__name__} {photos!r:.60}")
    names = [f"photo {i}" for i in range(len(photos))] if names is None else [str(n) for n in names]
    if len(names) != len(photos):
        raise ValueError(f"names has {len(names)} entries but there are {len(photos)} photographs")
    out = np.empty((len(photos), size, size, 3), np.float32)
    for i, (photo, label) in enumerate(zip(photos, names)):
        p = check_photo(photo, label)
        h, w = p.shape[:2]
        if min(h, w) < size:
            raise ValueError(f"{label} is {w}x{h} pixels, smaller than the {size}x{size} asked for; use a smaller size")
        s = min(h, w)
        top, left = (h - s) // 2, (w - s) // 2
        out[i] = resize(p[None, top : top + s, left : left + s], size)[0]
    return out * 2.0 - 1.0 if scale == "tanh" else out

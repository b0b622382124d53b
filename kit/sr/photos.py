"""Real colour photographs for notebook 07, cut into crops with no overlap between train, val and test.

By default the photographs shipped inside scikit-image (no download): the astronaut, coffee, chelsea the
cat, the rocket launch, the Hubble deep field, an immunohistochemistry slide and a retina. Any folder of your
own images works instead (``folder=...``), e.g. the Tanishq jewellery dataset from Kaggle: unzip its images
into one folder such as ``data/jewellery/`` and pass that path. On Colab a tensorflow-datasets photo
collection (``collection="tf_flowers"``, :mod:`kit.data.collections`) gives thousands of photographs.

Every photograph is tiled into non-overlapping ``crop_size`` squares (:func:`kit.data.photos.tile`);
near-uniform crops (sky, the black background of the Hubble and retina images) are dropped because there is
nothing there to restore. The scikit-image and folder crops are then split 80/10/10 with a fixed seed
(:func:`kit.data.split_indices`), so a crop is in exactly one split and no pixel is shared between splits
(but the splits share photographs). A collection's crops are split *by photograph* instead (the
assignment of :func:`kit.data.photo_splits`): the test crops come from photographs training never saw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kit.checks import check_optional_count, check_positive_int
from kit.data.collections import SPLITS, iter_photos
from kit.data.folders import ImageFolderError, image_files, read_image, split_indices
from kit.data.photos import SKIMAGE_PHOTOS, skimage_photos, tile

__all__ = ["SKIMAGE_PHOTOS", "PhotoCrops", "load_photo_crops", "photo_tiles", "skimage_photos", "tile"]  # the last two re-exported
FRACTIONS = (0.8, 0.1, 0.1)


@dataclass(frozen=True)
class PhotoCrops:
    """Crops float32 (N, S, S, 3) RGB in [0, 1] per split, and the photograph each crop came from."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    sources: dict  # split -> list of photograph names, one per crop (e.g. "astronaut", "tf_flowers/123")

    def __repr__(self):
        return f"PhotoCrops(train={self.train.shape}, val={self.val.shape}, test={self.test.shape})"


def load_photo_crops(
    crop_size: int,
    *,
    folder=None,
    collection: str | None = None,
    collection_photos: int | None = None,
    limit: int | None = None,
    seed: int = 0,
    min_std: float = 0.04,
    data_dir=None,
    download: bool = True,
    exclude=(),
) -> PhotoCrops:
    """Photograph crops split 80/10/10 into train/val/test.

    Args:
        crop_size: side of each square crop in pixels (the high-resolution ground truth of notebook 07).
        folder: a folder of your own images instead of the scikit-image photographs.
        collection: a tensorflow-datasets photo collection (a key of :data:`kit.data.COLLECTIONS`, e.g.
            ``"tf_flowers"``) instead; its crops are split by photograph.
        collection_photos: with ``collection``: read at most this many photographs (a seeded sample; None: all).
        limit: keep at most this many crops in all (the first ones of a seeded shuffle, before the split; with
            a collection each kept crop stays in its photograph's split).
        seed: of the shuffle and split (and of the ``collection_photos`` sample).
        min_std: crops whose pixel standard deviation is below this are dropped.
        data_dir, download: with ``collection``: tensorflow-datasets' data folder (default
            :func:`kit.paths.datasets_dir`) and whether to download the collection there when it is missing.
        exclude: names of photographs to leave out of every split (scikit-image's, or file names in
            ``folder``), e.g. one kept back to test on a photograph no network has seen (:func:`photo_tiles`).

    Returns:
        :class:`PhotoCrops`: float32 (N, crop_size, crop_size, 3) RGB in [0, 1] per split.

    Raises:
        kit.data.CollectionMissingError: the collection is not prepared in ``data_dir`` and could not be
            downloaded.
    """
    crop_size = check_positive_int(crop_size, "crop_size")
    if isinstance(exclude, str) or not all(isinstance(n, str) for n in exclude):
        raise TypeError(f"exclude must be a list of photograph names, got {exclude!r}")
    if exclude and collection is not None:
        raise ValueError(f"exclude names scikit-image's or a folder's photographs, not a collection's (got {list(exclude)!r})")
    if collection is not None:
        if folder is not None:
            raise ValueError(f"pass folder or collection, not both (got folder={folder!r}, collection={collection!r})")
        return _collection_crops(crop_size, collection, collection_photos, limit, seed, min_std, data_dir, download)
    if collection_photos is not None:
        raise ValueError(f"collection_photos={collection_photos!r} counts a collection's photographs; pass collection= too")
    files = None if folder is None else {p.name: p for p in image_files(folder)}
    known = list(SKIMAGE_PHOTOS) if folder is None else sorted(files)
    unknown = [n for n in exclude if n not in known]
    if unknown:
        raise ValueError(f"cannot exclude {unknown}: no such photograph among {known}")
    if folder is None:
        photos = {n: img for n, img in skimage_photos().items() if n not in exclude}
    else:
        photos = {n: read_image(p) for n, p in files.items() if n not in exclude}
    crops, sources = [], []
    for name, img in photos.items():
        c = tile(img, crop_size, min_std=min_std)
        crops.append(c)
        sources += [name] * len(c)
    if not sources:
        where = folder or "the scikit-image photographs"
        raise ImageFolderError(f"no {crop_size}x{crop_size} crop with detail in {where}; use a smaller crop_size or larger images")
    x = np.concatenate(crops).astype(np.float32)
    order = np.random.default_rng(seed).permutation(len(x))[: limit or None]
    x, sources = x[order], [sources[i] for i in order]
    if len(x) < 3:
        raise ImageFolderError(f"only {len(x)} crops: need at least 3 for a train/val/test split")
    parts = split_indices(len(x), FRACTIONS, seed=seed)
    return PhotoCrops(*(x[p] for p in parts), sources={n: [sources[i] for i in p] for n, p in zip(SPLITS, parts)})


def _collection_crops(crop_size, collection, collection_photos, limit, seed, min_std, data_dir, download) -> PhotoCrops:
    """Crops of a collection's photographs, split by photograph exactly as :func:`kit.data.photo_splits` splits
    them; the photographs are tiled as they are read, so only the crops are held in memory."""
    limit = check_optional_count(limit, "limit")
    photos = iter_photos(collection, limit=collection_photos, seed=seed, data_dir=data_dir, download=download)
    stacks, names = [], []
    for index, photo in photos:
        stacks.append(tile(photo, crop_size, min_std=min_std))
        names.append(f"{collection}/{index}")
    # The split is drawn over the photographs (as photo_splits does), then every crop follows its photograph.
    photo_parts = split_indices(max(len(stacks), 1), FRACTIONS, seed=seed)
    if not stacks or not all(len(p) for p in photo_parts):
        raise ValueError(f"{len(stacks)} photographs of {collection} are too few for an 80/10/10 split by photograph (a split would get none); read more (collection_photos)")
    split_of = np.empty(len(stacks), int)
    for k, part in enumerate(photo_parts):
        split_of[part] = k
    photo_of = np.repeat(np.arange(len(stacks)), [len(s) for s in stacks])
    x = np.concatenate(stacks)
    del stacks  # the crops are now held once, in x
    order = np.random.default_rng(seed).permutation(len(x))[:limit]
    parts = [order[split_of[photo_of[order]] == k] for k in range(len(SPLITS))]
    empty = [s for s, p in zip(SPLITS, parts) if not len(p)]
    if empty:
        raise ValueError(
            f"no {crop_size}x{crop_size} crop with detail for the {empty} split(s) from {len(names)} photographs of "
            f"{collection} (limit={limit}); use more photographs, a smaller crop_size or a larger limit"
        )
    return PhotoCrops(*(x[p] for p in parts), sources={s: [names[i] for i in photo_of[p]] for s, p in zip(SPLITS, parts)})


def photo_tiles(names, crop_size: int, *, min_std: float = 0.04, limit: int | None = None) -> np.ndarray:
    """Every crop of scikit-image's photographs ``names`` (in that order), float32 (N, crop_size, crop_size, 3)
    RGB in [0, 1], tiled and filtered as :func:`load_photo_crops` does: the crops of a photograph left out of
    training with ``exclude=``. ``limit``: at most this many crops, an evenly spaced selection (None: all)."""
    if isinstance(names, str):
        names = [names]
    crop_size = check_positive_int(crop_size, "crop_size")
    limit = check_optional_count(limit, "limit")
    unknown = [n for n in names if n not in SKIMAGE_PHOTOS]
    if not names or unknown:
        raise ValueError(f"names must name scikit-image's photographs {list(SKIMAGE_PHOTOS)}, got {list(names)!r}")
    photos = skimage_photos()
    x = np.concatenate([tile(photos[n], crop_size, min_std=min_std) for n in names]).astype(np.float32)
    if not len(x):
        raise ImageFolderError(f"no {crop_size}x{crop_size} crop with detail in {list(names)}; use a smaller crop_size")
    if limit is not None and limit < len(x):
        x = x[np.linspace(0, len(x) - 1, limit).round().astype(int)]
    return x

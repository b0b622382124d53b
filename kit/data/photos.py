"""Real colour photographs for notebook 07, cut into crops with no overlap between train, val and test.

By default the photographs shipped inside scikit-image (no download): the astronaut, coffee, chelsea the
cat, the rocket launch, the Hubble deep field, an immunohistochemistry slide and a retina. Any folder of your
own images works instead (``folder=...``), e.g. the Tanishq jewellery dataset from Kaggle: unzip its images
into one folder such as ``data/jewellery/`` and pass that path.

Every photograph is tiled into non-overlapping ``crop_size`` squares; near-uniform crops (sky, the black
background of the Hubble and retina images) are dropped because there is nothing there to restore. The
crops are then split 80/10/10 with a fixed seed (:func:`kit.data.folders.split_indices`), so a crop is in
exactly one split and no pixel is shared between splits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kit.checks import check_positive_int
from kit.data.folders import ImageFolderError, image_files, read_image, split_indices

SKIMAGE_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry", "retina")


@dataclass(frozen=True)
class PhotoCrops:
    """Crops float32 (N, S, S, 3) RGB in [0, 1] per split, and the photograph each crop came from."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    sources: dict  # split -> list of photograph names, one per crop

    def __repr__(self):
        return f"PhotoCrops(train={self.train.shape}, val={self.val.shape}, test={self.test.shape})"


def skimage_photos(names=SKIMAGE_PHOTOS) -> dict:
    """The scikit-image sample photographs as ``{name: float32 (H, W, 3) in [0, 1]}``."""
    from skimage import data
    from skimage.util import img_as_float32

    out = {}
    for name in names:
        if name not in SKIMAGE_PHOTOS:
            raise ValueError(f"unknown scikit-image photograph {name!r}; expected some of {list(SKIMAGE_PHOTOS)}")
        out[name] = img_as_float32(getattr(data, name)())[..., :3]
    return out


def tile(image: np.ndarray, size: int, *, min_std: float = 0.04) -> np.ndarray:
    """Non-overlapping ``size`` x ``size`` crops of one (H, W, 3) image, row by row (the ragged right and
    bottom edges are dropped), without crops whose pixel standard deviation is below ``min_std``."""
    size = check_positive_int(size, "crop size")
    h, w = image.shape[:2]
    crops = [image[t : t + size, l : l + size] for t in range(0, h - size + 1, size) for l in range(0, w - size + 1, size)]
    crops = [c for c in crops if c.std() >= min_std]
    return np.stack(crops) if crops else np.zeros((0, size, size, 3), np.float32)


def load_photo_crops(crop_size: int, *, folder=None, limit: int | None = None, seed: int = 0, min_std: float = 0.04) -> PhotoCrops:
    """Photograph crops split 80/10/10 into train/val/test.

    Args:
        crop_size: side of each square crop in pixels (the high-resolution ground truth of notebook 07).
        folder: a folder of your own images instead of the scikit-image photographs.
        limit: keep at most this many crops in all (the first ones of a seeded shuffle, before the split).
        seed: of the shuffle and split.

    Returns:
        :class:`PhotoCrops`.
    """
    crop_size = check_positive_int(crop_size, "crop_size")
    if folder is None:
        photos = skimage_photos()
    else:
        photos = {p.name: read_image(p) for p in image_files(folder)}
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
    parts = split_indices(len(x), (0.8, 0.1, 0.1), seed=seed)
    names = ("train", "val", "test")
    return PhotoCrops(*(x[p] for p in parts), sources={n: [sources[i] for i in p] for n, p in zip(names, parts)})

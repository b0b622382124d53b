"""Photographs as arrays: the check every photo function shares, the seven photographs that ship with
scikit-image (no download), and cutting a photograph into non-overlapping crops.

A photograph here is float32 (H, W, 3) RGB in [0, 1], one array per photograph (they differ in size, so a
set of them is a list, not a batch). Notebooks 06 (COCO-GAN) and 07 (super-resolution) both cut their
training images from photographs; these are the pieces they share (:mod:`kit.data.collections` adds the
tensorflow-datasets photo collections).
"""

from __future__ import annotations

import numpy as np
from skimage import data as skimage_data
from skimage.util import img_as_float32

from kit.checks import as_array, check_images, check_number, check_positive_int

SKIMAGE_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry", "retina")


def check_photo(photo, name: str = "photo") -> np.ndarray:
    """One photograph, float (H, W, 3) RGB in [0, 1], returned as float32; anything else raises an error that
    says what was expected and what arrived."""
    arr = as_array(photo, name)
    if arr.ndim != 3:
        hint = " (one photograph; index a batch with x[i])" if arr.ndim == 4 else ""
        raise ValueError(f"{name} must be rank 3 (H, W, 3) RGB, got shape {arr.shape}{hint}")
    return check_images(arr[None], name, channels=(3,), value_range=(0.0, 1.0))[0]


def check_seed(seed) -> int:
    """A random seed: a whole number >= 0 (what ``np.random.default_rng`` accepts), as an int."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer >= 0, got {seed!r} ({type(seed).__name__})")
    if seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    return int(seed)


def skimage_photos(names=SKIMAGE_PHOTOS) -> dict:
    """The scikit-image sample photographs as ``{name: float32 (H, W, 3) in [0, 1]}`` (alpha dropped)."""
    if isinstance(names, str):  # a single name would otherwise be read letter by letter
        names = (names,)
    out = {}
    for name in names:
        if name not in SKIMAGE_PHOTOS:
            raise ValueError(f"unknown scikit-image photograph {name!r}; expected some of {list(SKIMAGE_PHOTOS)}")
        out[name] = img_as_float32(getattr(skimage_data, name)())[..., :3]
    return out


def tile(image, size: int, *, min_std: float = 0.04) -> np.ndarray:
    """Non-overlapping ``size`` x ``size`` crops of one photograph float32 (H, W, 3) in [0, 1], row by row
    (the ragged right and bottom edges are dropped), without crops whose pixel standard deviation is below
    ``min_std`` (sky, a black background: nothing there to learn or restore).

    Returns:
        float32 (N, size, size, 3) in [0, 1]; N is 0 when the photograph is smaller than ``size`` or flat.
    """
    size = check_positive_int(size, "crop size")
    min_std = check_number(min_std, "min_std", low=0.0)
    image = check_photo(image, "image")
    h, w = image.shape[:2]
    crops = [image[t : t + size, l : l + size] for t in range(0, h - size + 1, size) for l in range(0, w - size + 1, size)]
    crops = [c for c in crops if c.std() >= min_std]
    return np.stack(crops) if crops else np.zeros((0, size, size, 3), np.float32)

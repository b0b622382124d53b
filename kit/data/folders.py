"""Images from a folder the user supplies (their own photos, a Kaggle dataset, edges2shoes-style pairs).

Everything comes back as float32 NHWC RGB in [0, 1]. Missing folders, empty folders, unreadable files and
images smaller than the requested size raise :class:`ImageFolderError` naming the folder and the files, never
a silent skip a student would not notice.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from kit.checks import check_optional_count, check_positive_int
from kit.imageops import resize

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


class ImageFolderError(ValueError):
    """A user image folder that cannot be used as asked; the message says what to fix."""


def image_files(folder) -> list[Path]:
    """The image files directly in ``folder`` (sorted by name), or an error naming the folder when it is
    missing or holds none of :data:`IMAGE_EXTENSIONS`."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise ImageFolderError(f"image folder {folder.resolve()} does not exist; put your images ({', '.join(IMAGE_EXTENSIONS)}) there")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
    if not files:
        raise ImageFolderError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) in {folder.resolve()}")
    return files


MAX_PIXELS = 50_000_000  # about 7000 x 7000: larger files are refused before they are decoded


def read_image(path, *, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """One image file as float32 (H, W, 3) RGB in [0, 1] (grayscale is repeated to 3 channels, alpha dropped,
    16-bit scaled down). The header is read first: a file announcing more than ``max_pixels`` pixels (a
    "decompression bomb") is refused before anything is decoded."""
    path = Path(path)
    try:
        with Image.open(path) as im:  # reads the header only
            w, h = im.size
            if w * h > max_pixels:
                raise ImageFolderError(f"{path} is {w}x{h} pixels, more than the {max_pixels:,} read at most; resize it first")
            im.load()
            img = im.convert("RGB") if im.mode not in ("I;16", "I;16B", "I") else im
            arr = np.asarray(img)
    except ImageFolderError:
        raise
    except Exception as err:
        raise ImageFolderError(f"cannot read image {path}: {type(err).__name__}: {err}") from None
    if arr.ndim == 2:  # 16-bit grayscale
        arr = np.repeat((arr.astype(np.float32) / 65535.0)[..., None], 3, axis=-1)
        return np.clip(arr, 0.0, 1.0).astype(np.float32)
    if arr.ndim != 3 or arr.shape[-1] != 3:
        raise ImageFolderError(f"{path} is not an RGB or grayscale image (array shape {arr.shape})")
    return arr.astype(np.float32) / 255.0


def _fit(img: np.ndarray, size: int, path: Path, min_size: int) -> np.ndarray:
    """Centre-crop to a square and resize to ``size`` x ``size`` (area-averaged when shrinking)."""
    h, w = img.shape[:2]
    if min(h, w) < min_size:
        raise ImageFolderError(f"{path} is {w}x{h} pixels, smaller than the {min_size}x{min_size} needed")
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    img = img[top : top + s, left : left + s]
    return resize(img[None], size)[0]


def load_image_folder(folder, size: int, *, min_size: int | None = None, limit: int | None = None) -> np.ndarray:
    """Every image in ``folder`` centre-cropped to a square and resized to ``size`` x ``size``.

    Args:
        folder: a directory of image files.
        size: output height = width in pixels.
        min_size: reject images whose shorter side is smaller (default ``size``: no upscaling).
        limit: read the first ``limit`` files (sorted by name), a positive integer; None reads them all.

    Returns:
        float32 (N, size, size, 3) RGB in [0, 1].
    """
    size = check_positive_int(size, "size")
    min_size = size if min_size is None else check_positive_int(min_size, "min_size")
    files = image_files(folder)[: check_optional_count(limit, "limit")]
    return np.stack([_fit(read_image(p), size, p, min_size) for p in files])


def load_paired_folder(folder, size: int, *, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Side-by-side pairs (pix2pix / edges2shoes layout: input on the left half, target on the right half
    of each file), each half resized to ``size`` x ``size``.

    Args:
        limit: read the first ``limit`` files (sorted by name), a positive integer; None reads them all.

    Returns:
        (inputs, targets), each float32 (N, size, size, 3) RGB in [0, 1].
    """
    size = check_positive_int(size, "size")
    inputs, targets = [], []
    for p in image_files(folder)[: check_optional_count(limit, "limit")]:
        img = read_image(p)
        h, w = img.shape[:2]
        if w % 2 or abs(w // 2 - h) > max(1, h // 100):
            raise ImageFolderError(
                f"{p} is {w}x{h} pixels; a paired file holds two square halves side by side (width = 2 x height), "
                "input left and target right"
            )
        half = w // 2
        inputs.append(_fit(img[:, :half], size, p, min(size, h)))
        targets.append(_fit(img[:, half:], size, p, min(size, h)))
    return np.stack(inputs), np.stack(targets)


def split_indices(n: int, fractions=(0.8, 0.1, 0.1), seed: int = 0) -> tuple[np.ndarray, ...]:
    """Disjoint seeded random index sets (train, val, test, ...) covering ``range(n)`` in the given fractions."""
    n = check_positive_int(n, "n")
    fractions = np.asarray(fractions, float)
    if np.any(fractions <= 0) or not np.isclose(fractions.sum(), 1.0):
        raise ValueError(f"fractions must be positive and sum to 1, got {tuple(fractions)}")
    order = np.random.default_rng(seed).permutation(n)
    cuts = np.round(np.cumsum(fractions)[:-1] * n).astype(int)
    return tuple(np.sort(part) for part in np.split(order, cuts))

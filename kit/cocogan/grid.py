"""COCO-GAN's coordinate system, the merging function Phi, and the seam score.

An S x S image is cut into micro patches of m x m pixels: an n x n grid, n = S / m. A macro patch is a k x k
block of neighbouring micro patches (M = k m pixels). Macro positions step by one micro patch, so neighbours
overlap as in the paper: there are n - k + 1 of them per axis. Both grids are spread evenly over [-1, 1]
(coordinates are (y, x): row first). For the paper's 64x64 image with 32x32 macro and 16x16 micro patches:
micro coordinates {-1, -1/3, 1/3, 1}, macro centres {-1, 0, 1} per axis.

Beyond-boundary generation extends the micro grid past [-1, 1] with the same spacing: ``e`` extra micro
patches on every side make an (S + 2 e m)-pixel image.

Patch order everywhere: row-major, ``index = row * n + col``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from keras import ops

from kit.checks import as_array, check_positive_int


def _axis(n: int) -> np.ndarray:
    """n evenly spaced coordinates over [-1, 1] (one position sits in the middle, at 0)."""
    return np.zeros(1, np.float32) if n == 1 else np.linspace(-1.0, 1.0, n, dtype=np.float32)


def _pairs(ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """(len(ys), len(xs), 2) grid of (y, x) pairs."""
    yy, xx = np.meshgrid(ys, xs, indexing="ij")
    return np.stack([yy, xx], axis=-1).astype(np.float32)


@dataclass(frozen=True)
class PatchGrid:
    """Sizes of one COCO-GAN setting, validated: ``PatchGrid(image_size=32, macro_size=16, micro_size=8)``.

    Raises ValueError when the micro patch does not divide the macro patch or the image, when the macro patch
    is larger than the image, or for non-positive sizes.
    """

    image_size: int
    macro_size: int
    micro_size: int

    def __post_init__(self):
        s = check_positive_int(self.image_size, "image_size")
        big = check_positive_int(self.macro_size, "macro_size")
        m = check_positive_int(self.micro_size, "micro_size")
        if big > s:
            raise ValueError(f"macro_size ({big}) must not be larger than image_size ({s})")
        if m > big:
            raise ValueError(f"micro_size ({m}) must not be larger than macro_size ({big})")
        if big % m:
            raise ValueError(f"micro_size ({m}) must divide macro_size ({big}): a macro patch is k x k micro patches")
        if s % m:
            raise ValueError(f"micro_size ({m}) must divide image_size ({s}): the image is an n x n grid of micro patches")

    @property
    def ratio(self) -> int:
        """k: micro patches per macro patch side."""
        return self.macro_size // self.micro_size

    @property
    def n_micro(self) -> int:
        """Micro patches per image side."""
        return self.image_size // self.micro_size

    @property
    def n_macro(self) -> int:
        """Macro positions per image side (they overlap: one micro patch apart)."""
        return self.n_micro - self.ratio + 1

    @property
    def micro_step(self) -> float:
        """Coordinate distance between neighbouring micro patches (0 when there is only one)."""
        return 0.0 if self.n_micro == 1 else 2.0 / (self.n_micro - 1)

    @property
    def macro_step(self) -> float:
        return 0.0 if self.n_macro == 1 else 2.0 / (self.n_macro - 1)

    def micro_coords(self, extra: int = 0) -> np.ndarray:
        """(n + 2 extra, n + 2 extra, 2) float32 micro coordinates (y, x); ``extra`` > 0 extends the grid past
        [-1, 1] by that many micro patches on every side (beyond-boundary generation)."""
        if isinstance(extra, bool) or not isinstance(extra, (int, np.integer)) or extra < 0:
            raise ValueError(f"extra must be an integer >= 0, got {extra!r}")
        if extra and self.n_micro == 1:
            raise ValueError("a grid of a single micro patch has no spacing to extend beyond the boundary")
        axis = -1.0 + self.micro_step * np.arange(-extra, self.n_micro + extra, dtype=np.float32)
        if self.n_micro == 1 and extra == 0:
            axis = _axis(1)
        return _pairs(axis, axis)

    def macro_coords(self) -> np.ndarray:
        """(n_macro, n_macro, 2) float32 macro coordinates (y, x) in [-1, 1]."""
        return _pairs(_axis(self.n_macro), _axis(self.n_macro))

    def macro_origin(self, row: int, col: int) -> tuple[int, int]:
        """Top-left pixel (y, x) of the macro patch at grid position (row, col)."""
        for v, name in ((row, "row"), (col, "col")):
            if not 0 <= v < self.n_macro:
                raise ValueError(f"macro {name} must lie in [0, {self.n_macro - 1}], got {v}")
        return row * self.micro_size, col * self.micro_size

    def micro_coords_of_macro(self, row: int, col: int) -> np.ndarray:
        """(k, k, 2) coordinates of the micro patches making the macro patch at (row, col)."""
        self.macro_origin(row, col)
        k = self.ratio
        return self.micro_coords()[row : row + k, col : col + k]

    def check_macro_positions(self, positions, n: int) -> np.ndarray:
        """``positions`` as int32 (n, 2) macro grid (row, col), each in [0, n_macro - 1]; else a ValueError."""
        pos = np.asarray(positions)
        if pos.shape != (n, 2) or pos.min(initial=0) < 0 or pos.max(initial=0) >= self.n_macro:
            raise ValueError(f"positions must be ({n}, 2) macro (row, col) in [0, {self.n_macro - 1}], got {pos.tolist()}")
        return pos.astype(np.int32)

    def crop_macro(self, images, positions) -> np.ndarray:
        """Real macro patches: ``images`` (B, S, S, C), ``positions`` int (B, 2) macro grid (row, col) ->
        (B, M, M, C), each cut where its coordinate says."""
        x = as_array(images, "images")
        pos = as_array(positions, "positions").astype(int)
        if x.ndim != 4 or x.shape[1:3] != (self.image_size, self.image_size):
            raise ValueError(f"images must be (B, {self.image_size}, {self.image_size}, C), got {x.shape}")
        if pos.shape != (len(x), 2):
            raise ValueError(f"positions must be (B, 2) = ({len(x)}, 2) macro (row, col), got {pos.shape}")
        out = []
        for img, (r, c) in zip(x, pos):
            top, left = self.macro_origin(int(r), int(c))
            out.append(img[top : top + self.macro_size, left : left + self.macro_size])
        return np.stack(out)

    def beyond_extra(self, size: int) -> int:
        """Extra micro patches per side for a ``size`` x ``size`` beyond-boundary image; ``size`` must be
        image_size + 2 e micro_size for an integer e >= 0 (e.g. 48 from 32 with 8x8 micro patches: e = 1)."""
        size = check_positive_int(size, "size")
        grow = size - self.image_size
        if grow < 0 or grow % (2 * self.micro_size):
            raise ValueError(
                f"a beyond-boundary size must be image_size ({self.image_size}) + a multiple of 2 x micro_size "
                f"({2 * self.micro_size}) (whole micro patches on every side), got {size}"
            )
        return grow // (2 * self.micro_size)


def merge_patches(patches, k: int):
    """Phi: (B * k * k, m, m, C) patches, row-major per image -> (B, k m, k m, C). Differentiable keras ops,
    so it runs on the device inside ``train_step``; k = the macro ratio for macro patches, n for an image."""
    k = check_positive_int(k, "k")
    shape = tuple(patches.shape)
    if len(shape) != 4 or shape[1] != shape[2]:
        raise ValueError(f"patches must be (B * k * k, m, m, C), got shape {shape}")
    m, channels = shape[1], shape[3]
    if shape[0] is not None and shape[0] % (k * k):
        raise ValueError(f"{shape[0]} patches are not a whole number of {k}x{k} blocks")
    x = ops.reshape(patches, (-1, k, k, m, m, channels))
    x = ops.transpose(x, (0, 1, 3, 2, 4, 5))  # (B, row, y, col, x, C)
    return ops.reshape(x, (-1, k * m, k * m, channels))


def split_patches(images, m: int):
    """The inverse of :func:`merge_patches`: (B, S, S, C) -> (B * n * n, m, m, C), n = S / m, row-major."""
    m = check_positive_int(m, "m")
    shape = tuple(images.shape)
    if len(shape) != 4 or shape[1] != shape[2] or shape[1] % m:
        raise ValueError(f"images must be square (B, S, S, C) with S a multiple of {m}, got shape {shape}")
    n, channels = shape[1] // m, shape[3]
    x = ops.reshape(images, (-1, n, m, n, m, channels))
    x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
    return ops.reshape(x, (-1, m, m, channels))


def seam_score(images, micro_size: int) -> float:
    """Mean absolute image gradient across micro-patch borders divided by the same inside patches.

    1.0: borders are as smooth as patch interiors (seamless); above 1: visible seams. Compute it for real
    images too, as the reference (their content has no reason to change at the grid lines).

    Args:
        images: float (N, H, W, C), any value range; H and W multiples of ``micro_size`` with at least two
            patches per side.
    """
    x = as_array(images, "images").astype(np.float64)
    m = check_positive_int(micro_size, "micro_size")
    if x.ndim != 4:
        raise ValueError(f"images must be rank 4 (N, H, W, C), got shape {x.shape}")
    h, w = x.shape[1:3]
    if h % m or w % m or h < 2 * m or w < 2 * m:
        raise ValueError(f"images must be multiples of micro_size ({m}) with at least 2 patches per side, got {h}x{w}")
    border_sum, border_n, inside_sum, inside_n = 0.0, 0, 0.0, 0
    for axis, length in ((1, h), (2, w)):
        grad = np.abs(np.diff(x, axis=axis))  # grad[i] is between pixel i and i + 1
        across = (np.arange(length - 1) + 1) % m == 0
        g_border = np.take(grad, np.flatnonzero(across), axis=axis)
        g_inside = np.take(grad, np.flatnonzero(~across), axis=axis)
        border_sum, border_n = border_sum + g_border.sum(), border_n + g_border.size
        inside_sum, inside_n = inside_sum + g_inside.sum(), inside_n + g_inside.size
    inside = inside_sum / inside_n
    if inside == 0:
        raise ValueError("images are constant inside every patch: the seam score is undefined")
    return float((border_sum / border_n) / inside)

"""Figures of notebook 06: COCO-GAN's coordinate grids and images with their patch grid drawn over them.
Like every :mod:`kit.viz` figure they are shown (``show=True``) or returned, and saved under
``$KIT_RUN_DIR/figures`` when that is set."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from kit.checks import check_images, check_positive_int
from kit.cocogan.grid import PatchGrid
from kit.viz import PALETTE, draw_image, finish, image_grid, to_display


def _outline(ax, top, left, size, colour, lw=2.0, style="-"):
    ax.add_patch(plt.Rectangle((left - 0.5, top - 0.5), size, size, fill=False, ec=colour, lw=lw, ls=style))


def plot_coordinates(grid: PatchGrid, image=None, *, extra: int = 1, value_range=(-1.0, 1.0), name: str = "coco_coordinates", show: bool = True):
    """Left: micro-patch coordinates (dots; beyond-boundary ones, ``extra`` per side, in grey) and macro
    coordinates (crosses) in coordinate space. Right: ``image`` (H, W, C), or a blank canvas, with the micro
    grid and three overlapping macro patches outlined."""
    fig, (ax_c, ax_i) = plt.subplots(1, 2, figsize=(9.5, 4.4))
    beyond = grid.micro_coords(extra).reshape(-1, 2)
    inside = grid.micro_coords().reshape(-1, 2)
    macro = grid.macro_coords().reshape(-1, 2)
    ax_c.scatter(beyond[:, 1], beyond[:, 0], s=18, c="#bbbbbb", label=f"micro, beyond boundary (+{extra})")
    ax_c.scatter(inside[:, 1], inside[:, 0], s=30, c=PALETTE[0], label=f"micro patch centres ({grid.n_micro}x{grid.n_micro})")
    ax_c.scatter(macro[:, 1], macro[:, 0], s=70, marker="x", c=PALETTE[1], label=f"macro patch centres ({grid.n_macro}x{grid.n_macro})")
    ax_c.add_patch(plt.Rectangle((-1, -1), 2, 2, fill=False, ec="k", lw=1, ls="--"))
    ax_c.invert_yaxis()  # y grows downwards, as rows do in the image
    ax_c.set_aspect("equal")
    ax_c.set_xlabel("x coordinate")
    ax_c.set_ylabel("y coordinate")
    ax_c.set_title("Coordinate grids in [-1, 1]")
    ax_c.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=1)
    s, m = grid.image_size, grid.micro_size
    canvas = np.zeros((s, s, 1), np.float32) if image is None else to_display(np.asarray(image)[None], value_range)[0]
    draw_image(ax_i, canvas, "gray")
    for v in range(m, s, m):
        ax_i.axhline(v - 0.5, c=PALETTE[0], lw=0.8)
        ax_i.axvline(v - 0.5, c=PALETTE[0], lw=0.8)
    last = grid.n_macro - 1
    for (r, c), colour in zip(((0, 0), (0, min(1, last)), (last, last)), PALETTE[1:]):
        top, left = grid.macro_origin(r, c)
        _outline(ax_i, top, left, grid.macro_size, colour, lw=2.5)
    ax_i.set_title(f"{s}x{s} image: {m}x{m} micro patches, {grid.macro_size}x{grid.macro_size} macro patches (overlapping)")
    return finish(fig, name, show, tight=True)


def plot_patch_grid(images, micro_size: int, *, boundary: int | None = None, titles=None, ncols: int = 8, value_range=(-1.0, 1.0),
                    cell: float = 1.4, title: str | None = None, name: str = "coco_patch_grid", show: bool = True):
    """Images (N, H, W, C) with their micro-patch grid drawn over them; ``boundary`` (pixels) outlines the
    central training-size region of beyond-boundary images."""
    x = check_images(images, channels=(1, 3), value_range=value_range)
    m = check_positive_int(micro_size, "micro_size")
    h = x.shape[1]

    def overlay(ax, i):
        for v in range(m, h, m):
            ax.axhline(v - 0.5, c=PALETTE[0], lw=0.5, alpha=0.7)
            ax.axvline(v - 0.5, c=PALETTE[0], lw=0.5, alpha=0.7)
        if boundary is not None:
            off = (h - boundary) / 2
            _outline(ax, off, off, boundary, PALETTE[1], lw=1.2, style="--")

    return image_grid(x, titles=titles, ncols=ncols, value_range=value_range, title=title, cell=cell, overlay=overlay, name=name, show=show)


def plot_guided(real, guided, positions, grid: PatchGrid, *, value_range=(-1.0, 1.0), cell: float = 1.4,
                title: str | None = None, name: str = "coco_patch_guided", show: bool = True):
    """Patch-guided generation: real images (N, S, S, C) on the top row, the images generated from their
    macro patch (N, S, S, C) below, each with that macro patch (``positions`` int (N, 2), macro row and col)
    outlined."""
    real = check_images(real, "real images", channels=(1, 3), value_range=value_range)
    guided = check_images(guided, "guided images", channels=(1, 3), value_range=value_range)
    if guided.shape != real.shape:
        raise ValueError(f"need one guided image per real one, of the same shape: got {real.shape} and {guided.shape}")
    pos = grid.check_macro_positions(positions, len(real))
    n = len(real)

    def overlay(ax, i):
        top, left = grid.macro_origin(*pos[i % n])
        _outline(ax, top, left, grid.macro_size, PALETTE[1], lw=1.5)

    titles = ["real"] * n + ["from its patch"] * n
    return image_grid(np.concatenate([real, guided]), titles=titles, ncols=n, value_range=value_range, title=title, cell=cell,
                      overlay=overlay, name=name, show=show)

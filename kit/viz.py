"""Plots in one consistent style for every notebook: image grids, side-by-side panels, training curves,
epsilon curves and confusion matrices.

Every function draws one figure, shows it (``show=True``, the notebook default) or returns it
(``show=False``, for tests and scripts), and, when ``$KIT_RUN_DIR`` is set (``make run`` sets it), also saves
it as ``$KIT_RUN_DIR/figures/<name>.png``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

from kit.checks import as_array, check_positive_int

STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 120,
    "savefig.bbox": "tight",
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "font.size": 10,
    "image.cmap": "gray",
}
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


def use_style() -> None:
    """Apply the course's matplotlib style (``kit.setup`` calls this)."""
    matplotlib.rcParams.update(STYLE)
    matplotlib.rcParams["axes.prop_cycle"] = matplotlib.cycler(color=PALETTE)


def figures_dir() -> Path | None:
    """``$KIT_RUN_DIR/figures`` when a run directory is set, else None."""
    run = os.environ.get("KIT_RUN_DIR")
    return Path(run) / "figures" if run else None


def finish(fig, name: str, show: bool, *, title: str | None = None, tight: bool = False):
    """Title and lay out ``fig``, save it to the figures folder (when one is set), then show it (and return
    None) or return it: the last step of every figure function, here and in the topic packages."""
    if title:
        fig.suptitle(title)
    if tight:
        fig.tight_layout()
    folder = figures_dir()
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        fig.savefig(folder / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png")
    if show:
        plt.show()
        plt.close(fig)
        return None
    return fig


def to_display(images, value_range) -> np.ndarray:
    """Images (N, H, W, 1|3) or (N, H, W) in ``value_range`` as float (N, H, W, 1|3) in [0, 1] for drawing."""
    x = as_array(images, "images").astype(np.float32)
    if x.ndim == 3:  # (N, H, W): grayscale without channel axis
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise ValueError(f"images must be (N, H, W, 1|3) or (N, H, W), got shape {x.shape}")
    lo, hi = value_range
    return np.clip((x - lo) / (hi - lo), 0.0, 1.0)


def draw_image(ax, img, cmap="gray"):
    """Draw one image (H, W, 1|3) in [0, 1] on ``ax`` without ticks, grid or frame."""
    if img.shape[-1] == 1:
        ax.imshow(img[..., 0], cmap=cmap, vmin=0.0, vmax=1.0)
    else:
        ax.imshow(img)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)


def image_grid(
    images,
    *,
    titles=None,
    ncols: int = 10,
    value_range=(0.0, 1.0),
    cmap: str = "gray",
    title: str | None = None,
    cell: float = 1.2,
    overlay=None,
    name: str = "image_grid",
    show: bool = True,
):
    """A grid of images.

    Args:
        images: (N, H, W, 1|3) or (N, H, W), values in ``value_range`` ([0, 1] or [-1, 1] for GAN output).
        titles: optional N captions.
        ncols: images per row.
        overlay: optional ``overlay(ax, i)`` drawing on top of image i (e.g. a patch grid).
    """
    x = to_display(images, value_range)
    n = len(x)
    if titles is not None and len(titles) != n:
        raise ValueError(f"got {len(titles)} titles for {n} images")
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(cell * ncols, cell * nrows + (0.3 if title else 0)), squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i < n:
            draw_image(ax, x[i], cmap)
            if overlay is not None:
                overlay(ax, i)
            if titles is not None:
                ax.set_title(titles[i], fontsize=8)
        else:
            ax.axis("off")
    return finish(fig, name, show, title=title, tight=True)


def side_by_side(
    rows: dict,
    *,
    captions: dict | None = None,
    value_ranges: dict | None = None,
    cmaps: dict | None = None,
    title: str | None = None,
    cell: float = 1.4,
    name: str = "side_by_side",
    show: bool = True,
):
    """Rows of images compared column by column (e.g. clean | adversarial | perturbation).

    Args:
        rows: ``{row label: images (N, H, W, C)}``, every row with the same N.
        captions: optional ``{row label: N captions}``.
        value_ranges: optional ``{row label: (low, high)}`` (default (0, 1)).
        cmaps: optional ``{row label: colormap}`` for single-channel rows (default gray).
    """
    if not rows:
        raise ValueError("rows must name at least one row of images")
    data = {k: to_display(v, (value_ranges or {}).get(k, (0.0, 1.0))) for k, v in rows.items()}
    counts = {k: len(v) for k, v in data.items()}
    if len(set(counts.values())) != 1:
        raise ValueError(f"every row needs the same number of images, got {counts}")
    n = next(iter(counts.values()))
    fig, axes = plt.subplots(len(data), n, figsize=(cell * n + 1.0, cell * len(data) + 0.3), squeeze=False)
    for r, (label, imgs) in enumerate(data.items()):
        caps = (captions or {}).get(label)
        for c in range(n):
            ax = axes[r, c]
            draw_image(ax, imgs[c], (cmaps or {}).get(label, "gray"))
            if caps is not None:
                ax.set_title(caps[c], fontsize=8)
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=10)
    return finish(fig, name, show, title=title, tight=True)


def _history_dict(h) -> dict:
    return h.history if hasattr(h, "history") else dict(h)


def plot_history(histories: dict, *, metrics=("loss", "accuracy"), title: str | None = None, name: str = "history", show: bool = True,
                 steps_per_point: int | None = None):
    """Training curves of one or more runs: one panel per metric, solid = train, dashed = validation.

    Args:
        histories: ``{run label: keras History or its .history dict}``.
        metrics: metric names to plot (``val_<name>`` is drawn too when present).
        steps_per_point: when each history entry covers this many training steps (not an epoch), the x axis
            counts steps.
    """
    if not histories:
        raise ValueError("histories must hold at least one run")
    if steps_per_point is not None:
        steps_per_point = check_positive_int(steps_per_point, "steps_per_point")
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.4), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        for color, (label, h) in zip(PALETTE * 4, histories.items()):
            h = _history_dict(h)
            if metric not in h:
                raise ValueError(f"run {label!r} has no metric {metric!r}; it has {sorted(h)}")
            epochs = np.arange(1, len(h[metric]) + 1) * (steps_per_point or 1)
            ax.plot(epochs, h[metric], "-o", color=color, ms=3, label=f"{label}")
            if f"val_{metric}" in h:
                ax.plot(epochs, h[f"val_{metric}"], "--", color=color, label=f"{label} (val)")
        ax.set_xlabel("training step" if steps_per_point else "epoch")
        ax.set_ylabel(metric)
        ax.legend()
    return finish(fig, name, show, title=title, tight=True)


def plot_curves(
    x,
    curves: dict,
    *,
    xlabel: str,
    ylabel: str,
    title: str | None = None,
    percent: bool = False,
    name: str = "curves",
    show: bool = True,
):
    """Several y-series over one x axis on a single plot (``curves = {label: ys}``); ``percent`` formats a
    [0, 1] y axis as percentages. Labels ending in "(PGD)" or "(dashed)" are drawn dashed."""
    x = as_array(x, "x")
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for label, ys in curves.items():
        ys = as_array(ys, f"curve {label!r}")
        if ys.shape != x.shape:
            raise ValueError(f"curve {label!r} has shape {ys.shape}, x has {x.shape}")
        style = "--" if label.endswith(("(PGD)", "(dashed)")) else "-"
        ax.plot(x, ys * (100 if percent else 1), style, marker="o", ms=3, label=label.replace(" (dashed)", ""))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel + (" (%)" if percent else ""))
    if percent:
        ax.set_ylim(0, 100)
    if title:
        ax.set_title(title)
    ax.legend()
    return finish(fig, name, show, tight=True)


def plot_epsilon_curves(epsilons, curves: dict, *, title: str = "Accuracy under attack", name: str = "epsilon_curves", show: bool = True):
    """Accuracy (fractions in [0, 1]) against attack epsilon for several models/attacks on one plot."""
    return plot_curves(epsilons, curves, xlabel="epsilon (L-inf, pixels in [0, 1])", ylabel="accuracy", title=title, percent=True, name=name, show=show)


def plot_confusion_matrix(cm, class_names, *, title: str = "Confusion matrix", name: str = "confusion_matrix", show: bool = True):
    """A confusion matrix (rows = true class, columns = prediction), each row normalised to 100%."""
    cm = as_array(cm, "confusion matrix")
    if cm.ndim != 2 or cm.shape != (len(class_names), len(class_names)):
        raise ValueError(f"confusion matrix must be ({len(class_names)}, {len(class_names)}) for {len(class_names)} classes, got {cm.shape}")
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = 100 * cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(6.4, 5.6))
    im = ax.imshow(pct, cmap="Blues", vmin=0, vmax=100)
    ax.grid(False)
    ticks = np.arange(len(class_names))
    ax.set_xticks(ticks, class_names, rotation=45, ha="right")
    ax.set_yticks(ticks, class_names)
    for i in ticks:
        for j in ticks:
            if pct[i, j] >= 1:
                ax.text(j, i, f"{pct[i, j]:.0f}", ha="center", va="center", fontsize=7, color="white" if pct[i, j] > 60 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, label="% of true class")
    return finish(fig, name, show, tight=True)


def adversarial_examples(clean, adversarial, p_clean, p_adv, class_names, *, title=None, name="adversarial_examples", show=True):
    """Clean vs adversarial images with each prediction and its confidence, and the perturbation between
    them (grey = 0, white = +epsilon, black = -epsilon).

    Args:
        clean, adversarial: images float32 (N, H, W, 1) in [0, 1].
        p_clean, p_adv: class probabilities (N, num_classes) for each.
    """
    clean, adversarial = as_array(clean, "clean"), as_array(adversarial, "adversarial")
    if clean.shape != adversarial.shape:
        raise ValueError(f"clean and adversarial shapes differ: {clean.shape} vs {adversarial.shape}")

    def caps(p):
        p = as_array(p, "probabilities")
        return [f"{class_names[k][:10]} {100 * p[i, k]:.0f}%" for i, k in enumerate(np.argmax(p, axis=-1))]

    delta = adversarial - clean
    scale = max(float(np.abs(delta).max()), 1e-8)
    return side_by_side(
        {"clean": clean, "adversarial": adversarial, "perturbation": delta / scale},
        captions={"clean": caps(p_clean), "adversarial": caps(p_adv)},
        value_ranges={"perturbation": (-1.0, 1.0)},
        cmaps={"perturbation": "gray"},
        title=title,
        name=name,
        show=show,
    )


def swatches(colours, names, *, title: str | None = None, name: str = "swatches", show: bool = True):
    """One colour patch per entry: ``colours`` float (K, 3) RGB in [0, 1] with K ``names`` (e.g. a palette)."""
    c = as_array(colours, "colours").astype(np.float32)
    if c.ndim != 2 or c.shape[1] != 3 or len(c) != len(names):
        raise ValueError(f"colours must be (K, 3) RGB for the {len(names)} names, got shape {c.shape}")
    patches = np.broadcast_to(c[:, None, None, :], (len(c), 8, 8, 3))
    return image_grid(patches, titles=[str(n) for n in names], ncols=len(c), title=title, cell=1.0, name=name, show=show)


def patch_scores(images, scores, *, value_range=(-1.0, 1.0), captions=None, title: str | None = None, name: str = "patch_scores", show: bool = True):
    """Images with a discriminator's patch probabilities beside them (red = judged fake, green = real).

    Args:
        images: (N, H, W, 1|3) in ``value_range``.
        scores: (N, h, w) in [0, 1], e.g. :meth:`kit.gans.Pix2Pix.patch_scores`; each cell is one patch.
    """
    x = to_display(images, value_range)
    s = as_array(scores, "scores")
    if s.ndim != 3 or len(s) != len(x):
        raise ValueError(f"scores must be (N, h, w) for {len(x)} images, got shape {s.shape}")
    n = len(x)
    fig, axes = plt.subplots(2, n, figsize=(1.4 * n + 1.0, 3.2), squeeze=False)
    for i in range(n):
        draw_image(axes[0, i], x[i], "gray")
        im = axes[1, i].imshow(s[i], cmap="RdYlGn", vmin=0.0, vmax=1.0)
        axes[1, i].set_xticks([])
        axes[1, i].set_yticks([])
        axes[1, i].grid(False)
        if captions is not None:
            axes[0, i].set_title(captions[i], fontsize=8)
    axes[1, 0].set_ylabel("P(real)\nper patch", fontsize=9)
    fig.colorbar(im, ax=axes[1, :].tolist(), shrink=0.8)
    return finish(fig, name, show, title=title)


def bar_chart(categories, values: dict, *, ylabel: str, title: str | None = None, name: str = "bars", show: bool = True):
    """Grouped bars: ``values = {series label: one value per category}``."""
    cats = [str(c) for c in categories]
    fig, ax = plt.subplots(figsize=(max(6.4, 0.7 * len(cats) * max(1, len(values))), 4.0))
    width = 0.8 / max(1, len(values))
    for i, (label, ys) in enumerate(values.items()):
        ys = as_array(ys, f"values of {label!r}")
        if ys.shape != (len(cats),):
            raise ValueError(f"{label!r} has {ys.shape} values for {len(cats)} categories")
        ax.bar(np.arange(len(cats)) + (i - (len(values) - 1) / 2) * width, ys, width, label=label)
    ax.set_xticks(np.arange(len(cats)), cats, rotation=30, ha="right")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if len(values) > 1:
        ax.legend()
    return finish(fig, name, show, tight=True)


def show(fig) -> None:
    """Show ``fig`` inline (a no-op under a non-interactive backend)."""
    plt.show()


def close(fig) -> None:
    """Release a figure returned with ``show=False``."""
    plt.close(fig)


def make_gif(frames, path, *, seconds_per_frame: float = 0.4) -> Path:
    """Animated GIF from PNG frames (e.g. :class:`kit.gans.training.SampleGrid`'s ``frames``); the last frame
    is held three times as long. Returns the GIF's path; show it with ``IPython.display.Image(path)``."""
    frames = [Path(f) for f in frames]
    if not frames:
        raise ValueError("make_gif needs at least one frame")
    missing = [str(f) for f in frames if not f.is_file()]
    if missing:
        raise FileNotFoundError(f"GIF frames not found: {missing}")
    images = [Image.open(f).convert("RGB") for f in frames]
    size = images[0].size
    images = [im.resize(size) for im in images]
    ms = int(seconds_per_frame * 1000)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(path, save_all=True, append_images=images[1:] + [images[-1]] * 2, duration=ms, loop=0)
    return path

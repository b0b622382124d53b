"""Figures of notebook 07 that show what refinement does: crops chosen for detail, zoomed insets, and difference
maps against the reference, one row per image kind (degraded, E(degraded), the L1 and the GAN refiner, the
reference)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from kit.checks import check_images, check_positive_int
from kit.metrics import psnr, sharpness
from kit.diagrams import flowchart
from kit.viz import PALETTE, draw_image, finish


def pipeline_figure(crop_size: int, *, name: str = "sr_pipeline", show: bool = True):
    """Notebook 07's pipeline: a photo crop (``crop_size`` px) made 4x smaller (raw), degraded, enhanced 4x by E
    (Real-ESRGAN's RRDBNet), refined by R towards E(raw), and both compared with the references."""
    s, r = check_positive_int(crop_size, "crop_size"), crop_size // 4
    nodes = {"hr": (0, 1, f"photo crop hr\n{s}x{s}"), "raw": (2.2, 1, f"raw\n{r}x{r}"), "e_raw": (6.6, 1, f"E(raw)\n{s}x{s}\nreference"),
             "deg": (2.2, -0.4, f"degraded\n{r}x{r}"), "e_deg": (4.4, -0.4, f"E(degraded)\n{s}x{s}"),
             "ref": (6.6, -0.4, f"refined\n{s}x{s}")}
    edges = [("hr", "raw", "4x down"), ("raw", "e_raw", "E: RRDBNet 4x"), ("raw", "deg", "degrade (blur, noise, JPEG, ...)"), ("deg", "e_deg", "E"),
             ("e_deg", "ref", "R: refiner"), ("ref", "e_raw", "compared: PSNR, SSIM")]
    return flowchart(nodes, edges, title="Degrade, enhance, refine; measured against E(raw) and the true photo", name=name, show=show,
                     size=(10, 3.2))


def detailed(reference, n: int) -> np.ndarray:
    """Indices of the ``n`` images of ``reference`` (N, H, W, 3) in [0, 1] with the most detail (variance of the
    Laplacian), most detailed first: crops of sky or of a uniform background show nothing about refinement.
    Repeated references (one per degradation draw of the same crop) count once, so ``n`` different crops are
    shown (fewer when there are fewer different ones)."""
    ref = check_images(reference, "reference", channels=(3,))
    n = check_positive_int(n, "n")
    picked, seen = [], set()
    for i in np.argsort(-sharpness(ref), kind="stable"):
        key = ref[i].tobytes()
        if key not in seen:
            seen.add(key)
            picked.append(int(i))
            if len(picked) == n:
                break
    return np.asarray(picked)


def _zoom_box(image: np.ndarray, size: int) -> tuple[int, int]:
    """Top-left (y, x) of the ``size`` x ``size`` window of ``image`` with the most detail."""
    h, w = image.shape[:2]
    best, where = -1.0, (0, 0)
    step = max(1, size // 2)
    for y in range(0, h - size + 1, step):
        for x in range(0, w - size + 1, step):
            v = float(sharpness(image[None, y : y + size, x : x + size])[0])
            if v > best:
                best, where = v, (y, x)
    return where


def _most_changed_box(a: np.ndarray, b: np.ndarray, size: int) -> tuple[int, int]:
    """Top-left (y, x) of the ``size`` x ``size`` window where images ``a`` and ``b`` (H, W, 3) differ most."""
    diff = np.abs(a - b).mean(axis=-1)
    h, w = diff.shape
    best, where = -1.0, (0, 0)
    step = max(1, size // 4)
    for y in range(0, h - size + 1, step):
        for x in range(0, w - size + 1, step):
            v = float(diff[y : y + size, x : x + size].mean())
            if v > best:
                best, where = v, (y, x)
    return where


def refinement_figure(rows: dict, reference, *, n: int = 4, zoom: int = 32, indices=None, title: str | None = None,
                      name: str = "refinement", show: bool = True):
    """Refinement made visible: each row of ``rows`` (``{label: images (N, S, S, 3) in [0, 1]}``, e.g. E(degraded),
    L1 refiner, GAN refiner) shows a crop with its PSNR against ``reference`` (N, S, S, 3) in the title, a
    ``zoom`` x ``zoom`` window outlined, the window enlarged, and the absolute difference to the reference in that
    window (brighter: further off); the last row is the reference itself.

    The ``n`` crops (unless ``indices`` are given) are those where the rows' PSNRs differ most, and the window is
    where the first and last rows differ most: where refinement changed something a reader can see. With one row,
    the most detailed crops (:func:`detailed`) and windows."""
    ref = check_images(reference, "reference", channels=(3,))
    data = {k: check_images(v, f"images of {k!r}", channels=(3,)) for k, v in rows.items()}
    for k, v in data.items():
        if v.shape != ref.shape:
            raise ValueError(f"images of {k!r} have shape {v.shape}, the reference {ref.shape}")
    scores = {k: psnr(v, ref) for k, v in data.items()}  # (N,) per row
    first, last = list(data)[0], list(data)[-1]
    if indices is not None:
        idx = np.asarray(indices)
    elif len(data) > 1:
        spread = np.ptp(np.stack(list(scores.values())), axis=0)
        idx = np.sort(np.argsort(-spread, kind="stable")[: min(check_positive_int(n, "n"), len(ref))])
    else:
        idx = detailed(ref, n)
    labels = [*data, "reference"]
    fig, axes = plt.subplots(len(labels), 3 * len(idx), figsize=(1.5 * 3 * len(idx), 1.6 * len(labels) + 0.4), squeeze=False)
    for j, i in enumerate(idx):
        y, x = _most_changed_box(data[first][i], data[last][i], zoom) if len(data) > 1 else _zoom_box(ref[i], zoom)
        for r, label in enumerate(labels):
            img = ref[i] if label == "reference" else data[label][i]
            a0, a1, a2 = axes[r, 3 * j : 3 * j + 3]
            draw_image(a0, img)
            a0.add_patch(plt.Rectangle((x - 0.5, y - 0.5), zoom, zoom, fill=False, ec=PALETTE[1], lw=1.2))
            draw_image(a1, img[y : y + zoom, x : x + zoom])
            diff = np.abs(img[y : y + zoom, x : x + zoom] - ref[i, y : y + zoom, x : x + zoom]).mean(axis=-1)
            a2.imshow(diff, cmap="magma", vmin=0.0, vmax=0.25)
            a2.set_xticks([])
            a2.set_yticks([])
            a2.grid(False)
            if label != "reference":
                a0.set_title(f"crop {i}: {scores[label][i]:.2f} dB" if r == 0 else f"{scores[label][i]:.2f} dB", fontsize=8)
            if r == 0:
                a1.set_title("zoom", fontsize=8)
                a2.set_title("|error| (zoom)", fontsize=8)
            if j == 0:
                a0.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    return finish(fig, name, show, title=title, tight=True)

"""The interactive restoration demo of notebook 07: upload a photograph (or pick a scikit-image one), choose a
degradation level, and see it degraded, enhanced and refined side by side, with PSNR against the upload.

:func:`restore` is the whole computation (tested); :func:`interface` wraps it in a Gradio app (an optional
extra: ``pip install gradio``; the notebook launches it only when asked, inline on Colab)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from kit.checks import check_choice, check_positive_int
from kit.imageops import resize
from kit.metrics import psnr
from kit.sr.data import bicubic, downscale
from kit.sr.degrade import LEVEL_NAMES, degrade
from kit.sr.photos import SKIMAGE_PHOTOS, skimage_photos
from kit.sr.refiner import refine
from kit.sr.rrdbnet import SCALE

MAX_SIDE = 256  # demo images are cut to at most this many output pixels per side (inference time, memory)
# An upload is a foreign file: bounded before it is decoded. 2048 pixels per side is more than any photograph needs
# here (its centre MAX_SIDE pixels are used) and keeps a decompression bomb from filling memory.
MAX_UPLOAD_SIDE = 2048
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
UPLOAD_FORMATS = ("PNG", "JPEG", "WEBP", "BMP")


def load_upload(path) -> np.ndarray:
    """An uploaded image file as uint8 (H, W, 3), checked before it is decoded: it exists, is at most
    ``MAX_UPLOAD_BYTES``, is a PNG, JPEG, WebP or BMP image, and is at most ``MAX_UPLOAD_SIDE`` pixels per side.
    Raises ``ValueError`` naming the file and what is wrong."""
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise ValueError(f"{name}: no such file")
    size = path.stat().st_size
    if size > MAX_UPLOAD_BYTES:
        raise ValueError(f"{name} is {size / 2**20:.1f} MB; at most {MAX_UPLOAD_BYTES // 2**20} MB is accepted")
    try:
        with Image.open(path) as im:  # reads the header only; the pixels are decoded below, after the checks
            if im.format not in UPLOAD_FORMATS:
                raise ValueError(f"{name} is a {im.format} image; {', '.join(UPLOAD_FORMATS)} are accepted")
            w, h = im.size
            if max(w, h) > MAX_UPLOAD_SIDE:
                raise ValueError(f"{name} is {w}x{h} pixels; at most {MAX_UPLOAD_SIDE} pixels per side are accepted "
                                 f"(the demo uses the centre {MAX_SIDE}x{MAX_SIDE} pixels)")
            return np.asarray(im.convert("RGB"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as err:
        raise ValueError(f"{name} is not an image this demo can read ({', '.join(UPLOAD_FORMATS)} expected): {err}") from None


def prepare(image, *, max_side: int = MAX_SIDE) -> np.ndarray:
    """An uploaded image (H, W, 3|4) uint8 or float in [0, 1] as float32 (h, w, 3) in [0, 1]: alpha dropped, the
    centre cut to at most ``max_side`` pixels per side and to a multiple of 4 (the enhancer's factor)."""
    x = np.asarray(image)
    if x.ndim == 2:
        x = np.repeat(x[..., None], 3, axis=-1)
    if x.ndim != 3 or x.shape[-1] not in (3, 4):
        raise ValueError(f"the image must be (H, W, 3) RGB or (H, W, 4) RGBA, got shape {x.shape}")
    x = x[..., :3]
    x = x.astype(np.float32) / 255.0 if np.issubdtype(x.dtype, np.integer) else x.astype(np.float32)
    if not np.all(np.isfinite(x)) or x.min() < 0 or x.max() > 1:
        raise ValueError("image values must be uint8 or floats in [0, 1]")
    max_side = check_positive_int(max_side, "max_side")
    h, w = x.shape[:2]
    if min(h, w) < 4 * SCALE:
        raise ValueError(f"the image is {w}x{h} pixels; at least {4 * SCALE}x{4 * SCALE} is needed")
    th, tw = min(h, max_side) // SCALE * SCALE, min(w, max_side) // SCALE * SCALE
    top, left = (h - th) // 2, (w - tw) // 2
    return x[top : top + th, left : left + tw]


def restore(image, level: str, enhancer, refiners, *, seed: int = 0) -> dict:
    """The demo's computation on one photograph: 4x down (what a camera delivered), degraded at ``level``, enhanced
    4x by ``enhancer`` (a :class:`kit.sr.Enhancer`), refined by the level's refiner (``refiners``: one model or
    ``{level: model}``).

    Returns:
        ``{"photo", "degraded" (bicubic 4x, for display), "enhanced", "refined"}`` float32 (h, w, 3) in [0, 1], and
        ``"psnr"``: ``{kind: dB against the photo}`` for the last three.
    """
    check_choice(level, LEVEL_NAMES, "degradation level")
    photo = prepare(image)
    raw = downscale(photo[None])
    damaged = degrade(raw, level, seed=seed)
    enhanced = enhancer(damaged)
    model = refiners.get(level, refiners.get("all")) if isinstance(refiners, dict) else refiners
    if model is None:
        raise ValueError(f"no refiner for the {level!r} level; got refiners for {sorted(refiners)}")
    out = {"photo": photo, "degraded": bicubic(damaged)[0], "enhanced": enhanced[0], "refined": refine(model, enhanced)[0]}
    out["psnr"] = {k: float(psnr(out[k][None], photo[None])[0]) for k in ("degraded", "enhanced", "refined")}
    return out


def example(name: str = "astronaut", size: int = 256) -> np.ndarray:
    """A scikit-image photograph's centre as uint8 (size, size, 3), the demo's default input."""
    check_choice(name, SKIMAGE_PHOTOS, "scikit-image photograph")
    img = skimage_photos([name])[name]
    s = min(img.shape[:2])
    top, left = (img.shape[0] - s) // 2, (img.shape[1] - s) // 2
    return (resize(img[None, top : top + s, left : left + s], size)[0] * 255).astype(np.uint8)


def interface(enhancer, refiners):
    """A Gradio app around :func:`restore`: a file input (a scikit-image photograph preloaded; uploads are read by
    :func:`load_upload`), a level menu, and the photograph as used with its degraded, enhanced and refined versions
    and their PSNR. A bad upload shows the kit's error message in the page and the app keeps serving. Returns the
    ``gradio.Blocks``; call ``.launch()`` (inline on Colab) to use it. Needs the optional ``gradio`` package."""
    import gradio as gr  # optional: pip install gradio (the demo extra)

    # A file input, not gr.Image: gr.Image decodes the upload itself (PIL, no size bound) before this code sees it,
    # and a file it cannot read ends in Gradio's bare "Error" instead of a message saying what is wrong.
    default = Path(tempfile.mkdtemp(prefix="kit_demo_")) / "astronaut.png"
    Image.fromarray(example()).save(default)

    def run(path, level):
        # A file the demo cannot use empties the outputs and says why in the page, where the PSNR line stands (a
        # gr.Error toast would leave the last photograph's results beside it).
        try:
            if path is None:
                raise ValueError("upload a photograph first (PNG or JPEG)")
            r = restore(load_upload(path), level, enhancer, refiners)
        except ValueError as err:
            return None, None, None, None, f"**This file cannot be used:** {err}"
        caption = " | ".join(f"{k}: {v:.2f} dB" for k, v in r["psnr"].items())
        return r["photo"], r["degraded"], r["enhanced"], r["refined"], f"PSNR against your photo: {caption}"

    with gr.Blocks(title="Restoration demo") as app:
        gr.Markdown("Upload a photograph, choose how badly to damage it, and see what the enhancer and the refiner make of it.")
        with gr.Row():
            upload = gr.File(value=str(default), label="photograph (PNG or JPEG)", file_types=["image"], type="filepath")
            level = gr.Dropdown(list(LEVEL_NAMES), value="moderate", label="degradation level")
        button = gr.Button("degrade, enhance, refine")
        with gr.Row():
            outs = [gr.Image(label=k, elem_classes=["kit-output"]) for k in ("your photograph (centre)", "degraded (bicubic 4x)", "enhanced", "refined")]
        text = gr.Markdown(elem_id="kit-psnr")
        button.click(run, inputs=[upload, level], outputs=[*outs, text])
    return app

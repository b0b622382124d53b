"""The baseline 4x enhancers of notebook 07, best first (:func:`choose_baseline`): the official
``RealESRGAN_x4plus`` weights (downloaded on Colab, converted once by :mod:`kit.sr.port`; only where the profile's
``official_rrdbnet`` allows it, never at ``cpu``); without them, a
light RRDBNet trained here on the training crops with an L1 loss (PSNR-oriented, not Real-ESRGAN's GAN
training); at the smoke profile, bicubic upscaling. The returned :class:`Enhancer` says which one it is."""

from __future__ import annotations

import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from kit.checks import check_images
from kit.paths import artifact_dir
from kit.sr.data import DegradedSet, EnhancedSet, bicubic
from kit.sr.port import convert_checkpoint, load_converted
from kit.sr.rrdbnet import SCALE, enhance, rrdbnet
from kit.sr.training import RestorationLoss, fit_restoration

OFFICIAL_URL = "https://github.com/xinntao/Real-ESRGAN/releases/download/v0.1.0/RealESRGAN_x4plus.pth"
OFFICIAL_FILE = "RealESRGAN_x4plus.pth"
BASELINES = ("official", "standin", "bicubic")


def weights_dir() -> Path:
    """Where the official checkpoint and its Keras conversion are kept: ``<artefacts>/esrgan``."""
    return artifact_dir() / "esrgan"


@dataclass
class Enhancer:
    """A 4x enhancer: ``kind`` is ``"official"``, ``"standin"`` or ``"bicubic"``, ``label`` says it in words,
    ``model`` is the RRDBNet (None for bicubic), ``history`` the stand-in's training history."""

    kind: str
    label: str
    model: keras.Model | None = None
    history: dict = field(default_factory=dict)
    tile: int | None = None

    def __call__(self, images) -> np.ndarray:
        """float32 (N, H, W, 3) in [0, 1] -> (N, 4H, 4W, 3) in [0, 1]."""
        # Every kind takes RGB only: bicubic alone could upscale grayscale, and the notebook would then compare
        # it with RRDBNets that cannot (a kind-dependent contract is a trap).
        images = check_images(images, channels=(3,))
        if self.model is None:
            return bicubic(images)
        return enhance(self.model, images, tile=self.tile)


def official_weights(*, download: bool, folder: Path | None = None, timeout: float = 20.0) -> Path | None:
    """The official ``RealESRGAN_x4plus`` converted to Keras (``.weights.h5``), or None when unavailable.

    Uses a converted file if present, else converts a ``RealESRGAN_x4plus.pth`` found in ``folder``
    (default :func:`weights_dir`; put a manually downloaded file there), else, with ``download``, fetches
    it from the Real-ESRGAN release first. Never raises for a missing network: returns None and says why.
    """
    folder = Path(folder) if folder is not None else weights_dir()
    pth = folder / OFFICIAL_FILE
    converted = folder / "RealESRGAN_x4plus.weights.h5"
    if converted.is_file() and converted.with_suffix("").with_suffix(".json").is_file():
        return converted
    if not pth.is_file():
        if not download:
            print(f"Official Real-ESRGAN weights: not in {folder} and downloading is off for this profile.")
            return None
        try:
            # urllib rather than keras.utils.get_file: get_file has no timeout, and an offline machine must fall
            # back to the stand-in in seconds. The release publishes no checksum; the conversion checks every
            # tensor's name and shape instead.
            folder.mkdir(parents=True, exist_ok=True)
            with urllib.request.urlopen(OFFICIAL_URL, timeout=timeout) as resp, open(pth.with_suffix(".part"), "wb") as f:
                f.write(resp.read())
            pth.with_suffix(".part").rename(pth)
        except OSError as err:
            print(f"Official Real-ESRGAN weights: download failed ({type(err).__name__}: {err}); no internet?")
            return None
    return convert_checkpoint(pth, converted)


def choose_baseline(
    profile,
    train: DegradedSet | None = None,
    val: DegradedSet | None = None,
    *,
    checkpoint_dir: Path,
    verbose: int | str = "auto",
) -> Enhancer:
    """The best available 4x enhancer for ``profile`` (a :class:`kit.profiles.Profile`), see the module
    docstring. ``train``/``val`` (their ``raw`` -> ``hr`` pairs) are needed only to train the stand-in."""
    e = profile.esrgan
    path = official_weights(download=e.download_weights) if e.official_rrdbnet else None
    if path is not None:
        return Enhancer("official", "Real-ESRGAN x4plus (official weights, ported to Keras)", load_converted(path), tile=e.tile)
    if e.standin_epochs > 0:
        if train is None or val is None:
            raise ValueError("training the stand-in RRDBNet needs the train and val splits")
        model = rrdbnet(num_feat=e.standin_feat, num_block=e.standin_blocks, num_grow_ch=e.standin_grow, name="rrdbnet_standin")
        history = fit_restoration(
            model,
            train.raw,
            train.hr,
            validation_data=(val.raw, val.hr),
            epochs=e.standin_epochs,
            batch_size=e.batch_size,
            patch=e.patch // SCALE,
            learning_rate=e.learning_rate,
            loss=RestorationLoss(1.0, 0.0),
            checkpoint=Path(checkpoint_dir) / "standin.weights.h5",
            jit_compile=profile.jit_compile,
            verbose=verbose,
        )
        label = f"STAND-IN: RRDBNet {e.standin_blocks} blocks x {e.standin_feat} features trained here (L1), not Real-ESRGAN"
        return Enhancer("standin", label, model, history.history, tile=e.tile)
    return Enhancer("bicubic", "STAND-IN: bicubic upscaling (smoke profile), not Real-ESRGAN")


def enhance_split(enhancer: Enhancer, split: DegradedSet) -> EnhancedSet:
    """Run the baseline on a split's raw and degraded images."""
    return EnhancedSet(split, enhancer(split.raw), {lv: enhancer(d) for lv, d in split.degraded.items()})

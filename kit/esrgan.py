"""Notebook 07's pipeline: degrade real photographs, enhance them 4x with a baseline (Real-ESRGAN, or a
clearly labelled stand-in), and train a refinement CNN that corrects the enhanced degraded image.

The protocol, per test crop (``hr``: a photograph crop, the true high-resolution image)::

    raw       = hr downscaled 4x                    what a camera delivered (the enhancer's normal input)
    degraded  = degrade(raw, level)                 kit.degrade: blur, noise, JPEG, colour shift, downscale
    E(raw), E(degraded)                             the baseline enhancer, 4x up: same size as hr
    refined   = R(E(degraded))                      the refinement CNN, trained to map E(degraded) -> E(raw)

PSNR/SSIM are measured against ``E(raw)`` (the reference report's protocol: "how close do we get to what the
enhancer makes of an undamaged photo") and against ``hr`` (true fidelity: "how close to the real scene").

Baselines, best first (:func:`choose_baseline`): the official ``RealESRGAN_x4plus`` weights (downloaded on
Colab, converted once by :mod:`kit.models.esrgan_port`); without them, a light RRDBNet trained here on the
training crops with an L1 loss (PSNR-oriented, not Real-ESRGAN's GAN training); at the smoke profile, bicubic
upscaling. The returned :class:`Enhancer` says which one it is.
"""

from __future__ import annotations

import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from kit import degrade as degrade_lib
from kit.callbacks import EpochTimer, NaNGuard
from kit.checks import check_choice, check_images, check_positive_int
from kit.metrics import image_quality as iq
from kit.models.esrgan_port import convert_checkpoint, load_converted
from kit.models.refiner import chain, colour_stage, refine, refiner
from kit.models.rrdbnet import SCALE, enhance, rrdbnet

OFFICIAL_URL = "https://github.com/xinntao/Real-ESRGAN/releases/download/v0.1.0/RealESRGAN_x4plus.pth"
OFFICIAL_FILE = "RealESRGAN_x4plus.pth"
BASELINES = ("official", "standin", "bicubic")


def weights_dir() -> Path:
    """Where the official checkpoint and its Keras conversion are kept: ``<Keras cache>/kit-artifacts/esrgan``."""
    from kit.metrics.features import artifact_dir

    return artifact_dir() / "esrgan"


# -- data ----------------------------------------------------------------------------------------------------


def downscale(images, factor: int = SCALE) -> np.ndarray:
    """Antialiased (area) downscaling by an integer ``factor``: float32 (N, H, W, C) in [0, 1] -> (N, H/f, W/f, C)."""
    x = check_images(images, channels=None)
    factor = check_positive_int(factor, "factor")
    n, h, w, c = x.shape
    if h % factor or w % factor:
        raise ValueError(f"image size {h}x{w} is not a multiple of the factor {factor}")
    return x.reshape(n, h // factor, factor, w // factor, factor, c).mean(axis=(2, 4))


def bicubic(images, factor: int = SCALE) -> np.ndarray:
    """Bicubic upscaling by ``factor``, clipped to [0, 1]: the simplest enhancer."""
    import tensorflow as tf

    x = check_images(images, channels=None)
    h, w = x.shape[1:3]
    return np.clip(tf.image.resize(x, (factor * h, factor * w), method="bicubic").numpy(), 0.0, 1.0)


@dataclass
class DegradedSet:
    """One split's images: ``hr`` (N, S, S, 3), ``raw`` (N, S/4, S/4, 3) and ``degraded[level]``, each
    (N * draws, S/4, S/4, 3) with crop ``i`` at rows ``i, i + N, ...`` (``hr_index`` maps rows to crops)."""

    hr: np.ndarray
    raw: np.ndarray
    degraded: dict
    draws: int

    @property
    def hr_index(self) -> np.ndarray:
        return np.tile(np.arange(len(self.hr)), self.draws)


def degrade_split(hr, levels=degrade_lib.LEVEL_NAMES, *, draws: int = 1, seed: int = 0) -> DegradedSet:
    """Raw (4x downscaled) and degraded versions of the crops ``hr`` (float32 (N, S, S, 3) in [0, 1]):
    ``draws`` independent degradations of every crop per level."""
    hr = check_images(hr, "hr crops", channels=(3,))
    draws = check_positive_int(draws, "draws")
    raw = downscale(hr)
    stacked = np.concatenate([raw] * draws)
    degraded = {lv: degrade_lib.degrade(stacked, lv, seed=seed + 1000 * i) for i, lv in enumerate(levels)}
    return DegradedSet(hr, raw, degraded, draws)


def _augment_pairs(x, y, patch: int | None, scale: int, seed: int, batch_size: int, shuffle: bool = True):
    """tf.data of (x, y) pairs with aligned random crops (``patch`` input pixels, ``scale * patch`` output
    pixels) and the same random flip/transpose applied to both, batched and prefetched."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((x, y)).cache()
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)

    def crop_and_flip(a, b):
        if patch is not None:
            h, w = tf.shape(a)[0], tf.shape(a)[1]
            t = tf.random.uniform((), 0, h - patch + 1, tf.int32)
            l = tf.random.uniform((), 0, w - patch + 1, tf.int32)
            a = a[t : t + patch, l : l + patch]
            b = b[scale * t : scale * (t + patch), scale * l : scale * (l + patch)]
        k = tf.random.uniform((), 0, 8, tf.int32)
        # The 8 symmetries of the square: transpose or not, then a flip pattern.
        a, b = tf.cond(k >= 4, lambda: (tf.transpose(a, (1, 0, 2)), tf.transpose(b, (1, 0, 2))), lambda: (a, b))
        a, b = tf.cond(k % 2 == 1, lambda: (a[::-1], b[::-1]), lambda: (a, b))
        a, b = tf.cond((k // 2) % 2 == 1, lambda: (a[:, ::-1], b[:, ::-1]), lambda: (a, b))
        return a, b

    if shuffle:
        ds = ds.map(crop_and_flip, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


# -- training --------------------------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="kit")
class RestorationLoss(keras.losses.Loss):
    """``l1_weight * L1 + mse_weight * MSE + ssim_weight * (1 - SSIM)`` between images in [0, 1].
    L1 keeps edges sharp, MSE is what PSNR measures, the SSIM term (optional) rewards local structure."""

    def __init__(self, l1_weight: float = 1.0, mse_weight: float = 1.0, ssim_weight: float = 0.0, name="restoration_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.l1_weight, self.mse_weight, self.ssim_weight = float(l1_weight), float(mse_weight), float(ssim_weight)

    def call(self, y_true, y_pred):
        import tensorflow as tf

        d = y_pred - y_true
        loss = self.l1_weight * keras.ops.mean(keras.ops.abs(d), axis=(1, 2, 3)) + self.mse_weight * keras.ops.mean(d * d, axis=(1, 2, 3))
        if self.ssim_weight:
            loss = loss + self.ssim_weight * (1.0 - tf.image.ssim(y_true, y_pred, max_val=1.0))
        return loss

    def get_config(self):
        return {**super().get_config(), "l1_weight": self.l1_weight, "mse_weight": self.mse_weight, "ssim_weight": self.ssim_weight}


def psnr_metric(y_true, y_pred):
    """Mean PSNR in dB of a batch, for Keras' training logs (``tf.image.psnr``); evaluation uses
    :func:`kit.metrics.image_quality.psnr`."""
    import tensorflow as tf

    return tf.image.psnr(y_true, keras.ops.clip(y_pred, 0.0, 1.0), max_val=1.0)


psnr_metric.__name__ = "psnr"


SCHEDULES = ("constant", "cosine")


def cosine_schedule(learning_rate: float, steps: int, *, warmup: float = 0.05, floor: float = 0.01):
    """Linear warm-up from ``learning_rate / 10`` over the first ``warmup`` fraction of ``steps``, then cosine
    decay to ``floor * learning_rate``. The warm-up keeps Adam's first, poorly estimated steps small; the decay
    lets the last epochs settle instead of jumping out of a good minimum (a constant 1e-3 once lost 6 dB of
    validation PSNR in the refiner's last epoch)."""
    steps = check_positive_int(steps, "steps")
    warm = int(warmup * steps)
    return keras.optimizers.schedules.CosineDecay(
        learning_rate / 10 if warm else learning_rate, steps - warm, alpha=floor, warmup_target=learning_rate if warm else None, warmup_steps=warm
    )


def fit_restoration(
    model: keras.Model,
    x,
    y,
    *,
    validation_data,
    epochs: int,
    batch_size: int,
    patch: int | None,
    learning_rate: float,
    loss: RestorationLoss,
    checkpoint: Path,
    jit_compile: bool,
    schedule: str = "constant",
    seed: int = 0,
    verbose: int | str = "auto",
) -> keras.callbacks.History:
    """Train an image-to-image model (Adam, ``loss``) and keep the weights with the best validation PSNR.

    Args:
        x, y: inputs and targets, float32 NHWC in [0, 1]; ``y`` may be ``scale`` times larger than ``x``.
        validation_data: ``(x_val, y_val)``, evaluated whole after every epoch.
        patch: train on random aligned crops of ``patch`` input pixels (None: whole images).
        schedule: ``"constant"`` (``learning_rate`` throughout) or ``"cosine"`` (see :func:`cosine_schedule`).
        checkpoint: ``.weights.h5`` path of the best weights (the untrained model counts as a candidate);
            they are loaded back into ``model`` at the end.

    Returns:
        The ``History`` (``loss``, ``psnr``, ``val_loss``, ``val_psnr``, ``epoch_seconds``).
    """
    x = check_images(x, "inputs", channels=(3,))
    y = check_images(y, "targets", channels=(3,))
    xv, yv = (check_images(a, n, channels=(3,)) for a, n in zip(validation_data, ("validation inputs", "validation targets")))
    epochs = check_positive_int(epochs, "epochs")
    scale = y.shape[1] // x.shape[1]
    if len(x) != len(y) or y.shape[1] != scale * x.shape[1] or y.shape[2] != scale * x.shape[2]:
        raise ValueError(f"targets must be an integer multiple of the inputs' size, one per input: got {x.shape} and {y.shape}")
    if patch is not None and patch > min(x.shape[1:3]):
        patch = None  # crops larger than the images: train on the whole images
    checkpoint = Path(checkpoint)
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    check_choice(schedule, SCHEDULES, "learning-rate schedule")
    batch_size = check_positive_int(batch_size, "batch_size")
    if schedule == "cosine":
        learning_rate = cosine_schedule(learning_rate, epochs * -(-len(x) // batch_size))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss, metrics=[psnr_metric], jit_compile=jit_compile)
    val = _augment_pairs(xv, yv, None, scale, seed, batch_size, shuffle=False)
    # The untrained model is a candidate too (a zero-initialised refiner is the identity): an epoch is kept
    # only if it beats it, so training can never hand back something worse than "no change".
    initial = model.evaluate(val, verbose=0, return_dict=True)["psnr"]
    # Build the optimizer first, so this checkpoint holds its (fresh) slots like every later one and restoring
    # it does not skip the optimizer with a warning.
    model.optimizer.build(model.trainable_variables)
    model.save_weights(checkpoint)
    best = keras.callbacks.ModelCheckpoint(
        checkpoint, monitor="val_psnr", mode="max", save_best_only=True, save_weights_only=True, initial_value_threshold=initial
    )
    history = model.fit(
        _augment_pairs(x, y, patch, scale, seed, batch_size),
        validation_data=val,
        epochs=epochs,
        verbose=verbose,
        callbacks=[EpochTimer(), NaNGuard(), best],
    )
    model.load_weights(checkpoint)
    return history


# -- the baseline enhancer -------------------------------------------------------------------------------------


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
    path = official_weights(download=e.download_weights)
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


# -- refinement ----------------------------------------------------------------------------------------------


@dataclass
class EnhancedSet:
    """``E(raw)`` (N, S, S, 3) and ``E(degraded)[level]`` (N * draws, S, S, 3) of one :class:`DegradedSet`."""

    source: DegradedSet
    raw: np.ndarray
    degraded: dict

    def pairs(self, levels=None) -> tuple[np.ndarray, np.ndarray]:
        """(E(degraded), E(raw)) training pairs over ``levels`` (default all)."""
        levels = list(self.degraded) if levels is None else list(levels)
        x = np.concatenate([self.degraded[lv] for lv in levels])
        y = np.concatenate([self.raw[self.source.hr_index] for _ in levels])
        return x, y


def enhance_split(enhancer: Enhancer, split: DegradedSet) -> EnhancedSet:
    """Run the baseline on a split's raw and degraded images."""
    return EnhancedSet(split, enhancer(split.raw), {lv: enhancer(d) for lv, d in split.degraded.items()})


def train_refiner(
    profile, train: EnhancedSet, val: EnhancedSet, *, level: str | None = None, checkpoint_dir: Path, verbose: int | str = "auto"
):
    """Build and train the refiner on (E(degraded), E(raw)) pairs of one ``level`` (None: every level),
    validated on the same level(s); each stage keeps its best epoch by validation PSNR.

    Two stages, trained one after the other (the profile's ``colour_epochs`` = 0 leaves out the first):

    1. :func:`kit.models.refiner.colour_stage` on **whole** images, MSE loss: one offset per channel, for the
       global colour error (white balance) that a patch cannot reveal;
    2. :func:`kit.models.refiner.refiner`, the residual U-Net, on random **patches** of stage 1's output, the
       profile's L1 + MSE (+ SSIM) loss: the local damage (blur, noise, JPEG).

    Returns ``(model, histories)``: the stages chained into one model (:func:`kit.models.refiner.chain`; the
    colour stage is ``model.get_layer("colour_stage")``) and ``{"colour": History, "unet": History}`` (no
    ``"colour"`` without a colour stage).
    """
    e = profile.esrgan
    levels = None if level is None else [check_choice(level, list(train.degraded), "level")]
    tag = level or "all"
    x, y = train.pairs(levels)
    xv, yv = val.pairs(levels)
    common = dict(batch_size=e.batch_size, learning_rate=e.learning_rate, jit_compile=profile.jit_compile, schedule=e.schedule, seed=1, verbose=verbose)
    stages, histories = [], {}
    if e.colour_epochs > 0:
        colour = colour_stage(base_filters=e.colour_filters)
        histories["colour"] = fit_restoration(
            colour, x, y, validation_data=(xv, yv), epochs=e.colour_epochs, patch=None, loss=RestorationLoss(0.0, 1.0),
            checkpoint=Path(checkpoint_dir) / f"colour_{tag}.weights.h5", **common,
        )
        x, xv = (refine(colour, a) for a in (x, xv))
        stages.append(colour)
    unet = refiner(base_filters=e.refiner_filters, depth=e.refiner_depth, residual_scale=e.residual_scale, name="unet")
    histories["unet"] = fit_restoration(
        unet, x, y, validation_data=(xv, yv), epochs=e.refiner_epochs, patch=e.patch,
        loss=RestorationLoss(e.l1_weight, e.mse_weight, e.ssim_weight), checkpoint=Path(checkpoint_dir) / f"unet_{tag}.weights.h5", **common,
    )
    stages.append(unet)
    return chain(*stages, name=f"refiner_{tag}"), histories


def train_refiners(profile, train: EnhancedSet, val: EnhancedSet, *, checkpoint_dir: Path, verbose: int | str = "auto"):
    """One refiner per degradation level, each trained and validated on its own level's pairs (the profile's
    ``refiner_per_level``), or one for all levels. Returns ``({level: model}, {level: {stage: History}})`` (the
    key ``"all"`` for a shared refiner; stages as :func:`train_refiner` returns them).

    Why per level: a shared refiner learns the large corrections that moderate and severe damage need and
    applies a little of them to mildly damaged images too, where they do harm (measured with an earlier,
    U-Net-only refiner: +2.4 dB at moderate, +0.0 dB at mild with one shared refiner)."""
    if not profile.esrgan.refiner_per_level:
        model, history = train_refiner(profile, train, val, checkpoint_dir=checkpoint_dir, verbose=verbose)
        return {"all": model}, {"all": history}
    models, histories = {}, {}
    for level in train.degraded:
        if verbose:
            print(f"-- refiner for the {level} level")
        models[level], histories[level] = train_refiner(profile, train, val, level=level, checkpoint_dir=checkpoint_dir, verbose=verbose)
    return models, histories


def refine_split(model, enhanced: EnhancedSet) -> dict:
    """``{level: R(E(degraded))}`` for every level of a split. ``model`` is one refiner for every level, or
    ``{level: refiner}`` (as :func:`train_refiners` returns; a key ``"all"`` serves every level)."""
    _refiner_for(model, list(enhanced.degraded))  # every level first, so one error names all that are missing
    return {lv: refine(_refiner_for(model, [lv]), x) for lv, x in enhanced.degraded.items()}


def _refiner_for(model, levels: list):
    """The refiner that serves ``levels``: ``model`` itself, or from ``{level: refiner}`` the level's own or the
    shared ``"all"`` one; a clear error names the levels without one."""
    if not isinstance(model, dict):
        return model
    missing = [lv for lv in levels if lv not in model and "all" not in model]
    if missing:
        raise ValueError(f"no refiner for the levels {missing}; got refiners for {sorted(model)}")
    return model.get(levels[0], model.get("all"))


# -- evaluation ----------------------------------------------------------------------------------------------

ROWS = ("degraded", "baseline(degraded)", "refined")
REFERENCES = ("baseline(raw)", "raw")


def evaluate(test: EnhancedSet, refined: dict) -> list[dict]:
    """PSNR and SSIM (RGB and Y) per level for the degraded input (bicubic 4x, to match sizes),
    baseline(degraded) and refined, against baseline(raw) and against raw (the true high-resolution crop).

    Args:
        refined: ``{level: R(E(degraded))}`` for the levels of ``test``.

    Returns:
        One dict per (level, image, reference): the means over the test images, with the mean per-channel
        error (image minus reference) as ``mean_channel_error``.
    """
    idx = test.source.hr_index
    refs = {"baseline(raw)": test.raw[idx], "raw": test.source.hr[idx]}
    out = []
    for level, deg in test.source.degraded.items():
        images = {"degraded": bicubic(deg), "baseline(degraded)": test.degraded[level], "refined": refined[level]}
        for ref_name, ref in refs.items():
            for name, img in images.items():
                out.append({
                    "level": level,
                    "image": name,
                    "reference": ref_name,
                    "psnr": float(iq.psnr(img, ref).mean()),
                    "psnr_y": float(iq.psnr(img, ref, on="y").mean()),
                    "ssim": float(iq.ssim(img, ref).mean()),
                    "ssim_y": float(iq.ssim(img, ref, on="y").mean()),
                    "mean_channel_error": [float(v) for v in iq.mean_channel_error(img, ref)],
                })
    return out


def gains(rows: list[dict], level: str = "mild", reference: str = "baseline(raw)") -> dict:
    """The refinement's gain over baseline(degraded) at ``level`` against ``reference``: PSNR (dB), SSIM,
    and the refined image's mean per-channel error."""
    check_choice(reference, REFERENCES, "reference")
    pick = {r["image"]: r for r in rows if r["level"] == level and r["reference"] == reference}
    if set(pick) != set(ROWS):
        raise ValueError(f"no complete results for level {level!r} and reference {reference!r}")
    base, ref = pick["baseline(degraded)"], pick["refined"]
    return {
        "psnr_gain_db": ref["psnr"] - base["psnr"],
        "ssim_gain": ref["ssim"] - base["ssim"],
        "mean_channel_error": ref["mean_channel_error"],
    }


def colour_oracle_gain(test: EnhancedSet, level: str = "mild") -> dict:
    """How much of the gap at ``level`` is one global colour per image: the PSNR gain (dB, against E(raw)) of
    E(degraded) with each image's mean per-channel error removed. An oracle (it reads the reference), so a
    ceiling for any correction of the global colour, not something a refiner can expect to reach: a warm photograph
    and a warmed one look alike, and a refiner sees only the image."""
    level = check_choice(level, list(test.degraded), "level")
    x, ref = test.degraded[level], test.raw[test.source.hr_index]
    return _gain(np.clip(x + (ref - x).mean(axis=(1, 2), keepdims=True), 0.0, 1.0), x, ref)


def _gain(corrected, x, ref) -> dict:
    """Mean PSNR (dB) and SSIM of ``corrected`` minus those of ``x``, both against ``ref``."""
    return {"psnr_gain_db": float(iq.psnr(corrected, ref).mean() - iq.psnr(x, ref).mean()),
            "ssim_gain": float(iq.ssim(corrected, ref).mean() - iq.ssim(x, ref).mean())}


def colour_stage_gain(model, test: EnhancedSet, level: str = "mild") -> dict:
    """What the refiner's colour stage alone gains at ``level`` (PSNR dB and SSIM, against E(raw)): ``model``
    is a refiner from :func:`train_refiner`, or ``{level: refiner}``. Beside :func:`colour_oracle_gain` it shows
    how much of the global colour error the stage recovers; ``None`` when the refiner has no colour stage."""
    level = check_choice(level, list(test.degraded), "level")
    try:
        stage = _refiner_for(model, [level]).get_layer("colour_stage")
    except ValueError:
        return None
    x, ref = test.degraded[level], test.raw[test.source.hr_index]
    return _gain(refine(stage, x), x, ref)


def metrics_table(rows: list[dict]) -> str:
    """The evaluation rows as a Markdown table (one line per level, image and reference)."""
    lines = ["| level | image | vs | PSNR | PSNR-Y | SSIM | SSIM-Y | mean channel error (R, G, B) |", "|---|---|---|---:|---:|---:|---:|---|"]
    for r in rows:
        mce = ", ".join(f"{v:+.4f}" for v in r["mean_channel_error"])
        lines.append(f"| {r['level']} | {r['image']} | {r['reference']} | {r['psnr']:.2f} | {r['psnr_y']:.2f} | {r['ssim']:.4f} | {r['ssim_y']:.4f} | {mce} |")
    return "\n".join(lines)


def seconds_per_image(fn, size: int, *, repeats: int = 3) -> float:
    """Median wall-clock seconds of ``fn`` on one random float32 (1, size, size, 3) image, after a warm-up."""
    x = np.random.default_rng(0).random((1, size, size, 3), dtype=np.float32)
    fn(x)
    times = []
    for _ in range(check_positive_int(repeats, "repeats")):
        t = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - t)
    return float(np.median(times))


__all__ = [
    "BASELINES",
    "DegradedSet",
    "EnhancedSet",
    "Enhancer",
    "RestorationLoss",
    "bicubic",
    "choose_baseline",
    "cosine_schedule",
    "degrade_split",
    "downscale",
    "enhance_split",
    "evaluate",
    "fit_restoration",
    "gains",
    "metrics_table",
    "official_weights",
    "refine",
    "refine_split",
    "seconds_per_image",
    "train_refiner",
    "train_refiners",
    "weights_dir",
]

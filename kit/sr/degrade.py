"""Synthetic image degradations for notebook 07: what a cheap camera, a shaky hand and a web upload do to a
photograph, at three strengths.

Each degradation fires on an image with its own probability and draws its strength uniformly from its own
range; :class:`DegradationConfig` holds one :class:`Degradation` (probability, low, high) per kind, and
:data:`LEVELS` names three ready-made configurations (``mild``, ``moderate``, ``severe``). A configuration can
also be read from YAML or JSON (:meth:`DegradationConfig.from_file`).

They are applied in the order a real capture chain applies them:

==================  =============================================================  =====================
kind                what it does                                                   range is in
==================  =============================================================  =====================
``colour_shift``    white-balance error: shifts Lab b* (blue <-> yellow), sign random   Lab b* units
``gaussian_blur``   out of focus: isotropic Gaussian blur                           sigma, pixels
``motion_blur``     camera shake: a line kernel at a random angle                   length, pixels
``downscale``       a lower-resolution sensor: area-downscale, bicubic back up      factor (> 1)
``gaussian_noise``  sensor noise: additive, per pixel and channel                   std, pixel units
``salt_pepper``     dead/hot pixels: pixels set to black or white                   fraction of pixels
``jpeg``            compression                                                     quality (1-100)
==================  =============================================================  =====================

:func:`degrade` is seeded (a NumPy ``Generator``) and reproducible: the same images, configuration and seed
give the same output bit for bit. Blurs run as one batched depthwise convolution (every image its own
kernel), noise as array ops; downscale, JPEG (``tf.image``) and the Lab round trip (scikit-image) work per
image or per batch where TensorFlow has no batched equivalent. Images are float32 NHWC RGB in [0, 1].
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf
import yaml
from skimage.color import lab2rgb, rgb2lab

from kit.checks import check_choice, check_images
from kit.imageops import resize

KINDS = ("colour_shift", "gaussian_blur", "motion_blur", "downscale", "gaussian_noise", "salt_pepper", "jpeg")
LEVEL_NAMES = ("mild", "moderate", "severe")
MAX_CONFIG_BYTES = 64 * 1024  # a configuration is a few hundred bytes; a larger file is not one
# Allowed parameter ranges per kind (values outside these are configuration errors, not degradations).
_LIMITS = {
    "colour_shift": (0.0, 60.0),
    "gaussian_blur": (0.0, 10.0),
    "motion_blur": (1.0, 41.0),
    "downscale": (1.0, 8.0),
    "gaussian_noise": (0.0, 0.5),
    "salt_pepper": (0.0, 0.5),
    "jpeg": (1.0, 100.0),
}


@dataclass(frozen=True)
class Degradation:
    """One kind of degradation: applied to each image with ``probability``, its strength drawn uniformly from
    [``low``, ``high``] (units per kind: see the module table)."""

    probability: float = 0.0
    low: float = 0.0
    high: float = 0.0

    def validate(self, kind: str) -> "Degradation":
        p, lo, hi = float(self.probability), float(self.low), float(self.high)
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{kind}: probability must lie in [0, 1], got {self.probability}")
        a, b = _LIMITS[kind]
        if p > 0 and not (a <= lo <= hi <= b):
            raise ValueError(f"{kind}: range must satisfy {a} <= low <= high <= {b}, got [{self.low}, {self.high}]")
        return Degradation(p, lo, hi)


@dataclass(frozen=True)
class DegradationConfig:
    """Probabilities and ranges of every degradation kind (see the module table for units).

    Build one from a level (``DegradationConfig.level("mild")``), from a dict/YAML/JSON
    (:meth:`from_dict`, :meth:`from_file`), or by changing fields (``cfg.replace(jpeg=Degradation(1, 10, 20))``).
    """

    name: str = "custom"
    colour_shift: Degradation = Degradation()
    gaussian_blur: Degradation = Degradation()
    motion_blur: Degradation = Degradation()
    downscale: Degradation = Degradation()
    gaussian_noise: Degradation = Degradation()
    salt_pepper: Degradation = Degradation()
    jpeg: Degradation = Degradation()

    def __post_init__(self):
        for kind in KINDS:
            d = getattr(self, kind)
            if not isinstance(d, Degradation):
                raise TypeError(f"{kind} must be a Degradation(probability, low, high), got {type(d).__name__}")
            object.__setattr__(self, kind, d.validate(kind))

    @staticmethod
    def level(name: str) -> "DegradationConfig":
        """One of the ready-made levels ``mild``, ``moderate``, ``severe``."""
        check_choice(name, LEVELS, "degradation level")
        return LEVELS[name]

    def replace(self, **changes) -> "DegradationConfig":
        return dataclasses.replace(self, **changes)

    def only(self, kind: str) -> "DegradationConfig":
        """This configuration's ``kind`` alone, applied to every image (probability 1): for figures and tests."""
        check_choice(kind, KINDS, "degradation kind")
        d = getattr(self, kind)
        return DegradationConfig(name=f"{self.name}:{kind}", **{kind: Degradation(1.0, d.low, d.high)})

    def to_dict(self) -> dict:
        return {"name": self.name, **{k: {"probability": d.probability, "range": [d.low, d.high]} for k in KINDS for d in [getattr(self, k)]}}

    @classmethod
    def from_dict(cls, spec: dict) -> "DegradationConfig":
        """From ``{"base": "mild", "name": ..., "<kind>": {"probability": p, "range": [low, high]}, ...}``.

        ``base`` (optional) names a level whose values the other entries override; without it unnamed kinds
        are off. Unknown keys raise an error naming the known ones.
        """
        if not isinstance(spec, dict):
            raise TypeError(f"a degradation configuration must be a dict, got {type(spec).__name__}")
        unknown = set(spec) - {"base", "name", *KINDS}
        if unknown:
            raise ValueError(f"unknown degradation configuration keys {sorted(unknown)}; expected 'base', 'name' or {list(KINDS)}")
        base = cls.level(spec["base"]) if "base" in spec else cls()
        changes = {"name": str(spec.get("name", base.name if "base" in spec else "custom"))}
        for kind in KINDS:
            if kind in spec:
                entry = spec[kind]
                if not isinstance(entry, dict) or set(entry) - {"probability", "range"}:
                    raise ValueError(f"{kind} must be {{'probability': p, 'range': [low, high]}}, got {entry!r}")
                old = getattr(base, kind)
                lo, hi = entry.get("range", (old.low, old.high))
                changes[kind] = Degradation(float(entry.get("probability", old.probability)), float(lo), float(hi))
        return base.replace(**changes)

    @classmethod
    def from_file(cls, path) -> "DegradationConfig":
        """From a ``.yaml``/``.yml`` or ``.json`` file holding the dict :meth:`from_dict` takes."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no degradation configuration file {path.resolve()}")
        if path.suffix.lower() not in (".yaml", ".yml", ".json"):
            raise ValueError(f"degradation configuration must be .yaml, .yml or .json, got {path.name}")
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise ValueError(f"{path} is {path.stat().st_size:,} bytes, too large for a degradation configuration (at most {MAX_CONFIG_BYTES:,})")
        text = path.read_text()
        try:
            spec = yaml.safe_load(text) if path.suffix.lower() in (".yaml", ".yml") else json.loads(text)
        except (yaml.YAMLError, ValueError) as err:
            raise ValueError(f"{path} is not valid {path.suffix[1:].upper()}: {err}") from None
        try:
            return cls.from_dict(spec)
        except (TypeError, ValueError) as err:
            raise type(err)(f"{path}: {err}") from None


D = Degradation
LEVELS = {
    "mild": DegradationConfig(
        name="mild",
        colour_shift=D(0.5, 3.0, 8.0),
        gaussian_blur=D(0.4, 0.5, 1.0),
        motion_blur=D(0.2, 3.0, 5.0),
        downscale=D(0.3, 1.25, 1.5),
        gaussian_noise=D(0.6, 0.01, 0.03),
        salt_pepper=D(0.2, 0.002, 0.006),
        jpeg=D(0.5, 70.0, 90.0),
    ),
    "moderate": DegradationConfig(
        name="moderate",
        colour_shift=D(0.6, 6.0, 14.0),
        gaussian_blur=D(0.5, 0.8, 1.5),
        motion_blur=D(0.3, 5.0, 7.0),
        downscale=D(0.5, 1.5, 2.0),
        gaussian_noise=D(0.7, 0.03, 0.06),
        salt_pepper=D(0.3, 0.005, 0.015),
        jpeg=D(0.7, 40.0, 70.0),
    ),
    "severe": DegradationConfig(
        name="severe",
        colour_shift=D(0.8, 12.0, 24.0),
        gaussian_blur=D(0.7, 1.2, 2.5),
        motion_blur=D(0.5, 7.0, 11.0),
        downscale=D(0.7, 2.0, 3.0),
        gaussian_noise=D(0.8, 0.06, 0.12),
        salt_pepper=D(0.4, 0.015, 0.04),
        jpeg=D(0.9, 15.0, 40.0),
    ),
}
del D


def _config(config) -> DegradationConfig:
    if isinstance(config, DegradationConfig):
        return config
    if isinstance(config, str):
        return DegradationConfig.level(config)
    if isinstance(config, dict):
        return DegradationConfig.from_dict(config)
    raise TypeError(f"config must be a level name {list(LEVELS)}, a dict or a DegradationConfig, got {type(config).__name__}")


# -- kernels -----------------------------------------------------------------------------------------------


def gaussian_kernel(sigma: float, size: int) -> np.ndarray:
    """A normalised (size, size) Gaussian; sigma 0 gives the identity (a single 1 in the centre)."""
    r = np.arange(size) - size // 2
    if sigma <= 0:
        return np.outer(r == 0, r == 0).astype(np.float32)
    g = np.exp(-0.5 * (r / sigma) ** 2)
    k = np.outer(g, g)
    return (k / k.sum()).astype(np.float32)


def motion_kernel(length: float, angle_deg: float, size: int) -> np.ndarray:
    """A normalised (size, size) line of ``length`` pixels through the centre at ``angle_deg`` (0: horizontal),
    drawn with sub-pixel sampling so short fractional lengths still blur smoothly."""
    c = size // 2
    t = np.linspace(-(length - 1) / 2, (length - 1) / 2, max(2, int(np.ceil(length)) * 8))
    a = np.deg2rad(angle_deg)
    xs, ys = c + t * np.cos(a), c - t * np.sin(a)
    k = np.zeros((size, size), np.float64)
    # Bilinear splatting of each sample point onto its four neighbours.
    x0, y0 = np.floor(xs).astype(int), np.floor(ys).astype(int)
    fx, fy = xs - x0, ys - y0
    for dx, dy, w in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
        np.add.at(k, (np.clip(y0 + dy, 0, size - 1), np.clip(x0 + dx, 0, size - 1)), w)
    return (k / k.sum()).astype(np.float32)


def _convolve_each(x: np.ndarray, kernels: np.ndarray) -> np.ndarray:
    """Convolve image i of x (N, H, W, C) with kernels[i] (K, K), all at once: the batch is folded into the
    channel axis so a single depthwise convolution gives every image its own kernel. Borders are mirrored."""
    n, h, w, c = x.shape
    k = kernels.shape[-1]
    p = k // 2
    folded = x.transpose(1, 2, 0, 3).reshape(1, h, w, n * c)
    # NumPy's symmetric padding, unlike tf.pad's, also works when the kernel is larger than a tiny image.
    folded = tf.constant(np.pad(folded, ((0, 0), (p, p), (p, p), (0, 0)), mode="symmetric"))
    filt = np.repeat(kernels[:, None], c, axis=1).reshape(n * c, k, k).transpose(1, 2, 0)[..., None]
    out = tf.nn.depthwise_conv2d(folded, tf.constant(filt), strides=[1, 1, 1, 1], padding="VALID")
    return tf.transpose(tf.reshape(out, (h, w, n, c)), (2, 0, 1, 3)).numpy()


# -- the degradations, each on the selected images of a batch ----------------------------------------------


def _gaussian_blur(x, values, rng):
    size = 2 * int(np.ceil(3 * values.max())) + 1
    return _convolve_each(x, np.stack([gaussian_kernel(s, size) for s in values])), {}


def _motion_blur(x, values, rng):
    angles = rng.uniform(0.0, 180.0, len(values))
    size = 2 * int(np.ceil(values.max() / 2)) + 1
    return _convolve_each(x, np.stack([motion_kernel(v, a, size) for v, a in zip(values, angles)])), {"angle": angles}


def _downscale(x, values, rng):
    h, w = x.shape[1:3]
    out = np.empty_like(x)
    for i, f in enumerate(values):
        small = resize(x[i : i + 1], (max(1, round(h / f)), max(1, round(w / f))), method="area", clip=None)
        out[i] = resize(small, (h, w), method="bicubic")[0]
    return out, {}


def _gaussian_noise(x, values, rng):
    return np.clip(x + rng.standard_normal(x.shape, dtype=np.float32) * values[:, None, None, None].astype(np.float32), 0.0, 1.0), {}


def _salt_pepper(x, values, rng):
    u = rng.random(x.shape[:3])
    hit = u < values[:, None, None]
    salt = rng.random(x.shape[:3]) < 0.5
    out = x.copy()
    out[hit & salt] = 1.0
    out[hit & ~salt] = 0.0
    return out, {}


def _jpeg(x, values, rng):
    q = np.round(values).astype(int)
    out = np.stack([tf.image.adjust_jpeg_quality(x[i], int(q[i])).numpy() for i in range(len(x))])
    return np.clip(out, 0.0, 1.0).astype(np.float32), {"quality": q}


def _colour_shift(x, values, rng):
    sign = np.where(rng.random(len(values)) < 0.5, -1.0, 1.0)  # -: bluer (cooler), +: yellower (warmer)
    lab = rgb2lab(x)
    lab[..., 2] += (sign * values)[:, None, None]
    return np.clip(lab2rgb(lab), 0.0, 1.0).astype(np.float32), {"b_shift": sign * values}


_APPLY = {
    "colour_shift": _colour_shift,
    "gaussian_blur": _gaussian_blur,
    "motion_blur": _motion_blur,
    "downscale": _downscale,
    "gaussian_noise": _gaussian_noise,
    "salt_pepper": _salt_pepper,
    "jpeg": _jpeg,
}


def degrade(images, config="mild", *, seed: int = 0, return_params: bool = False):
    """Degrade a batch of photographs.

    Args:
        images: float32 (N, H, W, 3) RGB in [0, 1].
        config: a level name (``"mild"``, ``"moderate"``, ``"severe"``), a dict for
            :meth:`DegradationConfig.from_dict`, or a :class:`DegradationConfig`.
        seed: every random draw (which degradations fire, their strengths, the noise) comes from it.
        return_params: also return what was applied.

    Returns:
        float32 (N, H, W, 3) in [0, 1]; with ``return_params``, also ``{kind: {"applied": bool (N,),
        "value": float (N,) (NaN where not applied), ...extra per-kind draws}}``.
    """
    x = check_images(images, channels=(3,)).copy()
    cfg = _config(config)
    rng = np.random.default_rng(seed)
    n = len(x)
    probs = np.array([getattr(cfg, k).probability for k in KINDS])
    # Draw for every image even when a kind is off, so one kind's settings never shift another's draws.
    applied = rng.random((len(KINDS), n)) < probs[:, None]
    values = np.stack([rng.uniform(getattr(cfg, k).low, getattr(cfg, k).high, n) for k in KINDS])
    # Every image gets at least one degradation (else "degraded" could equal the original and PSNR be
    # infinite): where none fired, one kind is chosen in proportion to the probabilities.
    spare = rng.choice(len(KINDS), n, p=probs / probs.sum()) if probs.sum() > 0 else np.zeros(n, int)
    none = ~applied.any(axis=0) & (probs.sum() > 0)
    applied[spare[none], np.flatnonzero(none)] = True
    params = {}
    for i, kind in enumerate(KINDS):
        sub = np.random.default_rng(rng.integers(2**63))
        record = {"applied": applied[i], "value": np.where(applied[i], values[i], np.nan)}
        a = applied[i]
        if a.any():
            out, extra = _APPLY[kind](x[a], values[i][a], sub)
            x[a] = out
            for k, v in extra.items():
                full = np.full(n, np.nan)
                full[a] = v
                record[k] = full
        params[kind] = record
    return (x, params) if return_params else x


def examples(image, *, levels=LEVEL_NAMES, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """Each degradation kind alone at each level on one image, for a figure.

    Args:
        image: float32 (H, W, 3) or (1, H, W, 3) in [0, 1].

    Returns:
        (images (len(levels) * len(KINDS), H, W, 3), captions), ordered level by level.
    """
    x = check_images(image[None] if np.ndim(image) == 3 else image, "image", channels=(3,))[:1]
    out, captions = [], []
    for level in levels:
        cfg = _config(level)
        for kind in KINDS:
            img, p = degrade(x, cfg.only(kind), seed=seed, return_params=True)
            out.append(img[0])
            value = p[kind].get("b_shift", p[kind]["value"])[0]  # the colour shift's sign says blue or yellow
            captions.append(f"{level}: {kind}\n{value:.3g}")
    return np.stack(out), captions

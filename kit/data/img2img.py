"""Paired data for the image-to-image notebooks, derived from Fashion-MNIST.

- Colorized Fashion-MNIST (notebook 04): every class has its own colour in :data:`PALETTE` (ankle boots
  brown, dresses red, ...), applied multiplicatively to the grayscale garment, so shading survives and the
  black background stays black. Some classes also come in a second colour (:data:`SECOND_COLOURS`: dresses
  red or teal, sneakers pink or green), each image of such a class taking it with probability 1/2: nothing in
  the grayscale garment says which, so the colour is a genuine choice. That is what separates an L1-only
  colorizer (it averages the two into a dull, grayish colour) from a GAN (it commits to one). Optional
  per-image hue and brightness jitter adds a little variation to every colour.
- Sketches (notebook 05): a line drawing made from each colour image by Canny edge detection on its
  luminance (scikit-image), dark lines on white paper like a pencil sketch; ``"xdog"`` (eXtended
  Difference of Gaussians, Winnemöller 2012) gives softer, thicker strokes.

Conventions: images float32 NHWC in [0, 1] (colour: 3 channels, grayscale and sketches: 1), labels int32
(N,). Scale to the GAN range [-1, 1] with ``2 * x - 1``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter
from skimage.color import hsv2rgb, rgb2hsv
from skimage.feature import canny

from kit.checks import check_choice, check_images, check_labels, check_positive_int
from kit.data.fashion_mnist import CLASS_NAMES, NUM_CLASSES, load_fashion_mnist
from kit.imageops import resize, to_luma

# One colour per class, RGB in [0, 1]. Saturated, distinct hues (the reference report's brown boots and red
# dresses among them), so a colorizer that gets the class wrong gets the colour visibly wrong.
PALETTE: dict[str, tuple[float, float, float]] = {
    "T-shirt/top": (0.95, 0.85, 0.15),  # yellow
    "Trouser": (0.20, 0.35, 0.90),  # denim blue
    "Pullover": (0.15, 0.75, 0.30),  # green
    "Dress": (0.90, 0.10, 0.15),  # red
    "Coat": (0.55, 0.30, 0.85),  # violet
    "Sandal": (1.00, 0.55, 0.10),  # orange
    "Shirt": (0.10, 0.80, 0.85),  # cyan
    "Sneaker": (0.95, 0.35, 0.70),  # pink
    "Bag": (0.60, 0.75, 0.15),  # olive
    "Ankle boot": (0.55, 0.30, 0.10),  # brown
}

# Classes that come in a second colour, each image taking it with probability 1/2. Far from the first colour on
# the colour wheel, so the average of the two (what L1 settles for when it cannot tell) is close to gray.
SECOND_COLOURS: dict[str, tuple[float, float, float]] = {
    "Dress": (0.10, 0.70, 0.80),  # teal (or red)
    "Sneaker": (0.25, 0.80, 0.30),  # green (or pink)
}

SKETCH_METHODS = ("canny", "xdog")


def _colour_table(base: dict, overrides: dict | None, what: str) -> dict:
    table = dict(base)
    for name, rgb in (overrides or {}).items():
        check_choice(name, CLASS_NAMES, "class name")
        rgb = np.asarray(rgb, np.float32)
        if rgb.shape != (3,) or rgb.min() < 0 or rgb.max() > 1:
            raise ValueError(f"{what} of {name!r} must be 3 RGB values in [0, 1], got {tuple(np.ravel(rgb))}")
        table[name] = tuple(rgb)
    return table


def second_colour_classes(second_colours: dict | None = SECOND_COLOURS) -> list[int]:
    """Class ids of the classes in ``second_colours`` (default :data:`SECOND_COLOURS`: dresses and sneakers),
    e.g. to measure them apart with ``np.isin(labels, second_colour_classes())``."""
    return [CLASS_NAMES.index(check_choice(name, CLASS_NAMES, "class name")) for name in (second_colours or {})]


def palette_array(palette: dict | None = None) -> np.ndarray:
    """The palette as float32 (10, 3) RGB in [0, 1], row c the colour of class c. ``palette`` may override
    some classes by name, e.g. ``{"Dress": (0.1, 0.2, 0.9)}``."""
    table = _colour_table(PALETTE, palette, "palette colour")
    return np.array([table[name] for name in CLASS_NAMES], np.float32)


def colorize(gray, labels, *, palette: dict | None = None, second_colours: dict | None = None, hue_jitter: float = 0.0,
             brightness_jitter: float = 0.0, seed: int = 0) -> np.ndarray:
    """Colour grayscale garments with their class colour: ``rgb = gray * colour(label)``.

    Args:
        gray: float32 (N, H, W, 1) in [0, 1].
        labels: int (N,) class ids in [0, 10).
        palette: overrides of :data:`PALETTE` by class name.
        second_colours: ``{class name: (r, g, b)}``, e.g. :data:`SECOND_COLOURS`: each image of these classes
            takes this colour instead of its palette colour with probability 1/2 (None: one colour per class).
        hue_jitter: per-image hue shift drawn from U(-j, j), as a fraction of the colour circle (0.05 = 18°).
        brightness_jitter: per-image colour scale drawn from U(1 - j, 1 + j) (clipped to [0, 1]).
        seed: seed of the colour choice and the jitter; the same seed gives the same images.

    Returns:
        float32 (N, H, W, 3) in [0, 1].
    """
    gray = check_images(gray, "gray", channels=(1,))
    labels = check_labels(labels, len(gray))
    for name, j in (("hue_jitter", hue_jitter), ("brightness_jitter", brightness_jitter)):
        if not 0.0 <= j <= 0.5:
            raise ValueError(f"{name} must lie in [0, 0.5], got {j}")
    colours = palette_array(palette)[labels]  # (N, 3)
    rng = np.random.default_rng(seed)
    if second_colours:
        second = _colour_table({}, second_colours, "second colour")
        coin = rng.random(len(labels)) < 0.5
        for c, rgb in zip(second_colour_classes(second), second.values()):
            colours[(labels == c) & coin] = rgb
    if hue_jitter or brightness_jitter:
        hsv = rgb2hsv(colours[:, None, :])[:, 0]  # (N, 3)
        hsv[:, 0] = (hsv[:, 0] + rng.uniform(-hue_jitter, hue_jitter, len(hsv))) % 1.0
        hsv[:, 2] = np.clip(hsv[:, 2] * rng.uniform(1 - brightness_jitter, 1 + brightness_jitter, len(hsv)), 0, 1)
        colours = hsv2rgb(hsv[:, None, :])[:, 0].astype(np.float32)
    return (gray * colours[:, None, None, :]).astype(np.float32)


def sketch(images, *, method: str = "canny", sigma: float = 1.5) -> np.ndarray:
    """A line drawing of each image: dark lines (0) on white (1), float32 (N, H, W, 1).

    Args:
        images: float32 (N, H, W, 1 or 3) in [0, 1]; colour is converted to luminance first.
        method: ``"canny"`` (thin, binary contours: outline and the strongest inner edges; scikit-image's
            Canny with hysteresis thresholds at the 70th/90th percentile of each image's gradient) or
            ``"xdog"`` (soft, thicker strokes from a thresholded difference of Gaussians).
        sigma: Gaussian smoothing in pixels; larger draws fewer, smoother lines.

    Deterministic: the same images give the same sketches.
    """
    check_choice(method, SKETCH_METHODS, "sketch method")
    if not 0.3 <= float(sigma) <= 10:
        raise ValueError(f"sigma must lie in [0.3, 10] pixels, got {sigma}")
    lum = to_luma(images)[..., 0].astype(np.float64)
    if method == "canny":
        edges = np.stack([
            canny(img, sigma=sigma, low_threshold=0.7, high_threshold=0.9, use_quantiles=True) if img.max() > 0 else np.zeros_like(img, bool)
            for img in lum
        ])
        out = 1.0 - edges.astype(np.float32)
    else:
        # XDoG: a sharpened difference of Gaussians, soft-thresholded with tanh (Winnemöller et al., 2012).
        g1 = gaussian_filter(lum, (0, sigma, sigma))
        g2 = gaussian_filter(lum, (0, 1.6 * sigma, 1.6 * sigma))
        d = (1 + 20.0) * g1 - 20.0 * g2
        out = np.where(d >= 0.0, 1.0, 1.0 + np.tanh(10.0 * d)).clip(0, 1).astype(np.float32)
    return out[..., None]


@dataclass
class PairedSplit:
    """One split of paired data: ``inputs`` (N, H, W, Ci), ``targets`` (N, H, W, 3), both float32 in [0, 1],
    and ``labels`` int32 (N,)."""

    inputs: np.ndarray
    targets: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def tanh(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(inputs, targets, labels)`` with images scaled to [-1, 1], ready for :func:`kit.data.make_dataset`."""
        return 2.0 * self.inputs - 1.0, 2.0 * self.targets - 1.0, self.labels


@dataclass
class PairedData:
    train: PairedSplit
    test: PairedSplit


def _fashion(train_samples, test_samples, seed):
    fm = load_fashion_mnist("unit", train_samples=train_samples, test_samples=test_samples, seed=seed)
    return (fm.x_train, fm.y_train), (fm.x_test, fm.y_test)


def colorization_data(*, train_samples: int | None, test_samples: int | None, size: int = 28, hue_jitter: float = 0.04,
                      brightness_jitter: float = 0.15, palette: dict | None = None, second_colours: dict | None = SECOND_COLOURS,
                      seed: int = 0) -> PairedData:
    """Colorized Fashion-MNIST: ``inputs`` grayscale (N, size, size, 1), ``targets`` colour (N, size, size, 3).

    By default dresses and sneakers come in two colours (:data:`SECOND_COLOURS`; ``second_colours=None``: one
    colour per class). Train and test images get independent draws (seeds ``seed`` and ``seed + 1``).
    """
    out = []
    for i, (x, y) in enumerate(_fashion(train_samples, test_samples, seed)):
        x = resize(check_images(x, channels=(1,)), size)
        rgb = colorize(x, y, palette=palette, second_colours=second_colours, hue_jitter=hue_jitter,
                       brightness_jitter=brightness_jitter, seed=seed + i)
        out.append(PairedSplit(x, rgb, y.astype(np.int32)))
    return PairedData(*out)


def sketch_data(*, train_samples: int | None, test_samples: int | None, size: int = 64, method: str = "canny", sigma: float = 1.5,
                hue_jitter: float = 0.04, brightness_jitter: float = 0.15, palette: dict | None = None,
                second_colours: dict | None = None, seed: int = 0) -> PairedData:
    """Sketch -> colour garment pairs at ``size`` x ``size`` (64 by default): ``inputs`` sketches
    (N, size, size, 1) from :func:`sketch` of the colour ``targets`` (N, size, size, 3). One colour per class by
    default (notebook 05 is about shape and class, not colour choice); ``second_colours`` as in :func:`colorize`."""
    col = colorization_data(train_samples=train_samples, test_samples=test_samples, size=size, hue_jitter=hue_jitter,
                            brightness_jitter=brightness_jitter, palette=palette, second_colours=second_colours, seed=seed)
    for split in (col.train, col.test):
        split.inputs = sketch(split.targets, method=method, sigma=sigma)
    return col


def check_pairs(inputs, targets, labels=None, *, input_channels=(1, 3), target_channels=(3,)):
    """Validate paired images (and labels): same count and size, expected channels, values in [-1, 1] or [0, 1].

    Returns the arrays as float32 (labels int32)."""
    x = check_images(inputs, "inputs", channels=input_channels, value_range=(-1.0, 1.0))
    t = check_images(targets, "targets", channels=target_channels, value_range=(-1.0, 1.0))
    if x.shape[:3] != t.shape[:3]:
        raise ValueError(f"inputs and targets must pair up one to one at the same size, got {x.shape} and {t.shape}")
    if labels is None:
        return x, t
    return x, t, check_labels(labels, len(x), NUM_CLASSES)

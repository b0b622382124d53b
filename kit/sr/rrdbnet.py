"""RRDBNet, the generator of ESRGAN and Real-ESRGAN (Wang et al., 2018 and 2021), as a Keras functional model,
and tiled inference for images too large to enhance in one piece.

The default configuration is Real-ESRGAN's ``RealESRGAN_x4plus``: 64 features, 23 Residual-in-Residual Dense
Blocks (RRDB) of three dense blocks each (growth 32 channels, LeakyReLU 0.2, every residual scaled by 0.2),
then two nearest-neighbour x2 upsamplings, each followed by a convolution: 16,697,987 parameters. Layer
names mirror the PyTorch module names (``body.3.rdb2.conv5`` -> ``body_3_rdb2_conv5``) so
:mod:`kit.models.esrgan_port` can copy the official weights across one to one. Lighter variants (fewer
blocks, fewer features) share the code: ``rrdbnet(num_feat=32, num_block=3, num_grow_ch=16)``.

Images are float32 NHWC RGB in [0, 1]; the output is 4x larger and not clipped (call :func:`enhance`).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from kit.checks import check_images, check_positive_int

SCALE = 4


@keras.saving.register_keras_serializable(package="kit")
class ScaledResidual(layers.Layer):
    """``skip + scale * x``: ESRGAN's residual scaling (0.2), which keeps a deep stack of un-normalised blocks
    stable by letting each block change its input only a little."""

    def __init__(self, scale: float = 0.2, **kwargs):
        super().__init__(**kwargs)
        self.scale = float(scale)

    def call(self, inputs):
        x, skip = inputs
        return skip + self.scale * x

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


def _conv(filters: int, name: str):
    # PyTorch's Conv2d(k=3, stride 1, padding 1) is Keras' 'same' padding exactly.
    return layers.Conv2D(filters, 3, padding="same", name=name)


def _dense_block(x, num_feat: int, num_grow_ch: int, name: str):
    feats = [x]
    for j in range(1, 5):
        inp = feats[0] if j == 1 else layers.Concatenate(name=f"{name}_cat{j}")(feats)
        feats.append(layers.LeakyReLU(0.2, name=f"{name}_lrelu{j}")(_conv(num_grow_ch, f"{name}_conv{j}")(inp)))
    out = _conv(num_feat, f"{name}_conv5")(layers.Concatenate(name=f"{name}_cat5")(feats))
    return ScaledResidual(0.2, name=f"{name}_residual")([out, x])


def rrdbnet(
    *,
    num_feat: int = 64,
    num_block: int = 23,
    num_grow_ch: int = 32,
    in_channels: int = 3,
    out_channels: int = 3,
    name: str | None = None,
) -> keras.Model:
    """The Real-ESRGAN x4 generator (defaults: ``RealESRGAN_x4plus``, ~16.7M parameters).

    Args:
        num_feat: feature channels of the trunk.
        num_block: RRDB blocks (23 in x4plus; 6 in the anime variant; fewer for a CPU stand-in).
        num_grow_ch: channels each dense-block convolution adds.

    Returns:
        A functional model: float32 (B, H, W, in_channels) in [0, 1] -> (B, 4H, 4W, out_channels), any H, W.
    """
    num_feat = check_positive_int(num_feat, "num_feat")
    num_block = check_positive_int(num_block, "num_block")
    num_grow_ch = check_positive_int(num_grow_ch, "num_grow_ch")
    inputs = keras.Input((None, None, check_positive_int(in_channels, "in_channels")), name="image")
    feat = _conv(num_feat, "conv_first")(inputs)
    x = feat
    for i in range(num_block):
        skip = x
        for k in (1, 2, 3):
            x = _dense_block(x, num_feat, num_grow_ch, f"body_{i}_rdb{k}")
        x = ScaledResidual(0.2, name=f"body_{i}_residual")([x, skip])
    feat = layers.Add(name="trunk_residual")([feat, _conv(num_feat, "conv_body")(x)])
    for k in (1, 2):
        feat = layers.UpSampling2D(2, interpolation="nearest", name=f"upsample{k}")(feat)
        feat = layers.LeakyReLU(0.2, name=f"lrelu_up{k}")(_conv(num_feat, f"conv_up{k}")(feat))
    feat = layers.LeakyReLU(0.2, name="lrelu_hr")(_conv(num_feat, "conv_hr")(feat))
    out = _conv(check_positive_int(out_channels, "out_channels"), "conv_last")(feat)
    name = name or f"rrdbnet_f{num_feat}_b{num_block}_g{num_grow_ch}"
    return keras.Model(inputs, out, name=name)


def receptive_radius(model: keras.Model) -> int:
    """How many input pixels on each side can influence one output pixel of an :func:`rrdbnet` (rounded up):
    the overlap tiled inference needs to reproduce untiled output exactly."""
    lr_convs = sum(1 for l in model.layers if isinstance(l, layers.Conv2D) and not l.name.startswith(("conv_up", "conv_hr", "conv_last")))
    # Every 3x3 conv at input resolution adds one pixel. conv_up1 (at 2x) and conv_up2, conv_hr, conv_last
    # (at 4x) add less than two input pixels together, plus one for the nearest-neighbour rounding.
    return lr_convs + 3


def tiled_predict(model: keras.Model, images, *, tile: int = 128, overlap: int = 16, scale: int = SCALE, batch_size: int = 8) -> np.ndarray:
    """Run a fully convolutional image model tile by tile and stitch the outputs seamlessly.

    Each ``tile`` x ``tile`` input tile is run with ``overlap`` extra input pixels on every side (cut from the
    image, not padded, so a tile at the border sees the border exactly as the whole image does); only the
    tile's own ``scale``-times-larger output is kept. With ``overlap`` at least the model's receptive radius
    (:func:`receptive_radius`), the result equals running the whole image at once up to float rounding;
    smaller overlaps trade exactness for memory, as Real-ESRGAN's ``--tile`` does.

    Args:
        model: maps (B, h, w, C) -> (B, scale*h, scale*w, C') for any h, w.
        images: float32 (N, H, W, C) in [0, 1].
        tile, overlap: tile size and context margin, in input pixels.
        scale: output/input size ratio (4 for RRDBNet, 1 for the refiner).

    Returns:
        float32 (N, scale*H, scale*W, C').
    """
    x = check_images(images, channels=None)
    tile = check_positive_int(tile, "tile")
    scale = check_positive_int(scale, "scale")
    if isinstance(overlap, bool) or not isinstance(overlap, (int, np.integer)) or overlap < 0:
        raise ValueError(f"overlap must be an integer >= 0, got {overlap!r}")
    n, h, w, _ = x.shape
    out = None
    for top in range(0, h, tile):
        for left in range(0, w, tile):
            bottom, right = min(top + tile, h), min(left + tile, w)
            t0, l0 = max(top - overlap, 0), max(left - overlap, 0)
            t1, l1 = min(bottom + overlap, h), min(right + overlap, w)
            pred = np.asarray(model.predict(x[:, t0:t1, l0:l1], batch_size=batch_size, verbose=0), np.float32)
            if out is None:
                out = np.zeros((n, scale * h, scale * w, pred.shape[-1]), np.float32)
            dt, dl = scale * (top - t0), scale * (left - l0)
            out[:, scale * top : scale * bottom, scale * left : scale * right] = pred[:, dt : dt + scale * (bottom - top), dl : dl + scale * (right - left)]
    return out


def enhance(model: keras.Model, images, *, tile: int | None = None, overlap: int = 16, batch_size: int = 8) -> np.ndarray:
    """4x enhancement with an :func:`rrdbnet`: float32 (N, H, W, 3) in [0, 1] -> (N, 4H, 4W, 3) in [0, 1]
    (clipped, as Real-ESRGAN's inference does); ``tile`` set: tiled (see :func:`tiled_predict`)."""
    x = check_images(images, channels=(3,))
    if tile is None:
        y = model.predict(x, batch_size=batch_size, verbose=0)
    else:
        y = tiled_predict(model, x, tile=tile, overlap=overlap, batch_size=batch_size)
    return np.clip(np.asarray(y, np.float32), 0.0, 1.0)

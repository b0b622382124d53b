"""The refinement CNN of notebook 07: a small U-Net that corrects an enhancer's output by adding a bounded
residual, ``y = clip(x + s * tanh(r(x)), 0, 1)``.

What it changes from the reference report's refiner, and why:

- **Skip connections** (a U-Net, not a plain encoder-decoder): the enhanced image's detail goes straight
  across at every scale, so the network only has to learn the correction.
- **Residual output**: the network predicts ``r`` and the image is ``x + s * tanh(r)``, bounded by ``s``; with
  the head zero-initialised it starts as the identity, so training can only move away from "no change" where
  the loss says so.
- **No batch normalisation anywhere**: batch statistics shift every pixel of an image by the batch's mean,
  which is how a global colour cast (the report's reddish tint) gets in; plain convolutions + LeakyReLU
  cannot add a colour offset that the data does not ask for.
- **A global colour stage in front** (:func:`colour_stage`): a white-balance error moves every pixel of an
  image the same way, and whether a photograph is warm or was warmed can only be judged from the whole image.
  The U-Net trains on small patches and sees a few dozen pixels around each one; the colour stage looks at the
  whole (4x average-pooled) image and adds one bounded offset per channel. It trains on whole images first,
  then the U-Net trains on its output (:func:`kit.esrgan.train_refiner`), and :func:`chain` joins the two.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from kit.checks import check_images, check_positive_int


@keras.saving.register_keras_serializable(package="kit")
class BoundedResidual(layers.Layer):
    """``clip(x + scale * tanh(r), 0, 1)``: adds a correction of at most ``scale`` to each pixel of ``x``
    (float32 NHWC in [0, 1]); ``r`` = 0 returns ``x`` unchanged."""

    def __init__(self, scale: float = 0.25, **kwargs):
        super().__init__(**kwargs)
        if not 0 < float(scale) <= 1:
            raise ValueError(f"residual scale must lie in (0, 1], got {scale}")
        self.scale = float(scale)

    def call(self, inputs):
        x, r = inputs
        return keras.ops.clip(x + self.scale * keras.ops.tanh(r), 0.0, 1.0)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


@keras.saving.register_keras_serializable(package="kit")
class GlobalOffset(BoundedResidual):
    """:class:`BoundedResidual` with one offset per image and channel: ``x`` float32 (B, H, W, C) in [0, 1],
    ``o`` (B, C); every pixel moves by the same ``scale * tanh(o)``, and ``o`` = 0 returns ``x`` unchanged."""

    def __init__(self, scale: float = 0.15, **kwargs):
        super().__init__(scale, **kwargs)

    def call(self, inputs):
        x, o = inputs
        return super().call([x, o[:, None, None, :]])


def colour_stage(*, channels: int = 3, base_filters: int = 32, pool: int = 4, offset_scale: float = 0.15,
                 zero_init: bool = True, name: str = "colour_stage") -> keras.Model:
    """The global colour correction: an image in, the same image with one offset per channel added.

    The image is average-pooled by ``pool`` (colour, not detail, is what this stage judges, and pooling makes a
    128x128 image cost what a 32x32 one does), then three stride-2 conv blocks of ``base_filters`` x 1, 2, 4
    channels, global average and max pooling (so it works on any size), a dense layer, and ``channels`` offsets
    bounded by ``offset_scale`` (:class:`GlobalOffset`).

    Args:
        offset_scale: the most the stage may move a channel (0.15: about 15 Lab b* units of white balance).
        zero_init: start the offset head at zero (the stage is then exactly the identity).

    Returns:
        A functional model: float32 (B, H, W, channels) in [0, 1] -> same shape in [0, 1]; H and W at least
        ``pool``.
    """
    base_filters = check_positive_int(base_filters, "base_filters")
    pool = check_positive_int(pool, "pool")
    inputs = keras.Input((None, None, check_positive_int(channels, "channels")), name="image")
    x = layers.AveragePooling2D(pool, name="pool")(inputs) if pool > 1 else inputs
    for d in range(3):
        f = base_filters * 2**d
        x = layers.Conv2D(f, 3, padding="same", name=f"colour{d}_conv")(x)
        x = layers.LeakyReLU(0.2, name=f"colour{d}_lrelu")(x)
        x = layers.Conv2D(f, 3, strides=2, padding="same", name=f"colour{d}_down")(x)
        x = layers.LeakyReLU(0.2, name=f"colour{d}_down_lrelu")(x)
    # Mean and max over the image: the mean says "how warm overall", the max finds the brightest (often
    # neutral) surfaces, the cue a white-balance correction classically relies on.
    g = layers.Concatenate(name="global")([layers.GlobalAveragePooling2D(name="mean")(x), layers.GlobalMaxPooling2D(name="max")(x)])
    g = layers.Dense(4 * base_filters, name="dense")(g)
    g = layers.LeakyReLU(0.2, name="dense_lrelu")(g)
    init = "zeros" if zero_init else "glorot_uniform"
    o = layers.Dense(inputs.shape[-1], kernel_initializer=init, bias_initializer="zeros", dtype="float32", name="offset_head")(g)
    out = GlobalOffset(offset_scale, dtype="float32", name="corrected")([inputs, o])
    return keras.Model(inputs, out, name=name)


def chain(*stages: keras.Model, name: str = "refiner") -> keras.Model:
    """The stages applied one after the other, as one functional model (e.g. ``chain(colour_stage(),
    refiner())``): float32 (B, H, W, C) in [0, 1] -> same shape. Each stage keeps its name, so
    ``model.get_layer("colour_stage")`` gives it back."""
    if not stages:
        raise ValueError("chain needs at least one stage")
    inputs = keras.Input(stages[0].input_shape[1:], name="enhanced")
    x = inputs
    for stage in stages:
        x = stage(x)
    return keras.Model(inputs, x, name=name)


def _block(x, filters: int, name: str):
    for k in (1, 2):
        x = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv{k}")(x)
        x = layers.LeakyReLU(0.2, name=f"{name}_lrelu{k}")(x)
    return x


def refiner(
    *,
    channels: int = 3,
    base_filters: int = 32,
    depth: int = 3,
    residual_scale: float = 0.25,
    zero_init: bool = True,
    name: str = "refiner",
) -> keras.Model:
    """The residual U-Net refiner.

    Args:
        base_filters: channels at full resolution, doubled at every halving.
        depth: halvings (input height and width must be multiples of ``2**depth``; :func:`refine` pads).
        residual_scale: the most the refiner may change a pixel (``s``).
        zero_init: start the residual head at zero (the model is then exactly the identity).

    Returns:
        A functional model: float32 (B, H, W, channels) in [0, 1] -> same shape in [0, 1].
    """
    base_filters = check_positive_int(base_filters, "base_filters")
    depth = check_positive_int(depth, "depth")
    inputs = keras.Input((None, None, check_positive_int(channels, "channels")), name="enhanced")
    skips, x = [], inputs
    for d in range(depth):
        x = _block(x, base_filters * 2**d, f"enc{d}")
        skips.append(x)
        x = layers.Conv2D(base_filters * 2 ** (d + 1), 3, strides=2, padding="same", name=f"down{d}")(x)
        x = layers.LeakyReLU(0.2, name=f"down{d}_lrelu")(x)
    x = _block(x, base_filters * 2**depth, "bottleneck")
    for d in reversed(range(depth)):
        x = layers.UpSampling2D(2, interpolation="nearest", name=f"up{d}")(x)
        x = layers.Concatenate(name=f"skip{d}")([x, skips[d]])
        x = _block(x, base_filters * 2**d, f"dec{d}")
    init = "zeros" if zero_init else "glorot_uniform"
    r = layers.Conv2D(channels, 3, padding="same", kernel_initializer=init, bias_initializer="zeros", dtype="float32", name="residual_head")(x)
    out = BoundedResidual(residual_scale, dtype="float32", name="refined")([inputs, r])
    return keras.Model(inputs, out, name=name)


def _depth(model) -> int:
    """The U-Net's halvings in ``model`` (looking inside chained stages)."""
    n = 0
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            n = max(n, _depth(layer))
    return max(n, sum(1 for l in model.layers if l.name.startswith("down") and isinstance(l, layers.Conv2D)))


def refine(model: keras.Model, images, *, batch_size: int = 8):
    """Run a :func:`refiner` on images of any size: float32 (N, H, W, 3) in [0, 1] -> same shape in [0, 1].
    Sizes that are not multiples of ``2**depth`` are mirror-padded and cropped back."""
    x = check_images(images, channels=(model.input_shape[-1],))
    m = 2 ** _depth(model)
    h, w = x.shape[1:3]
    ph, pw = (-h) % m, (-w) % m
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, ph), (0, pw), (0, 0)), mode="symmetric")
    y = np.asarray(model.predict(x, batch_size=batch_size, verbose=0), np.float32)
    return y[:, :h, :w]

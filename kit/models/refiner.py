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
"""

from __future__ import annotations

import keras
from keras import layers

from kit.checks import check_positive_int


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


def refine(model: keras.Model, images, *, batch_size: int = 8):
    """Run a :func:`refiner` on images of any size: float32 (N, H, W, 3) in [0, 1] -> same shape in [0, 1].
    Sizes that are not multiples of ``2**depth`` are mirror-padded and cropped back."""
    import numpy as np

    from kit.checks import check_images

    x = check_images(images, channels=(model.input_shape[-1],))
    depth = sum(1 for l in model.layers if l.name.startswith("down") and isinstance(l, layers.Conv2D))
    m = 2**depth
    h, w = x.shape[1:3]
    ph, pw = (-h) % m, (-w) % m
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, ph), (0, pw), (0, 0)), mode="symmetric")
    y = np.asarray(model.predict(x, batch_size=batch_size, verbose=0), np.float32)
    return y[:, :h, :w]

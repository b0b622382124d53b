"""The image-to-image networks of notebooks 04 and 05 (pix2pix, Isola et al., 2017), as functional models.

- :func:`unet_generator`: encoder-decoder with skip connections. The encoder's strided convolutions halve
  the image ``depth`` times; the decoder mirrors it and concatenates each encoder map of the same size, so
  fine detail (edges, the garment's outline) goes straight across instead of through the bottleneck.
  Dropout in the first decoder blocks is pix2pix's noise source: there is no z.
- :func:`patchgan_discriminator`: classifies every overlapping patch of (condition, image) as real or fake
  and returns the grid of patch logits (B, h, w, 1); :func:`receptive_field` says how large a patch is.

Both take the class label as an extra input when ``num_classes`` is set: the label is embedded as a learned
H x W map and concatenated to the input image as one more channel, so every layer can use it.
Conventions: images float32 NHWC in [-1, 1]; labels int32 (B,); D's output layer is float32 for
``mixed_float16``.
"""

from __future__ import annotations

import keras
from keras import layers

from kit.checks import check_positive_int
from kit.models.common import batch_norm


def _label_map(label, num_classes: int, height: int, width: int, name: str):
    """int labels (B,) -> a learned (B, H, W, 1) map, one per class."""
    e = layers.Embedding(num_classes, height * width, name=f"{name}_label_embedding")(label)
    return layers.Reshape((height, width, 1), name=f"{name}_label_map")(e)


def _inputs(image_shape, num_classes, name, image_name="condition"):
    image = keras.Input(tuple(image_shape), name=image_name)
    if num_classes is None:
        return [image], image
    label = keras.Input((), dtype="int32", name="label")
    x = layers.Concatenate(name=f"{name}_with_label")([image, _label_map(label, num_classes, image_shape[0], image_shape[1], name)])
    return [image, label], x


def unet_depth(size: int, depth: int | None = None) -> int:
    """The number of halvings for a ``size`` x ``size`` U-Net: ``depth`` if it divides the size, else the
    default (halve while the map stays even and at least 4 pixels: 28 -> 2, 32 -> 3, 64 -> 4, 128 -> 5)."""
    size = check_positive_int(size, "image size")
    if depth is None:
        depth = 0
        while size % 2 ** (depth + 1) == 0 and size // 2 ** (depth + 1) >= 4 and depth < 5:
            depth += 1
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 2 or size % 2**depth:
        raise ValueError(
            f"a U-Net needs an image size divisible by 2**depth with depth >= 2 (a multiple of 4, e.g. 28, 32, 64, 128), "
            f"got size {size} with depth {depth}"
        )
    return depth


def unet_generator(image_shape=(64, 64, 1), out_channels: int = 3, *, num_classes: int | None = 10, base_filters: int = 32,
                   depth: int | None = None, dropout: float = 0.5, dropout_blocks: int | None = None) -> keras.Model:
    """U-Net generator ``[condition, label] -> image`` (or ``condition -> image`` when ``num_classes`` is None).

    Args:
        image_shape: (H, W, C) of the condition (grayscale or sketch), H == W a multiple of 4.
        out_channels: channels of the generated image (3 for colour).
        num_classes: number of class labels, None for an unconditional U-Net.
        base_filters: filters of the first encoder block; doubled per block, capped at 8x.
        depth: encoder halvings (default: :func:`unet_depth`).
        dropout, dropout_blocks: dropout rate of the first ``dropout_blocks`` decoder blocks (default: the
            blocks at a quarter of the image size or below, at most 2: pix2pix keeps its noise at coarse
            scales; dropout at full resolution only adds speckle).

    Encoder block: Conv 4x4 stride 2 -> BatchNorm (not on the first) -> LeakyReLU(0.2).
    Decoder block: nearest x2 upsampling -> Conv 3x3 -> BatchNorm -> Dropout (first blocks) -> ReLU, then the
    encoder map of the same size concatenated. Output: Conv 3x3 -> tanh, images in [-1, 1], same H x W.
    """
    h, w, c = tuple(image_shape)
    if h != w:
        raise ValueError(f"unet_generator needs square images, got {h}x{w}")
    depth = unet_depth(h, depth)
    out_channels = check_positive_int(out_channels, "out_channels")
    if dropout_blocks is None:
        dropout_blocks = min(2, max(0, depth - 2))
    inputs, x = _inputs(image_shape, num_classes, "g")
    skips = [x]
    filters = [base_filters * min(2**i, 8) for i in range(depth)]
    for i, f in enumerate(filters):
        x = layers.Conv2D(f, 4, strides=2, padding="same", use_bias=i == 0, name=f"enc{i + 1}_conv")(x)
        if i:
            x = batch_norm(name=f"enc{i + 1}_bn")(x)
        x = layers.LeakyReLU(0.2, name=f"enc{i + 1}_act")(x)
        skips.append(x)
    skips.pop()  # the bottleneck is x itself
    for j, (f, skip) in enumerate(zip(reversed([base_filters] + filters[:-1]), reversed(skips))):
        x = layers.UpSampling2D(2, interpolation="nearest", name=f"dec{j + 1}_up")(x)
        x = layers.Conv2D(f, 3, padding="same", use_bias=False, name=f"dec{j + 1}_conv")(x)
        x = batch_norm(name=f"dec{j + 1}_bn")(x)
        if dropout and j < dropout_blocks:
            x = layers.Dropout(dropout, name=f"dec{j + 1}_drop")(x)
        x = layers.ReLU(name=f"dec{j + 1}_act")(x)
        x = layers.Concatenate(name=f"dec{j + 1}_skip")([x, skip])
    x = layers.Conv2D(out_channels, 3, padding="same", name="to_image")(x)
    image = layers.Activation("tanh", dtype="float32", name="image")(x)
    return keras.Model(inputs, image, name="unet_generator")


def patchgan_discriminator(condition_shape=(64, 64, 1), image_channels: int = 3, *, num_classes: int | None = 10,
                           base_filters: int = 32, n_layers: int = 2) -> keras.Model:
    """PatchGAN discriminator ``[condition, image, label] -> patch logits (B, H / 2**n_layers, W / 2**n_layers, 1)``.

    The condition and the (real or generated) image are concatenated, so D judges the *pair*: a plausible
    colour garment that does not match its sketch is still fake.

    Layers: ``n_layers`` Conv 4x4 stride 2 (filters doubling from ``base_filters``; BatchNorm after the
    first) -> Conv 4x4 stride 1 -> Conv 4x4 stride 1 to one logit per patch. With ``n_layers=2`` each
    logit sees a 34x34 window (:func:`receptive_field`), pix2pix's "34x34 PatchGAN"; ``n_layers=3`` is the
    usual 70x70, larger than a 64x64 image.
    """
    h, w, c = tuple(condition_shape)
    n_layers = check_positive_int(n_layers, "n_layers")
    if h % 2**n_layers or w % 2**n_layers:
        raise ValueError(f"patchgan_discriminator: image size {h}x{w} must be divisible by 2**n_layers = {2**n_layers}")
    condition = keras.Input((h, w, c), name="condition")
    image = keras.Input((h, w, check_positive_int(image_channels, "image_channels")), name="image")
    inputs, x = [condition, image], layers.Concatenate(name="d_pair")([condition, image])
    if num_classes is not None:
        label = keras.Input((), dtype="int32", name="label")
        inputs.append(label)
        x = layers.Concatenate(name="d_with_label")([x, _label_map(label, num_classes, h, w, "d")])
    for i in range(n_layers):
        x = layers.Conv2D(base_filters * 2**i, 4, strides=2, padding="same", name=f"d{i + 1}_conv")(x)
        if i:
            x = batch_norm(name=f"d{i + 1}_bn")(x)
        x = layers.LeakyReLU(0.2, name=f"d{i + 1}_act")(x)
    x = layers.Conv2D(base_filters * 2**n_layers, 4, padding="same", use_bias=False, name="d_last_conv")(x)
    x = batch_norm(name="d_last_bn")(x)
    x = layers.LeakyReLU(0.2, name="d_last_act")(x)
    logits = layers.Conv2D(1, 4, padding="same", dtype="float32", name="patch_logits")(x)
    return keras.Model(inputs, logits, name="patchgan_discriminator")


def receptive_field(model: keras.Model) -> int:
    """Side in input pixels of the window one output unit of a plain conv stack sees:
    ``r = 1 + sum((k_i - 1) * prod(strides before i))`` over the Conv2D/pooling layers in order."""
    r, jump = 1, 1
    for layer in model.layers:
        if isinstance(layer, (layers.Conv2D, layers.MaxPooling2D, layers.AveragePooling2D)):
            k = layer.kernel_size[0] if isinstance(layer, layers.Conv2D) else layer.pool_size[0]
            s = layer.strides[0]
            r += (k - 1) * jump
            jump *= s
    return r

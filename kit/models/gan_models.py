"""Generators and discriminators of the GAN notebooks, built as functional models on ``keras.Input``.

Conventions: generators map a latent vector z float32 (B, latent_dim) (plus int labels (B,) when
conditional) to images float32 NHWC in [-1, 1] (tanh). Discriminators map such images to unbounded scores
(B, 1), logits for BCE; their output layers are float32 so ``mixed_float16`` keeps the loss in full precision.
Upsampling is nearest-neighbour + conv rather than transposed conv, which avoids checkerboard artefacts.
"""

from __future__ import annotations

import keras
from keras import layers

from kit.checks import check_positive_int
from kit.models.common import batch_norm


def _up_block(x, filters: int, name: str):
    x = layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_up")(x)
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = batch_norm(name=f"{name}_bn")(x)
    return layers.LeakyReLU(0.2, name=f"{name}_act")(x)


def _down_block(x, filters: int, name: str, dropout: float):
    x = layers.Conv2D(filters, 4, strides=2, padding="same", name=f"{name}_conv")(x)
    x = layers.LeakyReLU(0.2, name=f"{name}_act")(x)
    return layers.Dropout(dropout, name=f"{name}_drop")(x) if dropout else x


def _generator_trunk(h, image_shape, base_filters: int, name: str):
    """Dense features h -> (s, s, 4f) -> upsample+conv blocks doubling to image size -> tanh image."""
    height, width, channels = image_shape
    n_up = {28: 2, 32: 3, 64: 3}.get(height)
    if height != width or n_up is None:
        raise ValueError(f"generator image_shape must be 28x28, 32x32 or 64x64 (H == W), got {image_shape}")
    start = height // 2**n_up
    filters = [base_filters * 2 ** (n_up - 1 - i) for i in range(n_up)]
    x = layers.Dense(start * start * filters[0], use_bias=False, name="project")(h)
    x = batch_norm(name="project_bn")(x)
    x = layers.LeakyReLU(0.2, name="project_act")(x)
    x = layers.Reshape((start, start, filters[0]), name="to_map")(x)
    for i, f in enumerate(filters):
        x = _up_block(x, f, f"up{i + 1}")
    x = layers.Conv2D(channels, 3, padding="same", name="to_image")(x)
    return layers.Activation("tanh", dtype="float32", name="image")(x)


def dcgan_generator(latent_dim: int = 100, image_shape=(28, 28, 1), base_filters: int = 32) -> keras.Model:
    """DCGAN generator z (B, latent_dim) -> images (B, H, W, C) in [-1, 1].

    28x28x1 (default): Dense -> 7x7x64 -> up 14x14x64 -> up 28x28x32 -> Conv 3x3 -> tanh; small enough to
    train on a CPU. 64x64x3 with ``base_filters=64``, the course reference report's variant: Dense -> 8x8x256
    -> up 16x16x256 -> 32x32x128 -> 64x64x64 -> tanh. Each upsampling block is nearest-neighbour x2 ->
    Conv 3x3 -> BatchNorm -> LeakyReLU(0.2).
    """
    latent_dim = check_positive_int(latent_dim, "latent_dim")
    z = keras.Input((latent_dim,), name="z")
    return keras.Model(z, _generator_trunk(z, tuple(image_shape), base_filters, "g"), name="dcgan_generator")


def _critic_trunk(image, base_filters: int, dropout: float):
    x = image
    size, i, filters = image.shape[1], 0, base_filters
    while size > 7:  # 28 -> 14 -> 7; 64 -> 32 -> 16 -> 8 -> 4
        x = _down_block(x, filters, f"down{i + 1}", dropout)
        size, i, filters = (size + 1) // 2, i + 1, filters * 2
    return layers.Flatten(name="features")(x)


def dcgan_discriminator(image_shape=(28, 28, 1), base_filters: int = 64, dropout: float = 0.3) -> keras.Model:
    """DCGAN discriminator images (B, H, W, C) in [-1, 1] -> scores (B, 1).

    Strided Conv 4x4 -> LeakyReLU(0.2) -> Dropout blocks, filters doubling, until the map is at most 7x7,
    then one Dense score. No batch norm, so it can also serve as a WGAN-GP critic (the penalty is per
    example, which batch norm would break).
    """
    image = keras.Input(tuple(image_shape), name="image")
    x = _critic_trunk(image, base_filters, dropout)
    score = layers.Dense(1, dtype="float32", name="score")(x)
    return keras.Model(image, score, name="dcgan_discriminator")


def acgan_generator(latent_dim: int = 100, num_classes: int = 10, image_shape=(28, 28, 1), base_filters: int = 32, embed_dim: int = 50) -> keras.Model:
    """Class-conditional generator (z (B, latent_dim), labels int (B,)) -> images in [-1, 1].

    The label is embedded (``embed_dim``) and concatenated to z before the projection, so every layer sees it.
    """
    latent_dim = check_positive_int(latent_dim, "latent_dim")
    z = keras.Input((latent_dim,), name="z")
    label = keras.Input((), dtype="int32", name="label")
    e = layers.Embedding(num_classes, embed_dim, name="label_embedding")(label)
    h = layers.Concatenate(name="z_and_label")([z, e])
    return keras.Model([z, label], _generator_trunk(h, tuple(image_shape), base_filters, "g"), name="acgan_generator")


def acgan_discriminator(num_classes: int = 10, image_shape=(28, 28, 1), base_filters: int = 64, dropout: float = 0.3) -> keras.Model:
    """ACGAN discriminator: images -> (real/fake score (B, 1), class logits (B, num_classes)).

    One shared conv trunk, two heads: the adversarial head judges realism, the auxiliary head classifies.
    """
    image = keras.Input(tuple(image_shape), name="image")
    x = _critic_trunk(image, base_filters, dropout)
    score = layers.Dense(1, dtype="float32", name="score")(x)
    logits = layers.Dense(num_classes, dtype="float32", name="class_logits")(x)
    return keras.Model(image, [score, logits], name="acgan_discriminator")

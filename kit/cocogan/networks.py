"""Networks of COCO-GAN (Lin et al., 2019, "COCO-GAN: Generation by Parts via Conditional Coordinating") and
of the full-image GAN it is compared with, as functional models on ``keras.Input``.

- :func:`micro_generator`: G(z, c) -> one micro patch. z is the image's latent vector (shared by every patch
  of one image), c its micro-patch coordinate (y, x) in [-1, 1] (beyond it for beyond-boundary generation).
  A small MLP maps z (the paper: concat(z, c)) to a code that sets the scale and shift of every normalisation
  layer (:class:`ConditionalNorm`); with ``pixel_step`` (what :func:`kit.gans.coco.cocogan` builds) c enters
  as the image coordinates of every pixel instead (:class:`PixelCoordinates`), so neighbouring patches are
  drawn as one continuous function of position. :func:`without_context` draws with the same weights the
  paper's way, every patch on its own with zero padding where its neighbours' pixels would be.
- :func:`macro_discriminator`: D(macro patch, macro coordinate) -> (score, predicted coordinate, features).
  The score is a projection head (Miyato & Koyama, 2018): ``dense(f) + <embed(c), f>``; the coordinate head
  regresses the patch's position (the spatial-consistency loss L_S).
- :func:`full_generator` / :func:`full_discriminator`: the same blocks making / judging whole images, the
  baseline of the memory comparison (one more up/down block per doubling of the side).

Generators end in tanh (images in [-1, 1]); discriminator outputs are float32 (mixed-precision safe). No
batch statistics anywhere: the generator normalises per pixel (a patch never depends on the other patches of
its batch, so assembling a full image at inference draws exactly what training drew), and the critic has no
normalisation (the gradient penalty is per example).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from kit.checks import check_positive_int

COORD_DIM = 2  # (y, x)
MAPPING_LAYERS, MAPPING_WIDTH = 2, 128  # the MLP on concat(z, c) (on z alone for the full-image and pixel-coordinate generators)
START = 4  # generators start from a 4x4 map; discriminators pool down to 4x4
CONTEXT = 2  # pixel-coordinate generators: border (pixels of the neighbouring patches) every map carries; a
# block with 'valid' 3x3 convolutions turns a border of 2 into 2 again (up x2 -> 4, two convolutions -> 2)


def _n_doublings(size: int, what: str) -> int:
    size = check_positive_int(size, what)
    n = (size // START).bit_length() - 1
    if size < START or START * 2**n != size:
        raise ValueError(f"{what} must be 4 times a power of two (4, 8, 16, 32, 64, 128), got {size}")
    return n


def _filters(n_blocks: int, base: int) -> list[int]:
    """Channels per block from the 4x4 end: 2b, then b for every further block. The micro-patch and
    full-image networks share the first blocks, so the full-image one only adds width-b blocks."""
    return [base * max(1, 2 >> i) for i in range(n_blocks)]


@keras.saving.register_keras_serializable(package="kit")
class ConditionalNorm(layers.Layer):
    """Conditional normalisation: ``pixelnorm(x) * (1 + gamma(h)) + beta(h)``.

    ``x`` (B, H, W, C) is normalised per pixel over its channels (no batch or spatial statistics), then
    scaled and shifted by two linear maps of the condition ``h`` (B, D), here concat(z, c). gamma starts at
    zero, so the layer starts as plain normalisation.
    """

    def __init__(self, epsilon: float = 1e-8, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def build(self, input_shape):
        x_shape, h_shape = input_shape
        channels = int(x_shape[-1])
        self.gamma = layers.Dense(channels, kernel_initializer="zeros", name="gamma")
        self.beta = layers.Dense(channels, kernel_initializer="zeros", name="beta")
        self.gamma.build(h_shape)
        self.beta.build(h_shape)

    def call(self, inputs):
        x, h = inputs
        x = x * ops.rsqrt(ops.mean(ops.square(x), axis=-1, keepdims=True) + self.epsilon)
        gamma = ops.cast(self.gamma(h), x.dtype)[:, None, None, :]
        beta = ops.cast(self.beta(h), x.dtype)[:, None, None, :]
        return x * (1.0 + gamma) + beta

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


FOURIER_FREQUENCIES = (0.5, 1.0, 2.0, 4.0)  # x pi: from one wave across the image to a few per micro patch


@keras.saving.register_keras_serializable(package="kit")
class PixelCoordinates(layers.Layer):
    """The image coordinates of every pixel of a micro patch, as feature maps.

    ``c`` (B, 2) is the patch's micro coordinate (y, x), the centre of a patch that spans ``step`` (the grid's
    micro step) on each axis. Pixel (i, j) of a ``size`` x ``size`` map sits at
    ``c + ((i + 0.5) / size - 0.5) * step``, so the maps of neighbouring patches continue each other. Output
    (B, size, size, 2 + 4 len(FOURIER_FREQUENCIES)): (y, x) and sin/cos of pi f y, pi f x.
    """

    def __init__(self, size: int, step: float, **kwargs):
        super().__init__(**kwargs)
        self.size, self.step = int(size), float(step)

    def call(self, c):
        offsets = ops.convert_to_tensor(((np.arange(self.size) + 0.5) / self.size - 0.5) * self.step, c.dtype)
        y = c[:, 0][:, None, None] + offsets[None, :, None] + ops.zeros((1, 1, self.size), c.dtype)
        x = c[:, 1][:, None, None] + offsets[None, None, :] + ops.zeros((1, self.size, 1), c.dtype)
        maps = [y, x]
        for f in FOURIER_FREQUENCIES:
            maps += [ops.sin(np.pi * f * y), ops.cos(np.pi * f * y), ops.sin(np.pi * f * x), ops.cos(np.pi * f * x)]
        return ops.stack(maps, axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.size, self.size, 2 + 4 * len(FOURIER_FREQUENCIES))

    def get_config(self):
        return {**super().get_config(), "size": self.size, "step": self.step}


def _res_up(x, h, filters: int, name: str, coords=None, context: bool = True):
    """Residual block: [cnorm -> lrelu -> up x2 (-> concat pixel coordinates) -> conv3] x [cnorm -> lrelu ->
    conv3] + up x2 -> conv1.

    ``coords``: None ('same' convolutions), or (c (B, 2) micro coordinates, micro step) for a pixel-coordinate
    generator: then ``x`` carries a border of ``CONTEXT`` pixels of the neighbouring patches, the 3x3
    convolutions are 'valid' and the skip path is cropped to match, so the output again has a ``CONTEXT``
    border (up x2 doubles it to 2 CONTEXT, the two convolutions take one pixel each). With ``context`` False
    the maps hold the patch alone and the convolutions are 'same' (the same weights, zero padding in place of
    the neighbours' pixels)."""
    with_border = coords is not None and context
    padding = "valid" if with_border else "same"
    skip = layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_skip_up")(x)
    skip = layers.Conv2D(filters, 1, name=f"{name}_skip_conv")(skip)
    y = ConditionalNorm(name=f"{name}_norm1")([x, h])
    y = layers.LeakyReLU(0.2, name=f"{name}_act1")(y)
    y = layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_up")(y)
    if coords is not None:
        c, step = coords
        side = int(y.shape[1])
        # with the border, the map covers the patch and 2 CONTEXT pixels on each side; without, the patch alone
        span = step * side / (side - 4 * CONTEXT) if with_border else step
        y = layers.Concatenate(name=f"{name}_with_coords")([y, PixelCoordinates(side, span, name=f"{name}_coords")(c)])
        if with_border:
            skip = layers.Cropping2D(CONTEXT, name=f"{name}_skip_crop")(skip)
    y = layers.Conv2D(filters, 3, padding=padding, name=f"{name}_conv1")(y)
    y = ConditionalNorm(name=f"{name}_norm2")([y, h])
    y = layers.LeakyReLU(0.2, name=f"{name}_act2")(y)
    y = layers.Conv2D(filters, 3, padding=padding, name=f"{name}_conv2")(y)
    return layers.Add(name=f"{name}_add")([skip, y])


def _generator_body(h, size: int, channels: int, base_filters: int, coords=None, context: bool = True):
    """h (B, D) -> mapping MLP -> Dense -> 4x4 map -> conv -> residual up blocks to size x size -> tanh image.

    With ``coords`` = (c (B, 2), step), the 4x4 map is instead drawn per pixel from (mapped h, the pixel's
    image coordinates) by 1x1 convolutions, and every block sees the pixel coordinates again
    (:class:`PixelCoordinates`): what is drawn is a function of where in the image a pixel is, not of which
    patch it belongs to. Every map then also holds a border of the neighbouring patches' pixels (``CONTEXT``)
    and the convolutions are 'valid', so no zero padding reaches the patch: a micro patch is exactly the same
    window of the image that the network would draw in one piece, and neighbouring patches continue each
    other by construction (no seams to learn away). The border costs about as much as 'same' convolutions
    with a cropped margin would.

    ``context`` False (with ``coords``): the same layers and weights, but every map holds the patch alone and
    the convolutions are 'same', so zero padding stands in for the neighbours' pixels, as when the paper's
    generator draws a micro patch (see :func:`without_context`)."""
    n_up = _n_doublings(size, "patch/image size")
    filters = _filters(max(1, n_up), base_filters)
    # Two nonlinear layers before anything is drawn: with a linear map of concat(z, c) the coordinate could
    # only add the same offset to every image; the MLP lets what is drawn at c depend on z.
    for i in range(MAPPING_LAYERS):
        h = layers.Dense(MAPPING_WIDTH, name=f"mapping{i + 1}")(h)
        h = layers.LeakyReLU(0.2, name=f"mapping{i + 1}_act")(h)
    with_border = coords is not None and context
    padding = "valid" if with_border else "same"
    if coords is None:
        x = layers.Dense(START * START * filters[0], name="project")(h)
        x = layers.Reshape((START, START, filters[0]), name="to_map")(x)
    else:
        # The start map has one pixel more than CONTEXT on each side: the stem's 3x3 'valid' conv takes it.
        c, step = coords
        side = START + 2 * (CONTEXT + 1) if with_border else START
        code = layers.Reshape((1, 1, MAPPING_WIDTH), name="code_map")(h)
        code = layers.UpSampling2D(side, name="code_tile")(code)
        x = layers.Concatenate(name="code_and_coords")([code, PixelCoordinates(side, step * side / START, name="stem_coords")(c)])
        for i in range(2):
            x = layers.Conv2D(filters[0], 1, name=f"pixel_mlp{i + 1}")(x)
            x = layers.LeakyReLU(0.2, name=f"pixel_mlp{i + 1}_act")(x)
    x = layers.Conv2D(filters[0], 3, padding=padding, name="stem_conv")(x)
    for i in range(n_up):
        x = _res_up(x, h, filters[i], f"up{i + 1}", coords, context)
    x = ConditionalNorm(name="out_norm")([x, h])
    x = layers.LeakyReLU(0.2, name="out_act")(x)
    x = layers.Conv2D(channels, 3, padding=padding, name="to_image")(x)
    if with_border:
        x = layers.Cropping2D(CONTEXT - 1, name="crop_context")(x)  # the last conv took one pixel of the border
    return layers.Activation("tanh", dtype="float32", name="image")(x)


def micro_generator(latent_dim: int = 64, micro_size: int = 8, channels: int = 1, base_filters: int = 32,
                    pixel_step: float | None = None, context: bool = True) -> keras.Model:
    """COCO-GAN's generator ``G([z, c]) -> micro patch``.

    Args:
        latent_dim: size of z (B, latent_dim), N(0, I); every micro patch of one image gets the same z.
        micro_size: side of the micro patch: 4, 8, 16 or 32 (Dense -> 4x4, then one x2 block per doubling).
        channels: 1 (grayscale) or 3 (RGB).
        base_filters: channels of the highest-resolution blocks (the 4x4 end has 2x that).
        pixel_step: None: c enters with z through the conditional normalisation (the paper's way). The grid's
            micro step: c enters as per-pixel image coordinates instead (the normalisation sees z only), see
            :func:`_generator_body`.
        context: with ``pixel_step``: True draws every patch with the border of neighbouring pixels its 'valid'
            convolutions need (seamless by construction); False draws the patch alone with 'same' convolutions
            (zero padding in place of the neighbours), as the paper does. Ignored without ``pixel_step`` (the
            paper's generator has no border). The two have the same weights (:func:`without_context`).

    Returns:
        Model with inputs z float32 (B, latent_dim) and c float32 (B, 2) micro coordinate (y, x), output
        float32 (B, micro_size, micro_size, channels) in [-1, 1].
    """
    latent_dim = check_positive_int(latent_dim, "latent_dim")
    channels = check_positive_int(channels, "channels")
    z = keras.Input((latent_dim,), name="z")
    c = keras.Input((COORD_DIM,), name="coord")
    if pixel_step is None:
        h = layers.Concatenate(name="z_and_coord")([z, c])
        return keras.Model([z, c], _generator_body(h, micro_size, channels, base_filters), name="micro_generator")
    if not float(pixel_step) > 0:
        raise ValueError(f"pixel_step must be the grid's micro step (> 0), got {pixel_step}")
    return keras.Model([z, c], _generator_body(z, micro_size, channels, base_filters, (c, float(pixel_step)), bool(context)),
                       name="micro_generator")


def without_context(generator: keras.Model) -> keras.Model:
    """The same micro generator, with the same weights, drawing every patch the paper's way: on its own, with
    'same' convolutions whose zero padding stands in for the neighbouring patches' pixels.

    A pixel-coordinate generator (``micro_generator(pixel_step=...)``) draws each patch with a border of its
    neighbours' pixels, so its patches continue each other by construction and an assembled image has no seams
    to measure. Assembling the patches of this twin shows the seams the border avoids. Its weights were learnt
    with the border, so near patch edges it also draws from inputs it never saw in training: the seams it shows
    are what removing the border does to this generator, not what a generator trained the paper's way would
    learn to hide. A generator without a border (``pixel_step=None``, the paper's conditioning) is returned as is.

    Raises ValueError for a model that is not one of :func:`micro_generator`'s.
    """
    if not isinstance(generator, keras.Model):
        raise TypeError(f"generator must be a keras.Model, got {type(generator).__name__}")
    names = {layer.name for layer in generator.layers}
    if generator.name != "micro_generator" or "to_image" not in names:
        raise ValueError(f"without_context needs a kit micro_generator, got {generator.name!r}")
    if "crop_context" not in names:
        return generator  # no border to remove: already drawn the paper's way
    latent_dim = int(generator.input_shape[0][-1])
    micro_size, channels = int(generator.output_shape[1]), int(generator.output_shape[-1])
    base_filters = generator.get_layer("stem_conv").filters // 2  # the 4x4 end has twice the base width
    stem = generator.get_layer("stem_coords")
    step = stem.step * START / stem.size  # the stem map spans step * side / START
    twin = micro_generator(latent_dim, micro_size, channels, base_filters, pixel_step=step, context=False)
    for layer in twin.layers:
        if layer.weights:
            layer.set_weights(generator.get_layer(layer.name).get_weights())
    return twin


def full_generator(latent_dim: int = 64, image_size: int = 32, channels: int = 1, base_filters: int = 32) -> keras.Model:
    """The full-image generator of comparable capacity: the same blocks as :func:`micro_generator` (its
    normalisation conditioned on z alone), grown to the whole image. z (B, latent_dim) -> (B, S, S, C)."""
    latent_dim = check_positive_int(latent_dim, "latent_dim")
    channels = check_positive_int(channels, "channels")
    z = keras.Input((latent_dim,), name="z")
    return keras.Model(z, _generator_body(z, image_size, channels, base_filters), name="full_generator")


def _res_down(x, filters: int, name: str, first: bool):
    """Residual block: [lrelu -> conv3 -> lrelu -> conv3 -> avgpool] + avgpool -> conv1 (no normalisation)."""
    skip = layers.AveragePooling2D(2, name=f"{name}_skip_pool")(x)
    skip = layers.Conv2D(filters, 1, name=f"{name}_skip_conv")(skip)
    y = x if first else layers.LeakyReLU(0.2, name=f"{name}_act0")(x)  # the image itself is not activated
    y = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv1")(y)
    y = layers.LeakyReLU(0.2, name=f"{name}_act1")(y)
    y = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv2")(y)
    y = layers.AveragePooling2D(2, name=f"{name}_pool")(y)
    return layers.Add(name=f"{name}_add")([skip, y])


def _critic_features(image, base_filters: int):
    """Residual down blocks to 4x4, lrelu, global average pooling -> features (B, F)."""
    n_down = _n_doublings(int(image.shape[1]), "patch/image size")
    filters = _filters(max(1, n_down), base_filters)[::-1]  # widest at the 4x4 end
    x = image
    for i in range(n_down):
        x = _res_down(x, filters[i], f"down{i + 1}", first=i == 0)
    if n_down == 0:
        x = layers.Conv2D(filters[-1], 3, padding="same", name="stem_conv")(x)
    x = layers.LeakyReLU(0.2, name="features_act")(x)
    # float32, so the heads compute in full precision under mixed_float16.
    return layers.GlobalAveragePooling2D(dtype="float32", name="features")(x)


def macro_discriminator(macro_size: int = 16, channels: int = 1, base_filters: int = 32) -> keras.Model:
    """COCO-GAN's discriminator on macro patches.

    Inputs: patch float32 (B, macro_size, macro_size, channels) in [-1, 1] and its macro coordinate c
    float32 (B, 2) (y, x) in [-1, 1].

    Outputs:
        score (B, 1): unbounded Wasserstein critic score, ``dense(f) + <embed(c), f>`` (projection on c).
        coord (B, 2): the coordinate the patch appears to come from (regression head, linear).
        features (B, F): the pooled trunk features (for feature matching).
    """
    channels = check_positive_int(channels, "channels")
    patch = keras.Input((macro_size, macro_size, channels), name="patch")
    c = keras.Input((COORD_DIM,), name="coord")
    f = _critic_features(patch, base_filters)
    unconditional = layers.Dense(1, dtype="float32", name="score_linear")(f)
    embedded = layers.Dense(int(f.shape[-1]), use_bias=False, dtype="float32", name="coord_embedding")(c)
    projection = layers.Dot(axes=1, dtype="float32", name="projection")([embedded, f])
    score = layers.Add(dtype="float32", name="score")([unconditional, projection])
    hidden = layers.Dense(128, dtype="float32", name="coord_hidden")(f)
    hidden = layers.LeakyReLU(0.2, dtype="float32", name="coord_hidden_act")(hidden)
    coord = layers.Dense(COORD_DIM, dtype="float32", name="coord_pred")(hidden)
    return keras.Model([patch, c], [score, coord, f], name="macro_discriminator")


def full_discriminator(image_size: int = 32, channels: int = 1, base_filters: int = 32) -> keras.Model:
    """The full-image critic of comparable capacity: the trunk of :func:`macro_discriminator` on whole images
    with a plain score head. images (B, S, S, C) in [-1, 1] -> scores (B, 1)."""
    channels = check_positive_int(channels, "channels")
    image = keras.Input((image_size, image_size, channels), name="image")
    score = layers.Dense(1, dtype="float32", name="score")(_critic_features(image, base_filters))
    return keras.Model(image, score, name="full_discriminator")


def macro_encoder(macro_size: int = 16, channels: int = 1, latent_dim: int = 64, base_filters: int = 32) -> keras.Model:
    """COCO-GAN's Q network for patch-guided generation: which z drew this macro patch?

    Inputs: patch float32 (B, macro_size, macro_size, channels) in [-1, 1] and its macro coordinate c float32
    (B, 2) in [-1, 1]. Output: z float32 (B, latent_dim), unbounded. The trunk is the critic's
    (:func:`macro_discriminator`'s residual down blocks, no normalisation), with c concatenated to its features.
    """
    channels = check_positive_int(channels, "channels")
    latent_dim = check_positive_int(latent_dim, "latent_dim")
    patch = keras.Input((macro_size, macro_size, channels), name="patch")
    c = keras.Input((COORD_DIM,), name="coord")
    f = layers.Concatenate(dtype="float32", name="features_and_coord")([_critic_features(patch, base_filters), c])
    h = layers.Dense(256, dtype="float32", name="q_hidden")(f)
    h = layers.LeakyReLU(0.2, dtype="float32", name="q_hidden_act")(h)
    z = layers.Dense(latent_dim, dtype="float32", name="z")(h)
    return keras.Model([patch, c], z, name="macro_encoder")

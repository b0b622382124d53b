"""LPIPS, the learned perceptual image distance (Zhang et al. 2018, "The Unreasonable Effectiveness of Deep
Features as a Perceptual Metric"), VGG variant v0.1, as one Keras model converted from the reference weights.

The computation (the ``lpips`` package's ``LPIPS(net="vgg", version="0.1")``, eval mode), per image pair:

1. pixels in [0, 1] -> [-1, 1] -> ``(x - shift) / scale`` with shift (-.030, -.088, -.188) and scale (.458, .448,
   .450) per RGB channel (the reference's ScalingLayer: roughly ImageNet's mean and std in [-1, 1] units);
2. torchvision's VGG16 ``features``; the ReLU outputs relu1_2, relu2_2, relu3_3, relu4_3, relu5_3 (64, 128, 256,
   512, 512 channels; 1, 1/2, 1/4, 1/8, 1/16 of the image size) are tapped;
3. each tapped map is scaled to unit length over its channels (``f / (||f|| + 1e-10)``), the two images' maps are
   subtracted and squared, a 1x1 convolution with non-negative weights and no bias ("lin" layer) weighs the
   channels, and the result is averaged over the map; the five layer values are summed: distance (N,), >= 0.

- :func:`lpips_model`: the architecture (weights zero until set);
- :func:`convert`: it, holding a torchvision VGG16 checkpoint and the LPIPS lin-layer checkpoint, read with
  :func:`kit.torchfile.read_torch_checkpoint` (no pickle, no PyTorch) and checked tensor by tensor;
- :func:`lpips_network`: the real metric, cached converted in ``artifact_dir()/lpips`` (downloaded on Colab),
  or None with a printed reason;
- :func:`lpips_standin`: the architecture with seeded random VGG16 weights, labelled as a stand-in.

Distances come from :func:`kit.metrics.lpips_distance`, which checks the images and batches the calls.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import keras
import numpy as np

from kit.paths import artifact_dir
from kit.torchfile import CheckpointError, read_torch_checkpoint

__all__ = ["CHANNELS", "LIN_URL", "MIN_SIZE", "VGG_MAX_BYTES", "VGG_URL", "convert", "expected_lin_shapes", "expected_vgg_shapes",
           "lpips_model", "lpips_network", "lpips_standin"]

VGG_URL = "https://download.pytorch.org/models/vgg16-397923af.pth"
LIN_URL = "https://github.com/richzhang/PerceptualSimilarity/raw/master/lpips/weights/v0.1/vgg.pth"
VGG_FILE, LIN_FILE = "vgg16-397923af.pth", "vgg.pth"
VGG_SHA256_PREFIX = "397923af"  # torchvision names each weights file by the first 8 hex digits of its SHA-256
# SHA-256 of lpips/weights/v0.1/vgg.pth in the lpips 0.1.4 wheel on PyPI (the published lin layers, 7,289 bytes).
LIN_SHA256 = "a78928a0af1e5f0fcb1f3b9e8f8c3a2a5a3de244d830ad5c1feddc79b8432868"
# The file holds all of VGG16 (138.4M float32 values with the classifier, 553 MB); the reader charges each
# tensor twice (storage and tensor), so ~1,056 MiB, plus room for the pickle. The features alone are 14.7M values.
VGG_MAX_BYTES = 1152 * 2**20
LIN_MAX_BYTES = 4 * 2**20  # 1,472 values; the rest is the pickle, charged at 128 bytes per byte
MIN_SIZE = 16  # VGG16 pools four times before relu5_3: smaller images leave it an empty map

SHIFT = np.array([-0.030, -0.088, -0.188], np.float32)
SCALE = np.array([0.458, 0.448, 0.450], np.float32)
EPS = 1e-10  # added to the feature norm, outside the square root, as lpips.normalize_tensor
CHANNELS = (64, 128, 256, 512, 512)
TAPS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3")
# torchvision's VGG16 ``features`` (configuration "D"): index of each 3x3 conv -> (in, out) channels. A ReLU follows
# each conv (index + 1) and max-pools sit at 4, 9, 16, 23; the taps are the ReLUs at 3, 8, 15, 22, 29.
VGG_CONVS = {0: (3, 64), 2: (64, 64), 5: (64, 128), 7: (128, 128), 10: (128, 256), 12: (256, 256), 14: (256, 256),
             17: (256, 512), 19: (512, 512), 21: (512, 512), 24: (512, 512), 26: (512, 512), 28: (512, 512)}
POOLS = (4, 9, 16, 23)
TAP_CONVS = (2, 7, 14, 21, 28)  # the convs whose ReLU is tapped


def expected_vgg_shapes() -> dict[str, tuple[int, ...]]:
    """The tensors LPIPS uses from a torchvision VGG16 state dict: ``features.{i}.weight`` (out, in, 3, 3) and
    ``features.{i}.bias`` (out,) for the 13 convs (14,714,688 values)."""
    out = {}
    for i, (cin, cout) in VGG_CONVS.items():
        out[f"features.{i}.weight"], out[f"features.{i}.bias"] = (cout, cin, 3, 3), (cout,)
    return out


def expected_lin_shapes() -> dict[str, tuple[int, ...]]:
    """The LPIPS lin layers' tensors: ``lin{k}.model.1.weight`` (1, C, 1, 1) (``model.0`` is a weightless Dropout)."""
    return {f"lin{k}.model.1.weight": (1, c, 1, 1) for k, c in enumerate(CHANNELS)}


class _LPIPSInput(keras.layers.Layer):
    """[images, reference], each (N, H, W, 3) in [0, 1] -> the same scaled as the reference's network input:
    [-1, 1], then the ScalingLayer's ``(x - shift) / scale``. Checks the sizes it can see (eager calls; a traced
    graph with unknown sizes cannot check them, which is why :func:`kit.metrics.lpips_distance` checks first)."""

    def call(self, inputs):
        images, reference = inputs
        shapes = [tuple(images.shape), tuple(reference.shape)]
        for name, shape in zip(("images", "reference"), shapes):
            if len(shape) != 4 or shape[-1] != 3:
                raise ValueError(f"LPIPS {name} must be (N, H, W, 3) RGB in [0, 1], got shape {shape}")
            if any(s is not None and s < MIN_SIZE for s in shape[1:3]):
                raise ValueError(f"LPIPS {name} must be at least {MIN_SIZE}x{MIN_SIZE} pixels (VGG16 pools 16x before "
                                 f"relu5_3), got shape {shape}")
        if None not in shapes[0] + shapes[1] and shapes[0] != shapes[1]:
            raise ValueError(f"LPIPS images and reference must have the same shape, got {shapes[0]} and {shapes[1]}")
        shift, scale = keras.ops.convert_to_tensor(SHIFT), keras.ops.convert_to_tensor(SCALE)
        return [(keras.ops.cast(x, "float32") * 2.0 - 1.0 - shift) / scale for x in (images, reference)]


def _unit(f):
    """Each pixel's feature vector scaled to unit length over channels (lpips.normalize_tensor)."""
    return f / (keras.ops.sqrt(keras.ops.sum(keras.ops.square(f), axis=-1, keepdims=True)) + EPS)


def lpips_model(name: str = "lpips_vgg16") -> keras.Model:
    """The LPIPS v0.1 VGG architecture with all weights zero (set them with :func:`convert`, or use
    :func:`lpips_network` / :func:`lpips_standin`).

    The model takes ``[images, reference]``, each float32 (N, H, W, 3) in [0, 1] with H, W >= 16, and returns
    distances float32 (N,), >= 0 (0 for identical images). Layers: ``features_{i}`` (the VGG16 convs by
    torchvision index, ReLU built in; channels-last, 'same' padding = PyTorch's padding 1), ``pool_{i}``
    (MaxPooling2D(2), floor like PyTorch's), ``lin{k}`` (1x1, no bias). Not trainable: it is a metric.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty str, got {name!r}")
    # Zero initialisers: every weight is overwritten, and drawing random ones would advance Keras' global seed.
    convs = {i: keras.layers.Conv2D(cout, 3, padding="same", activation="relu", kernel_initializer="zeros", name=f"features_{i}",
                                    dtype="float32") for i, (_, cout) in VGG_CONVS.items()}
    pools = {i: keras.layers.MaxPooling2D(2, name=f"pool_{i}", dtype="float32") for i in POOLS}
    lins = [keras.layers.Conv2D(1, 1, use_bias=False, kernel_initializer="zeros", name=f"lin{k}", dtype="float32") for k in range(len(CHANNELS))]
    images = keras.Input((None, None, 3), name="images", dtype="float32")
    reference = keras.Input((None, None, 3), name="reference", dtype="float32")
    taps = []
    for x in _LPIPSInput(name="scaling", dtype="float32")([images, reference]):
        feats = []
        for i in range(30):  # features[0:30]: relu5_3 is index 29; the last pool (30) is not used
            layer = convs.get(i, pools.get(i))
            x = layer(x) if layer is not None else x
            if i in TAP_CONVS:
                feats.append(x)
        taps.append(feats)
    per_layer = [keras.ops.mean(lin(keras.ops.square(_unit(fa) - _unit(fb))), axis=(1, 2, 3)) for lin, fa, fb in zip(lins, *taps)]
    distance = keras.layers.Add(name="distance", dtype="float32")(per_layer)
    model = keras.Model([images, reference], distance, name=name)
    model.trainable = False
    return model


def _check_state_dict(obj, expected: dict, path, what: str, ignore: tuple = ()) -> dict[str, np.ndarray]:
    """The tensors of ``expected`` from a loaded checkpoint, as float32, after checking that every one is there
    with its shape, finite, and that nothing else is (keys starting with ``ignore`` are allowed and skipped)."""
    if not isinstance(obj, dict):
        raise CheckpointError(f"{path}: expected the {what} state dict (a dict of tensors), found a {type(obj).__name__}")
    wrong = [f"{str(k)[:60]!r}: unexpected (not one of the {what} tensors)" for k in obj
             if not (isinstance(k, str) and (k in expected or k.startswith(ignore)))]
    out = {}
    for key, shape in expected.items():
        value = obj.get(key)
        if value is None:
            wrong.append(f"{key!r}: missing")
        elif not isinstance(value, np.ndarray) or not np.issubdtype(value.dtype, np.floating):
            wrong.append(f"{key!r}: expected a floating-point tensor, found {getattr(value, 'dtype', type(value).__name__)}")
        elif value.shape != shape:
            wrong.append(f"{key!r}: shape {value.shape}, expected {shape}")
        elif not np.all(np.isfinite(value)):
            wrong.append(f"{key!r}: holds NaN or infinite values")
        else:
            out[key] = value.astype(np.float32)
    if wrong:
        more = f" (and {len(wrong) - 6} more)" if len(wrong) > 6 else ""
        raise CheckpointError(f"{path}: does not hold the {what} tensors LPIPS needs: {'; '.join(wrong[:6])}{more}")
    return out


def _read_weights(vgg_weights, lin_weights, max_bytes: int) -> tuple[dict, dict]:
    for name, value in (("vgg_weights", vgg_weights), ("lin_weights", lin_weights)):
        if not isinstance(value, (str, os.PathLike)):
            raise TypeError(f"{name} must be a path (str or os.PathLike) to a .pth file, got {type(value).__name__}")
    vgg = _check_state_dict(read_torch_checkpoint(vgg_weights, max_bytes=max_bytes), expected_vgg_shapes(), vgg_weights,
                            "torchvision VGG16", ignore=("classifier.",))  # the classifier is unused by LPIPS
    lin = _check_state_dict(read_torch_checkpoint(lin_weights, max_bytes=LIN_MAX_BYTES), expected_lin_shapes(), lin_weights,
                            "LPIPS v0.1 VGG lin-layer")
    negative = [f"{k} (min {v.min():.3g})" for k, v in lin.items() if v.min() < 0]
    if negative:  # LPIPS clamps them at 0 while training, so that every distance is >= 0
        raise CheckpointError(f"{lin_weights}: LPIPS lin-layer weights must be non-negative, found negative values in {', '.join(negative)}")
    return vgg, lin


def _set_weights(model: keras.Model, vgg: dict, lin: dict) -> keras.Model:
    """Copy PyTorch tensors (OIHW kernels) into :func:`lpips_model` ``model`` (HWIO kernels)."""
    for i in VGG_CONVS:
        kernel = np.transpose(vgg[f"features.{i}.weight"], (2, 3, 1, 0))
        model.get_layer(f"features_{i}").set_weights([kernel, vgg[f"features.{i}.bias"]])
    for k in range(len(CHANNELS)):
        model.get_layer(f"lin{k}").set_weights([np.transpose(lin[f"lin{k}.model.1.weight"], (2, 3, 1, 0))])
    return model


def convert(vgg_weights, lin_weights, *, max_bytes: int = VGG_MAX_BYTES) -> keras.Model:
    """:func:`lpips_model` holding PyTorch weights, read safely (no pickle, no PyTorch) and checked first.

    Args:
        vgg_weights: a torchvision VGG16 state dict file (``vgg16-397923af.pth``): ``features.{i}.weight/bias``
            of the 13 convs; ``classifier.*`` tensors are allowed and ignored; anything else is refused.
        lin_weights: the LPIPS lin layers (``lpips/weights/v0.1/vgg.pth``): exactly ``lin0.model.1.weight`` ..
            ``lin4.model.1.weight`` of shapes (1, C, 1, 1), non-negative.
        max_bytes: the most reading ``vgg_weights`` may materialise (:func:`kit.torchfile.read_torch_checkpoint`);
            the default fits all of VGG16 with its classifier.

    Raises:
        FileNotFoundError: a file is missing.
        CheckpointError: an unsafe, damaged or over-large file, or a missing, extra, misshapen or non-finite
            tensor, or a negative lin weight; the message names the file and the tensor.
    """
    vgg, lin = _read_weights(vgg_weights, lin_weights, max_bytes)
    return _set_weights(lpips_model(), vgg, lin)


def lpips_standin(seed: int = 0) -> tuple[keras.Model, str]:
    """(model, label): the LPIPS architecture with VGG16 convs drawn He-uniform (``limit = sqrt(6 / fan_in)``,
    biases 0) from ``numpy.random.default_rng(seed)`` and uniform lin weights 1/C: the same numbers on every
    machine, without touching the global random seeds.

    The LPIPS paper finds that even random networks' features agree with human judgements far better than pixel
    distances, so this ranks image pairs sensibly, but its values are not LPIPS and are not comparable with it.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    rng = np.random.default_rng(int(seed))
    vgg = {}
    for key, shape in expected_vgg_shapes().items():  # in torchvision's order, so a seed always means the same weights
        limit = np.sqrt(6.0 / np.prod(shape[1:])) if len(shape) == 4 else 0.0
        vgg[key] = rng.uniform(-limit, limit, shape).astype(np.float32) if limit else np.zeros(shape, np.float32)
    lin = {key: np.full(shape, 1.0 / shape[1], np.float32) for key, shape in expected_lin_shapes().items()}
    label = f"STAND-IN: LPIPS architecture with random VGG16 weights (seed {seed}), not the published metric"
    return _set_weights(lpips_model("lpips_vgg16_standin"), vgg, lin), label


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _label(vgg_path: Path, lin_path: Path) -> tuple[str, dict]:
    """What a conversion of these files is: the published metric only when both files are the published ones."""
    vgg_hash, lin_hash = _sha256(vgg_path), _sha256(lin_path)
    sources = {"vgg16": {"file": vgg_path.name, "sha256": vgg_hash}, "lin": {"file": lin_path.name, "sha256": lin_hash}}
    odd = []
    if not vgg_hash.startswith(VGG_SHA256_PREFIX):
        odd.append(f"{vgg_path.name} is not torchvision's vgg16-{VGG_SHA256_PREFIX} (sha256 {vgg_hash[:8]}...)")
    if lin_hash != LIN_SHA256:
        odd.append(f"{lin_path.name} is not the published v0.1 vgg.pth (sha256 {lin_hash[:8]}...)")
    if odd:
        return f"LPIPS architecture with UNPUBLISHED weights ({'; '.join(odd)}), not the published metric", sources
    return "LPIPS v0.1 (VGG16): torchvision's ImageNet VGG16 and the published lin layers, converted to Keras", sources


CACHE_NAME = "lpips_vgg16"
CACHE_FORMAT = {"metric": "LPIPS", "version": "0.1", "net": "vgg16", "format": 1}


def _load_cache(folder: Path) -> tuple[keras.Model, str] | None:
    weights, meta = folder / f"{CACHE_NAME}.weights.h5", folder / f"{CACHE_NAME}.json"
    if not weights.is_file() or not meta.is_file():
        return None
    try:
        info = json.loads(meta.read_text())
        if not isinstance(info, dict) or any(info.get(k) != v for k, v in CACHE_FORMAT.items()) or not isinstance(info.get("label"), str):
            raise ValueError(f"it describes {str(info)[:120]}, expected {CACHE_FORMAT}")
        model = lpips_model()
        model.load_weights(weights)  # .weights.h5 holds arrays only: nothing in it runs
        return model, info["label"]
    except Exception as err:  # a damaged or foreign cache: convert again from the .pth files rather than fail
        print(f"LPIPS: ignoring the cached {weights} ({type(err).__name__}: {str(err)[:160]}); converting again")
        return None


def _save_cache(model: keras.Model, folder: Path, label: str, sources: dict) -> None:
    """Write to temporary names and rename into place, so an interrupted run never leaves half a cache."""
    weights, meta = folder / f"{CACHE_NAME}.weights.h5", folder / f"{CACHE_NAME}.json"
    tmp = folder / f".{CACHE_NAME}.{os.getpid()}.tmp.weights.h5"
    model.save_weights(tmp)
    os.replace(tmp, weights)
    meta_tmp = folder / f".{CACHE_NAME}.{os.getpid()}.tmp.json"
    meta_tmp.write_text(json.dumps({**CACHE_FORMAT, "label": label, "sources": sources}, indent=1))
    os.replace(meta_tmp, meta)


def _unavailable(reason: str, folder: Path) -> tuple[None, str]:
    label = f"LPIPS unavailable: {reason}"
    print(f"{label}. On Colab it downloads by itself; elsewhere put {VGG_FILE} ({VGG_URL}) and {LIN_FILE} ({LIN_URL}) into {folder}.")
    return None, label


def lpips_network(*, download: bool = True, folder=None) -> tuple[keras.Model | None, str]:
    """(model, label) of the real LPIPS v0.1 VGG, or (None, label saying why) with that reason printed.

    In order: the converted cache ``lpips_vgg16.weights.h5`` + ``lpips_vgg16.json`` in ``folder``; else
    ``vgg16-397923af.pth`` and ``vgg.pth`` in ``folder`` (downloaded first with ``download``, or put there by
    hand), converted with :func:`convert` and cached. The label says whether the files are the published ones
    (by SHA-256). Offline or with ``download=False`` and no files: None. Delete the cache to convert again.

    Args:
        download: whether to fetch missing files (``VGG_URL``, 528 MB, and ``LIN_URL``, 7 kB).
        folder: where the files and the cache live (default ``kit.paths.artifact_dir() / "lpips"``).

    Raises:
        CheckpointError: a .pth file is not what LPIPS needs (the message names the file and tensor).
    """
    if not isinstance(download, bool):
        raise TypeError(f"download must be True or False, got {download!r}")
    if folder is not None and not isinstance(folder, (str, os.PathLike)):
        raise TypeError(f"folder must be a path (str or os.PathLike) or None, got {type(folder).__name__}")
    folder = Path(folder).expanduser() if folder is not None else artifact_dir() / "lpips"
    cached = _load_cache(folder)
    if cached is not None:
        return cached
    paths = {VGG_FILE: folder / VGG_FILE, LIN_FILE: folder / LIN_FILE}
    missing = [name for name, path in paths.items() if not path.is_file()]
    if missing and not download:
        return _unavailable(f"{' and '.join(missing)} not in {folder} and downloading is off", folder)
    try:
        if missing:
            folder.mkdir(parents=True, exist_ok=True)  # get_file writes to /tmp/.keras when its folder is not writable
        for name, url in ((VGG_FILE, VGG_URL), (LIN_FILE, LIN_URL)):
            if name in missing:
                paths[name] = Path(keras.utils.get_file(name, url, cache_dir=str(folder), cache_subdir=""))
    except Exception as err:  # offline, blocked, or out of disk: LPIPS is optional, so say so and go on
        return _unavailable(f"downloading failed ({type(err).__name__}: {str(err)[:120]})", folder)
    model = convert(paths[VGG_FILE], paths[LIN_FILE])
    label, sources = _label(paths[VGG_FILE], paths[LIN_FILE])
    folder.mkdir(parents=True, exist_ok=True)
    _save_cache(model, folder, label, sources)
    print(f"LPIPS: {label}; cached in {folder}")
    return model, label

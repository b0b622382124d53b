"""The networks that judge generated images, built, trained or downloaded once and cached.

- :func:`fashion_classifier`: notebook 01's improved CNN trained on real Fashion-MNIST, cached per profile in
  :func:`kit.paths.artifact_dir` (trained automatically when absent). Offline, so it works everywhere; its
  features give the "classifier FID" and its probabilities the classifier Inception Score.
- :func:`inception_features`: InceptionV3 with its ImageNet weights (Colab downloads them), for the standard
  FID and Inception Score; None with a message where the weights cannot be had.

The metrics in :mod:`kit.metrics` take these networks as arguments and never build one themselves.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import keras
import numpy as np

from kit.checks import check_choice
from kit.data import load_fashion_mnist
from kit.metrics import ClassifierFeatures, InceptionFeatures, accuracy
from kit.models import build_classifier
from kit.paths import artifact_dir
from kit.profiles import profile as active_profile
from kit.training import fit_classifier

JUDGE_ARCHITECTURE = "improved_cnn"


def _classifier_path(profile) -> Path:
    return artifact_dir() / f"fashion_classifier_{profile.name}.keras"


def _recipe(profile) -> dict:
    """What the judge of ``profile`` is trained with: a cached judge trained otherwise is not reused."""
    return {"architecture": JUDGE_ARCHITECTURE, "profile": profile.name, "epochs": profile.improved_epochs,
            "batch_size": profile.batch_size, "train_samples": profile.train_samples, "seed": 123}


def save_fashion_classifier(model: keras.Model, profile, test_accuracy: float | None = None) -> Path:
    """Cache ``model`` (an improved CNN trained on real data with ``profile``'s settings) as the course's judge
    for ``profile``; later notebooks load it with :func:`fashion_classifier`. Written to a temporary file first
    and renamed into place, so a kill never leaves half a model behind."""
    if not isinstance(model, keras.Model) or model.name != JUDGE_ARCHITECTURE:
        raise ValueError(f"the judge classifier must be an {JUDGE_ARCHITECTURE} keras.Model, got {getattr(model, 'name', model)!r}")
    path = _classifier_path(profile)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.keras")
    model.save(tmp)
    os.replace(tmp, path)
    meta = path.with_suffix(".json")
    meta_tmp = meta.with_name(f".{meta.name}.{os.getpid()}.tmp")
    meta_tmp.write_text(json.dumps({"recipe": _recipe(profile), "test_accuracy": test_accuracy}))
    os.replace(meta_tmp, meta)
    return path


def _load_cached(path: Path, profile) -> keras.Model | None:
    if not path.is_file():
        return None
    try:
        recipe = json.loads(path.with_suffix(".json").read_text()).get("recipe")
    except (OSError, ValueError):
        recipe = None
    if recipe != _recipe(profile):
        print(f"The cached judge classifier {path} was trained with other settings ({recipe}); training a new one.")
        return None
    try:
        return keras.saving.load_model(path)  # safe_mode: a .keras file cannot smuggle in Python code
    except Exception as err:  # a damaged file: say so and train again rather than fail the notebook
        warnings.warn(f"the cached judge classifier {path} could not be loaded ({type(err).__name__}: {err}); training a new one")
        return None


def fashion_classifier(profile=None, *, verbose: int | str = 2) -> keras.Model:
    """The independent Fashion-MNIST classifier for ``profile`` (default: the active one), loaded from its
    cached artefact, or trained on real data with the profile's settings and cached when absent."""
    profile = profile or active_profile()
    path = _classifier_path(profile)
    model = _load_cached(path, profile)
    if model is not None:
        return model
    print(f"No cached judge classifier for the {profile.name} profile: training one on real Fashion-MNIST ({path})")
    data = load_fashion_mnist(profile=profile, seed=123)
    model = build_classifier(JUDGE_ARCHITECTURE, jit_compile=profile.jit_compile)
    fit_classifier(model, data.x_train, data.y_train, epochs=profile.improved_epochs, batch_size=profile.batch_size, verbose=verbose)
    save_fashion_classifier(model, profile, accuracy(model, data.x_test, data.y_test))
    return model


def classifier_features(profile=None, *, verbose: int | str = 2) -> ClassifierFeatures:
    """:class:`kit.metrics.ClassifierFeatures` of :func:`fashion_classifier`: the extractor behind the
    classifier FID/KID and the classifier Inception Score."""
    return ClassifierFeatures(fashion_classifier(profile, verbose=verbose))


INCEPTION_PARTS = ("features", "full")


def inception_features(part: str = "full") -> InceptionFeatures | None:
    """InceptionV3 with ImageNet weights if they are cached or downloadable, else None with a printed reason,
    so notebooks report Inception FID/IS where they can and say plainly where they cannot.

    Args:
        part: ``"full"`` (with the classification top: features for FID and probabilities for the Inception
            Score) or ``"features"`` (no top: a smaller download, FID only).
    """
    check_choice(part, INCEPTION_PARTS, "InceptionV3 part")
    try:
        if part == "full":
            model = keras.applications.InceptionV3(include_top=True, weights="imagenet")
        else:
            model = keras.applications.InceptionV3(include_top=False, pooling="avg", weights="imagenet", input_shape=(299, 299, 3))
    except Exception as err:  # no network and no cached weights
        print(f"InceptionV3 ImageNet weights unavailable ({type(err).__name__}); Inception FID/IS skipped, the classifier "
              "versions are still reported.")
        return None
    return InceptionFeatures(model)


PERCEPTUAL_LAYER = "block5_conv4"  # ESRGAN's perceptual loss: VGG19's conv5_4 features, before the activation
# Keras' VGG19 weights come from Caffe and take 0-255 pixels minus the ImageNet mean; BasicSR's (torchvision's) take
# pixels scaled to [0, 1] and normalised by the ImageNet std (about 0.226 x 255 = 57.6). ESRGAN's loss weights assume
# the latter's feature magnitudes, so the features are divided by that factor.
FEATURE_SCALE = 1.0 / 57.6


class PerceptualFeatures:
    """VGG19 features of images float32 NHWC in [0, 1] at ``block5_conv4`` *before* its ReLU (ESRGAN, Wang et
    al. 2018: features before activation are denser and keep brightness), for a perceptual loss.

    ``label`` says which weights it has: ImageNet (``keras.applications``), or, where they cannot be downloaded,
    a clearly labelled stand-in with seeded random weights (random convolutional features still compare texture
    and structure, far better than pixels, though less than trained ones)."""

    def __init__(self, vgg: keras.Model, label: str, imagenet: bool):
        last = vgg.get_layer(PERCEPTUAL_LAYER)
        # The layer's own ReLU is part of it: rebuild its output from the conv kernel without the activation.
        pre = keras.Model(vgg.input, last.input)
        x = keras.Input((None, None, 3), name="image")
        features = keras.layers.Conv2D(last.filters, last.kernel_size, padding="same", name="conv5_4_linear", dtype="float32")
        out = features(pre(x))
        features.set_weights(last.get_weights())
        self.model = keras.Model(x, out, name="vgg19_conv5_4_pre_activation")
        self.model.trainable = False
        self.label, self.imagenet = label, imagenet

    def __call__(self, images):
        """Features (B, H/16, W/16, 512) of images float (B, H, W, 3) in [0, 1] (a tensor, differentiable)."""
        x = keras.ops.cast(images, "float32") * 255.0
        return self.model(keras.applications.vgg19.preprocess_input(x), training=False) * FEATURE_SCALE


def seeded_he_uniform(model: keras.Model, seed: int) -> None:
    """Re-initialise ``model``'s conv kernels with He-uniform values (biases 0) from a NumPy generator seeded with
    ``seed``: the same stand-in weights on every machine, without touching the global random seeds. He's scale
    keeps the activations' size through a deep ReLU stack (Glorot's would shrink them layer by layer)."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            k = layer.kernel
            limit = np.sqrt(6.0 / int(np.prod(k.shape[:-1])))
            layer.set_weights([rng.uniform(-limit, limit, k.shape).astype(np.float32), np.zeros(layer.bias.shape, np.float32)])


def perceptual_features(*, download: bool = True, seed: int = 0) -> PerceptualFeatures:
    """The VGG19 feature network of ESRGAN's perceptual loss: ImageNet weights when they are cached or (with
    ``download``) can be downloaded, as on Colab; else a seeded random-weight stand-in, said plainly in its
    ``label`` and printed."""
    if download:
        try:
            vgg = keras.applications.VGG19(include_top=False, weights="imagenet")
            return PerceptualFeatures(vgg, "VGG19 conv5_4 before activation, ImageNet weights", True)
        except Exception as err:  # no network and no cached weights (keras.utils.get_file raises a bare Exception)
            reason = f"download failed: {str(err).splitlines()[0][:120] or type(err).__name__}"
    else:
        reason = "downloads are off for this profile"
    vgg = keras.applications.VGG19(include_top=False, weights=None)
    seeded_he_uniform(vgg, seed)
    label = f"STAND-IN: VGG19 with random weights (seed {seed}); the ImageNet weights are unavailable ({reason})"
    print(f"Perceptual features: {label}")
    return PerceptualFeatures(vgg, label, False)

"""Fashion-MNIST classifiers of notebook 01. All take images float32 (N, 28, 28, 1) in [0, 1] and return
logits (N, 10): the softmax is left to the loss (``from_logits=True``) so that attacks differentiate a
well-conditioned loss rather than a saturated softmax.

Every model names its penultimate layer ``"features"``; later notebooks use it as a feature extractor.
"""

from __future__ import annotations

import keras
from keras import layers

from kit.checks import check_choice
from kit.data import IMAGE_SHAPE, NUM_CLASSES
from kit.models.common import batch_norm


def dense_classifier(input_shape=IMAGE_SHAPE, num_classes: int = NUM_CLASSES) -> keras.Model:
    """Flatten -> Dense 128 (ReLU) -> Dense 10 logits: the baseline with no notion of space."""
    inputs = keras.Input(input_shape, name="image")
    x = layers.Flatten()(inputs)
    x = layers.Dense(128, activation="relu", name="features")(x)
    outputs = layers.Dense(num_classes, dtype="float32", name="logits")(x)
    return keras.Model(inputs, outputs, name="dense")


def reference_cnn(input_shape=IMAGE_SHAPE, num_classes: int = NUM_CLASSES) -> keras.Model:
    """The course reference report's CNN: Conv 5x5x64 -> Conv 5x5x128 -> Flatten -> Dense 10 logits.

    'valid' padding and no pooling, as in the report: 28 -> 24 -> 20 pixels, 51,200 features.
    """
    inputs = keras.Input(input_shape, name="image")
    x = layers.Conv2D(64, 5, activation="relu", name="conv1")(inputs)
    x = layers.Conv2D(128, 5, activation="relu", name="conv2")(x)
    x = layers.Flatten(name="features")(x)
    outputs = layers.Dense(num_classes, dtype="float32", name="logits")(x)
    return keras.Model(inputs, outputs, name="reference_cnn")


def _conv_bn_relu(x, filters: int, name: str):
    # No conv bias: batch norm's shift makes it redundant. Momentum 0.9 (Keras: 0.99) so the moving statistics
    # used at test time settle within the few hundred steps of a short CPU run.
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = batch_norm(momentum=0.9, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def improved_cnn(input_shape=IMAGE_SHAPE, num_classes: int = NUM_CLASSES, *, dropout: bool = True) -> keras.Model:
    """Two VGG-style blocks (2x [Conv 3x3 -> BN -> ReLU] -> MaxPool -> Dropout 0.25), Dense 256 -> BN -> Dropout
    0.5, Dense 10 logits. Batch norm speeds training up, pooling gives translation tolerance and dropout fights
    the overfitting the reference CNN shows after a few epochs (``dropout=False`` leaves it out: a deterministic
    model, e.g. to compare training on one and on several devices)."""
    inputs = keras.Input(input_shape, name="image")
    x = inputs
    for i, filters in enumerate((32, 64), start=1):
        x = _conv_bn_relu(x, filters, f"block{i}a")
        x = _conv_bn_relu(x, filters, f"block{i}b")
        x = layers.MaxPooling2D(name=f"block{i}_pool")(x)
        x = layers.Dropout(0.25 * dropout, name=f"block{i}_drop")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(256, use_bias=False)(x)
    x = batch_norm(momentum=0.9)(x)
    x = layers.ReLU(name="features")(x)
    x = layers.Dropout(0.5 * dropout)(x)
    outputs = layers.Dense(num_classes, dtype="float32", name="logits")(x)
    return keras.Model(inputs, outputs, name="improved_cnn")


CLASSIFIERS = {
    "dense": dense_classifier,
    "reference_cnn": reference_cnn,
    "improved_cnn": improved_cnn,
}


def build_classifier(name: str, *, learning_rate: float = 1e-3, jit_compile: bool, optimizer=None, **kwargs) -> keras.Model:
    """Build and compile one of :data:`CLASSIFIERS` by name (Adam(``learning_rate``) unless ``optimizer`` is given,
    sparse cross-entropy on logits, accuracy). ``kwargs`` go to the builder (e.g. ``dropout=False``).

    ``jit_compile`` is required: pass ``profile.jit_compile`` so CPU and GPU runs take the path you expect
    (Keras' "auto" means XLA on GPU and none on CPU).
    """
    check_choice(name, CLASSIFIERS, "classifier")
    model = CLASSIFIERS[name](**kwargs)
    model.compile(
        optimizer=optimizer if optimizer is not None else keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        jit_compile=bool(jit_compile),
    )
    return model

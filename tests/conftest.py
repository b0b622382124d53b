"""Shared fixtures. Tests use the real Fashion-MNIST from the Keras cache (``make`` points KERAS_HOME at the
project's cache); the few tests of bad input use tiny generated arrays."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Before keras is imported: use the project's cache when pytest is run without make.
if "KERAS_HOME" not in os.environ and (ROOT / "data" / "keras").is_dir():
    os.environ["KERAS_HOME"] = str(ROOT / "data" / "keras")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(scope="session")
def fmnist():
    """A small seeded subset of the real Fashion-MNIST, images in [0, 1]."""
    from kit.data import load_fashion_mnist

    return load_fashion_mnist(train_samples=2048, test_samples=256, seed=1)


@pytest.fixture(scope="session")
def trained_dense(fmnist):
    """A dense classifier trained briefly on real data (about 80% test accuracy): enough for attacks to bite."""
    import keras

    from kit.models import build_classifier
    from kit.training import fit_classifier

    keras.utils.set_random_seed(0)
    model = build_classifier("dense", jit_compile=False)
    fit_classifier(model, fmnist.x_train, fmnist.y_train, epochs=3, batch_size=64, verbose=0)
    return model


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def deterministic_ops():
    """TensorFlow's op determinism for one test (``tf.config.experimental.enable_op_determinism``): the same graph on
    the same inputs gives bit-identical results (no kernel may pick a reduction order by thread timing), then the
    previous setting again, so other tests run as users do."""
    import tensorflow as tf
    from tensorflow.python.framework import config as tf_config

    was = tf_config.is_op_determinism_enabled()
    tf.config.experimental.enable_op_determinism()
    try:
        yield
    finally:
        if not was:
            tf_config.disable_op_determinism()


def readme_tables():
    """tools/readme_tables.py as a module (tools/ is not a package), for tests that render a README table from a
    benchmark's result."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("readme_tables", Path(__file__).resolve().parent.parent / "tools" / "readme_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

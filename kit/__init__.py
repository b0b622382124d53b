"""GAN course kit: the models, ``train_step`` overrides, data, metrics and plots behind the notebooks.

Typical first cell of a notebook::

    import kit
    kit.colab.persist()               # on Colab: checkpoints and trained artefacts on Google Drive
    P = kit.setup("02_dcgan")         # prints versions, hardware and the run profile; seeds everything
    data = kit.data.load_fashion_mnist("tanh", profile=P)

Layers, lowest first (a module imports only from its own layer or lower ones; ``tests/test_layers.py``
checks it):

0. ``checks``, ``paths``, ``profile_table``, ``profiles``, ``imageops``, ``torchfile``
1. ``env``, ``runs``, ``viz``, ``diagrams``, ``widgets``, ``data``
2. ``metrics``
3. ``models``
4. ``callbacks``, ``checkpoints``, ``distribute``, ``training``
5. ``gans``, ``attacks``
6. ``judge``, ``lpips``
7. ``cocogan``, ``game2d``, ``sr``, ``colab``, ``budget``
8. ``session``, and this package
"""

import os
import re
import sys
import tempfile

# Quiet TensorFlow's C++ start-up logging and pin the backend before keras is first imported.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

# While TensorFlow's C++ libraries load and look for CUDA they log lines that TF_CPP_MIN_LOG_LEVEL does not reach
# (written before absl::InitializeLog): "Could not find cuda drivers" and "failed call to cuInit" without a GPU,
# "Unable to register cuDNN factory" on Colab. In a notebook they read as errors and are none. With
# TF_CPP_MIN_LOG_LEVEL >= 2 (the default set above) those lines are dropped while tensorflow is imported and its
# devices listed; everything else written to stderr meanwhile is passed on. Python warnings are not touched.
CPP_NOISE = re.compile(
    r"WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|[IW]\d{4} [\d:.]+ +\d+ [\w.-]+:\d+\] .*"
    r"|E\d{4} [\d:.]+ +\d+ [\w.-]+:\d+\] .*(Unable to register cu\w+ factory|failed call to cuInit|computation placer).*")


def _quiet_level() -> int:
    try:
        return int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0"))
    except ValueError:
        return 0


class _DropCppNoise:
    """File descriptor 2 goes into a temporary file inside the block; on leaving, the lines that are not
    :data:`CPP_NOISE` are written back to it."""

    def __enter__(self):
        self.saved = None
        if _quiet_level() < 2:
            return self
        try:
            sys.stderr.flush()
            self.file = tempfile.TemporaryFile()
            self.saved = os.dup(2)
            os.dup2(self.file.fileno(), 2)
        except (OSError, ValueError, AttributeError):  # no usable descriptor 2: nothing to filter
            self.saved = None
        return self

    def __exit__(self, *exc):
        if self.saved is None:
            return False
        try:
            sys.stderr.flush()
        except (OSError, ValueError, AttributeError):
            pass
        os.dup2(self.saved, 2)
        os.close(self.saved)
        self.file.seek(0)
        lines = self.file.read().decode(errors="replace").splitlines(keepends=True)
        self.file.close()
        kept = "".join(line for line in lines if not CPP_NOISE.fullmatch(line.rstrip("\r\n")))
        if kept:
            os.write(2, kept.encode())
        return False


with _DropCppNoise():
    import tensorflow as _tf  # noqa: E402

    _tf.config.list_physical_devices("GPU")  # CUDA is looked for now, inside the filter, not at the first operation
del _tf

import absl.logging  # noqa: E402

if _quiet_level() >= 2:
    absl.logging.set_verbosity(absl.logging.ERROR)  # absl's Python INFO/WARNING lines; Python warnings still show

from kit import (  # noqa: E402
    attacks,
    budget,
    callbacks,
    checkpoints,
    checks,
    cocogan,
    colab,
    data,
    diagrams,
    distribute,
    env,
    game2d,
    gans,
    imageops,
    judge,
    lpips,
    metrics,
    models,
    paths,
    runs,
    sr,
    training,
    viz,
    widgets,
)
from kit.env import environment, hardware, seed_everything, versions  # noqa: E402
from kit.profiles import PROFILES, Profile, profile  # noqa: E402
from kit.session import setup  # noqa: E402

__version__ = "0.2.0"

__all__ = [
    "PROFILES",
    "Profile",
    "attacks",
    "budget",
    "callbacks",
    "checkpoints",
    "checks",
    "cocogan",
    "colab",
    "data",
    "distribute",
    "env",
    "environment",
    "game2d",
    "gans",
    "hardware",
    "imageops",
    "judge",
    "lpips",
    "metrics",
    "models",
    "paths",
    "profile",
    "runs",
    "seed_everything",
    "setup",
    "sr",
    "training",
    "versions",
    "viz",
    "widgets",
]

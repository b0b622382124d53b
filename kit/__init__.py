"""GAN course kit: the models, ``train_step`` overrides, data, metrics and plots behind the notebooks.

Typical first cell of a notebook::

    import kit
    kit.colab.persist()               # on Colab: checkpoints and trained artefacts on Google Drive
    P = kit.setup("02_dcgan")         # prints versions, hardware and the run profile; seeds everything
    data = kit.data.load_fashion_mnist("tanh", profile=P)

Layers, lowest first (a module imports only from its own layer or lower ones; ``tests/test_layers.py``
checks it):

0. ``checks``, ``paths``, ``profile_table``, ``profiles``, ``imageops``, ``torchfile``
1. ``env``, ``runs``, ``viz``, ``widgets``, ``data``
2. ``metrics``
3. ``models``
4. ``callbacks``, ``checkpoints``, ``distribute``, ``training``
5. ``gans``, ``attacks``
6. ``judge``, ``lpips``
7. ``cocogan``, ``sr``, ``colab``, ``budget``
8. ``session``, and this package
"""

import os

# Quiet TensorFlow's C++ start-up logging and pin the backend before keras is first imported.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from kit import (  # noqa: E402
    attacks,
    budget,
    callbacks,
    checkpoints,
    checks,
    cocogan,
    colab,
    data,
    distribute,
    env,
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

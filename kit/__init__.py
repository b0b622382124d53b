"""GAN course kit: the models, ``train_step`` overrides, data, metrics and plots behind the notebooks.

Typical first cell of a notebook::

    import kit
    P = kit.setup()          # prints versions, hardware and the run profile; seeds everything
    data = kit.data.load_fashion_mnist(profile=P)
"""

import os

# Quiet TensorFlow's C++ start-up logging and pin the backend before keras is first imported.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from kit import attacks, callbacks, data, degrade, esrgan, gans, metrics, models, runs, training, viz  # noqa: E402
from kit.env import environment, hardware, seed_everything, setup, versions  # noqa: E402
from kit.profiles import PROFILES, Profile, profile  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "PROFILES",
    "Profile",
    "attacks",
    "callbacks",
    "data",
    "degrade",
    "environment",
    "esrgan",
    "gans",
    "hardware",
    "metrics",
    "models",
    "profile",
    "runs",
    "seed_everything",
    "setup",
    "training",
    "versions",
    "viz",
]

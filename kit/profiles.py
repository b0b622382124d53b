"""Run profiles: every epoch, step and sample count in the course comes from here.

``KIT_PROFILE`` selects the scale:

- ``smoke``: CI. Each notebook runs end to end in well under two minutes on two CPU cores, on real data,
  producing every plot; the numbers it prints are not meant to be good.
- ``cpu``:   meaningful results on a laptop CPU in minutes.
- ``full``:  the real course settings for a Colab T4 or a local GPU.

With no variable set, :func:`profile` picks ``full`` when TensorFlow sees a GPU and ``cpu`` otherwise.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

ENV_VAR = "KIT_PROFILE"


@dataclass(frozen=True)
class Profile:
    """Scale settings of one run. Counts are plain ints; ``None`` means "all of it"."""

    name: str
    # Data.
    train_samples: int | None  # Fashion-MNIST training images used (None: all 60,000)
    test_samples: int | None  # test images used for evaluation (None: all 10,000)
    batch_size: int
    # Notebook 01: classifiers and attacks.
    classifier_epochs: int  # dense and reference CNN
    improved_epochs: int  # the improved CNN (batch norm, pooling, dropout)
    adv_epochs: int  # FGSM adversarial fine-tuning of the trained reference CNN
    adv_train_samples: int | None  # training images used for it (None: all of train_samples)
    attack_samples: int  # test images attacked for each point of an epsilon curve
    epsilons: tuple[float, ...]  # epsilon grid of the accuracy-vs-epsilon curves
    pgd_steps: int
    # Notebooks 02-03: GANs on Fashion-MNIST (batch 64, the size the DCGAN literature and our benchmark use).
    gan_train_samples: int | None  # real images per GAN epoch (None: all 60,000)
    gan_epochs: int  # DCGAN (BCE) and ACGAN
    wgan_epochs: int  # the WGAN-GP side-by-side run (each step makes n_critic=5 critic updates)
    fid_samples: int  # generated and real images per FID/KID evaluation
    # XLA: True on GPU profiles and in CI (so CI compiles the same graphs a GPU run does); False for the laptop
    # profile because XLA-compiled convolutions run 2-3x slower than oneDNN's on CPU (measured, see README).
    jit_compile: bool

    def replace(self, **changes) -> "Profile":
        """A copy with some fields changed, e.g. ``kit.profile().replace(classifier_epochs=1)``."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise TypeError(f"Profile has no field(s) {sorted(unknown)}; fields: {[f.name for f in dataclasses.fields(self)]}")
        return dataclasses.replace(self, **changes)


PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        name="smoke",
        train_samples=768,
        test_samples=512,
        batch_size=64,
        classifier_epochs=1,
        improved_epochs=1,
        adv_epochs=1,
        adv_train_samples=384,
        attack_samples=128,
        epsilons=(0.0, 0.05, 0.1, 0.2, 0.3),
        pgd_steps=5,
        gan_train_samples=512,
        gan_epochs=2,
        wgan_epochs=1,
        fid_samples=256,
        jit_compile=False,
    ),
    "cpu": Profile(
        name="cpu",
        train_samples=None,
        test_samples=None,
        batch_size=64,
        classifier_epochs=2,
        improved_epochs=3,
        adv_epochs=2,
        adv_train_samples=10000,
        attack_samples=500,
        epsilons=(0.0, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3),
        pgd_steps=10,
        gan_train_samples=12800,
        gan_epochs=8,
        wgan_epochs=2,
        fid_samples=2000,
        jit_compile=False,
    ),
    "full": Profile(
        name="full",
        train_samples=None,
        test_samples=None,
        batch_size=128,
        classifier_epochs=10,
        improved_epochs=12,
        adv_epochs=5,
        adv_train_samples=None,
        attack_samples=2000,
        epsilons=(0.0, 0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.2, 0.25, 0.3),
        pgd_steps=20,
        gan_train_samples=None,
        gan_epochs=40,
        wgan_epochs=15,
        fid_samples=10000,
        jit_compile=True,
    ),
}


def gpu_available() -> bool:
    """True when TensorFlow sees at least one GPU."""
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def profile(name: str | None = None) -> Profile:
    """The active run profile.

    Args:
        name: ``"smoke"``, ``"cpu"`` or ``"full"``. Default: ``$KIT_PROFILE``, else ``full`` on a GPU and
            ``cpu`` otherwise.

    Raises:
        ValueError: for a name that is not a profile (from the argument or from ``$KIT_PROFILE``).
    """
    source = "argument"
    if name is None:
        name = os.environ.get(ENV_VAR, "").strip()
        source = f"${ENV_VAR}"
        if not name:
            return PROFILES["full" if gpu_available() else "cpu"]
    if not isinstance(name, str) or name.lower() not in PROFILES:
        raise ValueError(f"Unknown run profile {name!r} (from {source}); expected one of {sorted(PROFILES)}.")
    return PROFILES[name.lower()]

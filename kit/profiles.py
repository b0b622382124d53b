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


# -- Per-notebook sections. Each notebook from 04 on has its own small frozen dataclass, so its counts live
# -- together and read as ``P.img2img.epochs``. One block per notebook: edit only your notebook's block.

# ==== BEGIN SECTION img2img (notebooks 04 colorization, 05 sketch cGAN) ====
@dataclass(frozen=True)
class Img2ImgProfile:
    """Counts of notebooks 04 and 05."""

    colorization_train_samples: int | None  # (grayscale, colour) pairs at 28x28 (None: all 60,000)
    sketch_train_samples: int | None  # (sketch, colour) pairs at 64x64 (None: all 60,000)
    test_samples: int  # held-out pairs for PSNR/SSIM/FID/classifier accuracy
    batch_size: int
    colorization_epochs: int  # each of the two colorizers (L1 only, L1 + GAN)
    sketch_epochs: int
    # Width (first-layer filters) of the 64x64 sketch U-Net and PatchGAN: 16 keeps a CPU epoch of 6,000 pairs
    # under 3 minutes on 2 cores (a pix2pix step costs ~1.2 GMAC per image at width 32, measured 19 img/s).
    sketch_filters: int


IMG2IMG = {
    "smoke": Img2ImgProfile(colorization_train_samples=384, sketch_train_samples=256, test_samples=128, batch_size=32,
                            colorization_epochs=1, sketch_epochs=1, sketch_filters=16),
    "cpu": Img2ImgProfile(colorization_train_samples=12000, sketch_train_samples=6000, test_samples=1000, batch_size=32,
                          colorization_epochs=5, sketch_epochs=5, sketch_filters=16),
    "full": Img2ImgProfile(colorization_train_samples=None, sketch_train_samples=30000, test_samples=5000, batch_size=64,
                           colorization_epochs=15, sketch_epochs=20, sketch_filters=32),
}
# ==== END SECTION img2img ====

# ==== BEGIN SECTION cocogan (notebook 06) ====
@dataclass(frozen=True)
class CocoGANProfile:
    """Counts of notebook 06 (COCO-GAN on 32x32 Fashion-MNIST) and of ``benchmarks/cocogan.py``."""

    train_samples: int | None  # 32x32 training images (None: all 60,000)
    batch_size: int  # images per step (each gives one macro patch of 2x2 micro patches)
    stage_epochs: tuple[int, int, int]  # epochs of the cloudy, detail and lucid stages
    base_filters: int  # channels of the highest-resolution blocks of G and D
    fid_samples: int  # generated and real images for classifier FID, seam score and recognisability
    beyond_size: int  # side of the beyond-boundary images (32 + 2 x 8 e)
    beyond_steps: int  # beyond-boundary fine-tuning steps
    q_epochs: int  # epochs of the Q network of patch-guided generation (trained after the GAN)
    memory_sizes: tuple[int, ...]  # sides measured by the notebook's memory comparison (the benchmark: 64 and 128)
    memory_batch: int  # batch of the memory/step-time measurement
    memory_steps: int  # timed steps per measurement (after one tracing step)
    memory_parallel: bool  # run the measuring processes side by side (CI wall time; their step times then contend)
    dcgan_epochs: int  # benchmark: notebook 02's DCGAN on the same images, when results/gans.json has no FID


COCOGAN = {
    "smoke": CocoGANProfile(train_samples=256, batch_size=32, stage_epochs=(1, 1, 1), base_filters=16, fid_samples=128,
                            beyond_size=48, beyond_steps=2, q_epochs=1, memory_sizes=(64,), memory_batch=4, memory_steps=1,
                            memory_parallel=True, dcgan_epochs=1),
    "cpu": CocoGANProfile(train_samples=20000, batch_size=32, stage_epochs=(1, 1, 10), base_filters=32, fid_samples=2000,
                          beyond_size=48, beyond_steps=200, q_epochs=1, memory_sizes=(64, 128), memory_batch=16, memory_steps=3,
                          memory_parallel=False, dcgan_epochs=2),
    "full": CocoGANProfile(train_samples=None, batch_size=64, stage_epochs=(5, 5, 20), base_filters=64, fid_samples=10000,
                           beyond_size=64, beyond_steps=2000, q_epochs=3, memory_sizes=(64, 128, 256), memory_batch=64, memory_steps=10,
                           memory_parallel=False, dcgan_epochs=30),
}
# ==== END SECTION cocogan ====

# ==== BEGIN SECTION esrgan (notebook 07) ====
@dataclass(frozen=True)
class ESRGANProfile:
    """Counts of notebook 07 (degradations, the 4x baseline enhancer, the refinement CNN)."""

    crop_size: int  # side of the high-resolution photo crops; the enhancer's input is crop_size / 4
    max_crops: int | None  # photo crops used in all, before the 80/10/10 split (None: every crop)
    draws: int  # independent degradations of every crop per level
    download_weights: bool  # try to download the official RealESRGAN_x4plus weights (Colab)
    tile: int | None  # tiled RRDBNet inference tile size in input pixels (None: whole images)
    standin_epochs: int  # epochs of the light RRDBNet stand-in when the official weights are missing (0: bicubic)
    standin_feat: int
    standin_blocks: int
    standin_grow: int
    colour_epochs: int  # epochs of the refiner's global colour stage, on whole crops (0: no colour stage)
    colour_filters: int  # channels of the colour stage's first conv block
    refiner_epochs: int  # epochs of the refiner's U-Net, on patches
    refiner_per_level: bool  # one refiner per degradation level (True) or one shared by all levels
    refiner_filters: int  # U-Net channels at full resolution
    refiner_depth: int
    residual_scale: float  # the most the refiner may change a pixel
    batch_size: int
    patch: int  # training crop side in output pixels (refiner) / 4x that of the stand-in's input
    learning_rate: float  # Adam's (peak) learning rate
    schedule: str  # "constant", or "cosine": warm-up, then cosine decay (kit.esrgan.cosine_schedule)
    l1_weight: float
    mse_weight: float
    ssim_weight: float
    timing_repeats: int  # timed runs per inference-speed measurement


ESRGAN = {
    "smoke": ESRGANProfile(
        crop_size=64, max_crops=40, draws=1, download_weights=False, tile=None,
        standin_epochs=0, standin_feat=16, standin_blocks=1, standin_grow=8,
        colour_epochs=2, colour_filters=8, refiner_epochs=2, refiner_per_level=True, refiner_filters=8, refiner_depth=2, residual_scale=0.25,
        batch_size=8, patch=32, learning_rate=1e-3, schedule="cosine", l1_weight=1.0, mse_weight=1.0, ssim_weight=0.0, timing_repeats=1,
    ),
    "cpu": ESRGANProfile(
        crop_size=128, max_crops=None, draws=8, download_weights=True, tile=None,
        standin_epochs=20, standin_feat=32, standin_blocks=3, standin_grow=16,
        colour_epochs=40, colour_filters=32, refiner_epochs=10, refiner_per_level=True, refiner_filters=16, refiner_depth=3, residual_scale=0.25,
        batch_size=16, patch=48, learning_rate=1e-3, schedule="cosine", l1_weight=1.0, mse_weight=1.0, ssim_weight=0.0, timing_repeats=3,
    ),
    "full": ESRGANProfile(
        crop_size=256, max_crops=None, draws=8, download_weights=True, tile=128,
        standin_epochs=60, standin_feat=64, standin_blocks=6, standin_grow=32,
        colour_epochs=60, colour_filters=32, refiner_epochs=60, refiner_per_level=True, refiner_filters=48, refiner_depth=3, residual_scale=0.25,
        batch_size=16, patch=128, learning_rate=2e-4, schedule="cosine", l1_weight=1.0, mse_weight=1.0, ssim_weight=0.1, timing_repeats=10,
    ),
}
# ==== END SECTION esrgan ====


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
    # Notebooks 04-07: one section each (defined above).
    img2img: Img2ImgProfile
    cocogan: CocoGANProfile
    esrgan: ESRGANProfile

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
        img2img=IMG2IMG["smoke"],
        cocogan=COCOGAN["smoke"],
        esrgan=ESRGAN["smoke"],
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
        img2img=IMG2IMG["cpu"],
        cocogan=COCOGAN["cpu"],
        esrgan=ESRGAN["cpu"],
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
        img2img=IMG2IMG["full"],
        cocogan=COCOGAN["full"],
        esrgan=ESRGAN["full"],
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

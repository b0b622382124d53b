"""Run profiles: every epoch, step and sample count in the course comes from here.

``KIT_PROFILE`` selects the scale:

- ``smoke``: CI. Each notebook runs end to end in well under two minutes on two CPU cores, on real data,
  producing every plot; the numbers it prints are not meant to be good.
- ``cpu``:   meaningful results on a laptop CPU.
- ``t4``:    the course on a free Colab T4 (15 GB): every notebook within 20 minutes and 13 GiB of GPU memory by
  the budget model (``benchmarks/budget.py``), with mixed precision and XLA. The default on a GPU.
- ``full``:  longer runs for a larger GPU (opt-in: ``KIT_PROFILE=full``).

With no variable set, :func:`profile` picks ``t4`` when TensorFlow sees a GPU and ``cpu`` otherwise. Every field
is checked when a profile is made or changed (``P.replace(...)``): counts are positive integers (a few may be 0,
and ``None`` means "all of them" where a field says so), rates and weights finite and in range.
"""

from __future__ import annotations

import dataclasses
import math
import os
import types
import typing
from dataclasses import dataclass

import tensorflow as tf

from kit.profile_table import TABLE

ENV_VAR = "KIT_PROFILE"
GPU_DEFAULT = "t4"
PHOTO_COLLECTIONS = (None, "tf_flowers")  # tensorflow-datasets photo collections the notebooks can use

# Fields that may be 0 (everything else that is an int must be >= 1), and ranges of the float fields.
_ZERO_OK = {"standin_epochs", "colour_epochs", "finetune_enhancer_epochs", "q_epochs", "beyond_steps", "seeds"}
_FLOAT_RANGES = {"gan_ema_decay": (0.0, 0.9999, False), "ema_decay": (0.0, 0.9999, False), "learning_rate": (0.0, 1.0, True),
                 "gan_learning_rate": (0.0, 1.0, True), "residual_scale": (0.0, 1.0, True), "kde_bandwidth": (0.0, 1.0, True),
                 "min_mode_share": (0.0, 1.0, True)}


def _check_field(owner: str, name: str, kind, value):
    """Check one field against its annotation; raise ValueError/TypeError naming the profile and field."""
    where = f"{owner}.{name}"
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType) and type(None) in args:
        if value is None:
            return
        kind = next(a for a in args if a is not type(None))
        origin, args = typing.get_origin(kind), typing.get_args(kind)
    if kind is bool:
        if not isinstance(value, bool):
            raise TypeError(f"{where} must be True or False, got {value!r}")
    elif kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{where} must be an integer, got {value!r} ({type(value).__name__})")
        if value < (0 if name in _ZERO_OK else 1):
            raise ValueError(f"{where} must be {'>= 0' if name in _ZERO_OK else 'a positive integer'}, got {value!r}")
    elif kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise TypeError(f"{where} must be a finite number, got {value!r}")
        low, high, open_low = _FLOAT_RANGES.get(name, (0.0, math.inf, False))
        if (value <= low if open_low else value < low) or value > high:
            raise ValueError(f"{where} must lie in {'(' if open_low else '['}{low}, {high}], got {value!r}")
    elif kind is str:
        if not isinstance(value, str) or not value:
            raise TypeError(f"{where} must be a non-empty string, got {value!r}")
    elif origin is tuple:
        if not isinstance(value, tuple) or not value:
            raise TypeError(f"{where} must be a non-empty tuple, got {value!r}")
        item = args[0]
        if args[-1] is not Ellipsis and len(args) != len(value):
            raise ValueError(f"{where} must hold {len(args)} values, got {value!r}")
        for v in value:
            _check_field(owner, name, item, v)


def _validate(obj):
    hints = typing.get_type_hints(type(obj))
    owner = getattr(obj, "name", None) or type(obj).__name__
    for f in dataclasses.fields(obj):
        if dataclasses.is_dataclass(f.type if not isinstance(f.type, str) else hints[f.name]):
            continue
        _check_field(owner, f.name, hints[f.name], getattr(obj, f.name))


class _Checked:
    """Validates every field on creation (so also in ``dataclasses.replace``)."""

    def __post_init__(self):
        _validate(self)

    def replace(self, **changes):
        """A copy with some fields changed, checked like the original, e.g. ``P.replace(gan_epochs=1)``."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field(s) {sorted(unknown)}; fields: {sorted(known)}")
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Game2DProfile(_Checked):
    """Counts of notebook 00: the GAN game on 2-D mixtures (the ring of 8 and the 5x5 grid), small MLPs."""

    steps: int  # generator steps of each ring run (each after n_critic discriminator steps)
    grid_steps: int  # generator steps of the 5x5 grid run
    frames: int  # snapshots after step 0: the strip, the GIF and the curves
    seeds: tuple[int, ...]  # the seeds the plain and the fixed GAN are trained with on the ring (one run each)
    batch_size: int  # real and generated points per step
    latent_dim: int
    width: int  # units of each hidden layer of G and D
    depth: int  # hidden layers of G and D
    learning_rate: float  # Adam's (beta_1 0.5, beta_2 0.9), both players
    n_critic: int  # discriminator steps per generator step, the same for both losses
    gp_weight: float  # WGAN-GP's lambda
    ema_decay: float  # the weight average of G that draws the evaluated samples (0: G itself)
    eval_samples: int  # generated points per snapshot (modes covered, high-quality share, JS)
    surface_resolution: int  # side of the grid D's heat map is drawn on
    kde_bandwidth: float  # bandwidth of the kernel density estimate of G's samples, in data units
    min_mode_share: float  # a mode is covered when this share of the samples lies within 3 sigma of it
    best_response_steps: int  # D steps alone against a fixed, known generator (Proposition 1 checked numerically)

    def __post_init__(self):
        super().__post_init__()
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"game2d.seeds must be distinct, got {self.seeds}")


@dataclass(frozen=True)
class Img2ImgProfile(_Checked):
    """Counts of notebooks 04 and 05."""

    colorization_train_samples: int | None  # (grayscale, colour) pairs at 28x28 (None: all 60,000)
    sketch_train_samples: int | None  # (sketch, colour) pairs at 64x64 (None: all 60,000)
    test_samples: int  # held-out pairs for PSNR/SSIM/FID/IS/classifier accuracy
    batch_size: int
    colorization_epochs: int  # each of the two colorizers (L1 only, L1 + GAN)
    sketch_epochs: int
    # Width (first-layer filters) of the 64x64 sketch U-Net and PatchGAN: 16 keeps a CPU epoch of 6,000 pairs
    # under 3 minutes on 2 cores (a pix2pix step costs ~1.2 GMAC per image at width 32, measured 19 img/s).
    sketch_filters: int


@dataclass(frozen=True)
class CocoGANProfile(_Checked):
    """Counts of notebook 06: COCO-GAN on 32x32 Fashion-MNIST, then on 64x64 photographs."""

    train_samples: int | None  # 32x32 training images (None: all 60,000)
    batch_size: int  # images per step (each gives one macro patch of 2x2 micro patches)
    stage_epochs: tuple[int, int, int]  # epochs of the cloudy, detail and lucid stages
    base_filters: int  # channels of the highest-resolution blocks of G and D
    fid_samples: int  # generated and real images for classifier FID, seam score and recognisability
    beyond_size: int  # side of the beyond-boundary images (32 + 2 x 8 e)
    beyond_steps: int  # beyond-boundary fine-tuning steps
    q_epochs: int  # epochs of the Q network of patch-guided generation (trained after the GAN)
    # The photo section: COCO-GAN at 64x64 (32x32 macro, 16x16 micro patches) on real photographs.
    photo_collection: str | None  # a tensorflow-datasets collection, or None: crops of scikit-image's photographs
    photo_train_samples: int | None  # 64x64 training crops (None: all)
    photo_stage_epochs: tuple[int, int, int]
    photo_batch_size: int
    photo_base_filters: int
    photo_beyond_size: int  # 64 + 2 x 16 e
    photo_beyond_steps: int
    memory_sizes: tuple[int, ...]  # sides of the peak-memory comparison, on the photographs
    memory_batch: int  # batch of the memory/step-time measurement
    memory_steps: int  # timed steps per measurement (after one tracing step)
    memory_parallel: bool  # run the measuring processes side by side (CI wall time; their step times then contend)

    def __post_init__(self):
        super().__post_init__()
        if self.photo_collection not in PHOTO_COLLECTIONS:
            raise ValueError(f"cocogan.photo_collection must be one of {PHOTO_COLLECTIONS}, got {self.photo_collection!r}")


@dataclass(frozen=True)
class ESRGANProfile(_Checked):
    """Counts of notebook 07 (degradations, the 4x baseline enhancer, the refiner with the L1 and the ESRGAN
    objectives)."""

    crop_size: int  # side of the high-resolution photo crops; the enhancer's input is crop_size / 4
    collection: str | None  # a tensorflow-datasets photo collection for training, or None: scikit-image's photographs
    collection_photos: int | None  # photographs of the collection used (None: all)
    max_crops: int | None  # photo crops used in all, before the 80/10/10 split (None: every crop)
    draws: int  # independent degradations of every crop per level
    download_weights: bool  # download official weights (Real-ESRGAN, VGG19, LPIPS) where possible (Colab)
    # Use Real-ESRGAN's RRDBNet (16.7M parameters) where its weights are available. Off at cpu: over every crop of
    # the notebook it would take about an hour on 2 cores (an estimate, never measured here); the stand-in
    # trained in the notebook takes its place and says so in its label.
    official_rrdbnet: bool
    tile: int | None  # tiled RRDBNet inference tile size in input pixels (None: whole images)
    standin_epochs: int  # epochs of the light RRDBNet stand-in when the official weights are missing (0: bicubic)
    standin_feat: int
    standin_blocks: int
    standin_grow: int
    finetune_enhancer_epochs: int  # epochs of fine-tuning the official RRDBNet on the collection (0: none)
    colour_epochs: int  # epochs of the refiner's global colour stage, on whole crops (0: no colour stage)
    colour_filters: int  # channels of the colour stage's first conv block
    refiner_epochs: int  # epochs of the refiner's U-Net, on patches (the PSNR-oriented L1 warm-up of the GAN)
    refiner_per_level: bool  # one refiner per degradation level (True) or one shared by all levels
    refiner_filters: int  # U-Net channels at full resolution
    refiner_depth: int
    residual_scale: float  # the most the refiner may change a pixel
    batch_size: int
    patch: int  # training crop side in output pixels (refiner) / 4x that of the stand-in's input
    learning_rate: float  # Adam's (peak) learning rate
    schedule: str  # "constant", or "cosine": warm-up, then cosine decay (kit.sr.cosine_schedule)
    l1_weight: float
    mse_weight: float
    ssim_weight: float
    gan_epochs: int  # epochs of the ESRGAN objective (relativistic GAN + perceptual + L1) after the L1 warm-up
    gan_learning_rate: float
    gan_weight: float  # ESRGAN's eta: 5e-3 (the cpu profile's is larger: see kit/profile_table.py)
    perceptual_weight: float  # ESRGAN: 1
    gan_l1_weight: float  # ESRGAN's lambda: 1e-2
    timing_repeats: int  # timed runs per inference-speed measurement

    def __post_init__(self):
        super().__post_init__()
        if self.collection not in PHOTO_COLLECTIONS:
            raise ValueError(f"esrgan.collection must be one of {PHOTO_COLLECTIONS}, got {self.collection!r}")
        if self.schedule not in ("constant", "cosine"):
            raise ValueError(f"esrgan.schedule must be 'constant' or 'cosine', got {self.schedule!r}")
        if self.crop_size % 4 or self.patch > self.crop_size:
            raise ValueError(f"esrgan.crop_size must be a multiple of 4 and at least patch ({self.patch}), got {self.crop_size}")


@dataclass(frozen=True)
class Profile(_Checked):
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
    # Notebooks 02-03: GANs on Fashion-MNIST.
    gan_train_samples: int | None  # the ACGAN's real images per epoch (None: all 60,000)
    gan_epochs: int  # ACGAN (notebook 03), on gan_train_samples
    dcgan_train_samples: int | None  # the DCGAN's real images per epoch (None: all 60,000)
    dcgan_epochs: int  # the DCGAN of notebook 02
    gan_ema_decay: float  # decay of the moving average of G's weights that draws the DCGAN's images (0: none)
    loss_compare_steps: int  # notebook 02's loss comparison: training steps per loss (BCE, LSGAN, hinge, WGAN-GP)
    loss_compare_chunks: int  # points on its loss curves (divides loss_compare_steps)
    distribute_steps: int  # steps of notebook 02's tf.distribute demonstration
    fid_samples: int  # generated and real images per FID/KID/IS evaluation
    # XLA: True on GPU profiles (pass it to every compile(); Keras' "auto" differs between CPU and GPU); False
    # for smoke and cpu because XLA-compiled convolutions ran 2-3x slower than oneDNN's on a 2-core CPU (README).
    jit_compile: bool
    # mixed_float16 (float16 compute on the T4's tensor cores, float32 weights and outputs): kit.setup applies it
    # when a GPU is present; the CPU profiles compute in float32, which is faster there.
    mixed_precision: bool
    # Notebook 00 and notebooks 04-07: one section each.
    game2d: Game2DProfile
    img2img: Img2ImgProfile
    cocogan: CocoGANProfile
    esrgan: ESRGANProfile

    def __post_init__(self):
        super().__post_init__()
        if self.loss_compare_steps % self.loss_compare_chunks:
            raise ValueError(f"{self.name}.loss_compare_steps ({self.loss_compare_steps}) must be a multiple of loss_compare_chunks "
                             f"({self.loss_compare_chunks})")
        if not all(0.0 <= e <= 1.0 for e in self.epsilons) or 0.1 not in self.epsilons:
            raise ValueError(f"{self.name}.epsilons must lie in [0, 1] and include 0.1 (the reported point), got {self.epsilons}")


def _make(name: str, base: dict, game2d: dict, img2img: dict, cocogan: dict, esrgan: dict) -> Profile:
    return Profile(name=name, **base, game2d=Game2DProfile(**game2d), img2img=Img2ImgProfile(**img2img), cocogan=CocoGANProfile(**cocogan),
                   esrgan=ESRGANProfile(**esrgan))


PROFILES: dict[str, Profile] = {name: _make(name, **parts) for name, parts in TABLE.items()}


def gpu_available() -> bool:
    """True when TensorFlow sees at least one GPU."""
    return bool(tf.config.list_physical_devices("GPU"))


def profile(name: str | None = None) -> Profile:
    """The active run profile.

    Args:
        name: ``"smoke"``, ``"cpu"``, ``"t4"`` or ``"full"``. Default: ``$KIT_PROFILE``, else ``t4`` on a GPU
            and ``cpu`` otherwise.

    Raises:
        ValueError: for a name that is not a profile (from the argument or from ``$KIT_PROFILE``).
    """
    source = "argument"
    if name is None:
        name = os.environ.get(ENV_VAR, "").strip()
        source = f"${ENV_VAR}"
        if not name:
            return PROFILES[GPU_DEFAULT if gpu_available() else "cpu"]
    if not isinstance(name, str) or name.lower() not in PROFILES:
        raise ValueError(f"Unknown run profile {name!r} (from {source}); expected one of {sorted(PROFILES)}.")
    return PROFILES[name.lower()]

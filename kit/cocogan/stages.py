"""COCO-GAN's cloudy-to-lucid training stages and its spatial-consistency loss.

Training runs as named stages of one model (:data:`STAGES`, :func:`kit.cocogan.fit_stages`):

1. ``cloudy``: real macro patches are low-passed (average-pool by 4, bilinear back up), so G first learns
   the coarse layout; an L1 loss pulls the batch-mean fake macro patch towards the batch-mean coarse real one
   at the same coordinates (a stable signal that does not pull every sample to the same image). No L_S yet.
2. ``detail``: low-pass by 2; feature matching on D's pooled features and the spatial-consistency loss join.
3. ``lucid``: full-resolution real patches; adversarial + L_S.

Beyond-boundary fine-tuning (stage ``beyond``): fake macro positions are drawn from a grid extended by
``margin`` micro patches on every side; D judges each at the nearest in-range coordinate (it has never seen
others), against real patches there, and L_S is off.
"""

from __future__ import annotations

from dataclasses import dataclass

from keras import ops

from kit.checks import check_choice

LOWPASS_FACTORS = (1, 2, 4)


@dataclass(frozen=True)
class Stage:
    """One stage of cloudy-to-lucid training: what D sees and which extra losses G gets.

    lowpass: real macro patches are average-pooled by this factor (1, 2 or 4) and resized back up.
    l1_weight: weight of the L1 between batch-mean fake and batch-mean low-passed real macro patches.
    fm_weight: weight of feature matching (L1 between batch-mean D features of real and fake).
    coord_weight: alpha, the weight of the spatial-consistency loss L_S (both players).
    margin: micro patches beyond the boundary on every side from which fake macro positions are drawn.
    """

    name: str
    lowpass: int
    l1_weight: float
    fm_weight: float
    coord_weight: float
    margin: int = 0

    def __post_init__(self):
        check_choice(self.lowpass, LOWPASS_FACTORS, "low-pass factor")
        if min(self.l1_weight, self.fm_weight, self.coord_weight) < 0:
            raise ValueError(f"stage weights must be >= 0, got {self}")
        if self.margin < 0:
            raise ValueError(f"margin must be >= 0, got {self.margin}")


ALPHA = 1.0  # weight of L_S in the detail and lucid stages
STAGES = (
    Stage("cloudy", lowpass=4, l1_weight=10.0, fm_weight=0.0, coord_weight=0.0),
    Stage("detail", lowpass=2, l1_weight=0.0, fm_weight=1.0, coord_weight=ALPHA),
    Stage("lucid", lowpass=1, l1_weight=0.0, fm_weight=0.0, coord_weight=ALPHA),
)
BEYOND = Stage("beyond", lowpass=1, l1_weight=0.0, fm_weight=0.0, coord_weight=0.0, margin=1)


def coordinate_loss(predicted, target):
    """L_S: mean squared error between predicted and true coordinates, both (B, 2); 0 when they agree."""
    predicted, target = ops.cast(predicted, "float32"), ops.cast(target, "float32")
    if tuple(predicted.shape[1:]) != (2,) or tuple(target.shape[1:]) != (2,):
        raise ValueError(f"coordinates must be (B, 2) (y, x), got {tuple(predicted.shape)} and {tuple(target.shape)}")
    return ops.mean(ops.square(predicted - target))


def lowpass(images, factor: int):
    """Coarse version of images (B, H, W, C): average-pool by ``factor``, bilinear resize back to (H, W)."""
    if factor == 1:
        return images
    h, w = int(images.shape[1]), int(images.shape[2])
    if h % factor or w % factor:
        raise ValueError(f"low-pass factor {factor} must divide the patch size {h}x{w}")
    small = ops.average_pool(images, pool_size=factor, strides=factor, padding="valid")
    return ops.image.resize(small, (h, w), interpolation="bilinear")

"""GAN losses, selectable by name, shared by every GAN in the course.

Discriminator outputs are unbounded scores (logits): the sigmoid of the BCE loss is applied here, inside a
numerically stable cross-entropy, and hinge/Wasserstein losses use the raw score.

- ``"bce"``: non-saturating binary cross-entropy (Goodfellow et al., 2014). The generator maximises
  log D(G(z)) rather than minimising log(1 - D(G(z))), which saturates when D wins early. Optional one-sided
  label smoothing (real targets ``1 - s``; fakes stay 0, Salimans et al., 2016).
- ``"lsgan"``: least squares (Mao et al., 2017): D minimises ½E[(D(x) - 1)²] + ½E[D(G(z))²], G minimises
  ½E[(D(G(z)) - 1)²]; a fake far on the real side of the boundary is still pulled towards it.
- ``"hinge"``: D minimises E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]; G minimises -E[D(G(z))].
- ``"wgan-gp"``: Wasserstein critic with gradient penalty (Gulrajani et al., 2017): D minimises
  E[D(G(z))] - E[D(x)] + lambda * E[(||grad D(x_hat)||_2 - 1)^2], G minimises -E[D(G(z))]; usually
  ``n_critic = 5`` critic steps per generator step.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from kit.checks import check_choice, check_positive_int

LOSSES = ("bce", "lsgan", "hinge", "wgan-gp")


def _bce_with_logits(targets, logits):
    return ops.mean(ops.binary_crossentropy(targets, logits, from_logits=True))


def auxiliary_loss(labels, logits):
    """ACGAN's auxiliary classification loss: mean sparse cross-entropy of class ``logits`` (B, C) against int
    ``labels`` (B,)."""
    return ops.mean(keras.losses.sparse_categorical_crossentropy(labels, ops.cast(logits, "float32"), from_logits=True))


def gradient_penalty(critic_fn, real, fake, alpha):
    """WGAN-GP penalty ``E[(||grad_x critic(x_hat)||_2 - 1)^2]`` at ``x_hat = real + alpha * (fake - real)``.

    Args:
        critic_fn: callable mapping a batch like ``real`` to scores (B,) or (B, ...): all outputs are summed
            per example, so a PatchGAN's grid of scores works too.
        real, fake: tensors of the same shape (B, ...).
        alpha: (B,) interpolation weights in [0, 1], one per example (not per pixel): each x_hat must lie on
            the segment between one real and one fake example.

    The norm runs over every non-batch axis (H, W and C for images), not just one.
    """
    rank = len(real.shape)
    alpha = ops.reshape(ops.cast(alpha, real.dtype), (-1,) + (1,) * (rank - 1))
    x_hat = real + alpha * (ops.cast(fake, real.dtype) - real)
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        total = ops.sum(ops.cast(critic_fn(x_hat), "float32"))  # inside the tape, so it is recorded
    grads = ops.cast(tape.gradient(total, x_hat), "float32")
    norms = ops.sqrt(ops.sum(ops.square(grads), axis=tuple(range(1, rank))) + 1e-12)
    return ops.mean(ops.square(norms - 1.0))


@dataclass(frozen=True)
class GANLoss:
    """An adversarial loss: :meth:`discriminator` and :meth:`generator` take score tensors (B, ...) and
    return scalars. Build one with :func:`get_loss`."""

    name: str
    label_smoothing: float = 0.0
    gp_weight: float = 10.0
    n_critic: int = 1

    @property
    def uses_gradient_penalty(self) -> bool:
        return self.name == "wgan-gp"

    @property
    def decision_threshold(self) -> float | None:
        """The score above which D calls an image real: 0 for BCE logits and hinge scores, 0.5 for LSGAN's
        targets 0/1; None for a Wasserstein critic, whose scores have no such boundary."""
        return {"bce": 0.0, "hinge": 0.0, "lsgan": 0.5}.get(self.name)

    def discriminator(self, real_scores, fake_scores):
        real_scores = ops.cast(real_scores, "float32")
        fake_scores = ops.cast(fake_scores, "float32")
        if self.name == "bce":
            real = _bce_with_logits(ops.full_like(real_scores, 1.0 - self.label_smoothing), real_scores)
            fake = _bce_with_logits(ops.zeros_like(fake_scores), fake_scores)
            return real + fake
        if self.name == "lsgan":
            return 0.5 * ops.mean(ops.square(real_scores - 1.0)) + 0.5 * ops.mean(ops.square(fake_scores))
        if self.name == "hinge":
            return ops.mean(ops.relu(1.0 - real_scores)) + ops.mean(ops.relu(1.0 + fake_scores))
        return ops.mean(fake_scores) - ops.mean(real_scores)  # wgan-gp; the penalty is added by the model

    def generator(self, fake_scores):
        fake_scores = ops.cast(fake_scores, "float32")
        if self.name == "bce":
            return _bce_with_logits(ops.ones_like(fake_scores), fake_scores)
        if self.name == "lsgan":
            return 0.5 * ops.mean(ops.square(fake_scores - 1.0))
        return -ops.mean(fake_scores)


def get_loss(name: str | GANLoss = "bce", *, label_smoothing: float = 0.0, gp_weight: float = 10.0, n_critic: int | None = None) -> GANLoss:
    """The GAN loss called ``name`` (``"bce"``, ``"lsgan"``, ``"hinge"`` or ``"wgan-gp"``).

    Args:
        label_smoothing: BCE only, in [0, 0.5): real targets become ``1 - label_smoothing``.
        gp_weight: WGAN-GP only, the penalty weight lambda (10 in the paper).
        n_critic: discriminator steps per generator step (default 5 for WGAN-GP, else 1).
    """
    if isinstance(name, GANLoss):
        return name
    check_choice(name, LOSSES, "GAN loss")
    if not 0.0 <= label_smoothing < 0.5:
        raise ValueError(f"label_smoothing must lie in [0, 0.5), got {label_smoothing}")
    if label_smoothing and name != "bce":
        raise ValueError(f"label_smoothing applies to the 'bce' loss only, not {name!r}")
    if gp_weight < 0:
        raise ValueError(f"gp_weight must be >= 0, got {gp_weight}")
    n_critic = check_positive_int(n_critic if n_critic is not None else (5 if name == "wgan-gp" else 1), "n_critic")
    return GANLoss(name, float(label_smoothing), float(gp_weight), n_critic)


def generator_loss_gradients(d_of_fake):
    """Why the non-saturating generator loss is used: the magnitude of each generator loss's gradient with
    respect to D's logit s on a fake, as a function of D(G(z)) = sigmoid(s).

    Args:
        d_of_fake: float array of D's probabilities for fakes, in (0, 1).

    Returns:
        ``{"saturating": |d log(1 - D) / ds|, "non-saturating": |d (-log D) / ds|}``, NumPy arrays like the input.
        The saturating loss's gradient is D itself: it vanishes when D confidently rejects the fakes (D → 0),
        which is exactly where a young generator is; the non-saturating one is 1 - D, largest there.
    """
    d = np.asarray(d_of_fake, dtype=np.float64)
    if d.size == 0 or not np.all((d > 0) & (d < 1)):
        raise ValueError(f"d_of_fake must be probabilities strictly inside (0, 1), got {d.size} values in [{d.min() if d.size else None}, {d.max() if d.size else None}]")
    s = tf.Variable(np.log(d) - np.log1p(-d))  # the logits whose sigmoid is D(G(z)), in float64
    with tf.GradientTape(persistent=True) as tape:
        saturating = tf.reduce_sum(tf.math.log(1.0 - tf.sigmoid(s)))  # minimised by G in the original minimax game
        non_saturating = tf.reduce_sum(tf.math.softplus(-s))  # -log sigmoid(s)
    return {"saturating": np.abs(tape.gradient(saturating, s).numpy()), "non-saturating": np.abs(tape.gradient(non_saturating, s).numpy())}

"""Adversarial attacks on image classifiers, and adversarial training.

Conventions: images float32 NHWC in [0, 1]; labels int (N,); models return logits. Epsilon is an
L-infinity bound in pixel units of [0, 1] images (0.1 ~ 25 grey levels). Attack outputs stay in [0, 1].

- :func:`fgsm`: one signed-gradient step (Goodfellow et al., 2015), untargeted or targeted.
- :func:`pgd`: projected gradient descent, i.e. iterated FGSM with projection back into the epsilon ball
  (Madry et al., 2018): the standard way to check that a defence is not just hiding the gradient.
- :class:`AdversarialTrainer`: a ``keras.Model`` whose ``train_step`` trains a classifier on clean and
  FGSM examples (FGSM with a random start, Wong et al., 2020, which avoids the "catastrophic overfitting"
  of plain FGSM training).
"""

from __future__ import annotations

import weakref

import keras
import numpy as np
import tensorflow as tf

from kit import distribute
from kit.checks import check_choice, check_epsilon, check_images, check_labels, check_positive_int
from kit.metrics import accuracy
from kit.training import apply_gradients, scale_loss

MASKS = ("garment",)
_GRAD_FNS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _input_gradient_fn(model):
    """A cached ``tf.function`` returning d(cross-entropy)/d(images) per example for ``model``."""
    fn = _GRAD_FNS.get(model)
    if fn is None:

        @tf.function(reduce_retracing=True)
        def fn(x, y):
            return input_gradient(model, x, y)

        _GRAD_FNS[model] = fn
    return fn


def input_gradient(model, x, y):
    """The gradient of the cross-entropy of ``model``'s logits on ``x`` against labels ``y`` with respect to the
    images: a tensor of ``x``'s shape. The direction in which each pixel raises the loss fastest."""
    x = tf.convert_to_tensor(x, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = keras.losses.sparse_categorical_crossentropy(y, model(x, training=False), from_logits=True)
    return tape.gradient(loss, x)


def pgd_step(model, x_adv, x, labels, epsilon: float, step_size: float, *, targeted: bool = False, mask=None) -> np.ndarray:
    """One step of projected gradient descent: move the current adversarial images ``x_adv`` by ``step_size``
    along the sign of the loss gradient (against it when ``targeted``), then project back into the L-infinity
    ball of radius ``epsilon`` around the clean images ``x`` and into [0, 1].

    Args:
        model: classifier returning logits. x_adv, x: float32 (N, H, W, C) in [0, 1]. labels: int (N,).
        mask: optional array of the images' shape in [0, 1] multiplying the step (e.g. garment pixels only).

    Returns:
        float32 (N, H, W, C) in [0, 1] within ``epsilon`` of ``x``.
    """
    x_adv, y, eps, m = _prepare(model, x_adv, labels, epsilon, mask)
    x0 = check_images(x, "x")
    if x0.shape != x_adv.shape:
        raise ValueError(f"x_adv and x must have the same shape, got {x_adv.shape} and {x0.shape}")
    step_size = check_epsilon(step_size, "step_size")
    g = np.asarray(_input_gradient_fn(model)(x_adv, y))
    stepped = x_adv + (-1.0 if targeted else 1.0) * step_size * np.sign(g) * m
    return np.clip(np.clip(stepped, x0 - eps, x0 + eps), 0.0, 1.0).astype(np.float32)


def garment_mask(images) -> np.ndarray:
    """1.0 where a pixel is part of the garment (value > 0), else 0.0; same shape as ``images``.

    Fashion-MNIST backgrounds are exactly 0, so this is the reference report's "perturb only non-zero
    pixels" mask: the attack cannot write on the background.
    """
    x = check_images(images)
    return (x > 0).astype(np.float32)


def _resolve_mask(mask, x: np.ndarray) -> np.ndarray:
    if mask is None:
        return np.ones_like(x)
    if isinstance(mask, str):
        check_choice(mask, MASKS, "mask")
        return garment_mask(x)
    m = np.asarray(mask, dtype=np.float32)
    if m.shape != x.shape:
        raise ValueError(f"mask must have the images' shape {x.shape} (or be 'garment'), got {m.shape}")
    if m.min() < 0 or m.max() > 1:
        raise ValueError(f"mask values must lie in [0, 1], got [{m.min()}, {m.max()}]")
    return m


def _prepare(model, images, labels, epsilon, mask):
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model returning logits, got {type(model).__name__}")
    x = check_images(images)
    y = check_labels(labels, len(x))
    eps = check_epsilon(epsilon)
    return x, y, eps, _resolve_mask(mask, x)


def fgsm(model, images, labels, epsilon: float, *, targeted: bool = False, mask=None, batch_size: int = 256) -> np.ndarray:
    """Fast Gradient Sign Method.

    Untargeted: ``x + eps * sign(grad_x loss(x, y_true))`` pushes away from the true class. Targeted:
    ``x - eps * sign(grad_x loss(x, y_target))`` pulls towards the target class.

    Args:
        model: classifier returning logits for images float32 (N, H, W, C) in [0, 1].
        images: float32 (N, H, W, C) in [0, 1].
        labels: int (N,): true classes (untargeted) or target classes (``targeted=True``).
        epsilon: L-infinity size of the perturbation, >= 0.
        mask: None (every pixel), ``"garment"`` (non-zero pixels only) or an array of the images' shape
            with values in [0, 1] that multiplies the perturbation.

    Returns:
        Adversarial images, float32, same shape, in [0, 1], with ``|x_adv - x| <= epsilon`` everywhere.
    """
    x, y, eps, m = _prepare(model, images, labels, epsilon, mask)
    batch_size = check_positive_int(batch_size, "batch_size")
    if eps == 0:
        return x.copy()
    grad = _input_gradient_fn(model)
    sign = -1.0 if targeted else 1.0
    out = np.empty_like(x)
    for i in range(0, len(x), batch_size):
        xb = x[i : i + batch_size]
        g = np.asarray(grad(xb, y[i : i + batch_size]))
        out[i : i + batch_size] = np.clip(xb + sign * eps * np.sign(g) * m[i : i + batch_size], 0.0, 1.0)
    return out


def pgd(
    model,
    images,
    labels,
    epsilon: float,
    *,
    steps: int = 10,
    step_size: float | None = None,
    random_start: bool = True,
    targeted: bool = False,
    mask=None,
    seed: int = 0,
    batch_size: int = 256,
) -> np.ndarray:
    """Projected Gradient Descent: ``steps`` FGSM steps of ``step_size``, each followed by projection onto
    the L-infinity ball of radius ``epsilon`` around the clean image and onto [0, 1].

    Args:
        steps: number of gradient steps (the profile's ``pgd_steps``).
        step_size: default ``2.5 * epsilon / steps`` (Madry et al.), so the walk can reach the ball's edge.
        random_start: start from a uniform random point in the ball (seeded by ``seed``).
        Other arguments as in :func:`fgsm`.

    Returns:
        Adversarial images, float32, same shape, in [0, 1], within ``epsilon`` of ``images``.
    """
    x, y, eps, m = _prepare(model, images, labels, epsilon, mask)
    steps = check_positive_int(steps, "steps")
    batch_size = check_positive_int(batch_size, "batch_size")
    alpha = 2.5 * eps / steps if step_size is None else check_epsilon(step_size, "step_size")
    if eps == 0:
        return x.copy()
    rng = np.random.default_rng(seed)
    out = np.empty_like(x)
    for i in range(0, len(x), batch_size):
        x0, yb, mb = x[i : i + batch_size], y[i : i + batch_size], m[i : i + batch_size]
        xa = x0.copy()
        if random_start:
            xa = np.clip(x0 + rng.uniform(-eps, eps, x0.shape).astype(np.float32) * mb, 0.0, 1.0)
        for _ in range(steps):
            xa = pgd_step(model, xa, x0, yb, eps, alpha, targeted=targeted, mask=mb)
        out[i : i + batch_size] = xa
    return out


ATTACKS = {"fgsm": fgsm, "pgd": pgd}


def accuracy_under_attack(model, images, labels, epsilons, *, attack: str = "fgsm", **attack_kwargs) -> np.ndarray:
    """Accuracy (fraction in [0, 1]) of ``model`` on ``attack``-perturbed images for each epsilon.

    Args:
        epsilons: sequence of perturbation sizes; 0 gives the clean accuracy.
        attack: ``"fgsm"`` or ``"pgd"``; ``attack_kwargs`` go to it (e.g. ``steps``, ``mask``).

    Returns:
        float array, one accuracy per epsilon.
    """
    check_choice(attack, ATTACKS, "attack")
    x = check_images(images)
    y = check_labels(labels, len(x))
    if np.ndim(epsilons) != 1 or len(epsilons) == 0:
        raise ValueError(f"epsilons must be a non-empty 1-D sequence, got {epsilons!r}")
    accs = []
    for eps in epsilons:
        x_adv = ATTACKS[attack](model, x, y, eps, **attack_kwargs)
        accs.append(accuracy(model, x_adv, y))
    return np.asarray(accs)


@keras.saving.register_keras_serializable(package="kit")
class AdversarialTrainer(keras.Model):
    """Adversarial training of a classifier: every ``train_step`` crafts FGSM examples of the batch against
    the current weights and trains on clean and adversarial examples together.

    ``loss = (1 - adv_weight) * CE(clean) + adv_weight * CE(adversarial)``. The FGSM step starts from a
    uniform random point in the epsilon ball and has size ``step_scale * epsilon``, then is projected back to
    the ball (Wong et al., 2020): plain FGSM training tends to learn to defeat FGSM alone, which PGD exposes.

    Inputs: images float32 (N, H, W, C) in [0, 1], labels int (N,). ``model(x)`` returns the classifier's
    logits. Metrics: ``loss``, ``accuracy`` (clean), ``adv_accuracy`` (on the training-time FGSM examples).
    """

    def __init__(
        self,
        classifier: keras.Model,
        epsilon: float = 0.1,
        *,
        step_scale: float = 1.25,
        random_start: bool = True,
        adv_weight: float = 0.5,
        seed: int = 0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(classifier, keras.Model):
            raise TypeError(f"classifier must be a keras.Model, got {type(classifier).__name__}")
        if not 0.0 <= adv_weight <= 1.0:
            raise ValueError(f"adv_weight must lie in [0, 1], got {adv_weight}")
        self.classifier = classifier
        self.epsilon = check_epsilon(epsilon)
        self.step_scale = float(step_scale)
        self.random_start = bool(random_start)
        self.adv_weight = float(adv_weight)
        self.seed = int(seed)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.clean_accuracy = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
        self.adv_accuracy = keras.metrics.SparseCategoricalAccuracy(name="adv_accuracy")

    @property
    def metrics(self):
        return [self.loss_tracker, self.clean_accuracy, self.adv_accuracy]

    def call(self, images, training=False):
        return self.classifier(images, training=training)

    def fgsm_examples(self, x, y):
        """FGSM examples of the batch ``x`` (labels ``y``) against the current weights: from a uniform random
        start in the epsilon ball (``random_start``), one step of ``step_scale * epsilon`` along the sign of the
        input gradient, projected back into the ball and [0, 1]; no gradient flows through them."""
        eps = self.epsilon
        start = x
        if self.random_start:
            start = x + distribute.uniform(keras.ops.shape(x), self.seed_generator, -eps, eps)
            start = keras.ops.clip(start, 0.0, 1.0)
        with tf.GradientTape() as tape:
            tape.watch(start)
            logits = self.classifier(start, training=False)
            loss = keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)
        grad = tape.gradient(loss, start)
        x_adv = start + self.step_scale * eps * keras.ops.sign(grad)
        x_adv = keras.ops.clip(keras.ops.clip(x_adv, x - eps, x + eps), 0.0, 1.0)
        return keras.ops.stop_gradient(x_adv)

    def train_step(self, data):
        x, y = data
        x_adv = self.fgsm_examples(x, y)
        n = keras.ops.shape(x)[0]
        with tf.GradientTape() as tape:
            # One forward pass over both halves: batch-norm layers see one batch, not two.
            logits = self.classifier(keras.ops.concatenate([x, x_adv], axis=0), training=True)
            clean, adv = logits[:n], logits[n:]
            ce = keras.losses.sparse_categorical_crossentropy
            loss = (1.0 - self.adv_weight) * keras.ops.mean(ce(y, clean, from_logits=True)) + self.adv_weight * keras.ops.mean(
                ce(y, adv, from_logits=True)
            )
            # Divided by the replicas and loss-scaled under mixed_float16 (Keras wraps self.optimizer there).
            scaled = scale_loss(self.optimizer, loss)
        apply_gradients(self.optimizer, tape, scaled, self.classifier)
        self.loss_tracker.update_state(loss)
        self.clean_accuracy.update_state(y, clean)
        self.adv_accuracy.update_state(y, adv)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        x, y = data
        logits = self.classifier(x, training=False)
        self.loss_tracker.update_state(
            keras.ops.mean(keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True))
        )
        self.clean_accuracy.update_state(y, logits)
        return {"loss": self.loss_tracker.result(), "accuracy": self.clean_accuracy.result()}

    def get_config(self):
        return {
            **super().get_config(),
            "classifier": keras.saving.serialize_keras_object(self.classifier),
            "epsilon": self.epsilon,
            "step_scale": self.step_scale,
            "random_start": self.random_start,
            "adv_weight": self.adv_weight,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config["classifier"] = keras.saving.deserialize_keras_object(config["classifier"])
        return cls(**config)


def adversarial_trainer(classifier: keras.Model, epsilon: float = 0.1, *, learning_rate: float = 5e-4, jit_compile: bool, optimizer=None,
                        trainer_class=None, **kwargs) -> AdversarialTrainer:
    """A compiled :class:`AdversarialTrainer` (or your own subclass ``trainer_class``, e.g. with the training step
    notebook 01 has you write) around a *copy* of ``classifier`` (same architecture and weights), so the
    undefended model stays available for comparison. Fit it like any classifier; Adam(``learning_rate``)
    unless ``optimizer`` is given.

    ``jit_compile`` is required: pass ``profile.jit_compile``.
    """
    if not isinstance(classifier, keras.Model):
        raise TypeError(f"classifier must be a keras.Model, got {type(classifier).__name__}")
    copy = keras.models.clone_model(classifier)
    copy.set_weights(classifier.get_weights())
    trainer_class = trainer_class or AdversarialTrainer
    if not (isinstance(trainer_class, type) and issubclass(trainer_class, AdversarialTrainer)):
        raise TypeError(f"trainer_class must be a subclass of kit.attacks.AdversarialTrainer, got {trainer_class!r}")
    trainer = trainer_class(copy, epsilon, **kwargs)
    trainer.compile(optimizer=optimizer if optimizer is not None else keras.optimizers.Adam(learning_rate), jit_compile=bool(jit_compile))
    return trainer

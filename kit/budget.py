"""The budget model: how long each notebook takes and how much GPU memory it needs on a Colab T4 at a profile,
estimated from the notebook's actual Keras models (an estimate, not a measurement: ``make gpu-check`` measures).

For every phase of a notebook (a training run, an evaluation pass) it builds the models with the profile's
settings, traces one training step (or forward pass) and counts its floating-point operations with TensorFlow's
profiler (forward, backward and the optimizer update, exactly as the graph runs them), then multiplies by the
number of steps the profile gives. Time = FLOPs / achieved throughput + steps x per-step overhead, with the
achieved throughput calibrated on the TensorFlow DCGAN tutorial's published "about one minute / epoch with the
default settings on Colab": its train step is built and counted here the same way. Peak memory of a training
step = weights, gradients and Adam's two slots (16 bytes per parameter) + twice the activations of the forward
pass (kept for the backward pass, and their gradients). Every assumption is in :data:`ASSUMPTIONS` and in the
output.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from kit import cocogan, game2d, gans, models, sr
from kit.attacks import adversarial_trainer
from kit.checks import check_choice
from kit.judge import PerceptualFeatures
from kit.profiles import Profile

NOTEBOOKS = ("00_gan_game_2d", "01_classifier_fgsm", "02_dcgan", "03_acgan", "04_colorization_gan", "05_sketch_cgan_patchgan", "06_coco_gan",
             "07_esrgan_refinement")
GIB = 2.0**30
ASSUMPTIONS = {
    "hardware": "NVIDIA T4 (Colab): 65 TFLOPS fp16 tensor-core peak, 8.1 TFLOPS fp32 peak, 15 GB",
    "calibration": "TensorFlow DCGAN tutorial (tensorflow.org/tutorials/generative/dcgan): 'about one minute / epoch with the "
                   "default settings on Colab' = 60,000 MNIST images, batch 256, fp32, no XLA; its train step is counted here",
    "calibration_seconds_per_epoch": 60.0,
    "mixed_precision_speedup": 2.0,  # assumed for mixed_float16 + XLA over the tutorial's fp32 (not measured: no GPU was lent)
    "overhead_seconds_per_step": 0.005,  # launch and Python overhead per fit step, on top of the FLOPs
    "photos_tf_flowers": 3670,  # tf_flowers photographs
    "crops_per_photo": 4,  # 128x128 crops with detail per tf_flowers photograph (about 320x240 to 500x375 pixels)
    "skimage_crops_64": 600, "skimage_crops_128": 216,  # crops of scikit-image's seven photographs
    "bytes_per_parameter_training": 16,  # float32 weight + gradient + Adam's two slots
}


@dataclass
class Phase:
    """One part of a notebook: ``steps`` repetitions of a step costing ``flops``; ``peak_bytes`` while it runs."""

    name: str
    flops: float
    steps: int
    peak_bytes: float

    @property
    def total_flops(self) -> float:
        return self.flops * self.steps


def _graph(fn, *specs):
    # autograph=False: the functions traced here are plain calls, and autograph would try to parse lambdas' source.
    return tf.function(fn, autograph=False).get_concrete_function(*specs).graph


def count_flops(fn, *specs) -> float:
    """Floating-point operations of one call of ``fn`` on inputs of ``specs`` (``tf.TensorSpec``), as TensorFlow's
    profiler counts them on the traced graph (convolutions, matrix products, their gradients, element-wise ops)."""
    opts = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    opts["output"] = "none"
    return float(tf.compat.v1.profiler.profile(graph=_graph(fn, *specs), options=opts).total_float_ops)


def activation_bytes(fn, *specs, bytes_per_value: int = 4) -> float:
    """Bytes of every intermediate float tensor of one forward call of ``fn`` (an upper bound of what a training
    step keeps for its backward pass: some of them are freed early)."""
    skip = {"ReadVariableOp", "VarHandleOp", "Const", "Placeholder", "Identity", "NoOp"}
    total = 0
    for op in _graph(fn, *specs).get_operations():
        if op.type in skip:
            continue
        for t in op.outputs:
            if t.dtype.is_floating and t.shape.is_fully_defined():
                total += int(np.prod(t.shape.as_list(), dtype=np.int64))
    return float(total * bytes_per_value)


def _spec(shape, dtype=tf.float32):
    return tf.TensorSpec(shape, dtype)


def _train_phase(name, model, data_specs, steps, forward_parts, params, mixed) -> Phase:
    flops = count_flops(lambda *d: model.train_step(d if len(d) > 1 else d[0]), *data_specs)
    acts = sum(activation_bytes(fn, *specs, bytes_per_value=2 if mixed else 4) for fn, specs in forward_parts)
    return Phase(name, flops, int(steps), params * ASSUMPTIONS["bytes_per_parameter_training"] + 2 * acts)


def _forward_phase(name, fn, specs, passes, params, mixed) -> Phase:
    return Phase(name, count_flops(fn, *specs), int(passes), params * 4 + activation_bytes(fn, *specs, bytes_per_value=2 if mixed else 4))


def _adam():
    return keras.optimizers.Adam(1e-4)


def _gan_phase(name, gan, batch, images, epochs, mixed) -> Phase:
    gan.compile(g_optimizer=_adam(), d_optimizer=_adam(), jit_compile=False)
    shape = (batch, *gan.image_shape)
    z = _spec((batch, gan.latent_dim))
    cond = isinstance(gan, gans.ACGAN)
    data = (_spec(shape), _spec((batch,), tf.int32)) if cond else (_spec(shape),)
    g_fn = (lambda z, y: gan.generator([z, y])) if cond else (lambda z: gan.generator(z))
    g_specs = (z, _spec((batch,), tf.int32)) if cond else (z,)
    parts = [(g_fn, g_specs), (lambda x: gan.discriminator(x), (_spec(shape),)), (lambda x: gan.discriminator(x), (_spec(shape),))]
    params = gan.generator.count_params() + gan.discriminator.count_params()
    return _train_phase(name, gan, data, epochs * (images // batch), parts, params, mixed)


def _classifier_phases(P: Profile, train_n: int, mixed: bool, judge_only=False) -> list[Phase]:
    out = []
    names = ("improved_cnn",) if judge_only else ("dense", "reference_cnn", "improved_cnn")
    for name in names:
        m = models.build_classifier(name, jit_compile=False)
        epochs = P.improved_epochs if name == "improved_cnn" else P.classifier_epochs
        out.append(_train_phase(f"train {name}" if not judge_only else "train the judge classifier (first run only)", m,
                                (_spec((P.batch_size, 28, 28, 1)), _spec((P.batch_size,), tf.int32)), epochs * math.ceil(train_n / P.batch_size),
                                [(lambda x: m(x, training=True), (_spec((P.batch_size, 28, 28, 1)),))], m.count_params(), mixed))
    return out


def _inception_phase(P, n, mixed) -> Phase:
    """Inception FID and IS on Colab: InceptionV3 on 2 x min(n, 2000) images at 299x299 (the notebooks cap it)."""
    net = keras.applications.InceptionV3(include_top=True, weights=None)
    images = 2 * min(n, 2000)
    return _forward_phase("Inception FID/IS", lambda x: net(x), (_spec((64, 299, 299, 3)),), math.ceil(images / 64), net.count_params(), mixed)


def _fid_phase(P, n, mixed) -> Phase:
    judge = models.build_classifier("improved_cnn", jit_compile=False)
    return _forward_phase("FID/IS features", lambda x: judge(x), (_spec((512, 28, 28, 1)),), math.ceil(2 * n / 512), judge.count_params(), mixed)


def notebook_phases(notebook: str, P: Profile) -> list[Phase]:
    """The phases of ``notebook`` at profile ``P``, with their models built and counted."""
    check_choice(notebook, NOTEBOOKS, "notebook")
    mixed = P.mixed_precision
    keras.utils.set_random_seed(0)
    n_train = P.train_samples or 60000
    if notebook == "00_gan_game_2d":
        return _game2d_phases(P)
    if notebook == "01_classifier_fgsm":
        phases = _classifier_phases(P, n_train, mixed)
        ref = models.build_classifier("reference_cnn", jit_compile=False)
        batch = 256  # the attacks' batch
        grad_flops = 3 * count_flops(lambda x: ref(x), _spec((batch, 28, 28, 1)))  # forward + input gradient
        # FGSM curves of the 3 models and the adversarially trained one, PGD curves of 2 models: gradient passes.
        passes = math.ceil(P.attack_samples / batch) * len(P.epsilons) * (4 + 2 * P.pgd_steps)
        phases.append(Phase("attacks (FGSM and PGD curves)", grad_flops, passes, ref.count_params() * 4))
        trainer = adversarial_trainer(ref, 0.1, jit_compile=False)
        phases.append(_train_phase("adversarial training", trainer, (_spec((P.batch_size, 28, 28, 1)), _spec((P.batch_size,), tf.int32)),
                                   P.adv_epochs * math.ceil((P.adv_train_samples or n_train) / P.batch_size),
                                   [(lambda x: ref(x, training=True), (_spec((2 * P.batch_size, 28, 28, 1)),))], ref.count_params(), mixed))
        return phases
    n_gan = P.gan_train_samples or 60000
    if notebook == "02_dcgan":
        dc = gans.GAN(models.dcgan_generator(), models.dcgan_discriminator())
        wg = gans.GAN(models.dcgan_generator(), models.dcgan_discriminator(dropout=0.0), loss="wgan-gp")
        return [*_classifier_phases(P, n_train, mixed, judge_only=True), _gan_phase("train the DCGAN", dc, P.batch_size, P.dcgan_train_samples or 60000, P.dcgan_epochs, mixed),
                # The loss comparison: BCE, LSGAN and hinge cost a DCGAN step each; a WGAN-GP step (its n_critic critic
                # updates included, as traced) costs more.
                _gan_phase("loss comparison (3 one-critic losses)", dc, P.batch_size, 3 * P.loss_compare_steps * P.batch_size, 1, mixed),
                _gan_phase("loss comparison (WGAN-GP)", wg, P.batch_size, P.loss_compare_steps * P.batch_size, 1, mixed),
                _fid_phase(P, P.fid_samples * (P.dcgan_epochs + 8), mixed),
                _inception_phase(P, P.fid_samples, mixed)]
    if notebook == "03_acgan":
        ac = gans.ACGAN(models.acgan_generator(), models.acgan_discriminator())
        return [*_classifier_phases(P, n_train, mixed, judge_only=True), _gan_phase("train the ACGAN", ac, P.batch_size, n_gan, P.gan_epochs, mixed),
                _fid_phase(P, 3 * P.fid_samples, mixed), _inception_phase(P, P.fid_samples, mixed)]
    S = P.img2img
    if notebook in ("04_colorization_gan", "05_sketch_cgan_patchgan"):
        color = notebook.startswith("04")
        size, n, epochs = (28, S.colorization_train_samples or 60000, S.colorization_epochs) if color else (64, S.sketch_train_samples or 60000, S.sketch_epochs)
        filters = 32 if color else S.sketch_filters
        phases = [] if color else _classifier_phases(P, n_train, mixed, judge_only=True)
        for label, gw in (("L1 only", 0.0), ("L1 + GAN", 1.0)) if color else (("sketch cGAN", 1.0),):
            m = gans.pix2pix((size, size, 1), 3, num_classes=10, base_filters=filters, gan_weight=gw, jit_compile=False)
            specs = (_spec((S.batch_size, size, size, 1)), _spec((S.batch_size, size, size, 3)), _spec((S.batch_size,), tf.int32))
            parts = [(lambda c, y: m.generator([c, y]), (specs[0], specs[2])),
                     (lambda c, x, y: m.discriminator([c, x, y]), specs), (lambda c, x, y: m.discriminator([c, x, y]), specs)]
            phases.append(_train_phase(f"train {label}", m, specs, epochs * (n // S.batch_size), parts,
                                       m.generator.count_params() + m.discriminator.count_params(), mixed))
        if not color:
            phases.append(_inception_phase(P, S.test_samples, mixed))
        return phases
    C = P.cocogan
    if notebook == "06_coco_gan":
        return _coco_phases(P, mixed)
    return _esrgan_phases(P, mixed)


def _game2d_phases(P: Profile) -> list[Phase]:
    """Notebook 00: the plain GAN and WGAN-GP on the ring (one run per seed each) and WGAN-GP on the grid; tiny MLPs
    in float32 (the notebook keeps them out of mixed precision), so the per-step overhead dominates."""
    g = P.game2d
    out = []
    for name, loss, steps in (("plain GAN on the ring, every seed", "bce", g.steps * len(g.seeds)),
                              ("WGAN-GP on the ring, every seed", "wgan-gp", g.steps * len(g.seeds)), ("WGAN-GP on the 5x5 grid", "wgan-gp", g.grid_steps),
                              # D alone against a fixed generator: counted as GAN steps of n_critic D steps each (plus
                              # one G step each: a slight overestimate of a small phase)
                              ("discriminator alone (best response)", "bce", -(-g.best_response_steps // g.n_critic))):
        gan = gans.GAN(game2d.mlp_generator(g.latent_dim, g.width, g.depth), game2d.mlp_discriminator(g.width, g.depth),
                       loss=gans.get_loss(loss, n_critic=g.n_critic))
        out.append(_gan_phase(f"train the {name}", gan, g.batch_size, steps * g.batch_size, 1, False))
    return out


def _coco_phases(P: Profile, mixed: bool) -> list[Phase]:
    C = P.cocogan
    out = _classifier_phases(P, P.train_samples or 60000, mixed, judge_only=True)
    for name, grid, channels, filters, n, epochs, batch in (
            ("COCO-GAN, Fashion-MNIST 32x32", cocogan.PatchGrid(32, 16, 8), 1, C.base_filters, C.train_samples or 60000, sum(C.stage_epochs), C.batch_size),
            ("COCO-GAN, photographs 64x64", cocogan.PatchGrid(64, 32, 16), 3, C.photo_base_filters,
             C.photo_train_samples or (int(0.8 * ASSUMPTIONS["photos_tf_flowers"]) if C.photo_collection else ASSUMPTIONS["skimage_crops_64"]),
             sum(C.photo_stage_epochs), C.photo_batch_size)):
        gan = cocogan.cocogan(grid, channels=channels, base_filters=filters, n_critic=2)
        gan.compile(**cocogan.ttur_optimizers(), jit_compile=False)
        m, big = grid.micro_size, grid.macro_size
        k2 = grid.ratio**2
        parts = [(lambda z, c: gan.generator([z, c]), (_spec((batch * k2, gan.latent_dim)), _spec((batch * k2, 2)))),
                 (lambda x, c: gan.discriminator([x, c]), (_spec((batch, big, big, channels)), _spec((batch, 2))))]
        steps = epochs * (n // batch) + (C.beyond_steps if channels == 1 else C.photo_beyond_steps)
        out.append(_train_phase(f"train {name}", gan, (_spec((batch, grid.image_size, grid.image_size, channels)),), steps, parts,
                                gan.generator.count_params() + gan.discriminator.count_params(), mixed))
    for size in C.memory_sizes:  # the memory comparison: a few steps of the full-image GAN, the larger of the two
        full = gans.GAN(cocogan.full_generator(64, size, 3, 32), cocogan.full_discriminator(size, 3, 32), loss=gans.get_loss("wgan-gp", n_critic=1))
        b = C.memory_batch
        out.append(_gan_phase(f"memory comparison, full-image GAN {size}x{size}", full, b, b * (C.memory_steps + 1), 1, False))
    return out


def _esrgan_phases(P: Profile, mixed: bool) -> list[Phase]:
    e = P.esrgan
    crops = ((e.collection_photos or ASSUMPTIONS["photos_tf_flowers"]) * ASSUMPTIONS["crops_per_photo"] if e.collection
             else ASSUMPTIONS["skimage_crops_128"] * (128 // e.crop_size) ** 2)
    crops = min(crops, e.max_crops or crops)
    n_train, levels = int(0.8 * crops), 3
    lr = e.crop_size // 4
    out = []
    if e.download_weights:
        net = sr.rrdbnet()  # Real-ESRGAN x4plus
        passes = crops * (1 + levels * e.draws)  # E(raw) and E(degraded) of every crop and draw
        out.append(_forward_phase("Real-ESRGAN x4plus inference", lambda x: net(x), (_spec((8, lr, lr, 3)),), math.ceil(passes / 8), net.count_params(), mixed))
    pairs = n_train * e.draws
    colour = sr.colour_stage(base_filters=e.colour_filters)
    unet = sr.refiner(base_filters=e.refiner_filters, depth=e.refiner_depth)
    for name, model, size, epochs in (("colour stage", colour, e.crop_size, e.colour_epochs), ("refiner U-Net (L1)", unet, e.patch, e.refiner_epochs)):
        if not epochs:
            continue
        model.compile(optimizer=_adam(), loss=sr.RestorationLoss(1.0, 1.0), jit_compile=False)
        b = e.batch_size
        out.append(_train_phase(f"train the {name}, {levels} levels", model, (_spec((b, size, size, 3)), _spec((b, size, size, 3))),
                                levels * epochs * math.ceil(pairs / b), [(lambda x: model(x, training=True), (_spec((b, size, size, 3)),))],
                                model.count_params(), mixed))
    features = sr_features()
    gan = sr.esrgan_refiner(sr.refiner(base_filters=e.refiner_filters, depth=e.refiner_depth), features, jit_compile=False)
    b, p = e.batch_size, e.patch
    parts = [(lambda x: gan.generator(x), (_spec((b, p, p, 3)),)), (lambda x: features(x), (_spec((b, p, p, 3)),)),
             (lambda x: features(x), (_spec((b, p, p, 3)),)), (lambda x: gan.discriminator(x), (_spec((b, p, p, 3)),))]
    out.append(_train_phase("train the GAN refiner (ESRGAN objective, one level)", gan, (_spec((b, p, p, 3)), _spec((b, p, p, 3))),
                            e.gan_epochs * (pairs // b), parts,
                            gan.generator.count_params() + gan.discriminator.count_params() + features.model.count_params() // 4, mixed))
    return out


def sr_features() -> PerceptualFeatures:
    """VGG19 up to conv5_4 with random weights (the budget needs its size, not its weights)."""
    return PerceptualFeatures(keras.applications.VGG19(include_top=False, weights=None), "budget model", False)


def estimate_notebook(notebook: str, P: Profile) -> dict:
    """``{"est_minutes", "peak_gib", "phases": [...]}`` of ``notebook`` at ``P`` on a T4 (see the module docstring)."""
    phases = notebook_phases(notebook, P)
    rate = achieved_flops_per_second() * (ASSUMPTIONS["mixed_precision_speedup"] if P.mixed_precision else 1.0)
    seconds = sum(ph.total_flops / rate + ph.steps * ASSUMPTIONS["overhead_seconds_per_step"] for ph in phases)
    return {"est_minutes": seconds / 60.0, "peak_gib": max(ph.peak_bytes for ph in phases) / GIB,
            "phases": [{"name": ph.name, "steps": ph.steps, "gflops_per_step": ph.flops / 1e9,
                        "minutes": (ph.total_flops / rate + ph.steps * ASSUMPTIONS["overhead_seconds_per_step"]) / 60.0,
                        "peak_gib": ph.peak_bytes / GIB} for ph in phases]}


_RATE: dict = {}


def achieved_flops_per_second() -> float:
    """FLOP/s achieved by the TensorFlow DCGAN tutorial's training on Colab (fp32), from its own architecture
    counted here and its published time per epoch: the calibration of every estimate."""
    if "rate" not in _RATE:
        layers = keras.layers
        g = keras.Sequential([keras.Input((100,)), layers.Dense(7 * 7 * 256, use_bias=False), layers.BatchNormalization(), layers.LeakyReLU(),
                              layers.Reshape((7, 7, 256)), layers.Conv2DTranspose(128, 5, padding="same", use_bias=False), layers.BatchNormalization(),
                              layers.LeakyReLU(), layers.Conv2DTranspose(64, 5, strides=2, padding="same", use_bias=False), layers.BatchNormalization(),
                              layers.LeakyReLU(), layers.Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=False, activation="tanh")])
        d = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(64, 5, strides=2, padding="same"), layers.LeakyReLU(), layers.Dropout(0.3),
                              layers.Conv2D(128, 5, strides=2, padding="same"), layers.LeakyReLU(), layers.Dropout(0.3), layers.Flatten(), layers.Dense(1)])
        gan = gans.GAN(g, d)
        gan.compile(g_optimizer=_adam(), d_optimizer=_adam(), jit_compile=False)
        step = count_flops(lambda x: gan.train_step(x), _spec((256, 28, 28, 1)))
        _RATE["rate"] = step * math.ceil(60000 / 256) / ASSUMPTIONS["calibration_seconds_per_epoch"]
    return _RATE["rate"]


def estimate(P: Profile) -> dict:
    """The budget of every notebook at ``P``: what ``benchmarks/budget.py`` writes to ``results/budget.json``."""
    books = {nb: estimate_notebook(nb, P) for nb in NOTEBOOKS}
    return {"profile": P.name, "hardware": "estimate for an NVIDIA T4 (Colab), budget model, not a measurement",
            "assumptions": {**ASSUMPTIONS, "achieved_fp32_tflops": achieved_flops_per_second() / 1e12}, "notebooks": books,
            "max_est_minutes": max(b["est_minutes"] for b in books.values()), "max_peak_gib": max(b["peak_gib"] for b in books.values())}

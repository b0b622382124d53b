"""Every model family of the kit trained under ``tf.distribute.MirroredStrategy`` on 2 replicas must end where one
replica ends on the same global batch. Writes ``results/distribute.json``.

    python benchmarks/distribute.py                 # 2 logical CPUs (or 2 GPUs where there are), every family
    python benchmarks/distribute.py --families gan  # some of them

Each family is built from the same seed under each strategy and trained a few steps with
``kit.distribute.noise_mode("global")`` (every replica takes its slice of the noise one replica would draw, so the
two runs are comparable); the largest absolute difference between the final weights is reported. Dropout is off
in these models: Keras draws dropout masks from per-layer seed generators that this mode does not reach. Also
measured: that in normal training the replicas draw different latents, and DCGAN steps/s on 1 and 2 replicas
(on logical CPUs this says little: both share the same cores).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import tensorflow as tf

ROOT = Path(__file__).resolve().parent.parent
FAMILIES = ("classifier", "adversarial_trainer", "gan_bce", "gan_hinge", "gan_wgan_gp", "acgan", "pix2pix", "cocogan",
            "q_network", "refiner", "rrdbnet", "mixed_precision_dcgan")
GLOBAL_BATCH = 8
# Trained under the strategy to show it works (finite losses), not held to the float32 tolerance: float16 compute
# rounds differently when a batch is split.
INFORMATIVE = ("mixed_precision_dcgan",)


def devices(replicas: int) -> list[str]:
    """``replicas`` device names: GPUs when there are enough, else logical CPUs (configured here, before TF uses
    the CPU)."""
    gpus = tf.config.list_physical_devices("GPU")
    if len(gpus) >= replicas:
        return [f"/gpu:{i}" for i in range(replicas)]
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(replicas)])
    return [d.name for d in tf.config.list_logical_devices("CPU")[:replicas]]


def _fashion(n, scale="tanh"):
    from kit.data import load_fashion_mnist

    fm = load_fashion_mnist(scale, train_samples=n, test_samples=8, seed=0)
    return fm.x_train, fm.y_train


def build_and_train(family: str):
    """Build ``family`` (inside the current strategy scope) and train it; returns (model whose variables are
    compared, logged losses of the last epoch)."""
    import keras

    from kit import attacks, cocogan, gans, models, sr, training
    from kit.data import make_dataset

    keras.utils.set_random_seed(0)
    # SGD, not Adam: Adam divides every update by the gradient's running RMS, so a weight whose gradient is about
    # 0 turns the float-summation-order noise between one and two replicas (1e-8) into a full-size step of either
    # sign. SGD's update is the gradient itself: what distribution could get wrong (loss scaling, noise, batch
    # statistics) shows, and nothing else. The learning rate is small for the same reason: a few large steps of a
    # WGAN critic or a batch-normalised CNN amplify 1e-8 differences chaotically (a max-pool or ReLU tie decided
    # the other way); at 5e-4 the runs agree to float precision.
    sgd = lambda lr=5e-4: keras.optimizers.SGD(lr)  # noqa: E731
    if family == "classifier":
        x, y = _fashion(32, "unit")
        m = models.build_classifier("improved_cnn", jit_compile=False, dropout=False, optimizer=sgd())
        h = training.fit_classifier(m, x, y, epochs=1, batch_size=GLOBAL_BATCH, verbose=0)
        return m, h.history
    if family == "adversarial_trainer":
        x, y = _fashion(32, "unit")
        m = attacks.adversarial_trainer(models.build_classifier("reference_cnn", jit_compile=False), 0.1, jit_compile=False, optimizer=sgd())
        h = training.fit_classifier(m, x, y, epochs=1, batch_size=GLOBAL_BATCH, verbose=0)
        return m, h.history
    if family.startswith("gan_") or family in ("acgan", "mixed_precision_dcgan"):
        x, y = _fashion(32)
        loss = {"gan_bce": "bce", "gan_hinge": "hinge", "gan_wgan_gp": gans.get_loss("wgan-gp", n_critic=2)}.get(family, "bce")
        if family == "acgan":
            m = gans.ACGAN(models.acgan_generator(latent_dim=16), models.acgan_discriminator(dropout=0.0), seed=0)
            data = make_dataset(x, y, batch_size=GLOBAL_BATCH, drop_remainder=True)
        else:
            m = gans.GAN(models.dcgan_generator(latent_dim=16), models.dcgan_discriminator(dropout=0.0), loss=loss, seed=0)
            data = make_dataset(x, batch_size=GLOBAL_BATCH, drop_remainder=True)
        m.compile(g_optimizer=sgd(), d_optimizer=sgd(), jit_compile=False)
        return m, gans.fit_gan(m, data, epochs=1, verbose=0)
    if family == "pix2pix":
        x, y = _fashion(32)
        g = models.unet_generator((32, 32, 1), 1, num_classes=None, base_filters=4, dropout=0.0)
        d = models.patchgan_discriminator((32, 32, 1), 1, num_classes=None, base_filters=4)
        m = gans.Pix2Pix(g, d)
        m.compile(g_optimizer=sgd(), d_optimizer=sgd(), jit_compile=False)
        pad = np.pad(x, ((0, 0), (2, 2), (2, 2), (0, 0)), constant_values=-1.0)
        return m, gans.fit_gan(m, make_dataset((pad, -pad), batch_size=GLOBAL_BATCH, drop_remainder=True), epochs=1, verbose=0)
    if family in ("cocogan", "q_network"):
        x = cocogan.pad32(_fashion(32)[0])
        m = cocogan.cocogan(cocogan.PatchGrid(32, 16, 8), latent_dim=8, base_filters=4, n_critic=2, ema_decay=0.9)
        m.compile(g_optimizer=sgd(), d_optimizer=sgd(1e-3), jit_compile=False)
        data = make_dataset(x, batch_size=GLOBAL_BATCH, drop_remainder=True)
        h = gans.fit_gan(m, data, epochs=1, verbose=0)
        if family == "cocogan":
            return m, h
        q = cocogan.q_network(m, base_filters=4)
        return q, cocogan.fit_q_network(q, data, epochs=1, verbose=0, optimizer=sgd())
    if family in ("refiner", "rrdbnet"):
        rng = np.random.default_rng(0)
        y = rng.uniform(0.1, 0.9, (16, 32, 32, 3)).astype(np.float32)
        if family == "refiner":
            m, x = sr.refiner(base_filters=4, depth=2, zero_init=False), np.clip(y + rng.normal(0, 0.05, y.shape), 0, 1).astype(np.float32)
        else:
            m, x = sr.rrdbnet(num_feat=8, num_block=1, num_grow_ch=4), sr.downscale(y)
        h = sr.fit_restoration(m, x, y, validation_data=(x[:4], y[:4]), epochs=1, batch_size=GLOBAL_BATCH, patch=None, learning_rate=1e-3,
                               loss=sr.RestorationLoss(1.0, 1.0), checkpoint=Path(tempfile.mkdtemp()) / f"{family}.weights.h5",
                               jit_compile=False, verbose=0, optimizer=sgd())
        return m, h.history
    raise ValueError(f"unknown family {family!r}; expected one of {FAMILIES}")


def run(family: str, strategy) -> tuple[list[np.ndarray], dict]:
    import keras

    from kit import distribute

    policy = "mixed_float16" if family == "mixed_precision_dcgan" else "float32"
    keras.mixed_precision.set_global_policy(policy)
    try:
        with strategy.scope(), distribute.noise_mode("global"):
            model, history = build_and_train(family)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    return [np.asarray(v) for v in model.variables if "seed_generator" not in v.path], history


def replicas_draw_different_latents(strategy) -> bool:
    """In normal training every replica gets its own noise (kit.distribute folds the replica id into the seed)."""
    import keras

    from kit import distribute

    with strategy.scope():
        sg = keras.random.SeedGenerator(0)

    @tf.function
    def draw():
        return strategy.run(lambda: distribute.normal((4, 3), sg))

    values = strategy.experimental_local_results(draw())
    return not np.allclose(np.asarray(values[0]), np.asarray(values[1]))


def resume_is_exact(strategy) -> float:
    """Train a GAN 2 epochs under ``strategy`` with checkpoints; train another 1 epoch, then resume it in a new
    model (as a new kernel would) to 2 epochs; the largest weight difference between the two (0: exact)."""
    import keras

    from kit import gans, models
    from kit.data import make_dataset

    x = _fashion(32)[0]

    def model():
        with strategy.scope():
            keras.utils.set_random_seed(0)
            m = gans.GAN(models.dcgan_generator(latent_dim=16), models.dcgan_discriminator(), seed=0)
            m.compile(g_optimizer=keras.optimizers.Adam(), d_optimizer=keras.optimizers.Adam(), jit_compile=False)
        return m

    straight, first, resumed = model(), model(), model()
    folder = Path(tempfile.mkdtemp())
    gans.fit_gan(straight, make_dataset(x, batch_size=GLOBAL_BATCH, drop_remainder=True), epochs=2, checkpoint_dir=folder / "a", verbose=0)
    gans.fit_gan(first, make_dataset(x, batch_size=GLOBAL_BATCH, drop_remainder=True), epochs=1, checkpoint_dir=folder / "b", verbose=0)
    gans.fit_gan(resumed, make_dataset(x, batch_size=GLOBAL_BATCH, drop_remainder=True), epochs=2, checkpoint_dir=folder / "b", verbose=0)
    return max(float(np.max(np.abs(np.asarray(a) - np.asarray(b)))) for a, b in zip(straight.variables, resumed.variables))


def steps_per_second(strategy, steps: int = 20) -> float:
    import keras

    from kit import gans, models
    from kit.data import make_dataset

    x = _fashion(64 * 4)[0]
    with strategy.scope():
        keras.utils.set_random_seed(0)
        m = gans.GAN(models.dcgan_generator(), models.dcgan_discriminator(), seed=0)
        m.compile(g_optimizer=keras.optimizers.Adam(), d_optimizer=keras.optimizers.Adam(), jit_compile=False)
    data = make_dataset(x, batch_size=64, drop_remainder=True).repeat()
    m.fit(data.take(3), epochs=1, verbose=0, shuffle=False)  # trace
    start = time.perf_counter()
    m.fit(data.take(steps), epochs=1, verbose=0, shuffle=False)
    return steps / (time.perf_counter() - start)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--families", nargs="*", default=list(FAMILIES))
    ap.add_argument("--out", default=str(ROOT / "results"))
    ap.add_argument("--tolerance", type=float, default=1e-5)
    ap.add_argument("--no-speed", action="store_true")
    args = ap.parse_args(argv)
    names = devices(2)
    import kit
    from kit import distribute

    one, two = distribute.strategy(names[:1]), distribute.strategy(names)
    rows = []
    for family in args.families:
        a, ha = run(family, one)
        b, hb = run(family, two)
        diff = max((float(np.max(np.abs(x.astype(np.float64) - y.astype(np.float64)))) if x.size else 0.0) for x, y in zip(a, b))
        losses = {k: (float(ha[k][-1]), float(hb[k][-1])) for k in ha if "loss" in k or k == "gp"}
        finite = all(np.isfinite(v).all() for pair in losses.values() for v in pair)
        rows.append({"family": family, "max_abs_weight_diff": diff, "variables": len(a), "finite": finite,
                     "compared": family not in INFORMATIVE, "logged_losses_1_vs_2_replicas": losses})
        print(json.dumps(rows[-1]), flush=True)
    different = replicas_draw_different_latents(two)
    resume = resume_is_exact(two)
    speed = {} if args.no_speed else {"steps_per_s_1_replica": steps_per_second(one), "steps_per_s_2_replicas": steps_per_second(two)}
    summary = {"profile": "smoke", "hardware": kit.hardware() + f" ({len(names)} {'GPUs' if 'GPU' in names[0].upper() else 'logical CPUs'})",
               "replicas": 2, "families": [r["family"] for r in rows],
               "max_abs_weight_diff": max(r["max_abs_weight_diff"] for r in rows if r["compared"]),
               "all_losses_finite": all(r["finite"] for r in rows),
               "latents_differ_across_replicas": different, "resume_max_abs_weight_diff": resume, "global_batch": GLOBAL_BATCH, **speed}
    out = kit.runs.write_results(Path(args.out) / "distribute.json", summary, kit.profile("smoke"), per_family=rows)
    print(json.dumps(summary, indent=2), f"\nwrote {out}")
    ok = summary["max_abs_weight_diff"] <= args.tolerance and different and summary["all_losses_finite"] and resume == 0.0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

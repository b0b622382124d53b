"""Benchmark of notebooks 02-03: the speed of the kit's GAN ``train_step`` against a plain ``tf.function`` +
``GradientTape`` loop of the same architecture, and the quality of the DCGAN and ACGAN at a profile.
Writes ``results/gans.json`` and sample grids next to it.

    python benchmarks/gans.py --profile cpu            # quality + speed
    python benchmarks/gans.py --speed-only             # just the train_step comparison
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

import kit
from kit import gans, judge, metrics, models
from kit.data import CLASS_NAMES, load_fashion_mnist, make_dataset

RESULTS = Path(__file__).resolve().parent.parent / "results"
BATCH = 64
LATENT = 100


def adam():
    return keras.optimizers.Adam(2e-4, beta_1=0.5)


def plain_loop(jit: bool):
    """The same DCGAN and BCE loss trained by a hand-written tf.function step: the baseline the kit's
    train_step must match."""
    keras.utils.set_random_seed(0)
    g, d = models.dcgan_generator(LATENT), models.dcgan_discriminator()
    g_opt, d_opt = adam(), adam()
    bce = keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function(jit_compile=jit)
    def step(real):
        z = tf.random.normal((BATCH, LATENT))
        with tf.GradientTape() as tape:
            fake = g(z, training=True)
            rs, fs = d(real, training=True), d(fake, training=True)
            d_loss = bce(tf.ones_like(rs), rs) + bce(tf.zeros_like(fs), fs)
        d_opt.apply(tape.gradient(d_loss, d.trainable_variables), d.trainable_variables)
        z = tf.random.normal((BATCH, LATENT))
        with tf.GradientTape() as tape:
            fs = d(g(z, training=True), training=True)
            g_loss = bce(tf.ones_like(fs), fs)
        g_opt.apply(tape.gradient(g_loss, g.trainable_variables), g.trainable_variables)
        return d_loss, g_loss

    def run(ds):
        """Seconds from the first step's start to the last step's end (the iterator is made before, as
        fit() makes its own before the first batch)."""
        batches = iter(ds)
        start = time.perf_counter()
        for real in batches:
            out = step(real)
        float(out[0])  # wait for the last step
        return time.perf_counter() - start

    return run


class _StepClock(keras.callbacks.Callback):
    """Times fit() from its first batch's start to its last batch's end: the train_steps themselves, not
    fit()'s one-off set-up (building the epoch iterator, callbacks), which a long run amortises."""

    def on_train_batch_begin(self, batch, logs=None):
        if batch == 0:
            self.start = time.perf_counter()

    def on_train_end(self, logs=None):
        self.seconds = time.perf_counter() - self.start


def kit_gan(jit: bool):
    keras.utils.set_random_seed(0)
    gan = gans.GAN(models.dcgan_generator(LATENT), models.dcgan_discriminator(), loss="bce")
    gan.compile(g_optimizer=adam(), d_optimizer=adam(), jit_compile=jit)

    def run(ds):
        clock = _StepClock()
        gan.fit(ds, epochs=1, verbose=0, callbacks=[clock])
        return clock.seconds

    return run


def speed(x, *, steps: int, repeats: int, mixed: bool) -> list[dict]:
    """Steps/s of both implementations, with and without XLA, interleaved so drift hits both alike."""
    ds = make_dataset(x, batch_size=BATCH, drop_remainder=True).repeat()
    rows = []
    for jit in (False, True):
        if mixed:
            keras.mixed_precision.set_global_policy("mixed_float16")
        runners = {"kit": kit_gan(jit), "plain": plain_loop(jit)}
        for run in runners.values():
            run(ds.take(5))  # trace/compile and warm up
        times = {k: [] for k in runners}
        for _ in range(repeats):
            for name, run in runners.items():
                times[name].append(run(ds.take(steps)))
        keras.mixed_precision.set_global_policy("float32")
        sps = {k: steps / statistics.median(v) for k, v in times.items()}
        row = {"jit_compile": jit, "mixed_float16": mixed, "batch": BATCH, "steps_timed": steps, "repeats": repeats,
               "kit_steps_per_s": sps["kit"], "plain_steps_per_s": sps["plain"],
               "kit_images_per_s": sps["kit"] * BATCH, "plain_images_per_s": sps["plain"] * BATCH,
               "ratio_kit_over_plain": sps["kit"] / sps["plain"]}
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def quality(P, out_dir: Path) -> dict:
    fm = load_fashion_mnist("tanh", train_samples=P.gan_train_samples, test_samples=P.fid_samples)
    features = judge.classifier_features(P)
    n = P.fid_samples
    t0 = time.perf_counter()
    keras.utils.set_random_seed(0)
    dcgan = gans.GAN(models.dcgan_generator(LATENT), models.dcgan_discriminator(), loss="bce", seed=0)
    dcgan.compile(g_optimizer=adam(), d_optimizer=adam(), jit_compile=P.jit_compile)
    hist = gans.fit_gan(dcgan, make_dataset(fm.x_train, batch_size=P.batch_size, drop_remainder=True), epochs=P.gan_epochs,
                        callbacks=[gans.FIDTracker(features, fm.x_test, n=n)], verbose=2)
    dcgan_seconds = time.perf_counter() - t0
    untrained = gans.GAN(models.dcgan_generator(LATENT), models.dcgan_discriminator(), seed=1)
    s_real = metrics.fid_kid(fm.x_test[:n], fm.x_train[:n], features)
    s_dcgan = metrics.fid_kid(fm.x_test[:n], gans.generate_many(dcgan, n), features)
    s_untrained = metrics.fid_kid(fm.x_test[:n], gans.generate_many(untrained, n), features)
    inception = judge.inception_features()
    fid_inception = None
    if inception is not None:
        m = min(n, 10000)
        fid_inception = metrics.fid_kid(fm.x_test[:m], gans.generate_many(dcgan, m), inception)["fid"]

    t0 = time.perf_counter()
    keras.utils.set_random_seed(0)
    acgan = gans.ACGAN(models.acgan_generator(LATENT), models.acgan_discriminator(), loss=gans.get_loss("bce", label_smoothing=0.1), seed=0)
    acgan.compile(g_optimizer=adam(), d_optimizer=adam(), jit_compile=P.jit_compile)
    ac_hist = gans.fit_gan(acgan, make_dataset(fm.x_train, fm.y_train, batch_size=P.batch_size, drop_remainder=True), epochs=P.gan_epochs, verbose=2)
    acgan_seconds = time.perf_counter() - t0
    requested = np.repeat(np.arange(10), max(1, n // 10))
    fake = gans.generate_many(acgan, len(requested), labels=requested)
    probs = features.probabilities(fake)
    cm = metrics.confusion_matrix(requested, probs.argmax(-1))
    real_acc = metrics.accuracy(features.classifier, (fm.x_test + 1) / 2, fm.y_test)

    z = np.random.default_rng(5).standard_normal((40, LATENT)).astype("float32")
    fig = kit.viz.image_grid(dcgan.generate(z), ncols=10, value_range=(-1, 1), cell=0.8, title=f"DCGAN samples ({P.name} profile)", show=False)
    fig.savefig(out_dir / "gans_dcgan_samples.png")
    kit.viz.close(fig)
    # Rows: the 10 classes, T-shirt/top at the top; columns: the same 8 latent vectors in every row.
    fig = kit.viz.image_grid(acgan.generate(np.tile(z[:8], (10, 1)), np.repeat(np.arange(10), 8)), ncols=8, value_range=(-1, 1),
                             cell=0.8, title=f"ACGAN: one row per class, T-shirt/top to Ankle boot ({P.name} profile)", show=False)
    fig.savefig(out_dir / "gans_acgan_classes.png")
    kit.viz.close(fig)
    return {
        "dcgan": {"epochs": P.gan_epochs, "train_samples": len(fm.x_train), "seconds": dcgan_seconds, "history": hist,
                  "fid_classifier": s_dcgan["fid"], "kid_classifier": s_dcgan["kid"], "fid_inception": fid_inception},
        "real_vs_real": s_real,
        "untrained": s_untrained,
        "acgan": {"epochs": P.gan_epochs, "seconds": acgan_seconds, "history": ac_hist, "sample_accuracy": float(np.trace(cm) / cm.sum()),
                  "per_class_accuracy": dict(zip(CLASS_NAMES, metrics.per_class_accuracy(cm).tolist())),
                  "classifier_score": metrics.inception_score(probs)[0], "confusion_matrix": cm.tolist()},
        "feature_classifier_real_test_accuracy": real_acc,
        "fid_samples": n,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default=None)
    ap.add_argument("--speed-only", action="store_true")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=str(RESULTS / "gans.json"))
    args = ap.parse_args(argv)
    P = kit.setup(seed=0, profile_name=args.profile)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    x = load_fashion_mnist("tanh", train_samples=BATCH * 20, test_samples=10).x_train
    rows = speed(x, steps=args.steps, repeats=args.repeats, mixed=False)
    if kit.env.gpu_names():
        rows += speed(x, steps=args.steps, repeats=args.repeats, mixed=True)
    cpu_ratio = next(r["ratio_kit_over_plain"] for r in rows if not r["jit_compile"] and not r["mixed_float16"])
    sections = {"speed": rows}
    summary = {"profile": P.name, "hardware": kit.hardware(), "train_step_speed_ratio": cpu_ratio}
    if not args.speed_only:
        q = quality(P, out.parent)
        sections["quality"] = q
        summary.update({
            "dcgan_fid_classifier": q["dcgan"]["fid_classifier"],
            "real_vs_real_fid_classifier": q["real_vs_real"]["fid"],
            "untrained_fid_classifier": q["untrained"]["fid"],
            "acgan_sample_accuracy": q["acgan"]["sample_accuracy"],
            "real_test_accuracy": q["feature_classifier_real_test_accuracy"],
            "dcgan_fid_inception": q["dcgan"]["fid_inception"],
        })
    kit.runs.write_results(out, summary, P, **sections)
    print(json.dumps(summary, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

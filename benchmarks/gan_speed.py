"""The speed of the kit's GAN ``train_step`` under ``model.fit`` against a plain ``tf.function`` + ``GradientTape``
loop of the same DCGAN and loss, with and without XLA (and mixed precision on a GPU), measured in one process.
No notebook measures this; the quality of the GANs comes from notebooks 02 and 03 (``benchmarks/run.py``).
Writes ``results/gan_speed.json``.

    python benchmarks/gan_speed.py                      # 3 repeats of 30 steps per variant
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import keras
import tensorflow as tf

import kit
from kit import gans, models
from kit.data import load_fashion_mnist, make_dataset

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
        gan.fit(ds, epochs=1, verbose=0, shuffle=False, callbacks=[clock])
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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=str(RESULTS / "gan_speed.json"))
    args = ap.parse_args(argv)
    P = kit.setup(seed=0)
    load = os.getloadavg()[0]  # other work on the machine slows both loops alike (interleaved), but not the absolute rates
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    x = load_fashion_mnist("tanh", train_samples=BATCH * 20, test_samples=10).x_train
    rows = speed(x, steps=args.steps, repeats=args.repeats, mixed=False)
    if kit.env.gpu_names():
        rows += speed(x, steps=args.steps, repeats=args.repeats, mixed=True)
    cpu_ratio = next(r["ratio_kit_over_plain"] for r in rows if not r["jit_compile"] and not r["mixed_float16"])
    summary = {"profile": P.name, "hardware": kit.hardware(), "train_step_speed_ratio": cpu_ratio, "load_average_at_start": load}
    kit.runs.write_results(out, summary, P, speed=rows)
    print(json.dumps(summary, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

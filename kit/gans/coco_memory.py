"""Peak training memory and step time of COCO-GAN vs a full-image GAN of comparable capacity.

Each measurement runs in its own Python process (``python -m kit.gans.coco_memory ...``), so one model's
allocations, graph traces and allocator caches cannot inflate the other's peak. On a CPU the peak is the
process's peak resident set size (VmHWM on Linux, ``resource.getrusage`` elsewhere); on a GPU it is
TensorFlow's peak device memory (``tf.config.experimental.get_memory_info``).

Both models are trained with WGAN-GP (same batch, same ``n_critic``) on real Fashion-MNIST garments
resized to the measured side S. COCO-GAN uses the paper's proportions, micro S/4 and macro S/2 (64/32/16
for S = 64): its generator draws 4 micro patches per image and its critic sees S/2 x S/2 patches; the
full-image GAN draws and judges whole S x S images with the same blocks.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

MARKER = "COCO_MEMORY_RESULT "
MODELS = ("coco", "full")


def _peak_rss_mb() -> float:
    """This process's peak resident set size in MB. On Linux from /proc/self/status (VmHWM): getrusage's
    ru_maxrss survives exec, so a child started by a large parent (a notebook kernel with TensorFlow loaded)
    would report the parent's peak as its own."""
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0  # kB
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0  # bytes on macOS, KiB on Linux


def _images(size: int, n: int):
    """n real garments at size x size x 1 in [-1, 1] (Fashion-MNIST padded to 32, bilinear-resized)."""
    import numpy as np
    import tensorflow as tf

    from kit.data.coco_data import fashion_mnist_32

    x = fashion_mnist_32(train_samples=n, test_samples=1).x_train
    return np.clip(tf.image.resize(x, (size, size), method="bilinear").numpy(), -1.0, 1.0).astype("float32")


def measure(model: str, size: int, *, steps: int, batch: int, base_filters: int = 32, latent_dim: int = 64, n_critic: int = 1) -> dict:
    """Train ``model`` ("coco" or "full") for ``steps`` steps in *this* process; returns peak memory (MB)
    and the median step time (s, steps after the first, which traces the graph). Use :func:`compare_memory`
    to run each measurement in a fresh process."""
    import keras
    import tensorflow as tf

    from kit.checks import check_choice, check_positive_int
    from kit.data.pipeline import make_dataset
    from kit.gans.coco import cocogan, ttur_optimizers
    from kit.gans.coco_grid import PatchGrid
    from kit.gans.losses import get_loss
    from kit.gans.models import GAN
    from kit.models.coco_models import full_discriminator, full_generator

    check_choice(model, MODELS, "model")
    steps, batch = check_positive_int(steps, "steps"), check_positive_int(batch, "batch")
    gpu = bool(tf.config.list_physical_devices("GPU"))
    keras.utils.set_random_seed(0)
    ds = make_dataset(_images(size, batch * 2), batch_size=batch, drop_remainder=True).repeat()
    if model == "coco":
        # No weight average: the full-image GAN keeps none, and it is a sampling choice, not part of training.
        gan = cocogan(PatchGrid(size, size // 2, size // 4), latent_dim=latent_dim, base_filters=base_filters, n_critic=n_critic,
                      ema_decay=0.0)
    else:
        gan = GAN(full_generator(latent_dim, size, 1, base_filters), full_discriminator(size, 1, base_filters),
                  loss=get_loss("wgan-gp", n_critic=n_critic))
    gan.compile(*ttur_optimizers(), jit_compile=False)
    before = _peak_rss_mb()
    if gpu:
        tf.config.experimental.reset_memory_stats("GPU:0")

    class Clock(keras.callbacks.Callback):
        times: list = []

        def on_train_batch_begin(self, b, logs=None):
            self.start = time.perf_counter()

        def on_train_batch_end(self, b, logs=None):
            float(logs["d_loss"])  # wait for the step to finish
            self.times.append(time.perf_counter() - self.start)

    clock = Clock()
    gan.fit(ds.take(steps + 1), epochs=1, verbose=0, callbacks=[clock])
    params = gan.generator.count_params() + gan.discriminator.count_params()
    row = {"model": model, "size": size, "batch": batch, "steps": steps, "n_critic": n_critic, "base_filters": base_filters,
           "generator_params": gan.generator.count_params(), "discriminator_params": gan.discriminator.count_params(),
           "params": params, "device": "GPU" if gpu else "CPU", "rss_before_training_mb": before,
           "peak_rss_mb": _peak_rss_mb(), "step_seconds": statistics.median(clock.times[1:])}
    row["training_rss_mb"] = row["peak_rss_mb"] - before  # what training added to the process's peak
    if gpu:
        row["peak_gpu_mb"] = tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20
    row["peak_mb"] = row["peak_gpu_mb"] if gpu else row["peak_rss_mb"]
    return row


def compare_memory(sizes=(64, 128), *, steps: int, batch: int, base_filters: int = 32, n_critic: int = 1, parallel: bool = False,
                   verbose: bool = True) -> dict:
    """Measure both models at every size, each in a fresh process.

    Args:
        parallel: start all processes at once (each peak is still its own process's; only saves wall time, for
            CI). Step times then compete for the cores: keep False when the time ratio matters.

    Returns:
        ``{"rows": [one dict per (size, model)], "memory_ratio": {size: coco peak / full peak},
        "time_ratio": {size: coco step time / full step time}}``.
    """
    jobs = []
    for size in sizes:
        for model in MODELS:
            cmd = [sys.executable, "-m", "kit.gans.coco_memory", "--model", model, "--size", str(size), "--steps", str(steps),
                   "--batch", str(batch), "--base-filters", str(base_filters), "--n-critic", str(n_critic)]
            jobs.append((cmd, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
            if not parallel:
                jobs[-1] = (cmd, jobs[-1][1].communicate(), jobs[-1][1].returncode)
    rows = []
    for job in jobs:
        if parallel:
            cmd, proc = job
            (out, err), code = proc.communicate(), proc.returncode
        else:
            cmd, (out, err), code = job
        lines = [line for line in out.splitlines() if line.startswith(MARKER)]
        if code or not lines:
            raise RuntimeError(f"memory measurement {' '.join(cmd[2:])} failed (exit {code}):\n{err[-3000:]}")
        row = json.loads(lines[-1][len(MARKER):])
        if verbose:
            print(f"{row['size']}x{row['size']} {row['model']:>4}: peak {row['peak_mb']:.0f} MB, {row['step_seconds']:.3f} s/step, "
                  f"{row['params']:,} parameters")
        rows.append(row)
    by = {(r["size"], r["model"]): r for r in rows}
    return {
        "rows": rows,
        "memory_ratio": {s: by[s, "coco"]["peak_mb"] / by[s, "full"]["peak_mb"] for s in sizes},
        "time_ratio": {s: by[s, "coco"]["step_seconds"] / by[s, "full"]["step_seconds"] for s in sizes},
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="One peak-memory measurement (run by compare_memory in its own process).")
    ap.add_argument("--model", choices=MODELS, required=True)
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--base-filters", type=int, default=32)
    ap.add_argument("--n-critic", type=int, default=1)
    args = ap.parse_args(argv)
    row = measure(args.model, args.size, steps=args.steps, batch=args.batch, base_filters=args.base_filters, n_critic=args.n_critic)
    print(MARKER + json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

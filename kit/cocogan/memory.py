"""Peak training memory and step time of COCO-GAN vs a full-image GAN of comparable capacity: the measurement
notebook 06 shows and ``benchmarks/cocogan_memory.py`` records.

Each measurement runs in a fresh Python process (``concurrent.futures`` with the ``spawn`` start method), so
one model's allocations, graph traces and allocator caches cannot inflate the other's peak. On a CPU the peak
is the process's peak resident set size (VmHWM on Linux); on a GPU it is TensorFlow's peak device memory
(``tf.config.experimental.get_memory_info``). Running out of memory is a result, not a crash: a full-image GAN
that does not fit is reported as ``"oom"``, which is exactly the point COCO-GAN makes.

Both models are trained with WGAN-GP (same batch, same ``n_critic``) on the same real images resized to the
measured side S. COCO-GAN uses the paper's proportions, micro S/4 and macro S/2 (64/32/16 for S = 64): its
generator draws 4 micro patches per image and its critic sees S/2 x S/2 patches; the full-image GAN draws and
judges whole S x S images with the same blocks.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import statistics
import sys
import time

import keras
import numpy as np
import tensorflow as tf

from kit.checks import check_choice, check_images, check_positive_int
from kit.cocogan.grid import PatchGrid
from kit.cocogan.networks import full_discriminator, full_generator
from kit.cocogan.training import cocogan, ttur_optimizers
from kit.data import make_dataset
from kit.gans import GAN, get_loss
from kit.imageops import resize

MODELS = ("coco", "full")
# The course's reference report (a GPU, the paper's proportions): peak training memory in MB of the full-image
# GAN and of COCO-GAN. Notebook 06 prints their ratio next to its own measurement.
REFERENCE_PEAK_MB = {"full": 17_184, "coco": 8_992}


def peak_rss_mb() -> float:
    """This process's peak resident set size in MB. On Linux from /proc/self/status (VmHWM): getrusage's
    ru_maxrss survives exec, so a child started by a large parent (a notebook kernel with TensorFlow loaded)
    would report the parent's peak as its own."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0  # kB
    except OSError:
        pass
    import resource  # optional: Unix only (macOS here; Linux answered above)

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0  # bytes on macOS, KiB on Linux


class _Clock(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.times = []

    def on_train_batch_begin(self, batch, logs=None):
        self.start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        float(logs["d_loss"])  # wait for the step to finish
        self.times.append(time.perf_counter() - self.start)


def _build(model: str, size: int, channels: int, base_filters: int, latent_dim: int, n_critic: int):
    if model == "coco":
        # No weight average: the full-image GAN keeps none, and it is a sampling choice, not part of training.
        return cocogan(PatchGrid(size, size // 2, size // 4), channels=channels, latent_dim=latent_dim, base_filters=base_filters,
                       n_critic=n_critic, ema_decay=0.0)
    return GAN(full_generator(latent_dim, size, channels, base_filters), full_discriminator(size, channels, base_filters),
               loss=get_loss("wgan-gp", n_critic=n_critic))


def measure(model: str, images, *, steps: int, batch: int, base_filters: int = 32, latent_dim: int = 64, n_critic: int = 1) -> dict:
    """Train ``model`` ("coco" or "full") on ``images`` (float32 (N, S, S, C) in [-1, 1], N >= batch) for
    ``steps`` steps in *this* process; returns peak memory (MB) and the median step time (s, steps after the
    first, which traces the graph), or ``"oom": True`` with the error when it ran out of memory. Use
    :func:`compare_memory` to run each measurement in a fresh process."""
    check_choice(model, MODELS, "model")
    x = check_images(images, "images", channels=(1, 3), value_range=(-1.0, 1.0))
    steps, batch = check_positive_int(steps, "steps"), check_positive_int(batch, "batch")
    size, channels = x.shape[1], x.shape[-1]
    gpu = bool(tf.config.list_physical_devices("GPU"))
    row = {"model": model, "size": size, "channels": channels, "batch": batch, "steps": steps, "n_critic": n_critic,
           "base_filters": base_filters, "device": "GPU" if gpu else "CPU", "oom": False}
    keras.utils.set_random_seed(0)
    try:
        ds = make_dataset(x, batch_size=batch, drop_remainder=True).repeat()
        gan = _build(model, size, channels, base_filters, latent_dim, n_critic)
        gan.compile(**ttur_optimizers(), jit_compile=False)
        row.update(generator_params=gan.generator.count_params(), discriminator_params=gan.discriminator.count_params())
        row["params"] = row["generator_params"] + row["discriminator_params"]
        row["rss_before_training_mb"] = peak_rss_mb()
        if gpu:
            tf.config.experimental.reset_memory_stats("GPU:0")
        clock = _Clock()
        gan.fit(ds.take(steps + 1), epochs=1, verbose=0, shuffle=False, callbacks=[clock])
    except tf.errors.ResourceExhaustedError as err:
        row.update(oom=True, error=f"{type(err).__name__}: {str(err).splitlines()[0][:300]}")
        return row
    row["peak_rss_mb"] = peak_rss_mb()
    row["training_rss_mb"] = row["peak_rss_mb"] - row["rss_before_training_mb"]  # what training added to the peak
    row["step_seconds"] = statistics.median(clock.times[1:] or clock.times)
    if gpu:
        row["peak_gpu_mb"] = tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20
    row["peak_mb"] = row["peak_gpu_mb"] if gpu else row["peak_rss_mb"]
    return row


def _job(kwargs: dict) -> dict:
    """One measurement in a child process (module-level, so the spawned process can import it)."""
    return measure(**kwargs)


def _run_in_fresh_process(kwargs: dict) -> dict:
    """Run :func:`measure` in a new process; a process killed by the operating system (out of memory) is
    reported as an out-of-memory row."""
    context = multiprocessing.get_context("spawn")  # fork would copy this process's TensorFlow state
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        try:
            return pool.submit(_job, kwargs).result()
        except concurrent.futures.process.BrokenProcessPool as err:
            return {"model": kwargs["model"], "size": kwargs["images"].shape[1], "batch": kwargs["batch"], "oom": True,
                    "error": f"the measuring process died ({err}); most likely the operating system killed it for memory"}


def compare_memory(images_by_size: dict, *, steps: int, batch: int, base_filters: int = 32, n_critic: int = 1,
                   parallel: bool = False, verbose: bool = True) -> dict:
    """Measure both models at every size, each in a fresh process.

    Args:
        images_by_size: ``{S: real images float32 (N, S, S, C) in [-1, 1]}`` (see :func:`images_at`).
        parallel: run the measuring processes side by side (each peak is still its own process's; only saves
            wall time, for CI). Step times then compete for the cores: keep False when the time ratio matters.

    Returns:
        ``{"rows": [one dict per (size, model)], "memory_ratio": {S: coco peak / full peak, or None when either
        ran out of memory}, "time_ratio": {...}, "oom": {S: [models that ran out of memory]}}``.
    """
    jobs = [dict(model=m, images=np.asarray(x, np.float32), steps=steps, batch=batch, base_filters=base_filters, n_critic=n_critic)
            for x in images_by_size.values() for m in MODELS]
    if parallel:
        with concurrent.futures.ThreadPoolExecutor(len(jobs)) as threads:
            rows = list(threads.map(_run_in_fresh_process, jobs))
    else:
        rows = [_run_in_fresh_process(job) for job in jobs]
    by = {(r["size"], r["model"]): r for r in rows}
    sizes = sorted(images_by_size)
    if verbose:
        for r in rows:
            print(describe_row(r))
    ok = lambda s: not by[s, "coco"]["oom"] and not by[s, "full"]["oom"]  # noqa: E731
    return {
        "rows": rows,
        "memory_ratio": {s: by[s, "coco"]["peak_mb"] / by[s, "full"]["peak_mb"] if ok(s) else None for s in sizes},
        "time_ratio": {s: by[s, "coco"]["step_seconds"] / by[s, "full"]["step_seconds"] if ok(s) else None for s in sizes},
        "oom": {s: [m for m in MODELS if by[s, m]["oom"]] for s in sizes},
    }


def saving_grows(result: dict) -> bool:
    """Whether COCO-GAN's saving grows with the image in a :func:`compare_memory` result: measured at two
    sizes or more, and from each size to the next the peak ratio (COCO-GAN / full-image GAN) falls, or the
    full-image GAN runs out of memory where COCO-GAN does not. False with a single size (nothing to compare)
    or where COCO-GAN itself ran out of memory."""
    sizes = sorted(result["memory_ratio"])
    if len(sizes) < 2:
        return False
    for small, big in zip(sizes, sizes[1:]):
        if "coco" in result["oom"][small] or "coco" in result["oom"][big]:
            return False
        r_small, r_big = result["memory_ratio"][small], result["memory_ratio"][big]
        if r_big is None:  # only the full-image GAN ran out of memory at the larger size
            continue
        if r_small is None or not r_big < r_small:
            return False
    return True


def describe_row(row: dict) -> str:
    """One line per measurement, e.g. "256x256 full-image GAN: out of memory" or "64x64 COCO-GAN: peak 1.0 GiB"."""
    name = {"coco": "COCO-GAN", "full": "full-image GAN"}[row["model"]]
    if row["oom"]:
        return f"{row['size']}x{row['size']} {name}: out of memory ({row.get('error', '')[:120]})"
    return (f"{row['size']}x{row['size']} {name}: peak {row['peak_mb'] / 1024:.2f} GiB, {row['step_seconds']:.3f} s/step, "
            f"{row['params']:,} parameters")


def images_at(images, sizes, n: int) -> dict:
    """``{S: the first n images resized to S x S}`` for :func:`compare_memory`: images float32 (N, H, W, C) in
    [-1, 1]."""
    x = check_images(images, "images", channels=(1, 3), value_range=(-1.0, 1.0))[: check_positive_int(n, "n")]
    return {int(s): resize(x, int(s), method="bilinear", clip=(-1.0, 1.0)) for s in sizes}

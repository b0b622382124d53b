"""Every model family of the kit trained under ``tf.distribute.MirroredStrategy`` on 2 replicas must end where one
replica ends on the same global batch. Writes ``results/distribute.json``.

    python benchmarks/distribute.py                 # 2 logical CPUs (or 2 GPUs where there are), every family
    python benchmarks/distribute.py --families gan  # some of them
    python benchmarks/distribute.py --multi-worker  # also 2 worker processes on 127.0.0.1 (MultiWorkerMirroredStrategy)

Each family is built from the same seed under each strategy and trained a few steps with
``kit.distribute.noise_mode("global")`` (every replica takes its slice of the noise one replica would draw, so the
two runs are comparable); the largest absolute difference between the final weights is reported. Dropout is off
in these models: Keras draws dropout masks from per-layer seed generators that this mode does not reach. Also
measured: that in normal training the replicas draw different latents, and DCGAN steps/s on 1 and 2 replicas
(on logical CPUs this says little: both share the same cores).

With ``--multi-worker``, DCGAN and pix2pix are also trained by two worker processes on 127.0.0.1 under
``MultiWorkerMirroredStrategy`` (``TF_CONFIG``, :func:`kit.distribute.strategy`), compared with one process on the
same global batch; and a DCGAN run with checkpoints is interrupted by killing worker 1 after its first epoch,
restarted, and compared with an uninterrupted two-worker run (the ``multi_worker`` section of the results).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
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
MULTI_WORKER_FAMILIES = ("gan_bce", "pix2pix")  # DCGAN and pix2pix


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


def build_and_train(family: str, *, epochs: int = 1, checkpoint_dir=None, callbacks=()):
    """Build ``family`` (inside the current strategy scope) and train it; returns (model whose variables are
    compared, logged losses of the last epoch). ``epochs``, ``checkpoint_dir`` and ``callbacks`` reach the GAN
    families' ``fit_gan``."""
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
        return m, gans.fit_gan(m, data, epochs=epochs, checkpoint_dir=checkpoint_dir, callbacks=callbacks, verbose=0)
    if family == "pix2pix":
        x, y = _fashion(32)
        g = models.unet_generator((32, 32, 1), 1, num_classes=None, base_filters=4, dropout=0.0)
        d = models.patchgan_discriminator((32, 32, 1), 1, num_classes=None, base_filters=4)
        m = gans.Pix2Pix(g, d)
        m.compile(g_optimizer=sgd(), d_optimizer=sgd(), jit_compile=False)
        pad = np.pad(x, ((0, 0), (2, 2), (2, 2), (0, 0)), constant_values=-1.0)
        return m, gans.fit_gan(m, make_dataset((pad, -pad), batch_size=GLOBAL_BATCH, drop_remainder=True), epochs=epochs,
                               checkpoint_dir=checkpoint_dir, callbacks=callbacks, verbose=0)
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


def run(family: str, strategy, **train) -> tuple[list[np.ndarray], dict]:
    import keras

    from kit import distribute

    policy = "mixed_float16" if family == "mixed_precision_dcgan" else "float32"
    keras.mixed_precision.set_global_policy(policy)
    try:
        with strategy.scope(), distribute.noise_mode("global"):
            model, history = build_and_train(family, **train)
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


# -- several machines: worker processes on 127.0.0.1 ----------------------------------------------------------


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _launch(family: str, out: Path, *, epochs: int = 1, checkpoint_dir=None, pause_after_epoch=None, workers: int = 2):
    """Start ``workers`` processes of this script in ``--worker`` mode, each with its ``TF_CONFIG``."""
    addresses = [f"127.0.0.1:{p}" for p in _free_ports(workers)]
    procs = []
    for i in range(workers):
        env = {**os.environ, "TF_CONFIG": json.dumps({"cluster": {"worker": addresses}, "task": {"type": "worker", "index": i}}),
               "CUDA_VISIBLE_DEVICES": ""}
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", family, "--out", str(out), "--epochs", str(epochs)]
        if checkpoint_dir is not None:
            cmd += ["--checkpoint-dir", str(checkpoint_dir)]
        if pause_after_epoch is not None and i == 1:
            cmd += ["--pause-after-epoch", str(pause_after_epoch)]
        log = open(out / f"{family}-worker{i}.log", "a")
        procs.append(subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT))
    return procs


def _wait(procs, timeout: float = 900) -> None:
    for p in procs:
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            raise RuntimeError(f"a worker did not finish within {timeout} s") from None
    bad = [p.args for p in procs if p.returncode != 0]
    if bad:
        raise RuntimeError(f"worker(s) failed: {bad}; see the *-worker*.log files")


def _worker_weights(out: Path, family: str, workers: int = 2) -> list[list[np.ndarray]]:
    result = []
    for i in range(workers):
        with np.load(out / f"{family}-worker{i}.npz") as npz:
            result.append([npz[f"arr_{k}"] for k in range(len(npz.files))])
    return result


def _max_diff(a, b) -> float:
    """The largest absolute difference between two lists of weight arrays (float64; an empty array counts 0)."""
    return max((float(np.max(np.abs(x.astype(np.float64) - y.astype(np.float64)))) if x.size else 0.0) for x, y in zip(a, b))


def worker_main(family: str, out: Path, epochs: int, checkpoint_dir, pause_after_epoch) -> int:
    """One worker of a two-process cluster (``TF_CONFIG`` set by :func:`_launch`): train ``family`` and save
    its final weights as ``<family>-worker<index>.npz``."""
    from kit import distribute

    strategy = distribute.strategy()  # first, before TensorFlow runs anything: MultiWorkerMirroredStrategy
    import keras

    index = distribute.cluster_config()["task"]["index"]

    class Pause(keras.callbacks.Callback):
        """Stand still at the start of epoch ``pause_after_epoch`` + 1 (the parent then kills this worker)."""

        def on_epoch_begin(self, epoch, logs=None):
            if pause_after_epoch is not None and epoch == pause_after_epoch:
                (out / f"worker{index}.paused").write_text(str(os.getpid()))
                time.sleep(3600)

    weights, _ = run(family, strategy, epochs=epochs, checkpoint_dir=checkpoint_dir, callbacks=[Pause()])
    np.savez(out / f"{family}-worker{index}.npz", *weights)
    print(f"worker {index}: {family} trained, {len(weights)} variables", flush=True)
    return 0


def multi_worker(one, out: Path) -> dict:
    """2 workers against 1 process for each of :data:`MULTI_WORKER_FAMILIES`, and a resume after killing a worker."""
    rows = []
    for family in MULTI_WORKER_FAMILIES:
        reference, _ = run(family, one)
        folder = out / family
        folder.mkdir(parents=True)
        _wait(_launch(family, folder))
        w0, w1 = _worker_weights(folder, family)
        rows.append({"family": family, "max_abs_weight_diff_vs_1_process": _max_diff(reference, w0),
                     "max_abs_weight_diff_between_workers": _max_diff(w0, w1), "variables": len(w0)})
        print(json.dumps(rows[-1]), flush=True)
    # Kill worker 1 after its first epoch (the chief has checkpointed it), stop the stalled chief, restart both.
    family = "gan_bce"
    straight, killed = out / "resume_straight", out / "resume_killed"
    for d in (straight, killed):
        d.mkdir()
    _wait(_launch(family, straight, epochs=2, checkpoint_dir=straight / "checkpoints"))
    procs = _launch(family, killed, epochs=2, checkpoint_dir=killed / "checkpoints", pause_after_epoch=1)
    deadline = time.time() + 900
    while not ((killed / "worker1.paused").exists() and list((killed / "checkpoints").glob("run-*/epoch-0001/state.json"))):
        if time.time() > deadline or any(p.poll() is not None for p in procs):
            for p in procs:
                p.kill()
            raise RuntimeError("the run to be interrupted did not reach its first checkpoint; see resume_killed/*.log")
        time.sleep(0.5)
    procs[1].send_signal(signal.SIGKILL)
    try:  # the chief waits for worker 1 in its next collective, or fails: a cluster manager restarts the job
        procs[0].wait(timeout=20)
    except subprocess.TimeoutExpired:
        procs[0].kill()
    for p in procs:
        p.wait()
    _wait(_launch(family, killed, epochs=2, checkpoint_dir=killed / "checkpoints"))
    resumed_log = (killed / f"{family}-worker0.log").read_text()
    stray = sorted(str(p.relative_to(out)) for d in (straight, killed) for p in (d / "checkpoints").rglob("*")
                   if p.is_dir() and not p.name.startswith(("run-", "epoch-")))
    resume = {"family": family, "killed": "worker 1 (SIGKILL) after epoch 1 of 2; both workers restarted",
              "resumed_from_checkpoint": "Resuming from" in resumed_log and "1 of 2 epochs already done" in resumed_log,
              "max_abs_weight_diff_vs_uninterrupted": _max_diff(_worker_weights(straight, family)[0], _worker_weights(killed, family)[0]),
              "checkpoint_folders_besides_the_chiefs": stray}
    print(json.dumps(resume), flush=True)
    return {"workers": 2, "address": "127.0.0.1", "global_batch": GLOBAL_BATCH, "per_family": rows,
            "max_abs_weight_diff": max(r["max_abs_weight_diff_vs_1_process"] for r in rows), "resume": resume}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--families", nargs="*", default=list(FAMILIES))
    ap.add_argument("--out", default=str(ROOT / "results"))
    ap.add_argument("--tolerance", type=float, default=1e-5)
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--multi-worker", action="store_true", help="also train DCGAN and pix2pix on 2 worker processes")
    ap.add_argument("--worker", metavar="FAMILY", help=argparse.SUPPRESS)  # one worker process of --multi-worker
    ap.add_argument("--epochs", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--checkpoint-dir", help=argparse.SUPPRESS)
    ap.add_argument("--pause-after-epoch", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return worker_main(args.worker, Path(args.out), args.epochs, args.checkpoint_dir, args.pause_after_epoch)
    names = devices(2)
    import kit
    from kit import distribute

    one, two = distribute.strategy(names[:1]), distribute.strategy(names)
    rows = []
    for family in args.families:
        a, ha = run(family, one)
        b, hb = run(family, two)
        diff = _max_diff(a, b)
        losses = {k: (float(ha[k][-1]), float(hb[k][-1])) for k in ha if "loss" in k or k == "gp"}
        finite = all(np.isfinite(v).all() for pair in losses.values() for v in pair)
        rows.append({"family": family, "max_abs_weight_diff": diff, "variables": len(a), "finite": finite,
                     "compared": family not in INFORMATIVE, "logged_losses_1_vs_2_replicas": losses})
        print(json.dumps(rows[-1]), flush=True)
    different = replicas_draw_different_latents(two)
    resume = resume_is_exact(two)
    several = multi_worker(one, Path(tempfile.mkdtemp(prefix="kit-multi-worker-"))) if args.multi_worker else None
    speed = {} if args.no_speed else {"steps_per_s_1_replica": steps_per_second(one), "steps_per_s_2_replicas": steps_per_second(two)}
    summary = {"profile": "smoke", "hardware": kit.hardware() + f" ({len(names)} {'GPUs' if 'GPU' in names[0].upper() else 'logical CPUs'})",
               "replicas": 2, "families": [r["family"] for r in rows],
               "max_abs_weight_diff": max(r["max_abs_weight_diff"] for r in rows if r["compared"]),
               "all_losses_finite": all(r["finite"] for r in rows),
               "latents_differ_across_replicas": different, "resume_max_abs_weight_diff": resume, "global_batch": GLOBAL_BATCH, **speed}
    if several is not None:
        summary.update({"multi_worker_max_abs_weight_diff": several["max_abs_weight_diff"],
                        "multi_worker_resume_max_abs_weight_diff": several["resume"]["max_abs_weight_diff_vs_uninterrupted"]})
    extra = {} if several is None else {"multi_worker": several}
    out = kit.runs.write_results(Path(args.out) / "distribute.json", summary, kit.profile("smoke"), per_family=rows, **extra)
    print(json.dumps(summary, indent=2), f"\nwrote {out}")
    ok = summary["max_abs_weight_diff"] <= args.tolerance and different and summary["all_losses_finite"] and resume == 0.0
    if several is not None:
        r = several["resume"]
        ok = ok and several["max_abs_weight_diff"] <= args.tolerance and r["resumed_from_checkpoint"] and not r["checkpoint_folders_besides_the_chiefs"] \
            and r["max_abs_weight_diff_vs_uninterrupted"] <= args.tolerance
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

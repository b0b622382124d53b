"""Kill-and-resume exactness of the kit's GAN checkpoints: a small DCGAN run is killed with SIGKILL at random
points (in the middle of an epoch, or in the middle of writing a checkpoint), resumed by running the same
training call again, and its final weights compared with an uninterrupted run's. Writes
``results/kill_resume.json``.

    python benchmarks/kill_resume.py --tries 10          # the measurement (about a minute per try on 2 cores)
    python benchmarks/kill_resume.py --tries 1 --out DIR # what CI runs

Each run is a separate process (``--child``), as a killed notebook kernel is.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
EPOCHS, IMAGES, BATCH = 3, 96, 32  # 3 steps per epoch


def child(args) -> None:
    """One training process: train to EPOCHS with checkpoints, dying at the requested point."""
    import keras

    from kit import checkpoints, gans, models
    from kit.data import load_fashion_mnist, make_dataset

    keras.utils.set_random_seed(0)
    x = load_fashion_mnist("tanh", train_samples=IMAGES, test_samples=8).x_train
    gan = gans.GAN(models.dcgan_generator(latent_dim=16), models.dcgan_discriminator(), seed=0)
    gan.compile(g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5), d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                jit_compile=False)
    kill = [] if args.kill is None else args.kill.split(":")

    class KillInEpoch(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if kill and kill[0] == "batch" and self._epoch == int(kill[1]) and batch == int(kill[2]):
                os.kill(os.getpid(), signal.SIGKILL)

        def on_epoch_begin(self, epoch, logs=None):
            self._epoch = epoch + 1

    if kill and kill[0] == "write":  # die after the new checkpoint's files are written, before it is renamed into place
        original = os.replace

        def dying_replace(src, dst):
            if Path(dst).name == f"epoch-{int(kill[1]):04d}":
                os.kill(os.getpid(), signal.SIGKILL)
            return original(src, dst)

        checkpoints.os.replace = dying_replace
    gans.fit_gan(gan, make_dataset(x, batch_size=BATCH, drop_remainder=True), epochs=EPOCHS, checkpoint_dir=args.checkpoints,
                 callbacks=[KillInEpoch()], verbose=0)
    arrays = checkpoints.collect_variables(gan, gan.optimizers())
    np.savez(args.dump, **{k.replace("/", "__"): v for k, v in arrays.items()})


def run(checkpoints: Path, dump: Path, kill: str | None = None) -> int:
    cmd = [sys.executable, __file__, "--child", "--checkpoints", str(checkpoints), "--dump", str(dump)] + (["--kill", kill] if kill else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if proc.returncode not in (0, -signal.SIGKILL):
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc.returncode


def max_difference(a: Path, b: Path) -> float:
    with np.load(a) as x, np.load(b) as y:
        if set(x.files) != set(y.files):
            return float("inf")
        return max(float(np.max(np.abs(x[k].astype(np.float64) - y[k].astype(np.float64)))) if x[k].size else 0.0 for k in x.files)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--checkpoints")
    ap.add_argument("--dump")
    ap.add_argument("--kill")
    ap.add_argument("--tries", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(ROOT / "results"))
    args = ap.parse_args(argv)
    if args.child:
        child(args)
        return 0
    import kit

    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        run(tmp / "reference", tmp / "reference.npz")
        tries = []
        for i in range(args.tries):
            epoch = int(rng.integers(1, EPOCHS + 1))
            kill = f"write:{epoch}" if rng.random() < 0.5 else f"batch:{epoch}:{int(rng.integers(0, IMAGES // BATCH))}"
            folder, dump = tmp / f"try{i}", tmp / f"try{i}.npz"
            code = run(folder, dump, kill)
            resumed = run(folder, dump)  # "run the same cell again"
            diff = max_difference(tmp / "reference.npz", dump) if resumed == 0 else float("inf")
            tries.append({"kill": kill, "killed": code == -signal.SIGKILL, "max_abs_weight_diff": diff})
            print(json.dumps(tries[-1]), flush=True)
    summary = {"profile": "smoke", "hardware": kit.hardware(), "tries": len(tries), "killed": sum(t["killed"] for t in tries),
               "max_abs_weight_diff": max(t["max_abs_weight_diff"] for t in tries), "epochs": EPOCHS, "steps_per_epoch": IMAGES // BATCH}
    out = kit.runs.write_results(Path(args.out) / "kill_resume.json", summary, kit.profile("smoke"), tries=tries)
    print(json.dumps(summary, indent=2), f"\nwrote {out}")
    return 0 if summary["max_abs_weight_diff"] == 0 and summary["killed"] == len(tries) else 1


if __name__ == "__main__":
    sys.exit(main())

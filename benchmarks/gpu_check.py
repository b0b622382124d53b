"""Measure what the budget model estimates: execute every notebook at the GPU profile (``t4``) on this machine's
GPU, timing each and sampling the GPU's used memory (``nvidia-smi``) while it runs, and write
``results/gpu_check.json`` beside the estimates of ``results/budget.json``. Needs an NVIDIA GPU; on a Colab T4
this is the check of the 20-minute, 13-GiB budget per notebook.

    python benchmarks/gpu_check.py [--profile t4] [--notebooks 02_dcgan 06_coco_gan] [--out results]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kit.env import environment  # noqa: E402
from kit.profiles import profile  # noqa: E402


class MemorySampler(threading.Thread):
    """The largest ``memory.used`` (MiB) nvidia-smi reports for GPU 0 while running (twice a second). It counts
    everything on the GPU, TensorFlow's reserved pool included: an upper bound of what the notebook needs."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak_mib, self._stop = 0.0, threading.Event()

    def run(self):
        while not self._stop.is_set():
            out = subprocess.run(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits", "-i", "0"],
                                 capture_output=True, text=True)
            if out.returncode == 0 and out.stdout.strip():
                self.peak_mib = max(self.peak_mib, float(out.stdout.split()[0]))
            self._stop.wait(0.5)

    def stop(self) -> float:
        self._stop.set()
        self.join()
        return self.peak_mib


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="t4")
    ap.add_argument("--notebooks", nargs="*", default=None, help="stems, e.g. 02_dcgan (default: all)")
    ap.add_argument("--out", type=Path, default=ROOT / "results")
    ap.add_argument("--timeout", type=int, default=3600, help="seconds per notebook")
    args = ap.parse_args(argv)
    if shutil.which("nvidia-smi") is None:
        print("gpu-check: no NVIDIA GPU here (nvidia-smi not found): nothing measured", file=sys.stderr)
        return 2
    prof = profile(args.profile)
    books = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if args.notebooks:
        books = [b for b in books if b.stem in set(args.notebooks)]
    budget_file = args.out / "budget.json"
    estimates = json.loads(budget_file.read_text())["notebooks"] if budget_file.exists() else {}
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for nb in books:
            env = {**os.environ, "KIT_PROFILE": prof.name, "KIT_BATCH": "1", "KIT_CHECKPOINTS": str(Path(tmp) / "checkpoints"),
                   "KIT_RUN_DIR": str(Path(tmp) / "runs" / nb.stem)}
            sampler = MemorySampler()
            sampler.start()
            t0 = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                                   f"--ExecutePreprocessor.timeout={args.timeout}", "--ExecutePreprocessor.kernel_name=python3",
                                   "--output-dir", tmp, "--output", nb.stem, str(nb)], env=env, capture_output=True, text=True)
            minutes = (time.perf_counter() - t0) / 60.0
            peak = sampler.stop() / 1024.0
            est = estimates.get(nb.stem, {})
            rows[nb.stem] = {"ok": proc.returncode == 0, "minutes": minutes, "peak_gib_nvidia_smi": peak,
                             "est_minutes": est.get("est_minutes"), "est_peak_gib": est.get("peak_gib"),
                             "error": proc.stderr[-2000:] if proc.returncode else None}
            print(f"{nb.stem:<26} {'ok ' if proc.returncode == 0 else 'FAILED'} {minutes:6.1f} min (est. {est.get('est_minutes', float('nan')):.1f}), "
                  f"peak {peak:5.1f} GiB (est. {est.get('peak_gib', float('nan')):.1f})", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "gpu_check.json"
    path.write_text(json.dumps({"notebooks": rows, "max_minutes": max(r["minutes"] for r in rows.values()),
                                "max_peak_gib": max(r["peak_gib_nvidia_smi"] for r in rows.values()), **environment(prof)}, indent=2))
    print(f"wrote {path}")
    return 0 if all(r["ok"] for r in rows.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())

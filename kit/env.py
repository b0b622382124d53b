"""What a run ran on: library versions, hardware (the GPU and its memory), the git commit, and the date, as
every results JSON records them; and seeding."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from pathlib import Path

import keras
import numpy
import tensorflow as tf

from kit.profiles import Profile, profile


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpu_names() -> list[str]:
    """Names of the GPUs TensorFlow sees (empty on CPU-only machines)."""
    names = []
    for dev in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(dev)
        names.append(details.get("device_name", dev.name))
    return names


def gpu_memory_gib() -> list[float]:
    """Total memory of each visible NVIDIA GPU in GiB, from ``nvidia-smi`` (empty when there is none or it
    cannot be asked)."""
    if not tf.config.list_physical_devices("GPU"):
        return []
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=memory.total", "--format=csv,noheader,nounits"], capture_output=True,
                             text=True, timeout=10, check=True).stdout
        return [int(line) / 1024 for line in out.split() if line.strip().isdigit()]
    except (OSError, subprocess.SubprocessError):
        return []


def hardware() -> str:
    """One line naming the accelerator (and its memory), or the CPU model and core count."""
    gpus = gpu_names()
    if gpus:
        mem = gpu_memory_gib()
        return "GPU: " + ", ".join(f"{n}" + (f" ({mem[i]:.1f} GiB)" if i < len(mem) else "") for i, n in enumerate(gpus))
    return f"CPU: {_cpu_name()} ({os.cpu_count()} cores)"


def versions() -> dict:
    """Versions of Python and the libraries whose behaviour the numbers depend on."""
    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": numpy.__version__,
    }


def git_commit(where: str | os.PathLike | None = None) -> str | None:
    """The commit of the repository holding ``where`` (default: the kit's own checkout), with ``-dirty`` when
    files differ from it; None outside a git checkout (e.g. an installed wheel)."""
    folder = Path(where) if where is not None else Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=folder, capture_output=True, text=True,
                               timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("-dirty" if dirty else "")


def environment(prof: Profile | None = None) -> dict:
    """Profile, hardware, versions, git commit and date: what every results JSON records beside its numbers."""
    return {
        "profile": (prof or profile()).name,
        "hardware": hardware(),
        "versions": versions(),
        "commit": git_commit(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def seed_everything(seed: int = 42) -> None:
    """Seed Python, NumPy and TensorFlow (via ``keras.utils.set_random_seed``)."""
    keras.utils.set_random_seed(int(seed))

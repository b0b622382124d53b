"""Session set-up for notebooks and scripts: versions, hardware, seeds, the active profile."""

from __future__ import annotations

import datetime
import os
import platform

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
    import tensorflow as tf

    names = []
    for dev in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(dev)
        names.append(details.get("device_name", dev.name))
    return names


def hardware() -> str:
    """One line naming the accelerator, or the CPU model and core count."""
    gpus = gpu_names()
    if gpus:
        return f"GPU: {', '.join(gpus)}"
    return f"CPU: {_cpu_name()} ({os.cpu_count()} cores)"


def versions() -> dict:
    """Versions of Python and the libraries whose behaviour the numbers depend on."""
    import keras
    import numpy
    import tensorflow as tf

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": numpy.__version__,
    }


def environment(prof: Profile | None = None) -> dict:
    """Profile, hardware, versions and date: what every results JSON records beside its numbers."""
    return {
        "profile": (prof or profile()).name,
        "hardware": hardware(),
        "versions": versions(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def seed_everything(seed: int = 42) -> None:
    """Seed Python, NumPy and TensorFlow (via ``keras.utils.set_random_seed``)."""
    import keras

    keras.utils.set_random_seed(int(seed))


def setup(seed: int = 42, profile_name: str | None = None) -> Profile:
    """First call of every notebook: check the backend, apply the plot style, seed everything, and print
    TensorFlow/Keras versions, the GPU (if any) and the active run profile.

    Returns:
        The active :class:`~kit.profiles.Profile`.
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            f"The kit needs Keras' TensorFlow backend, but KERAS_BACKEND selects {keras.backend.backend()!r}. "
            "Set KERAS_BACKEND=tensorflow before importing keras (restart the kernel)."
        )
    from kit import viz

    prof = profile(profile_name)
    seed_everything(seed)
    viz.use_style()
    v = versions()
    print(f"TensorFlow {v['tensorflow']} | Keras {v['keras']} | Python {v['python']}")
    gpus = gpu_names()
    print(f"Hardware: {hardware()}" + ("" if gpus else "  (no GPU: training runs on the CPU)"))
    print(f"Run profile: {prof.name}  (set KIT_PROFILE=smoke|cpu|full to change) | seed {seed}")
    return prof

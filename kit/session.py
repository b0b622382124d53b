"""The first call of every notebook: :func:`setup`."""

from __future__ import annotations

import keras

from kit import budget, viz
from kit.env import gpu_memory_gib, gpu_names, hardware, seed_everything, versions
from kit.profiles import profile


def setup(notebook: str | None = None, *, seed: int = 42, profile_name: str | None = None):
    """Check the backend, apply the plot style and (on a GPU, when the profile asks for it) the
    ``mixed_float16`` policy, seed everything, and print the versions, the hardware and the run profile. On a
    GPU it also prints the budget model's estimate of this notebook's time and memory at the profile.

    Args:
        notebook: the notebook's name, e.g. ``"02_dcgan"`` (for the estimate).
        seed: seeds Python, NumPy and TensorFlow.
        profile_name: a profile name; default ``$KIT_PROFILE`` or the hardware's default.

    Returns:
        The active :class:`~kit.profiles.Profile`.
    """
    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            f"The kit needs Keras' TensorFlow backend, but KERAS_BACKEND selects {keras.backend.backend()!r}. "
            "Set KERAS_BACKEND=tensorflow before importing keras (restart the kernel)."
        )
    prof = profile(profile_name)
    seed_everything(seed)
    viz.use_style()
    v = versions()
    print(f"TensorFlow {v['tensorflow']} | Keras {v['keras']} | Python {v['python']}")
    gpus = gpu_names()
    print(f"Hardware: {hardware()}" + ("" if gpus else "  (no GPU: training runs on the CPU)"))
    policy = "float32"
    if prof.mixed_precision and gpus:
        policy = "mixed_float16"
    keras.mixed_precision.set_global_policy(policy)
    print(f"Run profile: {prof.name} (set KIT_PROFILE=smoke|cpu|t4|full to change) | precision {policy} | "
          f"XLA {'on' if prof.jit_compile else 'off'} | seed {seed}")
    if gpus and notebook is not None:
        est = budget.estimate_notebook(notebook, prof)
        memory = gpu_memory_gib()
        fits = f", this GPU has {memory[0]:.1f} GiB" if memory else ""
        print(f"Estimated for {notebook} at the {prof.name} profile on a T4 (budget model, an estimate): "
              f"{est['est_minutes']:.0f} min, peak {est['peak_gib']:.1f} GiB of GPU memory{fits}")
    return prof

"""The first call of every notebook: :func:`setup`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import keras

from kit import budget, colab, viz
from kit.env import gpu_memory_gib, gpu_names, hardware, seed_everything, versions
from kit.profiles import profile


def setup(notebook: str | None = None, *, seed: int = 42, profile_name: str | None = None):
    """Check the backend, apply the plot style and (on a GPU, when the profile asks for it) the
    ``mixed_float16`` policy, seed everything, and print the versions, the hardware and the run profile. On a
    GPU it also prints the budget model's estimate of this notebook's time and memory at the profile; on a Colab
    runtime without one, how to switch to a T4 and how long this notebook takes at the ``cpu`` profile.

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
    if not gpus and colab.on_colab():
        print(colab_cpu_note(notebook))
    if gpus and notebook is not None:
        est = budget.estimate_notebook(notebook, prof)
        memory = gpu_memory_gib()
        fits = f", this GPU has {memory[0]:.1f} GiB" if memory else ""
        print(f"Estimated for {notebook} at the {prof.name} profile on a T4 (budget model, an estimate): "
              f"{est['est_minutes']:.0f} min, peak {est['peak_gib']:.1f} GiB of GPU memory{fits}")
    return prof


def results_dirs() -> list[Path]:
    """Where measured results may be: ``results/`` of the repository this kit runs from (not of an installed
    copy), and ``results/`` beside or above the working folder (a notebook runs in ``notebooks/``)."""
    repo = Path(__file__).resolve().parent.parent
    found = [repo / "results"] if (repo / "pyproject.toml").is_file() else []
    found += [Path.cwd() / "results", Path.cwd().parent / "results"]
    out = []
    for d in found:
        if d.is_dir() and d.resolve() not in [o.resolve() for o in out]:
            out.append(d)
    return out


def measured_cpu_seconds(notebook: str) -> tuple[float, str] | None:
    """``(seconds, hardware)`` of the measured run of ``notebook`` at the ``cpu`` profile in ``results/*.json``
    (``notebooks.<notebook>.notebook_seconds``, written by ``benchmarks/run.py``), or None when there is none."""
    for folder in results_dirs():
        for path in sorted(folder.glob("*.json")):
            try:
                entry = json.loads(path.read_text()).get("notebooks", {}).get(notebook)
            except (OSError, ValueError, AttributeError):
                continue
            seconds = entry.get("notebook_seconds") if isinstance(entry, dict) else None
            if entry and entry.get("profile") == "cpu" and isinstance(seconds, (int, float)) and seconds > 0:
                return float(seconds), str(entry.get("hardware", ""))
    return None


def colab_cpu_note(notebook: str | None) -> str:
    """What a Colab runtime without a GPU prints: how to switch to a T4 and, for ``notebook``, how long it takes
    at the ``cpu`` profile (measured, where ``results/`` holds a run of it)."""
    note = "No GPU on this Colab runtime: for a T4 choose Runtime → Change runtime type → T4 GPU, then run all cells again."
    if notebook is None:
        return note
    measured = measured_cpu_seconds(notebook)
    if measured is None:
        return note + f"\nOn the CPU, {notebook} runs at the cpu profile; how long that takes is unknown (no measured run at hand)."
    seconds, hardware = measured
    cores = re.search(r"\((\d+) cores?\)", hardware)
    on = f"a {cores.group(1)}-core CPU" if cores else (hardware or "a CPU")
    return note + f"\nOn the CPU, {notebook} at the cpu profile takes about {seconds / 60:.0f} min (measured on {on})."

"""The figures of notebook 00: the targets, the game's frames (D's surface under G's samples), the optimal
discriminator beside the trained one, the game's curves, and final samples side by side. Each figure function
shows its figure (or returns it with ``show=False``) and saves it under ``$KIT_RUN_DIR/figures`` like
:mod:`kit.viz`."""

from __future__ import annotations

import itertools
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from kit.checks import check_positive_int
from kit.game2d.data import Mixture
from kit.game2d.theory import LOG4
from kit.game2d.training import BestResponse, Run, Snapshot
from kit.viz import PALETTE, finish

DATA_COLOUR, FAKE_COLOUR = "#555555", "#ff7f0e"


def _window(ax, mixture: Mixture):
    e = mixture.extent
    ax.set_xlim(-e, e)
    ax.set_ylim(-e, e)
    ax.set_aspect("equal")
    ax.grid(False)


def plot_targets(mixtures: list, n: int, *, seed: int = 0, name: str = "targets", show: bool = True):
    """``n`` samples of each mixture, one panel each, with 3-sigma circles around the modes."""
    if not mixtures or not all(isinstance(m, Mixture) for m in mixtures):
        raise ValueError("mixtures must be a non-empty list of kit.game2d.Mixture")
    n = check_positive_int(n, "n")
    fig, axes = plt.subplots(1, len(mixtures), figsize=(4.2 * len(mixtures), 4.2), squeeze=False)
    for ax, m in zip(axes[0], mixtures):
        x = m.sample(n, seed)
        ax.scatter(x[:, 0], x[:, 1], s=2, c=DATA_COLOUR, alpha=0.5)
        for c in m.centers:
            ax.add_patch(plt.Circle(c, 3 * m.sigma, fill=False, color="#1f77b4", lw=0.6))
        ax.set_title(f"{m.name}: {m.k} modes, sigma {m.sigma:g}")
        _window(ax, m)
    return finish(fig, name, show, tight=True)


def _draw_frame(ax, run: Run, snap: Snapshot, *, data=None, colorbar_to=None):
    e = run.mixture.extent
    surface = snap.surface
    if run.loss == "bce":
        im = ax.imshow(surface, origin="lower", extent=(-e, e, -e, e), cmap="RdBu_r", vmin=0.0, vmax=1.0)
    else:  # a critic's scores have no fixed scale: each frame on its own
        im = ax.imshow(surface, origin="lower", extent=(-e, e, -e, e), cmap="RdBu_r", vmin=float(surface.min()), vmax=float(surface.max()))
    if data is not None:
        ax.scatter(data[:, 0], data[:, 1], s=1, c=DATA_COLOUR, alpha=0.4, label="data")
    x = snap.samples[:1000]
    ax.scatter(x[:, 0], x[:, 1], s=2, c=FAKE_COLOUR, alpha=0.7, label="G(z)")
    ax.set_title(f"step {snap.step}: {snap.modes_covered}/{run.mixture.k} modes", fontsize=9)
    _window(ax, run.mixture)
    ax.set_xticks([])
    ax.set_yticks([])
    if colorbar_to is not None:
        label = "D(x): probability real" if run.loss == "bce" else "critic score (own scale per frame)"
        colorbar_to.colorbar(im, ax=ax, fraction=0.046, pad=0.02, label=label)
    return im


def plot_frames(run: Run, *, max_frames: int = 6, title: str | None = None, name: str = "frames", show: bool = True):
    """A strip of up to ``max_frames`` snapshots of ``run`` (evenly chosen, the last included): D's surface as a
    heat map (red: D says real), the data in grey and G's samples in orange."""
    if not isinstance(run, Run) or not run.snapshots:
        raise ValueError("run must be a kit.game2d.Run with snapshots (from kit.game2d.train)")
    max_frames = check_positive_int(max_frames, "max_frames")
    idx = np.unique(np.linspace(0, len(run.snapshots) - 1, min(max_frames, len(run.snapshots))).round().astype(int))
    data = run.mixture.sample(1000, seed=1)
    fig, axes = plt.subplots(1, len(idx), figsize=(2.6 * len(idx) + 0.8, 2.9), squeeze=False)
    for j, (ax, i) in enumerate(zip(axes[0], idx)):
        _draw_frame(ax, run, run.snapshots[i], data=data, colorbar_to=fig if j == len(idx) - 1 else None)
    return finish(fig, name, show, title=title, tight=True)


def write_frames(run: Run, folder) -> list[Path]:
    """One PNG per snapshot of ``run`` in ``folder`` (created; older frames there are replaced): the frames of
    :func:`kit.viz.make_gif`. Returns their paths in step order."""
    if not isinstance(run, Run) or not run.snapshots:
        raise ValueError("run must be a kit.game2d.Run with snapshots (from kit.game2d.train)")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("frame_*.png"):
        old.unlink()
    data, paths = run.mixture.sample(1000, seed=1), []
    for i, snap in enumerate(run.snapshots):
        fig, ax = plt.subplots(figsize=(4.2, 3.6))
        _draw_frame(ax, run, snap, data=data, colorbar_to=fig)
        path = folder / f"frame_{i:03d}.png"
        fig.savefig(path, dpi=80)
        plt.close(fig)
        paths.append(path)
    return paths


def plot_optimal(comparison: dict, mixture: Mixture, *, name: str = "optimal_discriminator", show: bool = True):
    """D* (from the densities), the trained D, and |D - D*| where both densities are non-negligible (the
    comparison of :func:`kit.game2d.compare_with_optimal`)."""
    if not isinstance(comparison, dict) or not {"d_star", "d", "mask"} <= set(comparison):
        raise ValueError("comparison must be the dict kit.game2d.compare_with_optimal returns")
    e = mixture.extent
    error = np.where(comparison["mask"], np.abs(comparison["d"] - comparison["d_star"]), np.nan)
    d_star = np.where(comparison.get("support", True), comparison["d_star"], np.nan)  # grey where neither density matters
    panels = (("D*(x) = p_data / (p_data + p_g)\n(grey: neither density matters)", d_star, "RdBu_r"), ("trained D(x)", comparison["d"], "RdBu_r"),
              ("|D - D*| where both densities matter", error, "magma"))
    fig, axes = plt.subplots(1, 3, figsize=(12.5, 4.2))
    for ax, (label, values, cmap) in zip(axes, panels):
        cmap = plt.get_cmap(cmap).with_extremes(bad="#e8e8e8")
        im = ax.imshow(values, origin="lower", extent=(-e, e, -e, e), cmap=cmap, vmin=0.0, vmax=1.0)
        ax.set_title(label, fontsize=10)
        _window(ax, mixture)
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.02)
    return finish(fig, name, show, tight=True)


def plot_best_response(result: BestResponse, mixture: Mixture, *, name: str = "best_response", show: bool = True):
    """D* (exact, for the fixed generator), the D trained alone against it, and E|D - D*| over D's steps beside
    a constant 1/2's error (:func:`kit.game2d.best_response`)."""
    if not isinstance(result, BestResponse):
        raise TypeError(f"result must be the kit.game2d.BestResponse of best_response, got {type(result).__name__}")
    e = result.extent
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.0))
    for ax, (label, values) in zip(axes[:2], (("D*(x), exact for the fixed G", result.d_star), (f"D after {result.steps[-1]} steps alone", result.d))):
        im = ax.imshow(values, origin="lower", extent=(-e, e, -e, e), cmap="RdBu_r", vmin=0.0, vmax=1.0)
        ax.set_title(label, fontsize=10)
        _window(ax, mixture)
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.02)
    ax = axes[2]
    ax.plot(result.steps, result.mean_abs_error, marker="o", ms=3, color=PALETTE[0], label="trained D")
    ax.axhline(result.constant_half_error, color="grey", ls=":", label="a D that says 1/2 everywhere")
    ax.set(xlabel="discriminator steps (G fixed)", ylabel="E |D - D*| over real and generated points", ylim=(0, None),
           title="D approaches D*")
    ax.legend()
    return finish(fig, name, show, tight=True)


def plot_game(runs: dict, *, js_floor: float | None = None, name: str = "game_curves", show: bool = True):
    """Left: V(D, G) over training for the BCE runs in ``runs`` ({label: Run}), with -log 4 (the value at the
    equilibrium). Right: the JS estimate from the densities for every run, and (V + log 4) / 2 for the BCE runs
    (a lower bound of the JS divergence: the trained D is not D*), with ``js_floor`` (a perfect generator's
    estimate) dashed."""
    if not runs or not all(isinstance(r, Run) for r in runs.values()):
        raise ValueError("runs must be a non-empty dict {label: kit.game2d.Run}")
    fig, (left, right) = plt.subplots(1, 2, figsize=(11.5, 3.8))
    for colour, (label, run) in zip(itertools.cycle(PALETTE), runs.items()):
        h = run.history()
        if run.loss == "bce":
            left.plot(h["step"], h["value"], color=colour, marker="o", ms=3, label=f"{label}: V(D, G)")
            right.plot(h["step"], (h["value"] + LOG4) / 2, "--", color=colour, marker="o", ms=3, label=f"{label}: (V(D, G) + log 4) / 2")
        right.plot(h["step"], h["js"], color=colour, marker="o", ms=3, label=f"{label}: JS from the densities")
    left.axhline(-LOG4, color="grey", ls=":", label="-log 4 (D = 1/2 everywhere)")
    left.set(xlabel="generator step", ylabel="V(D, G)", title="The value of the game")
    if js_floor is not None:
        right.axhline(js_floor, color="grey", ls=":", label=f"a perfect G's estimate ({js_floor:.3f})")
    right.axhline(np.log(2), color="black", lw=0.6, ls="-", label="log 2 (no overlap)")
    right.set(xlabel="generator step", ylabel="JS (nats)", title="Jensen-Shannon divergence, estimated")
    left.legend()
    right.legend(fontsize=7)
    return finish(fig, name, show, tight=True)


def plot_samples(runs: dict, *, name: str = "samples", title: str | None = None, show: bool = True):
    """The final samples of each run in ``runs`` ({label: Run}) over the data, titled with modes covered and the
    share of high-quality samples."""
    if not runs or not all(isinstance(r, Run) for r in runs.values()):
        raise ValueError("runs must be a non-empty dict {label: kit.game2d.Run}")
    fig, axes = plt.subplots(1, len(runs), figsize=(3.4 * len(runs), 3.6), squeeze=False)
    for ax, (label, run) in zip(axes[0], runs.items()):
        data, x = run.mixture.sample(1000, seed=1), run.final.samples
        ax.scatter(data[:, 0], data[:, 1], s=1, c=DATA_COLOUR, alpha=0.4)
        ax.scatter(x[:, 0], x[:, 1], s=2, c=FAKE_COLOUR, alpha=0.5)
        ax.set_title(f"{label}\n{run.final.modes_covered}/{run.mixture.k} modes, {run.final.high_quality_share:.0%} high quality", fontsize=9)
        _window(ax, run.mixture)
    return finish(fig, name, show, title=title, tight=True)


__all__ = ["plot_frames", "plot_game", "plot_optimal", "plot_samples", "plot_targets", "write_frames"]

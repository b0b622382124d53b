"""Evaluating notebook 07's refinement: PSNR/SSIM per level against two references, the gains over the
baseline, how much of the gap is one colour per image, and inference speed."""

from __future__ import annotations

import time

import numpy as np

from kit.checks import check_choice, check_positive_int
from kit.metrics import image_quality as iq
from kit.sr.data import EnhancedSet, bicubic, degrade_split
from kit.sr.enhance import Enhancer, enhance_split
from kit.sr.refiner import refine


def refine_split(model, enhanced: EnhancedSet) -> dict:
    """``{level: R(E(degraded))}`` for every level of a split. ``model`` is one refiner for every level, or
    ``{level: refiner}`` (as :func:`train_refiners` returns; a key ``"all"`` serves every level)."""
    _refiner_for(model, list(enhanced.degraded))  # every level first, so one error names all that are missing
    return {lv: refine(_refiner_for(model, [lv]), x) for lv, x in enhanced.degraded.items()}


def _refiner_for(model, levels: list):
    """The refiner that serves ``levels``: ``model`` itself, or from ``{level: refiner}`` the level's own or the
    shared ``"all"`` one; a clear error names the levels without one."""
    if not isinstance(model, dict):
        return model
    missing = [lv for lv in levels if lv not in model and "all" not in model]
    if missing:
        raise ValueError(f"no refiner for the levels {missing}; got refiners for {sorted(model)}")
    return model.get(levels[0], model.get("all"))


ROWS = ("degraded", "baseline(degraded)", "refined")
REFERENCES = ("baseline(raw)", "raw")


def evaluate(test: EnhancedSet, refined: dict) -> list[dict]:
    """PSNR and SSIM (RGB and Y) per level for the degraded input (bicubic 4x, to match sizes),
    baseline(degraded) and refined, against baseline(raw) and against raw (the true high-resolution crop).

    Args:
        refined: ``{level: R(E(degraded))}`` for the levels of ``test``.

    Returns:
        One dict per (level, image, reference): the means over the test images, with the mean per-channel
        error (image minus reference) as ``mean_channel_error``.
    """
    refs = test.references
    out = []
    for level, deg in test.source.degraded.items():
        images = {"degraded": bicubic(deg), "baseline(degraded)": test.degraded[level], "refined": refined[level]}
        for ref_name, ref in refs.items():
            for name, img in images.items():
                out.append({
                    "level": level,
                    "image": name,
                    "reference": ref_name,
                    "psnr": float(iq.psnr(img, ref).mean()),
                    "psnr_y": float(iq.psnr(img, ref, on="y").mean()),
                    "ssim": float(iq.ssim(img, ref).mean()),
                    "ssim_y": float(iq.ssim(img, ref, on="y").mean()),
                    "mean_channel_error": [float(v) for v in iq.mean_channel_error(img, ref)],
                })
    return out


def gains(rows: list[dict], level: str = "mild", reference: str = "baseline(raw)") -> dict:
    """The refinement's gain over baseline(degraded) at ``level`` against ``reference``: PSNR (dB), SSIM,
    and the refined image's mean per-channel error."""
    check_choice(reference, REFERENCES, "reference")
    pick = {r["image"]: r for r in rows if r["level"] == level and r["reference"] == reference}
    if set(pick) != set(ROWS):
        raise ValueError(f"no complete results for level {level!r} and reference {reference!r}")
    base, ref = pick["baseline(degraded)"], pick["refined"]
    return {
        "psnr_gain_db": ref["psnr"] - base["psnr"],
        "ssim_gain": ref["ssim"] - base["ssim"],
        "mean_channel_error": ref["mean_channel_error"],
    }


def transfer_gains(images, baseline: Enhancer, refiners, *, levels=None, draws: int = 1, seed: int = 3) -> dict:
    """How trained refiners do on other photographs than they were trained on (e.g. scikit-image's, after training
    on a tensorflow-datasets collection): ``images`` are degraded at each level (``draws`` times, seeded),
    enhanced by ``baseline``, refined, and compared like the test split.

    Args:
        images: high-resolution crops float32 (N, S, S, 3) in [0, 1], S divisible by 4.
        baseline: the enhancer E the refiners were trained behind.
        refiners: one refiner or ``{level: refiner}`` (as :func:`kit.sr.train_refiners` returns).
        levels: the degradation levels (default: those of ``refiners`` when it is a dict, else all).

    Returns:
        ``{level: gains(...)}``: the PSNR/SSIM gain of refined over E(degraded) against E(raw) per level.
    """
    if levels is None:
        levels = [lv for lv in refiners if lv != "all"] if isinstance(refiners, dict) and "all" not in refiners else None
    split = degrade_split(images, **({} if levels is None else {"levels": tuple(levels)}), draws=check_positive_int(draws, "draws"), seed=seed)
    enhanced = enhance_split(baseline, split)
    rows = evaluate(enhanced, refine_split(refiners, enhanced))
    return {lv: gains(rows, lv) for lv in enhanced.degraded}


def colour_oracle_gain(test: EnhancedSet, level: str = "mild") -> dict:
    """How much of the gap at ``level`` is one global colour per image: the PSNR gain (dB, against E(raw)) of
    E(degraded) with each image's mean per-channel error removed. An oracle (it reads the reference), so a
    ceiling for any correction of the global colour, not something a refiner can expect to reach: a warm photograph
    and a warmed one look alike, and a refiner sees only the image."""
    level = check_choice(level, list(test.degraded), "level")
    x, ref = test.degraded[level], test.raw_per_image
    return _gain(np.clip(x + (ref - x).mean(axis=(1, 2), keepdims=True), 0.0, 1.0), x, ref)


def _gain(corrected, x, ref) -> dict:
    """Mean PSNR (dB) and SSIM of ``corrected`` minus those of ``x``, both against ``ref``."""
    return {"psnr_gain_db": float(iq.psnr(corrected, ref).mean() - iq.psnr(x, ref).mean()),
            "ssim_gain": float(iq.ssim(corrected, ref).mean() - iq.ssim(x, ref).mean())}


def colour_stage_gain(model, test: EnhancedSet, level: str = "mild") -> dict:
    """What the refiner's colour stage alone gains at ``level`` (PSNR dB and SSIM, against E(raw)): ``model``
    is a refiner from :func:`train_refiner`, or ``{level: refiner}``. Beside :func:`colour_oracle_gain` it shows
    how much of the global colour error the stage recovers; ``None`` when the refiner has no colour stage."""
    level = check_choice(level, list(test.degraded), "level")
    try:
        stage = _refiner_for(model, [level]).get_layer("colour_stage")
    except ValueError:
        return None
    x, ref = test.degraded[level], test.raw_per_image
    return _gain(refine(stage, x), x, ref)


def metrics_table(rows: list[dict]) -> str:
    """The evaluation rows as a Markdown table (one line per level, image and reference)."""
    lines = ["| level | image | vs | PSNR | PSNR-Y | SSIM | SSIM-Y | mean channel error (R, G, B) |", "|---|---|---|---:|---:|---:|---:|---|"]
    for r in rows:
        mce = ", ".join(f"{v:+.4f}" for v in r["mean_channel_error"])
        lines.append(f"| {r['level']} | {r['image']} | {r['reference']} | {r['psnr']:.2f} | {r['psnr_y']:.2f} | {r['ssim']:.4f} | {r['ssim_y']:.4f} | {mce} |")
    return "\n".join(lines)


def seconds_per_image(fn, size: int, *, repeats: int = 3) -> float:
    """Median wall-clock seconds of ``fn`` on one random float32 (1, size, size, 3) image, after a warm-up."""
    x = np.random.default_rng(0).random((1, size, size, 3), dtype=np.float32)
    fn(x)
    times = []
    for _ in range(check_positive_int(repeats, "repeats")):
        t = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - t)
    return float(np.median(times))



def perception_distortion(test: EnhancedSet, refined: dict, *, level: str, distance=None) -> dict:
    """The perception-distortion trade-off at ``level``: for each of ``refined`` (``{name: images (N, S, S, 3)}``,
    e.g. the L1 and the GAN refiner's outputs on the test split) and for E(degraded), the mean PSNR and SSIM
    against E(raw) and against the true photo, the mean perceptual ``distance`` to E(raw) (a callable
    ``(images, reference) -> (N,)``, e.g. LPIPS; lower is closer), and the mean sharpness (variance of the
    Laplacian, :func:`kit.metrics.sharpness`) next to the references' own.

    Returns ``{"rows": {name: {...}}, "reference_sharpness": {"baseline(raw)": ..., "raw": ...}}``."""
    level = check_choice(level, list(test.degraded), "level")
    refs = test.references
    images = {"baseline(degraded)": test.degraded[level], **refined}
    rows = {}
    for name, img in images.items():
        if img.shape != refs["raw"].shape:
            raise ValueError(f"{name!r} images have shape {img.shape}, the references {refs['raw'].shape}")
        row = {"sharpness": float(iq.sharpness(img).mean())}
        for ref_name, ref in refs.items():
            row[f"psnr_vs_{ref_name}"] = float(iq.psnr(img, ref).mean())
            row[f"ssim_vs_{ref_name}"] = float(iq.ssim(img, ref).mean())
        if distance is not None:
            row["perceptual_distance"] = float(np.mean(distance(img, refs["baseline(raw)"])))
        rows[name] = row
    return {"rows": rows, "reference_sharpness": {k: float(iq.sharpness(v).mean()) for k, v in refs.items()}, "level": level}


def perception_distortion_table(result: dict) -> str:
    """A Markdown table of :func:`perception_distortion`'s result: one row per image kind, PSNR/SSIM against E(raw),
    PSNR against the true photo, sharpness and (when it was measured) the perceptual distance; the references'
    own sharpness below it."""
    rows = result["rows"]
    columns = ["psnr_vs_baseline(raw)", "ssim_vs_baseline(raw)", "psnr_vs_raw", "sharpness"]
    columns += ["perceptual_distance"] if all("perceptual_distance" in r for r in rows.values()) else []
    lines = ["| image | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    lines += [f"| {name} | " + " | ".join(f"{row[c]:.3f}" for c in columns) + " |" for name, row in rows.items()]
    ref = result["reference_sharpness"]
    return "\n".join(lines) + f"\n\nSharpness of E(raw): {ref['baseline(raw)']:.3f}, of the true photo: {ref['raw']:.3f}"

"""Benchmark of notebook 07: degradations -> 4x baseline enhancer -> refinement CNN on the scikit-image
photographs, at a run profile. Writes ``results/esrgan.json`` (metrics per level against E(raw) and against
the true high-resolution crop, the refinement's gains, inference times, the weight-port check) and a
comparison strip PNG next to it.

    python benchmarks/esrgan.py --profile cpu
    python benchmarks/esrgan.py --profile smoke --out /tmp/esrgan.json     # end-to-end check, results/ untouched
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import kit
from kit import sr, viz
from kit.sr import load_photo_crops
from kit.sr.refiner import refine
from kit.sr.rrdbnet import enhance, rrdbnet

RESULTS = Path(__file__).resolve().parent.parent / "results"
TIMING_OUTPUT = 256  # inference time per 256x256 output image


def port_check(work: Path) -> dict:
    """The 23-block weight-port parity check against PyTorch, when PyTorch is installed."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return {"max_abs_diff": None, "note": "PyTorch not installed: parity not measured here (tests/test_port.py does it)"}
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    import torch_reference  # the PyTorch reference lives with the tests (torch is a test-only dependency)

    return torch_reference.check_port(work / "port", num_block=23, size=8)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default=None, help="smoke | cpu | full (default: $KIT_PROFILE, else by hardware)")
    ap.add_argument("--out", type=Path, default=RESULTS / "esrgan.json", help="results JSON path")
    args = ap.parse_args(argv)
    P = kit.setup(seed=42, profile_name=args.profile)
    e = P.esrgan
    t_start = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="esrgan_bench_"))

    port = port_check(work)
    print(f"weight port (23 blocks) max abs diff: {port['max_abs_diff']}")

    crops = load_photo_crops(e.crop_size, limit=e.max_crops, seed=0)
    train, val, test = (sr.degrade_split(c, draws=e.draws, seed=s) for s, c in enumerate((crops.train, crops.val, crops.test)))
    t = time.perf_counter()
    baseline = sr.choose_baseline(P, train, val, checkpoint_dir=work, verbose=2)
    baseline_seconds = time.perf_counter() - t
    print("baseline:", baseline.label)
    enhanced = {name: sr.enhance_split(baseline, s) for name, s in (("train", train), ("val", val), ("test", test))}
    t = time.perf_counter()
    models, histories = sr.train_refiners(P, enhanced["train"], enhanced["val"], checkpoint_dir=work, verbose=2)
    refiner_seconds = time.perf_counter() - t
    refined = sr.refine_split(models, enhanced["test"])
    rows = sr.evaluate(enhanced["test"], refined)
    print(sr.metrics_table(rows))
    levels = list(test.degraded)
    gains = {lv: {ref: sr.gains(rows, lv, ref) for ref in sr.REFERENCES} for lv in levels}
    oracle = {lv: sr.colour_oracle_gain(enhanced["test"], lv) for lv in levels}
    colour_stage = {lv: sr.colour_stage_gain(models, enhanced["test"], lv) for lv in levels}

    # Inference speed per 256x256 output: RRDBNet x4 from a 64x64 input (the official architecture, random
    # weights: speed does not depend on them, and the stand-in if one was trained), the refiner at 256x256.
    lr_size = TIMING_OUTPUT // 4
    official_arch = rrdbnet()
    timing = {
        "rrdbnet_x4plus_s_per_256px_output": sr.seconds_per_image(lambda x: enhance(official_arch, x), lr_size, repeats=e.timing_repeats),
        "refiner_s_per_256px_image": sr.seconds_per_image(lambda x: refine(next(iter(models.values())), x), TIMING_OUTPUT, repeats=e.timing_repeats),
    }
    if baseline.model is not None and baseline.kind != "official":
        timing["standin_rrdbnet_s_per_256px_output"] = sr.seconds_per_image(baseline, lr_size, repeats=e.timing_repeats)
    del official_arch

    n = min(6, len(test.hr))
    fig = viz.side_by_side(
        {
            "raw (hr)": test.hr[:n],
            "degraded": sr.bicubic(test.degraded["mild"][:n]),
            "E(degraded)": enhanced["test"].degraded["mild"][:n],
            "refined": refined["mild"][:n],
            "E(raw)": enhanced["test"].raw[:n],
        },
        cell=1.6, title=f"Mild level, held-out crops ({baseline.kind} baseline, {P.name} profile)", show=False,
    )
    strip = args.out.with_name(args.out.stem + "_strip.png")
    strip.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(strip)
    viz.close(fig)

    mild = gains["mild"]["baseline(raw)"]
    summary = {
        "profile": P.name,
        "hardware": kit.hardware(),
        "baseline": baseline.kind,
        "baseline_label": baseline.label,
        "weight_port_max_abs_diff": port["max_abs_diff"],
        "refine_psnr_gain_db": mild["psnr_gain_db"],
        "refine_ssim_gain": mild["ssim_gain"],
        "mean_channel_error": mild["mean_channel_error"],
        "refine_psnr_gain_vs_hr_db": gains["mild"]["raw"]["psnr_gain_db"],
        "refine_ssim_gain_vs_hr": gains["mild"]["raw"]["ssim_gain"],
        "gain_level": "mild",
        "gain_reference": "baseline(raw)",
        **{f"refine_psnr_gain_db_{lv}": gains[lv]["baseline(raw)"]["psnr_gain_db"] for lv in levels},
        **{f"refine_ssim_gain_{lv}": gains[lv]["baseline(raw)"]["ssim_gain"] for lv in levels},
        **{f"colour_oracle_psnr_gain_db_{lv}": oracle[lv]["psnr_gain_db"] for lv in levels},
        **{f"colour_stage_psnr_gain_db_{lv}": colour_stage[lv]["psnr_gain_db"] for lv in levels if colour_stage[lv]},
        "refiner_per_level": e.refiner_per_level,
        **timing,
        "total_seconds": time.perf_counter() - t_start,
    }
    path = kit.runs.write_results(
        args.out,
        summary,
        P,
        settings={**e.__dict__, "train_crops": len(crops.train), "val_crops": len(crops.val), "test_crops": len(crops.test)},
        metrics=rows,
        gains=gains,
        colour_oracle=oracle,
        colour_stage=colour_stage,
        training={
            "baseline_seconds": baseline_seconds,
            "refiner_seconds": refiner_seconds,
            "standin_history": baseline.history,
            "refiner_per_level": e.refiner_per_level,
            "refiner_history": {name: {stage: h.history for stage, h in stages.items()} for name, stages in histories.items()},
        },
        weight_port=port,
        figures={"comparison_strip": strip.name},
    )
    print(f"refinement at mild vs E(raw): {mild['psnr_gain_db']:+.2f} dB PSNR, {mild['ssim_gain']:+.4f} SSIM, "
          f"mean channel error {np.round(mild['mean_channel_error'], 4).tolist()}")
    print(f"wrote {path} and {strip} in {summary['total_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

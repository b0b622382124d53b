"""Benchmark of notebook 07 on photographs the refiner never saw: leave one scikit-image photograph out, train the
stand-in enhancer and the refiner (with and without its colour stage) on the crops of the others, and measure the
gains on the crops of the one left out. Notebook 07 splits crops, so its test crops come from the
same photographs as its training crops; this is the check of what carries over to a new photograph. Writes
``results/esrgan_unseen.json``.

    python benchmarks/esrgan_unseen.py --profile cpu
    python benchmarks/esrgan_unseen.py --profile cpu --photos astronaut,coffee --level mild
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

import numpy as np

import kit
from kit import sr
from kit.checks import check_choice
from kit.data.folders import split_indices
from kit.sr.degrade import LEVEL_NAMES
from kit.sr.photos import SKIMAGE_PHOTOS, skimage_photos, tile

RESULTS = Path(__file__).resolve().parent.parent / "results"
DEFAULT_PHOTOS = ("astronaut", "coffee", "chelsea")  # a person, an object, an animal


def one_photo(P, crops: dict, held: str, level: str, work: Path) -> dict:
    """Train on every photograph but ``held`` (80/20 train/val crops), test on all of ``held``'s crops."""
    e = P.esrgan
    others = np.concatenate([c for name, c in crops.items() if name != held])
    tr, va = split_indices(len(others), (0.8, 0.2), seed=0)
    train, val = (sr.degrade_split(others[i], (level,), draws=e.draws, seed=s) for s, i in enumerate((tr, va)))
    test = sr.degrade_split(crops[held], (level,), draws=e.draws, seed=2)
    baseline = sr.choose_baseline(P, train, val, checkpoint_dir=work / held, verbose=0)
    enhanced = {name: sr.enhance_split(baseline, s) for name, s in (("train", train), ("val", val), ("test", test))}
    out = {"test_crops": len(crops[held]), "train_crops": len(tr), "baseline": baseline.kind,
           "colour_oracle": sr.colour_oracle_gain(enhanced["test"], level)}
    variants = {"refiner": P, "unet_only": P.replace(esrgan=dataclasses.replace(e, colour_epochs=0))}
    for name, profile in variants.items():
        model, _ = sr.train_refiner(profile, enhanced["train"], enhanced["val"], level=level, checkpoint_dir=work / held / name, verbose=0)
        rows = sr.evaluate(enhanced["test"], sr.refine_split(model, enhanced["test"]))
        out[name] = sr.gains(rows, level)
        if name == "refiner":
            out["colour_stage"] = sr.colour_stage_gain(model, enhanced["test"], level)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default=None, help="smoke | cpu | full (default: $KIT_PROFILE, else by hardware)")
    ap.add_argument("--photos", default=",".join(DEFAULT_PHOTOS), help=f"photographs to leave out, one at a time, of {list(SKIMAGE_PHOTOS)}")
    ap.add_argument("--level", default="mild")
    ap.add_argument("--out", type=Path, default=RESULTS / "esrgan_unseen.json", help="results JSON path")
    args = ap.parse_args(argv)
    P = kit.setup(seed=42, profile_name=args.profile)
    level = check_choice(args.level, LEVEL_NAMES, "degradation level")
    held_out = [check_choice(p, SKIMAGE_PHOTOS, "photograph") for p in args.photos.split(",")]
    crops = {name: tile(img, P.esrgan.crop_size) for name, img in skimage_photos().items()}
    work = Path(tempfile.mkdtemp(prefix="esrgan_unseen_"))
    t0 = time.perf_counter()
    per_photo = {}
    for held in held_out:
        t = time.perf_counter()
        per_photo[held] = {**one_photo(P, crops, held, level, work), "seconds": time.perf_counter() - t}
        r = per_photo[held]
        print(f"{held:>22}: refiner {r['refiner']['psnr_gain_db']:+.2f} dB (colour stage alone {r['colour_stage']['psnr_gain_db']:+.2f}), "
              f"U-Net only {r['unet_only']['psnr_gain_db']:+.2f} dB, colour oracle {r['colour_oracle']['psnr_gain_db']:+.2f} dB", flush=True)
    n = np.array([r["test_crops"] for r in per_photo.values()], float)

    def mean(key):  # crop-weighted over the held-out photographs
        return float(np.sum(n * [r[key]["psnr_gain_db"] for r in per_photo.values()]) / n.sum())

    summary = {
        "profile": P.name,
        "hardware": kit.hardware(),
        "level": level,
        "reference": "baseline(raw)",
        "photos": held_out,
        "refine_psnr_gain_db_unseen": mean("refiner"),
        "colour_stage_psnr_gain_db_unseen": mean("colour_stage"),
        "unet_only_psnr_gain_db_unseen": mean("unet_only"),
        "colour_oracle_psnr_gain_db_unseen": mean("colour_oracle"),
        "total_seconds": time.perf_counter() - t0,
    }
    path = kit.runs.write_results(args.out, summary, P, per_photo=per_photo)
    print({k: round(v, 3) if isinstance(v, float) else v for k, v in summary.items()})
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

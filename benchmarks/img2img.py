"""Benchmark of notebooks 04-05 at a run profile: the label-conditioned colorization GAN (L1 only vs L1 + GAN; dresses
and sneakers come in two colours) and the class-conditional sketch -> image pix2pix, on held-out Fashion-MNIST-derived pairs. Writes
``results/img2img.json`` and example grids next to it.

    python benchmarks/img2img.py --profile cpu
    python benchmarks/img2img.py --profile cpu --tasks colorization   # re-measure one task, keep the other
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

import kit
from kit import gans, judge, metrics
from kit.data import CLASS_NAMES, SECOND_COLOURS, colorization_data, make_dataset, second_colour_classes, sketch_data, take_per_class
from kit.metrics.img2img import colour_error_per_class, translation_metrics

RESULTS = Path(__file__).resolve().parent.parent / "results"


def _fit(model, arrays, S, epochs):
    t0 = time.perf_counter()
    history = gans.fit_gan(model, make_dataset(arrays, batch_size=S.batch_size, drop_remainder=True), epochs=epochs, verbose=2)
    return history, time.perf_counter() - t0


def colorization(P, out_dir: Path) -> dict:
    S = P.img2img
    data = colorization_data(train_samples=S.colorization_train_samples, test_samples=S.test_samples, seed=0)
    x_train, t_train, _ = data.train.tanh()
    x_test = data.test.tanh()[0]
    target = data.test.targets
    runs, shown = {}, take_per_class(data.test.labels, 1)
    rows = {"grayscale": data.test.inputs[shown]}
    y_train, y_test = data.train.labels, data.test.labels
    # The classes whose colour is a coin flip (SECOND_COLOURS) and the rest, measured apart: where L1 and GAN differ.
    two = np.isin(y_test, second_colour_classes())
    two_shown = np.concatenate([np.flatnonzero(y_test == c)[:6] for c in second_colour_classes()])
    two_rows = {"grayscale": data.test.inputs[two_shown]}
    for name, label, gan_weight in (("l1_only", "L1 only", 0.0), ("l1_gan", "L1 + GAN", 1.0)):
        model = gans.pix2pix(x_train.shape[1:], 3, num_classes=10, gan_weight=gan_weight, jit_compile=P.jit_compile, seed=1)
        history, seconds = _fit(model, (x_train, t_train, y_train), S, S.colorization_epochs)
        fake = (model.translate(x_test, y_test) + 1) / 2
        runs[name] = {**translation_metrics(fake, target), "lab_error": colour_error_per_class(fake, target, data.test.labels),
                      "two_colour_classes": translation_metrics(fake[two], target[two]),
                      "one_colour_classes": translation_metrics(fake[~two], target[~two]),
                      "seconds": seconds, "history": history}
        rows[label], two_rows[label] = fake[shown], fake[two_shown]
    rows["target"] = target[shown]
    two_rows["target"] = target[two_shown]
    fig = kit.viz.side_by_side(rows, captions={"grayscale": list(CLASS_NAMES)}, cell=1.0,
                               title=f"Colorization of held-out garments ({P.name} profile)", show=False)
    fig.savefig(out_dir / "img2img_colorization.png")
    kit.viz.close(fig)
    fig = kit.viz.side_by_side(two_rows, cell=1.0, title=f"Dresses and sneakers, two possible colours each ({P.name} profile)", show=False)
    fig.savefig(out_dir / "img2img_two_colour.png")
    kit.viz.close(fig)
    return {"train_pairs": len(data.train), "test_pairs": len(data.test), "epochs": S.colorization_epochs,
            "second_colours": {k: list(v) for k, v in SECOND_COLOURS.items()}, **runs}


def sketch(P, out_dir: Path) -> dict:
    S = P.img2img
    data = sketch_data(train_samples=S.sketch_train_samples, test_samples=S.test_samples, seed=0)
    x_train, t_train, y_train = data.train.tanh()
    x_test, _, y_test = data.test.tanh()
    model = gans.pix2pix(x_train.shape[1:], 3, num_classes=10, base_filters=S.sketch_filters, jit_compile=P.jit_compile, seed=1)
    history, seconds = _fit(model, (x_train, t_train, y_train), S, S.sketch_epochs)
    fake = (model.translate(x_test, y_test) + 1) / 2
    classifier = judge.fashion_classifier(P)
    m = translation_metrics(fake, data.test.targets, y_test, classifier=classifier, features=metrics.ClassifierFeatures(classifier))
    shown = take_per_class(y_test, 1)
    swap = (model.translate(np.repeat(x_test[shown[3:4]], 10, axis=0), np.arange(10)) + 1) / 2
    fig = kit.viz.side_by_side({"sketch": data.test.inputs[shown], "generated": fake[shown], "target": data.test.targets[shown],
                                "dress sketch, label swapped": swap},
                               captions={"sketch": list(CLASS_NAMES), "dress sketch, label swapped": list(CLASS_NAMES)}, cell=1.0,
                               title=f"Sketch -> garment, held-out sketches ({P.name} profile)", show=False)
    fig.savefig(out_dir / "img2img_sketch.png")
    kit.viz.close(fig)
    return {"train_pairs": len(data.train), "test_pairs": len(data.test), "epochs": S.sketch_epochs, "base_filters": S.sketch_filters,
            "seconds": seconds, "history": history, **m}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default=None)
    ap.add_argument("--out", default=str(RESULTS / "img2img.json"))
    ap.add_argument("--tasks", default="colorization,sketch",
                    help="tasks to measure; a task left out keeps its section (and its date) from --out, measured at the same profile")
    args = ap.parse_args(argv)
    P = kit.setup(seed=0, profile_name=args.profile)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tasks = set(args.tasks.split(","))
    previous = json.loads(out.read_text()) if out.exists() else {}
    now = kit.env.environment(P)["date"]

    def task(name, fn):
        if name in tasks:
            return {**fn(P, out.parent), "measured": now}
        if previous.get("profile") != P.name or name not in previous:
            raise SystemExit(f"--tasks leaves out {name!r} but {out} holds no {P.name}-profile {name} section to keep")
        return {"measured": previous["date"], **previous[name]}

    col = task("colorization", colorization)
    sk = task("sketch", sketch)
    summary = {
        "profile": P.name,
        "hardware": kit.hardware(),
        "colorization_psnr": col["l1_gan"]["psnr"],
        "colorization_ssim": col["l1_gan"]["ssim"],
        "colorization_psnr_l1_only": col["l1_only"]["psnr"],
        "colourfulness_l1_only": col["l1_only"]["colourfulness"],
        "colourfulness_l1_gan": col["l1_gan"]["colourfulness"],
        "colourfulness_target": col["l1_gan"]["colourfulness_target"],
        "colourfulness_two_colour_l1_only": col["l1_only"]["two_colour_classes"]["colourfulness"],
        "colourfulness_two_colour_l1_gan": col["l1_gan"]["two_colour_classes"]["colourfulness"],
        "colourfulness_two_colour_target": col["l1_gan"]["two_colour_classes"]["colourfulness_target"],
        "lab_error_l1_only": col["l1_only"]["lab_error"]["all"],
        "lab_error_l1_gan": col["l1_gan"]["lab_error"]["all"],
        "sketch_sample_accuracy": sk["classifier_accuracy"],
        "real_test_accuracy": sk["classifier_accuracy_real"],
        "sketch_fid_classifier": sk["fid_classifier"],
        "sketch_psnr": sk["psnr"],
        "sketch_ssim": sk["ssim"],
    }
    kit.runs.write_results(out, summary, P, colorization=col, sketch=sk)
    print(json.dumps(summary, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

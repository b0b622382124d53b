"""Train notebook 01's improved CNN alone with a profile's settings and record its test accuracy in
``results/improved_cnn_<profile>.json``: the check of "improved CNN >= 93% at the full profile" on machines
without a GPU (``--no-jit`` runs the same training without XLA, which is 2-3x slower on CPU).

    python benchmarks/improved_cnn.py --profile full --no-jit
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

import kit
from kit import metrics
from kit.data import load_fashion_mnist
from kit.models import build_classifier
from kit.training import fit_classifier

RESULTS = Path(__file__).resolve().parent.parent / "results"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default=None)
    ap.add_argument("--no-jit", action="store_true", help="train without XLA whatever the profile says")
    ap.add_argument("--out", default=None, help="the results file (default: results/improved_cnn_<profile>.json)")
    args = ap.parse_args(argv)
    P = kit.setup(seed=0, profile_name=args.profile)
    jit = False if args.no_jit else P.jit_compile
    data = load_fashion_mnist(profile=P)
    model = build_classifier("improved_cnn", jit_compile=jit)
    hist = fit_classifier(model, data.x_train, data.y_train, epochs=P.improved_epochs, batch_size=P.batch_size,
                          validation_data=(data.x_test, data.y_test), verbose=2)
    acc = metrics.accuracy(model, data.x_test, data.y_test)
    summary = {"profile": P.name, "hardware": kit.hardware(), "jit_compile": jit, "epochs": P.improved_epochs,
               "batch_size": P.batch_size, "train_samples": len(data.x_train), "improved_cnn_test_accuracy": acc,
               "seconds_per_epoch": float(np.mean(hist.history["epoch_seconds"]))}
    kit.runs.write_results(args.out or RESULTS / f"improved_cnn_{P.name}.json", summary, P, history=hist.history)
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

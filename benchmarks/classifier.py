"""Benchmark of notebook 01: train the three Fashion-MNIST classifiers, attack them with FGSM and PGD,
adversarially train the reference CNN, and write ``results/classifier.json`` (+ the epsilon-curve figure).

    KIT_PROFILE=cpu python benchmarks/classifier.py          # or --profile cpu
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

import kit
from kit import attacks, judge, metrics
from kit.data import load_fashion_mnist
from kit.models import CLASSIFIERS, build_classifier
from kit.training import fit_classifier

RESULTS = Path(__file__).resolve().parent.parent / "results"
EPS_REPORT = 0.1  # the epsilon the summary reports, as in the acceptance criteria


def at(epsilons, curve, eps=EPS_REPORT):
    return float(np.asarray(curve)[list(np.round(epsilons, 6)).index(round(eps, 6))])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default=None, help="smoke | cpu | full (default: $KIT_PROFILE, else by hardware)")
    ap.add_argument("--out", default=str(RESULTS / "classifier.json"))
    args = ap.parse_args(argv)

    P = kit.setup(seed=0, profile_name=args.profile)
    eps = list(P.epsilons)
    if EPS_REPORT not in eps:
        eps = sorted(set(eps) | {EPS_REPORT})
    data = load_fashion_mnist(profile=P)
    x_att, y_att = data.x_test[: P.attack_samples], data.y_test[: P.attack_samples]
    t_start = time.perf_counter()

    models, report = {}, {"models": {}}
    for name in CLASSIFIERS:
        model = build_classifier(name, jit_compile=P.jit_compile)
        epochs = P.improved_epochs if name == "improved_cnn" else P.classifier_epochs
        hist = fit_classifier(model, data.x_train, data.y_train, epochs=epochs, batch_size=P.batch_size,
                              validation_data=(data.x_test, data.y_test), verbose=2)
        models[name] = model
        fgsm_curve = attacks.accuracy_under_attack(model, x_att, y_att, eps, attack="fgsm")
        report["models"][name] = {
            "epochs": epochs,
            "params": int(model.count_params()),
            "test_accuracy": metrics.accuracy(model, data.x_test, data.y_test),
            "seconds_per_epoch": float(np.mean(hist.history["epoch_seconds"][1:] or hist.history["epoch_seconds"])),
            "history": {k: [float(v) for v in vs] for k, vs in hist.history.items()},
            "fgsm_curve": fgsm_curve.tolist(),
        }
        print(f"{name}: test accuracy {report['models'][name]['test_accuracy']:.4f}", flush=True)
    # As notebook 01 does: cache the improved CNN as the feature classifier the GAN metrics use.
    judge.save_fashion_classifier(models["improved_cnn"], P, report["models"]["improved_cnn"]["test_accuracy"])

    ref = models["reference_cnn"]
    pgd_curve = attacks.accuracy_under_attack(ref, x_att, y_att, eps, attack="pgd", steps=P.pgd_steps)
    masked_curve = attacks.accuracy_under_attack(ref, x_att, y_att, eps, attack="fgsm", mask="garment")
    report["models"]["reference_cnn"]["pgd_curve"] = pgd_curve.tolist()
    report["models"]["reference_cnn"]["fgsm_garment_mask_curve"] = masked_curve.tolist()

    # Targeted FGSM: every image pushed towards class (y + 1) mod 10.
    target = (y_att + 1) % 10
    x_t = attacks.fgsm(ref, x_att, target, EPS_REPORT, targeted=True)
    targeted_success = metrics.accuracy(ref, x_t, target)  # fraction classified as the target

    # Adversarial fine-tuning of (a copy of) the trained reference CNN: FGSM with random start, epsilon 0.1.
    adv = attacks.adversarial_trainer(ref, epsilon=EPS_REPORT, jit_compile=P.jit_compile)
    n_adv = P.adv_train_samples or len(data.x_train)
    t0 = time.perf_counter()
    adv_hist = fit_classifier(adv, data.x_train[:n_adv], data.y_train[:n_adv], epochs=P.adv_epochs, batch_size=P.batch_size, verbose=2)
    adv_seconds = (time.perf_counter() - t0) / P.adv_epochs
    adv_clean = metrics.accuracy(adv, data.x_test, data.y_test)
    adv_fgsm = attacks.accuracy_under_attack(adv, x_att, y_att, eps, attack="fgsm")
    adv_pgd = attacks.accuracy_under_attack(adv, x_att, y_att, eps, attack="pgd", steps=P.pgd_steps)
    report["adversarial_training"] = {
        "epsilon": EPS_REPORT,
        "epochs": P.adv_epochs,
        "train_samples": int(n_adv),
        "clean_accuracy": adv_clean,
        "seconds_per_epoch": adv_seconds,
        "fgsm_curve": adv_fgsm.tolist(),
        "pgd_curve": adv_pgd.tolist(),
        "history": {k: [float(v) for v in vs] for k, vs in adv_hist.history.items()},
    }
    m = report["models"]
    summary = {
        "profile": P.name,
        "hardware": kit.hardware(),
        "train_samples": int(len(data.x_train)),
        "test_samples": int(len(data.x_test)),
        "attack_samples": int(len(x_att)),
        "dense_test_accuracy": m["dense"]["test_accuracy"],
        "cnn_test_accuracy": m["reference_cnn"]["test_accuracy"],
        "improved_cnn_test_accuracy": m["improved_cnn"]["test_accuracy"],
        "fgsm_acc_eps_0_1": at(eps, m["reference_cnn"]["fgsm_curve"]),
        "pgd_acc_eps_0_1": at(eps, pgd_curve),
        "fgsm_garment_mask_acc_eps_0_1": at(eps, masked_curve),
        "targeted_fgsm_success_eps_0_1": targeted_success,
        "adv_trained_clean_accuracy": adv_clean,
        "adv_trained_fgsm_acc_eps_0_1": at(eps, adv_fgsm),
        "adv_trained_pgd_acc_eps_0_1": at(eps, adv_pgd),
        "seconds_per_epoch_reference_cnn": m["reference_cnn"]["seconds_per_epoch"],
        "total_seconds": time.perf_counter() - t_start,
    }

    curves = {f"{n} (FGSM)": m[n]["fgsm_curve"] for n in CLASSIFIERS}
    curves["reference_cnn (PGD)"] = pgd_curve
    curves["adv-trained reference_cnn (FGSM)"] = adv_fgsm
    curves["adv-trained reference_cnn (PGD)"] = adv_pgd
    fig = kit.viz.plot_epsilon_curves(eps, curves, title=f"Fashion-MNIST accuracy under attack ({P.name} profile)", show=False)
    out_path = kit.runs.write_results(args.out, summary, P, epsilons=eps, pgd_steps=P.pgd_steps, **report)
    fig.savefig(out_path.with_name(out_path.stem + "_epsilon.png"))
    print(json.dumps(summary, indent=2))
    print(f"wrote {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

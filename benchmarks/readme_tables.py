"""Regenerate the README's result tables from ``results/*.json`` (never edit those tables by hand).

Each table lives between ``<!-- BEGIN results/NAME.json -->`` and ``<!-- END results/NAME.json -->``.

    python benchmarks/readme_tables.py
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def pct(v):
    return "n/a" if v is None else f"{100 * v:.1f}%"


def classifier_table(r: dict) -> str:
    s = r["summary"]
    m = r["models"]
    v = r["versions"]
    lines = [
        f"Measured by `benchmarks/classifier.py` at the **{s['profile']}** profile on {s['hardware']} "
        f"({s['train_samples']:,} training images, {s['test_samples']:,} test images, attacks on "
        f"{s['attack_samples']:,} test images, PGD {r['pgd_steps']} steps), TensorFlow {v['tensorflow']}, "
        f"Keras {v['keras']}, {r['date'][:10]}.",
        "",
        "| model | epochs | parameters | test accuracy | FGSM acc. @ ε=0.1 | s / epoch |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, row in m.items():
        at = r["epsilons"].index(0.1)
        lines.append(
            f"| `{name}` | {row['epochs']} | {row['params']:,} | {pct(row['test_accuracy'])} | "
            f"{pct(row['fgsm_curve'][at])} | {row['seconds_per_epoch']:.1f} |"
        )
    a = r["adversarial_training"]
    lines += [
        "",
        "| reference CNN @ ε=0.1 | clean | FGSM | PGD | FGSM, garment pixels only | targeted FGSM success |",
        "|---|---:|---:|---:|---:|---:|",
        f"| undefended | {pct(s['cnn_test_accuracy'])} | {pct(s['fgsm_acc_eps_0_1'])} | {pct(s['pgd_acc_eps_0_1'])} | "
        f"{pct(s['fgsm_garment_mask_acc_eps_0_1'])} | {pct(s['targeted_fgsm_success_eps_0_1'])} |",
        f"| adversarially fine-tuned ({a['epochs']} epochs on {a['train_samples']:,} images) | "
        f"{pct(s['adv_trained_clean_accuracy'])} | {pct(s['adv_trained_fgsm_acc_eps_0_1'])} | "
        f"{pct(s['adv_trained_pgd_acc_eps_0_1'])} | | |",
        "",
        "![Accuracy under attack](results/classifier_epsilon.png)",
    ]
    full = ROOT / "results" / "improved_cnn_full.json"
    if full.exists():
        f = json.loads(full.read_text())["summary"]
        lines += [
            "",
            f"The improved CNN at the **full** profile's settings ({f['epochs']} epochs, batch {f['batch_size']}, "
            f"{f['train_samples']:,} images; `benchmarks/improved_cnn.py`, jit_compile={f['jit_compile']}, on "
            f"{f['hardware']}): **{pct(f['improved_cnn_test_accuracy'])}** test accuracy, "
            f"{f['seconds_per_epoch']:.0f} s per epoch.",
        ]
    return "\n".join(lines)


def num(v, fmt="{:.2f}"):
    return "n/a" if v is None else fmt.format(v)


def gans_table(r: dict) -> str:
    s, v = r["summary"], r["versions"]
    lines = [
        f"Measured by `benchmarks/gans.py` at the **{s['profile']}** profile on {s['hardware']}, TensorFlow "
        f"{v['tensorflow']}, Keras {v['keras']}, {r['date'][:10]}.",
        "",
    ]
    q = r.get("quality")
    if q:
        d, a = q["dcgan"], q["acgan"]
        lines += [
            f"| classifier FID (n={q['fid_samples']:,}, lower is better) | value |",
            "|---|---:|",
            f"| real vs real (train vs test images) | {num(q['real_vs_real']['fid'])} |",
            f"| DCGAN, {d['epochs']} epochs on {d['train_samples']:,} images | {num(d['fid_classifier'])} |",
            f"| untrained generator | {num(q['untrained']['fid'])} |",
            f"| DCGAN, Inception FID | {num(d['fid_inception'])} |",
            "",
            f"ACGAN ({a['epochs']} epochs): the independent classifier labels **{pct(a['sample_accuracy'])}** of samples as "
            f"the requested class (it scores {pct(q['feature_classifier_real_test_accuracy'])} on real test images; "
            f"the course's reference cGAN report measured 30.57%). Classifier score {a['classifier_score']:.2f} / 10.",
            "",
            "![DCGAN samples](results/gans_dcgan_samples.png) ![ACGAN class rows](results/gans_acgan_classes.png)",
            "",
        ]
    lines += [
        "`train_step` speed, DCGAN at batch 64: the kit's `GAN` under `model.fit` vs a plain `tf.function` + "
        "`GradientTape` loop of the same networks, measured in one run.",
        "",
        "| jit_compile | mixed float16 | kit steps/s | plain loop steps/s | kit / plain |",
        "|---|---|---:|---:|---:|",
    ]
    for row in r["speed"]:
        lines.append(f"| {row['jit_compile']} | {row['mixed_float16']} | {row['kit_steps_per_s']:.2f} | "
                     f"{row['plain_steps_per_s']:.2f} | {row['ratio_kit_over_plain']:.3f} |")
    return "\n".join(lines)


TABLES = {"classifier.json": classifier_table, "gans.json": gans_table}


def main() -> int:
    readme = ROOT / "README.md"
    text = readme.read_text()
    for name, render in TABLES.items():
        path = ROOT / "results" / name
        begin, end = f"<!-- BEGIN results/{name} -->", f"<!-- END results/{name} -->"
        if begin not in text:
            print(f"README has no {begin} marker; skipped")
            continue
        body = render(json.loads(path.read_text())) if path.exists() else f"_No `results/{name}` yet: run `make bench`._"
        text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: f"{begin}\n{body}\n{end}", text, flags=re.S)
        print(f"README: table from results/{name}")
    readme.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

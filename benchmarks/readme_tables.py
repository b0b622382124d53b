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
    return "\n".join(lines)


TABLES = {"classifier.json": classifier_table}


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

"""Regenerate the README's result tables from ``results/*.json`` (never edit those tables by hand).

Each table lives between ``<!-- BEGIN results/NAME.json -->`` and ``<!-- END results/NAME.json -->``.

    python tools/readme_tables.py
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


def img2img_table(r: dict) -> str:
    s, v, c, k = r["summary"], r["versions"], r["colorization"], r["sketch"]
    return "\n".join([
        f"Measured by `benchmarks/img2img.py` at the **{s['profile']}** profile on {s['hardware']}, TensorFlow "
        f"{v['tensorflow']}, Keras {v['keras']}; colorization measured {c['measured'][:10]}, sketches {k['measured'][:10]}; "
        f"{c['test_pairs']:,} held-out pairs per task.",
        "",
        f"Colorization (28x28, label-conditioned U-Net + PatchGAN, {c['train_pairs']:,} training pairs, {c['epochs']} epochs each; "
        f"the classes {' and '.join(c['second_colours'])} come in two colours, a coin flip per garment):",
        "",
        "| colorizer | PSNR (dB) | SSIM | colourfulness | colourfulness, two-colour classes | mean ΔE (Lab), garment |",
        "|---|---:|---:|---:|---:|---:|",
        *(f"| {label} | {c[run]['psnr']:.2f} | {c[run]['ssim']:.3f} | {c[run]['colourfulness']:.1f} | "
          f"{c[run]['two_colour_classes']['colourfulness']:.1f} | {c[run]['lab_error']['all']:.1f} |"
          for label, run in (("L1 only", "l1_only"), ("L1 + GAN (PatchGAN)", "l1_gan"))),
        f"| targets | | | {c['l1_gan']['colourfulness_target']:.1f} | {c['l1_gan']['two_colour_classes']['colourfulness_target']:.1f} | |",
        "",
        f"Sketch -> garment (64x64, label-conditioned U-Net + PatchGAN, width {k['base_filters']}, {k['train_pairs']:,} "
        f"training pairs, {k['epochs']} epochs):",
        "",
        "| | this kit | course reference report |",
        "|---|---:|---:|",
        f"| independent classifier on generated images | **{pct(k['classifier_accuracy'])}** | 30.57% |",
        f"| same classifier on the real images | {pct(k['classifier_accuracy_real'])} | 62.5% |",
        f"| classifier FID, generated vs real | {k['fid_classifier']:.2f} | 95.78 (its own features) |",
        f"| PSNR / SSIM against the source image | {k['psnr']:.2f} dB / {k['ssim']:.3f} | |",
        "",
        "![Colorization](results/img2img_colorization.png)",
        "",
        "![Colorization of the two-colour classes](results/img2img_two_colour.png)",
        "",
        "![Sketch to garment](results/img2img_sketch.png)",
    ])


def esrgan_table(r: dict) -> str:
    s, v, st = r["summary"], r["versions"], r["settings"]
    rows = {(m["level"], m["image"], m["reference"]): m for m in r["metrics"]}
    lines = [
        f"Measured by `benchmarks/esrgan.py` at the **{s['profile']}** profile on {s['hardware']} "
        f"({st['train_crops']}/{st['val_crops']}/{st['test_crops']} train/val/test crops of {st['crop_size']}x{st['crop_size']} "
        f"from scikit-image's photographs, {st['draws']} degradations per crop and level), TensorFlow {v['tensorflow']}, "
        f"Keras {v['keras']}, {r['date'][:10]}. Baseline enhancer: **{s['baseline_label']}**. Weight port vs PyTorch, "
        f"23 blocks: max abs difference {num(s['weight_port_max_abs_diff'], '{:.1e}')}.",
        "",
        "| level | PSNR vs E(raw): E(degraded) → refined | SSIM vs E(raw): E(degraded) → refined | PSNR vs true photo: E(degraded) → refined | colour stage alone | oracle mean-colour fix |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    oracle, stage = r["colour_oracle"], r["colour_stage"]
    for level, g in r["gains"].items():
        b, f = rows[(level, "baseline(degraded)", "baseline(raw)")], rows[(level, "refined", "baseline(raw)")]
        bt, ft = rows[(level, "baseline(degraded)", "raw")], rows[(level, "refined", "raw")]
        lines.append(f"| {level} | {b['psnr']:.2f} → {f['psnr']:.2f} ({g['baseline(raw)']['psnr_gain_db']:+.2f} dB) | "
                     f"{b['ssim']:.4f} → {f['ssim']:.4f} ({g['baseline(raw)']['ssim_gain']:+.4f}) | "
                     f"{bt['psnr']:.2f} → {ft['psnr']:.2f} ({g['raw']['psnr_gain_db']:+.2f} dB) | "
                     f"{num((stage[level] or {}).get('psnr_gain_db'), '{:+.2f} dB')} | {oracle[level]['psnr_gain_db']:+.2f} dB |")
    ce = ", ".join(f"{c:+.4f}" for c in s["mean_channel_error"])
    lines += [
        "",
        f"Mean per-channel error (R, G, B) of the refined images against E(raw) at the {s['gain_level']} level: {ce}. "
        f"Inference per 256x256 output on this CPU: RRDBNet x4plus {s['rrdbnet_x4plus_s_per_256px_output']:.1f} s, "
        f"refiner {s['refiner_s_per_256px_image']:.2f} s.",
        "",
        "The refiner is two stages: a global colour stage that sees the whole image and adds one offset per channel "
        "(the white-balance error, a random-sign Lab b* shift), then a residual U-Net trained on patches for the local "
        "damage. \"Colour stage alone\" is the first stage's gain by itself (`kit.esrgan.colour_stage_gain`). The last "
        "column is a ceiling, not a method: E(degraded) with each image's mean colour error removed using the reference "
        "(`kit.esrgan.colour_oracle_gain`). Test crops are held out, but they come from the same seven photographs as the "
        "training crops, so much of what the colour stage learns is these photographs' colours; the next table shows what "
        "happens on a photograph it never saw.",
        "",
        f"![Comparison strip](results/{r['figures']['comparison_strip']})",
    ]
    return "\n".join(lines)


def esrgan_unseen_table(r: dict) -> str:
    s, v = r["summary"], r["versions"]
    lines = [
        f"**Photographs the refiner never saw** (`benchmarks/esrgan_unseen.py`, {s['profile']} profile, {s['level']} level, "
        f"{r['date'][:10]}): each photograph in turn is left out entirely; the stand-in enhancer and the refiner train on the "
        "crops of the others and are tested on all of its crops. PSNR gain over E(degraded), against E(raw):",
        "",
        "| left out | test crops | refiner | its colour stage alone | U-Net only (no colour stage) | oracle mean-colour fix |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, p in r["per_photo"].items():
        lines.append(f"| {name} | {p['test_crops']} | {p['refiner']['psnr_gain_db']:+.2f} dB | {p['colour_stage']['psnr_gain_db']:+.2f} dB | "
                     f"{p['unet_only']['psnr_gain_db']:+.2f} dB | {p['colour_oracle']['psnr_gain_db']:+.2f} dB |")
    lines += [
        f"| crop-weighted mean | | {s['refine_psnr_gain_db_unseen']:+.2f} dB | {s['colour_stage_psnr_gain_db_unseen']:+.2f} dB | "
        f"{s['unet_only_psnr_gain_db_unseen']:+.2f} dB | {s['colour_oracle_psnr_gain_db_unseen']:+.2f} dB |",
        "",
        "A negative gain means the refiner made E(degraded) worse. Six photographs are too few to learn white balance in "
        "general: on a new photograph the colour stage applies what it learnt about the others. Train on your own, larger "
        "set of photographs (`load_photo_crops(folder=...)`) before trusting it on new ones.",
    ]
    return "\n".join(lines)


def cocogan_table(r: dict) -> str:
    s, q, v = r["summary"], r["quality"], r["versions"]
    rows = {(m["size"], m["model"]): m for m in r["memory"]["rows"]}
    sizes = sorted({k[0] for k in rows})
    lines = [
        f"Measured by `benchmarks/cocogan.py` at the **{s['profile']}** profile on {s['hardware']} "
        f"({q['train_samples']:,} training images, stages {'/'.join(map(str, q['stage_epochs']))} epochs, batch {q['batch_size']}, "
        f"{s['train_seconds'] / 60:.0f} min of training), TensorFlow {v['tensorflow']}, Keras {v['keras']}, {r['date'][:10]}.",
        "",
        "| 32x32 Fashion-MNIST | COCO-GAN (assembled, weight average) | COCO-GAN (last iterate) | DCGAN (notebook 02) | real test images |",
        "|---|---:|---:|---:|---:|",
        f"| classifier FID | {s['fid_classifier']:.2f} | {s['fid_classifier_last_iterate']:.2f} | {s['dcgan_fid_classifier']:.2f} | "
        f"{s['real_vs_real_fid_classifier']:.2f} (real vs real) |",
        f"| confident predictions (p ≥ 0.8) | {100 * s['confident_generated']:.1f}% | {100 * s['confident_generated_last_iterate']:.1f}% | | "
        f"{100 * s['confident_real']:.1f}% |",
        f"| seam score (1.0 = seamless) | {s['seam_score_generated']:.3f} | {s['seam_score_last_iterate']:.3f} | | {s['seam_score_real']:.3f} |",
        "",
        f"Critic steps per generator step: {q['n_critic']}. Images drawn by an exponential moving average of the generator's "
        f"weights (decay {q['ema_decay']}) unless marked last iterate.",
        "",
        f"FID on notebook 01's classifier features (centre 28x28, {q['fid_samples']:,} images); DCGAN: {q['dcgan']['source']}.",
        "",
        f"Peak training memory and step time, WGAN-GP, batch {rows[sizes[0], 'coco']['batch']}, each measured in its own process "
        f"({rows[sizes[0], 'coco']['device']}: {'peak resident set size' if rows[sizes[0], 'coco']['device'] == 'CPU' else 'TensorFlow peak device memory'}):",
        "",
        "| output | COCO-GAN peak | full-image GAN peak | ratio | added by training (COCO / full) | COCO-GAN s/step | full-image s/step | parameters (COCO / full) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size in sizes:
        c, f = rows[size, "coco"], rows[size, "full"]
        lines.append(f"| {size}x{size} | {c['peak_mb']:,.0f} MB | {f['peak_mb']:,.0f} MB | {c['peak_mb'] / f['peak_mb']:.2f} | "
                     f"{c.get('training_rss_mb', float('nan')):,.0f} / {f.get('training_rss_mb', float('nan')):,.0f} MB | "
                     f"{c['step_seconds']:.3f} | {f['step_seconds']:.3f} | {c['params']:,} / {f['params']:,} |")
    lines += [
        "",
        f"![COCO-GAN samples with the micro-patch grid](results/{q['figures']['samples']})",
        f"![Beyond-boundary {s['beyond_boundary_size']}x{s['beyond_boundary_size']} samples](results/{q['figures']['beyond']})",
    ]
    if "patch_l1_guided" in s:
        lines += [
            "",
            f"Patch-guided generation (Q network, {q['q_epochs']} epoch(s) after the GAN): an image generated from one real test macro "
            f"patch redraws that patch with a mean absolute error of {s['patch_l1_guided']:.3f} (pixel units of [-1, 1]); images from "
            f"random z differ from it by {s['patch_l1_random_z']:.3f} there.",
            "",
            f"![Patch-guided generation](results/{q['figures']['guided']})",
        ]
    return "\n".join(lines)


def budget_table(r: dict) -> str:
    s = r["summary"]
    ok = s["max_est_minutes"] <= s["limit_minutes"] and s["max_peak_gib"] <= s["limit_gib"]
    lines = [
        f"**Estimates, not measurements** (`benchmarks/budget.py`, the budget model in `kit/budget.py`): each notebook at the "
        f"**{s['profile']}** profile on a Colab T4, from FLOPs counted by TensorFlow's profiler and calibrated on the "
        f"TensorFlow DCGAN tutorial's published time per epoch on Colab ({r['assumptions']['achieved_fp32_tflops']:.2f} TFLOPS "
        f"achieved in fp32; mixed precision assumed {r['assumptions']['mixed_precision_speedup']:.0f}x faster). Commit "
        f"`{(r.get('commit') or 'unknown')[:8]}`, {r['date'][:10]}.",
        "",
        "| notebook | est. minutes | est. peak GPU memory |",
        "|---|---:|---:|",
    ]
    for nb, b in r["notebooks"].items():
        lines.append(f"| {nb} | {b['est_minutes']:.1f} | {b['peak_gib']:.1f} GiB |")
    lines += ["", f"The longest notebook is estimated at {s['max_est_minutes']:.1f} minutes and the largest peak at "
                  f"{s['max_peak_gib']:.1f} GiB, {'within' if ok else 'OVER'} the budget of {s['limit_minutes']:.0f} minutes and "
                  f"{s['limit_gib']:.0f} GiB per notebook. `make gpu-check` on a GPU measures the real times."]
    return "\n".join(lines)


def labs_table(r: dict) -> str:
    lines = [
        f"Built and graded by `make labs` (otter-grader, {r['date'][:10]}, commit `{(r.get('commit') or 'unknown')[:8]}`): "
        f"{r['labs']} of {r['notebooks']} notebooks are labs, {r['questions']} auto-graded questions; "
        f"{r['solutions_left_in_student']} solution lines and {r['hidden_tests_in_student']} hidden tests in the student versions.",
        "",
        "| lab | graded questions | hidden tests | solution score | untouched student score (max) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, v in r["per_lab"].items():
        sol = f"{min(v['solution_scores'].values()):.0%}" if "solution_scores" in v else "not graded"
        stu = f"{max(v['student_scores'].values()):.0%}" if "student_scores" in v else "not graded"
        lines.append(f"| {name} | {len(v['questions'])} | {v['hidden_tests']} | {sol} | {stu} |")
    return "\n".join(lines)


def kill_resume_table(r: dict) -> str:
    s = r["summary"]
    exact = s["max_abs_weight_diff"] == 0 and s["killed"] == s["tries"]
    return (f"Measured by `benchmarks/kill_resume.py` ({r['date'][:10]}, {s['hardware']}, commit `{(r.get('commit') or 'unknown')[:8]}`): "
            f"{s['killed']} of {s['tries']} runs killed with SIGKILL at random points ({sum(t['kill'].startswith('write') for t in r['tries'])} "
            f"of them while a checkpoint was being written), each resumed by running the same call again; the largest difference of "
            f"any weight from an uninterrupted run: {s['max_abs_weight_diff']:g}" + (" (exact)." if exact else ". NOT EXACT."))


def distribute_table(r: dict) -> str:
    s = r["summary"]
    lines = [f"Measured by `benchmarks/distribute.py` ({r['date'][:10]}, {s['replicas']} logical devices on {r['hardware']}, commit "
             f"`{(r.get('commit') or 'unknown')[:8]}`): each family trained for a few steps with SGD on one device and under a "
             f"MirroredStrategy with the same global batch.", "", "| family | max abs weight difference |", "|---|---:|"]
    for row in r["per_family"]:
        if "max_abs_weight_diff" in row:
            lines.append(f"| {row['family']} | {row['max_abs_weight_diff']:.2e} |")
    lines += ["", f"Largest difference {s['max_abs_weight_diff']:.2e} (limit 1e-5); latents differ across replicas: "
                  f"{s['latents_differ_across_replicas']}; resume under the strategy: max difference {s['resume_max_abs_weight_diff']:g}."]
    return "\n".join(lines)


TABLES = {"classifier.json": classifier_table, "gans.json": gans_table, "img2img.json": img2img_table, "cocogan.json": cocogan_table, "esrgan.json": esrgan_table,
          "esrgan_unseen.json": esrgan_unseen_table, "budget.json": budget_table, "labs.json": labs_table,
          "kill_resume.json": kill_resume_table, "distribute.json": distribute_table}


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

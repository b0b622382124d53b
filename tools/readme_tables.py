"""Regenerate the README's result tables from ``results/*.json`` (never edit those tables by hand).

Each table lives between ``<!-- BEGIN results/NAME.json -->`` and ``<!-- END results/NAME.json -->``.

    python tools/readme_tables.py
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def pct(v):
    return "n/a" if v is None else f"{100 * v:.1f}%"


def provenance(r: dict) -> str:
    """Where a results file's numbers come from: notebooks, profile, hardware, versions, date, commit, run times."""
    v = r["versions"]
    names = list(r["notebooks"])
    runs = [f"{nb[:2]} {m['notebook_seconds'] / 60:.0f} min at commit `{(m.get('notebook_commit') or r.get('commit') or 'unknown')[:8]}`"
            for nb, m in r["notebooks"].items() if "notebook_seconds" in m]
    return (f"Measured by executing notebook{'s' if len(names) > 1 else ''} {' and '.join(n[:2] for n in names)} "
            f"(`make bench`: `benchmarks/run.py`) at the **{r['profile']}** profile on {r['hardware']}, TensorFlow {v['tensorflow']}, "
            f"Keras {v['keras']}, collected {r['date'][:10]} at commit `{(r.get('commit') or 'unknown')[:8]}`"
            + (f"; executions: {', '.join(runs)}." if runs else ".") + claims_line(r["summary"]))


def claims_line(s: dict) -> str:
    """The run's checked claims (``kit.runs.claim``): how many held, and every one this run did not bear out."""
    if "claims_held" not in s:
        return ""  # a results file from before the claims were checked
    held, failed = s["claims_held"], s.get("claims_failed", [])
    out = f" Sentences the notebooks check against this run: {len(held)} held, {len(failed)} not borne out"
    return out + (": " + " ".join(f"_{t}_" for t in failed) if failed else ".")


def compare(a: float, b: float, lower: str, higher: str, same: str = "the same as") -> str:
    """Words for a against b, so a sentence that states a conclusion follows the numbers."""
    return lower if a < b else higher if a > b else same


def shown_difference(a: float, b: float, fmt: str, metric: str, lower: str, higher: str, unit: str = "", *, article: str = "a") -> str:
    """"the same METRIC (X)" when a and b print alike in ``fmt``, else "a METRIC HIGHER/LOWER by D": the difference of
    the values as printed, so a sentence never says "higher by 0.00"."""
    sa, sb = fmt.format(a), fmt.format(b)
    if sa == sb:
        return f"the same {metric} ({sa}{unit})"
    diff = float(sa) - float(sb)
    return f"{article} {metric} {higher if diff > 0 else lower} by {fmt.format(abs(diff))}{unit}"


def improved_cnn_full() -> list[str]:
    """The sentence about ``results/improved_cnn_full.json`` (``benchmarks/improved_cnn.py --profile full``, run by hand:
    about an hour on 2 CPU cores), with its date and commit, or nothing when it has not been run."""
    full = ROOT / "results" / "improved_cnn_full.json"
    if not full.exists():
        return []
    r = json.loads(full.read_text())
    f = r["summary"]
    return ["", f"The improved CNN at the **full** profile's settings ({f['epochs']} epochs, batch {f['batch_size']}, "
                f"{f['train_samples']:,} images; `benchmarks/improved_cnn.py`, jit_compile={f['jit_compile']}, on "
                f"{f['hardware']}, {r['date'][:10]}, " + (f"commit `{r['commit'][:8]}`" if r.get("commit") else "version 0.1, commit not recorded") + "): "
                f"**{pct(f['improved_cnn_test_accuracy'])}** test accuracy, {f['seconds_per_epoch']:.0f} s per epoch."]


def classifier_table(r: dict) -> str:
    s = r["summary"]
    models = [k.removesuffix("_test_accuracy") for k in s if k.endswith("_test_accuracy") and not k.startswith("adv_")]
    defended = s["adv_trained_pgd_acc_eps_0_1"] - s["pgd_acc_eps_0_1"]
    towards = f" towards '{s['targeted_fgsm_target']}'" if "targeted_fgsm_target" in s else " towards one class"
    lines = [
        provenance(r),
        "",
        "| model | test accuracy |",
        "|---|---:|",
        *(f"| `{m}` | {pct(s[f'{m}_test_accuracy'])} |" for m in models),
        "",
        f"| reference CNN @ ε=0.1 | clean | FGSM | PGD | FGSM, garment pixels only | targeted FGSM success{towards} |",
        "|---|---:|---:|---:|---:|---:|",
        f"| undefended | {pct(s['reference_cnn_test_accuracy'])} | {pct(s['fgsm_acc_eps_0_1'])} | {pct(s['pgd_acc_eps_0_1'])} | "
        f"{pct(s['fgsm_garment_mask_acc_eps_0_1'])} | {pct(s['targeted_fgsm_success_eps_0_1'])} |",
        f"| adversarially fine-tuned | {pct(s['adv_trained_clean_accuracy'])} | {pct(s['adv_trained_fgsm_acc_eps_0_1'])} | "
        f"{pct(s['adv_trained_pgd_acc_eps_0_1'])} | | |",
        "",
        f"Adversarial fine-tuning {'raised' if defended > 0 else 'did not raise'} accuracy under PGD at ε=0.1 by "
        f"{100 * defended:+.1f} points, at {100 * (s['adv_trained_clean_accuracy'] - s['reference_cnn_test_accuracy']):+.1f} points of "
        "clean accuracy.",
        "",
        f"![Accuracy under attack](results/{r['figures']['classifier_epsilon']})",
    ]
    return "\n".join(lines + improved_cnn_full())


def game2d_table(r: dict) -> str:
    """Notebook 00: the plain GAN's collapse and WGAN-GP's fix on the ring, per seed; D against D*; the 5x5 grid."""
    s, f = r["summary"], r["figures"]
    seeds = s["game2d_seeds"]

    def shares(values):
        return ", ".join(pct(v) for v in values)

    plain, fixed = s["modes_covered_plain"], s["modes_covered_fixed"]
    lines = [
        provenance(r),
        "",
        f"The ring of 8 Gaussians (radius 2, sigma 0.02), {s['game2d_steps']:,} generator steps per run ({s['game2d_n_critic']} D step{'s' if s['game2d_n_critic'] > 1 else ''} before each); "
        "the two GANs share networks, optimizer, steps, weight average and seeds, only the loss differs. A sample is high quality within 3 sigma "
        "of a mode (VEEGAN's criterion).",
        "",
        "| ring of 8, seeds " + ", ".join(map(str, seeds)) + " | modes covered (of 8) | high-quality samples | JS estimate at the end |",
        "|---|---:|---:|---:|",
        f"| plain GAN (non-saturating BCE) | {', '.join(map(str, plain))} | {shares(s['high_quality_share_plain'])} | "
        f"{', '.join(f'{v:.3f}' for v in s['js_plain_final'])} |",
        f"| WGAN-GP | {', '.join(map(str, fixed))} | {shares(s['high_quality_share_fixed'])} | "
        f"{', '.join(f'{v:.3f}' for v in s['js_fixed_final'])} |",
        "",
        ("The plain GAN covered fewer than 8 modes with every seed" if max(plain) < 8 else "The plain GAN covered all 8 modes with at least one seed")
        + (" and WGAN-GP all 8 with every seed" if min(fixed) == 8 else f" and WGAN-GP at least {min(fixed)}")
        + f" (a perfect generator's JS estimate: {s['js_floor']:.3f}). "
        + (f"Trained alone for {s['best_response_steps']:,} steps against a fixed generator of known density (a collapsed ring), D's "
           f"mean distance to the exact D* = p_data / (p_data + p_g) went from {s['best_response_error_start']:.3f} to "
           f"{s['best_response_error_end']:.3f} (a constant 1/2: {s['best_response_constant_half_error']:.3f}). "
           if s.get("best_response_error_end") is not None else "")
        + (f"The D of the game, where both densities matter, differs from D* (G's density estimated from its samples) by "
           f"{s['optimal_d_mean_abs_error']:.3f} on average: "
           f"{'closer than' if s['optimal_d_mean_abs_error'] < s['optimal_d_constant_half_error'] else 'further than'} a constant 1/2 "
           f"({s['optimal_d_constant_half_error']:.3f}); it is not the best response to the G of the moment."
           if s.get("optimal_d_mean_abs_error") is not None else "G's points overlapped the data nowhere, so D was not compared with D*.")
        + f" On the 5x5 grid WGAN-GP covered {s['grid_modes_covered_fixed']} of {s['grid_modes']} modes "
        f"({pct(s['grid_high_quality_share_fixed'])} high-quality samples) after {s['grid_steps']:,} steps.",
        "",
        f"![The plain GAN's game, frame by frame](results/{f['game2d_plain_frames']})",
        "",
        f"![Samples of the plain GAN and WGAN-GP, per seed](results/{f['game2d_ring_samples']})",
    ]
    return "\n".join(lines)


def cocogan_table(r: dict) -> str:
    s, f = r["summary"], r["figures"]
    sizes = sorted(int(k.removeprefix("memory_ratio_")) for k in s if k.startswith("memory_ratio_"))
    lines = [
        provenance(r),
        "",
        "| 32x32 Fashion-MNIST | COCO-GAN (assembled, weight average) | COCO-GAN (last iterate) | real test images |",
        "|---|---:|---:|---:|",
        f"| classifier FID | {s['fid_classifier']:.2f} | {s['fid_classifier_last_iterate']:.2f} | |",
        f"| confident predictions (p ≥ 0.8) | {pct(s['confident_generated'])} | {pct(s['confident_generated_last_iterate'])} | "
        f"{pct(s['confident_real'])} |",
        f"| seam score (1.0 = seamless) | {s['seam_score_generated']:.3f} | | {s['seam_score_real']:.3f} |",
        *([f"| seam score, the same generator drawing each patch the paper's way (no neighbours' border) | "
           f"{s['seam_score_paper_coordinates']:.3f} | | |"] if "seam_score_paper_coordinates" in s else []),
        "",
        *([f"The assembled images are seamless by construction (every micro patch is drawn with its neighbours' border); drawn "
           f"without it, the same weights give a seam score {compare(s['seam_score_paper_coordinates'], s['seam_score_real'], 'below', 'above')} "
           "the real images'.", ""] if "seam_score_paper_coordinates" in s else []),
        f"Photographs at 64x64 ({s['photo_source']}, {s['photo_train_images']:,} training images): seam score {s['photo_seam_score_generated']:.3f} "
        f"(held-out photographs {s['photo_seam_score_real']:.3f}); Inception FID against held-out photographs "
        f"{num(s['photo_fid_inception'])}" + (" (no InceptionV3 weights offline)." if s["photo_fid_inception"] is None else "."),
        *([f"Against the held-out photographs the samples are {s['cocogan_photo_diversity_ratio']:.2f} times as varied (mean pairwise "
           f"distance, pixel space on 4x4 block averages) and carry {s['cocogan_photo_detail_ratio']:.2f} times the detail "
           "(neighbouring-pixel differences); 1 is as varied, as detailed as the photographs."] if "cocogan_photo_diversity_ratio" in s and "cocogan_photo_detail_ratio" in s else []),
        "",
        "| output | COCO-GAN peak memory / full-image GAN's | COCO-GAN step time / full-image GAN's |",
        "|---|---:|---:|",
        *(f"| {z}x{z} | {s[f'memory_ratio_{z}']:.2f} | {s[f'time_ratio_{z}']:.2f} |" for z in sizes),
        "",
        f"Patch-guided generation: an image generated from one real test macro patch redraws that patch with a mean absolute error of "
        f"{s['patch_l1_guided']:.3f}; images from random z differ from it by {s['patch_l1_random_z']:.3f} there."
        + (f" The judge gives the generated image the class of the real image its patch came from for {pct(s['guided_class_agreement'])} "
           f"of patches ({pct(s['guided_class_agreement_random_z'])} for images from random z)." if "guided_class_agreement" in s else "")
        + (f" Beyond-boundary fine-tuning kept the judged class of the centre garment for {pct(s['beyond_class_agreement'])} of z."
           if "beyond_class_agreement" in s else ""),
        "",
        f"![COCO-GAN samples with the micro-patch grid](results/{f['cocogan_samples']})",
        f"![Beyond-boundary {s['beyond_boundary_size']}x{s['beyond_boundary_size']} samples](results/{f['cocogan_beyond']})",
        f"![COCO-GAN on photographs](results/{f['cocogan_photos']})",
        "",
        f"![Patch-guided generation](results/{f['cocogan_guided']})",
    ]
    return "\n".join(lines)


def num(v, fmt="{:.2f}"):
    return "n/a" if v is None else fmt.format(v)


def gans_table(r: dict) -> str:
    s = r["summary"]
    ceiling, floor = s["real_is_classifier"], s["untrained_is_classifier"]
    lines = [
        provenance(r),
        "",
        f"DCGAN, {s['epochs']} epochs on {s['train_samples']:,} images"
        + (f" ({s['steps']:,} steps, images from a weight average of G with decay {s['ema_decay']})" if "steps" in s else "")
        + f"; classifier metrics on {s['fid_samples']:,} images (features and predictions of the Fashion-MNIST judge classifier, "
        "`kit.judge`):",
        "",
        "| images | classifier FID vs test images (lower is better) | classifier IS (1 to 10) |",
        "|---|---:|---:|",
        f"| real training images | {num(s['real_vs_real_fid_classifier'])} | {num(ceiling)} |",
        f"| DCGAN (BCE) | **{num(s['dcgan_fid_classifier'])}** | **{num(s['dcgan_is_classifier'])}** |",
        *([] if "fid_bce" in s else [f"| WGAN-GP (fewer epochs) | {num(s['wgan_gp_fid_classifier'])} | |"]),
        f"| untrained generator | {num(s['untrained_fid_classifier'])} | {num(floor)} |",
        f"| DCGAN, Inception FID / IS (ImageNet InceptionV3) | {num(s['dcgan_fid_inception'])} | {num(s['dcgan_is_inception'])} |",
        "",
        f"The DCGAN's classifier IS is {compare(s['dcgan_is_classifier'], ceiling, 'below', 'above')} the real images' "
        f"({s['dcgan_is_classifier']:.2f} vs {ceiling:.2f}) and {compare(s['dcgan_is_classifier'], floor, 'below', 'above')} the untrained "
        f"generator's ({floor:.2f}); its FID is {s['dcgan_fid_classifier'] / s['real_vs_real_fid_classifier']:.0f}x the real-vs-real "
        "value. \"n/a\": InceptionV3's ImageNet weights could not be downloaded on that machine.",
        *(loss_comparison(s) if "fid_bce" in s else []),
        "",
        f"ACGAN: the judge classifier labels **{pct(s['acgan_sample_accuracy'])}** of samples as the requested class (it scores "
        f"{pct(s['real_test_accuracy'])} on real test images; the course's reference cGAN report measured 30.57%). Classifier IS "
        f"{s['acgan_classifier_score']:.2f} (untrained generator {s['untrained_classifier_score']:.2f}, real test images "
        f"{s['real_classifier_score']:.2f}); classifier FID {s['acgan_fid_classifier']:.2f}."
        + (" Its samples are more recognisable than real garments, some of which are ambiguous: an ACGAN trained to satisfy a "
           "class head draws typical members of each class." if pct(s["acgan_sample_accuracy"]) != pct(s["real_test_accuracy"])
           and s["acgan_sample_accuracy"] > s["real_test_accuracy"] else "")
        + (f" Within a class they are {s['acgan_diversity_ratio']:.0%} as diverse as real garments of that class (mean pairwise "
           "distance in the judge's features)"
           + (": ACGAN's known bias towards easy, low-diversity samples (Shu, 2017; TAC-GAN, Gong et al., 2019)."
              if s["acgan_diversity_ratio"] < 0.8 else ".")
           if s.get("acgan_diversity_ratio") is not None else "")
        + (" Its IS is above the real images': IS rewards confident predictions spread evenly over the classes, which a "
           "generator trained to satisfy a class head delivers more reliably than real garments do (the judge is unsure "
           "between shirts and T-shirts); the FID, which compares the images' features with real ones, shows what IS misses."
           if s["acgan_classifier_score"] > s["real_classifier_score"] else ""),
        "",
        f"![DCGAN samples](results/{r['figures']['gans_dcgan_samples']}) ![ACGAN class rows](results/{r['figures']['gans_acgan_classes']})",
    ]
    return "\n".join(lines)


def loss_comparison(s: dict) -> list[str]:
    """Notebook 02's four losses on one budget, and the DCGAN's instruments."""
    losses = [("BCE (non-saturating)", "bce"), ("LSGAN", "lsgan"), ("hinge", "hinge"), ("WGAN-GP (5 critic updates per step)", "wgan_gp")]
    done = [(label, s[f"fid_{k}"], s[f"seconds_{k}"]) for label, k in losses if s.get(f"fid_{k}") is not None]
    best = min(done, key=lambda t: t[1]) if done else None
    share = s.get("dcgan_confident_share"), s.get("real_confident_share")
    out = ["", f"Four losses on one budget ({s['loss_compare_steps']} steps each, same networks, seed, data order and z; each with "
           "its paper's Adam settings):", "", "| loss | classifier FID | seconds |", "|---|---:|---:|"]
    out += [f"| {label} | {num(s.get(f'fid_{k}'))} | {num(s[f'seconds_{k}'], '{:.0f}')} |" for label, k in losses]
    if best:
        out += ["", f"On this short budget {best[0]} reached the lowest FID ({best[1]:.1f})."]
    if None not in share and share[1]:
        out += ["", f"{pct(share[0])} of the DCGAN's samples are judge-confident (one class with probability ≥ 0.8), against "
                f"{pct(share[1])} of real images ({share[0] / share[1]:.0%} as many). In the last epoch its discriminator was right on "
                f"{pct(s['d_accuracy_real'][-1])} of held-out real images and {pct(s['d_accuracy_fake'][-1])} of fakes."]
    return out


def gan_speed_table(r: dict) -> str:
    lines = [
        f"`train_step` speed, DCGAN at batch 64 (`benchmarks/gan_speed.py`, {r['hardware']}, {r['date'][:10]}, commit "
        f"`{(r.get('commit') or 'unknown')[:8]}`): the kit's `GAN` under `model.fit` vs a plain `tf.function` + `GradientTape` loop "
        "of the same networks, interleaved in one process"
        + (f" (load average {r['summary']['load_average_at_start']:.1f} on {r['hardware']} when it started: other work slowed both "
           "loops, so read the rates as lower bounds and the ratio as the measurement)." if r["summary"].get("load_average_at_start", 0) > 1.0 else "."),
        "",
        "| jit_compile | mixed float16 | kit steps/s | plain loop steps/s | kit / plain |",
        "|---|---|---:|---:|---:|",
    ]
    for row in r["speed"]:
        lines.append(f"| {row['jit_compile']} | {row['mixed_float16']} | {row['kit_steps_per_s']:.2f} | "
                     f"{row['plain_steps_per_s']:.2f} | {row['ratio_kit_over_plain']:.3f} |")
    return "\n".join(lines)


def delta_e_reading(errors: dict) -> str:
    """Each colorizer's mean ΔE ``{name: value}`` read on notebook 04's scale (2.3 just noticeable, above 20 a
    different colour)."""
    def verdict(v):
        return ("above 20: a different colour" if v > 20 else "just under 20: nearly a different colour" if v >= 16
                else "a visibly different shade" if v >= 2.3 else "below the just-noticeable 2.3")
    parts = [f"{name} {v:.1f} ({verdict(v)})" for name, v in errors.items()]
    far = all(v >= 16 for v in errors.values())
    return ("On notebook 04's colour scale (ΔE 2.3 just noticeable, above 20 a different colour) the mean ΔE per garment reads: "
            + "; ".join(parts) + "." + (" On average a garment's colour is far off, for both colorizers." if far else ""))


def img2img_table(r: dict) -> str:
    s, f = r["summary"], r["figures"]
    gan_more = compare(s["colourfulness_l1_gan"], s["colourfulness_l1_only"], "less", "more")
    return "\n".join([
        provenance(r),
        "",
        "Colorization (28x28, label-conditioned U-Net + PatchGAN; the classes Dress and Sneaker come in two colours, a coin flip "
        "per garment):",
        "",
        "| colorizer | PSNR (dB) | SSIM | colourfulness | colourfulness, two-colour classes | mean ΔE (Lab), garment |",
        "|---|---:|---:|---:|---:|---:|",
        f"| L1 only | {s['colorization_psnr_l1_only']:.2f} | {s['colorization_ssim_l1_only']:.3f} | {s['colourfulness_l1_only']:.1f} | "
        f"{s['colourfulness_two_colour_l1_only']:.1f} | {s['lab_error_l1_only']:.1f} |",
        f"| L1 + GAN (PatchGAN) | {s['colorization_psnr']:.2f} | {s['colorization_ssim']:.3f} | {s['colourfulness_l1_gan']:.1f} | "
        f"{s['colourfulness_two_colour_l1_gan']:.1f} | {s['lab_error_l1_gan']:.1f} |",
        f"| targets | | | {s['colourfulness_target']:.1f} | | |",
        "",
        f"The GAN term made the colours {gan_more} vivid (colourfulness {s['colourfulness_l1_only']:.1f} → {s['colourfulness_l1_gan']:.1f}, "
        f"targets {s['colourfulness_target']:.1f}; two-colour classes {s['colourfulness_two_colour_l1_only']:.1f} → "
        f"{s['colourfulness_two_colour_l1_gan']:.1f})."
        + (" The gap is widest in the two-colour classes: an L1 loss alone is minimised by the average of the two colours, a grey."
           if s["colourfulness_two_colour_l1_gan"] - s["colourfulness_two_colour_l1_only"] > s["colourfulness_l1_gan"] - s["colourfulness_l1_only"] else "")
        + " Against the L1-only colorizer it has "
        f"{shown_difference(s['colorization_psnr'], s['colorization_psnr_l1_only'], '{:.2f}', 'PSNR', 'lower', 'higher', ' dB')}, "
        f"{shown_difference(s['colorization_ssim'], s['colorization_ssim_l1_only'], '{:.3f}', 'SSIM', 'lower', 'higher', article='an')} and "
        f"{shown_difference(s['lab_error_l1_gan'], s['lab_error_l1_only'], '{:.1f}', 'mean colour error ΔE', 'lower (better)', 'higher (worse)')}."
        + " " + delta_e_reading({"L1 only": s["lab_error_l1_only"], "L1 + GAN": s["lab_error_l1_gan"]}),
        "",
        "Sketch → garment (64x64, label-conditioned U-Net + your PatchGAN):",
        "",
        "| | this kit | course reference report |",
        "|---|---:|---:|",
        f"| independent classifier on generated images | **{pct(s['sketch_sample_accuracy'])}** | 30.57% |",
        f"| same classifier on the real images | {pct(s['real_test_accuracy'])} | 62.5% |",
        f"| classifier FID, generated vs real | {s['sketch_fid_classifier']:.2f} | 95.78 (its own features) |",
        f"| classifier IS: generated / real / untrained generator | **{s['sketch_is_classifier']:.2f}** / {s['real_is_classifier']:.2f} / "
        f"{s['untrained_is_classifier']:.2f} | 13.0 (InceptionV3, 1,000 classes) |",
        f"| PSNR / SSIM against the source image | {s['sketch_psnr']:.2f} dB / {s['sketch_ssim']:.3f} | |",
        "",
        f"Generated garments' classifier IS is {compare(s['sketch_is_classifier'], s['real_is_classifier'], 'below', 'above')} the real "
        f"images' ({s['sketch_is_classifier']:.2f} vs {s['real_is_classifier']:.2f}).",
        "",
        f"![Colorization](results/{f['img2img_colorization']})",
        "",
        f"![Colorization of the two-colour classes](results/{f['img2img_two_colour']})",
        "",
        f"![Sketch to garment](results/{f['img2img_sketch']})",
    ])


ESRGAN_ROWS = {"baseline(degraded)": "E(degraded)", "l1_refiner": "L1 refiner", "gan_refiner": "GAN refiner (ESRGAN objective)"}


def gan_recipe(s: dict) -> str:
    """The GAN refiner's weights, schedule and the discriminator's last loss, as a parenthesis ("" for a results
    file written before notebook 07 logged them)."""
    if "gan_weights" not in s:
        return ""
    w = s["gan_weights"]
    text = (f" (weights: perceptual {w['perceptual']:g}, adversarial {w['adversarial']:g}, L1 {w['l1']:g}; {s['gan_epochs']} epochs at "
            f"learning rate {s['gan_learning_rate']:g}")
    if s.get("gan_d_loss_last") is not None:
        text += f"; the discriminator's loss in the last epoch {s['gan_d_loss_last']:.3f}, where ln 2 = 0.693 is chance"
    return text + ")"


def esrgan_table(r: dict) -> str:
    s = r["summary"]
    levels = [k.removeprefix("refine_psnr_gain_db_") for k in s if k.startswith("refine_psnr_gain_db_")]
    tr, va, te = s["crops_train_val_test"]
    lines = [
        provenance(r),
        "",
        f"{tr}/{va}/{te} train/val/test crops of {s['crop_size']}x{s['crop_size']} from {s['photo_source']}, {s['draws']} "
        f"degradation{'s' if s['draws'] != 1 else ''} per crop and level. Baseline enhancer: **{s['baseline_label']}**.",
        "",
        "| level | PSNR vs E(raw): E(degraded) → refined | SSIM gain vs E(raw) | PSNR gain vs true photo | colour stage alone | oracle mean-colour fix |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for lv in levels:
        before, after = s[f"psnr_baseline(degraded)_vs_baseline(raw)_{lv}"], s[f"psnr_refined_vs_baseline(raw)_{lv}"]
        stage = s.get(f"colour_stage_psnr_gain_db_{lv}")
        lines.append(f"| {lv} | {before:.2f} → {after:.2f} ({s[f'refine_psnr_gain_db_{lv}']:+.2f} dB) | {s[f'refine_ssim_gain_{lv}']:+.4f} | "
                     f"{s[f'refine_psnr_gain_vs_hr_db_{lv}']:+.2f} dB | {num(stage, '{:+.2f} dB')} | {s[f'colour_oracle_psnr_gain_db_{lv}']:+.2f} dB |")
    lines += [
        "",
        "The refiner is two stages: a global colour stage that sees the whole image and adds one offset per channel (the "
        "white-balance error, a random-sign Lab b* shift), then a residual U-Net trained on patches for the local damage. "
        "\"Colour stage alone\" is the first stage's gain by itself (`kit.sr.colour_stage_gain`). The last column is a ceiling, "
        "not a method: E(degraded) with each image's mean colour error removed using the reference (`kit.sr.colour_oracle_gain`).",
    ]
    unseen = {k.removeprefix("unseen_psnr_gain_db_"): v for k, v in s.items() if k.startswith("unseen_psnr_gain_db_")}
    if unseen:
        mild = unseen.get("mild")
        lines += ["", f"On {s['unseen_photos']} ({s['unseen_crops']} crops, never seen by any network of the run): PSNR gain vs E(raw) "
                  + ", ".join(f"{lv} {g:+.2f} dB" for lv, g in unseen.items()) + "."
                  + ("" if mild is None else " At the mild level refinement " + ("does no harm there." if mild >= 0 else "makes it worse there."))]
    if "mild_target_db" in s:
        g, t = s["refine_psnr_gain_db_mild"], s["mild_target_db"]
        lines += ["", f"Mild-level gain on the test crops {g:+.2f} dB against the course's target of +{t:.1f} dB: "
                      + ("met." if g >= t else "**not met**.")]
    lv = s["gan_refiner_level"]
    pd = {key: {m: s[f"pd_{key}_{m}"] for m in ("psnr_vs_baseline(raw)", "ssim_vs_baseline(raw)", "psnr_vs_raw", "sharpness", "perceptual_distance")
                if f"pd_{key}_{m}" in s} for key in ESRGAN_ROWS}
    has_pd = all("perceptual_distance" in row for row in pd.values())
    lines += [
        "",
        f"**The ESRGAN objective** at the {lv} level: the L1 refiner against the same refiner fine-tuned with a relativistic average "
        "discriminator + perceptual loss + L1" + gan_recipe(s) + ". Perceptual loss: " + s["perceptual_features"]
        + ". Perceptual distance: " + s["perceptual_distance"] + ".",
        "",
        "| images | PSNR vs E(raw) | SSIM vs E(raw) | PSNR vs true photo | sharpness (variance of the Laplacian) |"
        + (" perceptual distance to E(raw) (lower is closer) |" if has_pd else ""),
        "|---|---:|---:|---:|---:|" + ("---:|" if has_pd else ""),
    ]
    for key, label in ESRGAN_ROWS.items():
        row = pd[key]
        lines.append(f"| {label} | {row['psnr_vs_baseline(raw)']:.2f} | {row['ssim_vs_baseline(raw)']:.4f} | {row['psnr_vs_raw']:.2f} | "
                     f"{row['sharpness']:.4f} |" + (f" {row['perceptual_distance']:.4g} |" if has_pd else ""))
    lines.append(f"| E(raw), the reference | | | | {s['sharpness_e_raw']:.4f} |" + (" |" if has_pd else ""))
    l1, g = pd["l1_refiner"], pd["gan_refiner"]
    sharper = compare(g["sharpness"], l1["sharpness"], "less sharp", "sharper", "as sharp")
    psnr_cost = l1["psnr_vs_baseline(raw)"] - g["psnr_vs_baseline(raw)"]
    sentence = (f"The GAN refiner is {sharper} than the L1 refiner ({g['sharpness']:.4f} vs {l1['sharpness']:.4f}; E(raw) "
                f"{s['sharpness_e_raw']:.4f}) and {'costs' if psnr_cost > 0 else 'gains'} {abs(psnr_cost):.2f} dB of PSNR against E(raw)")
    if has_pd:
        closer = compare(g["perceptual_distance"], l1["perceptual_distance"], "closer to", "further from", "as close to")
        sentence += f"; by the perceptual distance it is {closer} E(raw) ({g['perceptual_distance']:.4g} vs {l1['perceptual_distance']:.4g})"
    lines += ["", sentence + ".", "", f"![L1 and GAN refiners, zoomed, with error maps](results/{r['figures']['esrgan_refinement']})"]
    return "\n".join(lines)


def esrgan_unseen_table(r: dict) -> str:
    s, v = r["summary"], r["versions"]
    lines = [
        f"**Photographs the refiner never saw** (`benchmarks/esrgan_unseen.py`, {s['profile']} profile, {s['level']} level, "
        f"{s['hardware']}, TensorFlow {v['tensorflow']}, {r['date'][:10]}, commit `{(r.get('commit') or 'not recorded')[:8]}`, "
        f"{s['total_seconds'] / 60:.0f} min): each photograph in turn is left out entirely; the stand-in enhancer and the refiner train on the "
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
    ]
    gain, stage = s["refine_psnr_gain_db_unseen"], s["colour_stage_psnr_gain_db_unseen"]
    if gain < 0:
        lines.append(f"On photographs it never saw, the refiner made E(degraded) worse on average ({gain:+.2f} dB)"
                     + (f", and its colour stage alone accounts for {stage:+.2f} dB of that: trained on the other six of scikit-image's "
                        "seven photographs, the stage learns their colours, not white balance in general."
                        if stage < 0 else ".")
                     + " Train on a larger collection (notebook 07's `tf_flowers` at the GPU profile, or your own photographs with "
                       "`load_photo_crops(folder=...)`) before trusting it on new ones.")
    else:
        lines.append(f"On photographs it never saw, the refiner still improved E(degraded) on average ({gain:+.2f} dB).")
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
        f"Built and graded as `make labs` does (`tools/labs.py`, otter-grader, {r['date'][:10]}, commit `{(r.get('commit') or 'unknown')[:8]}`): "
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
    mw = r.get("multi_worker")
    if mw:
        lines += ["", f"Several machines, simulated by {mw['workers']} worker processes on {mw['address']} under MultiWorkerMirroredStrategy "
                      f"(`--multi-worker`, global batch {mw['global_batch']}), against one process:", "",
                  "| family | max abs weight difference, 2 workers vs 1 process | between the workers |", "|---|---:|---:|"]
        lines += [f"| {row['family']} | {row['max_abs_weight_diff_vs_1_process']:.2e} | {row['max_abs_weight_diff_between_workers']:.2e} |"
                  for row in mw["per_family"]]
        res = mw["resume"]
        exact = res["max_abs_weight_diff_vs_uninterrupted"] == 0
        lines += ["", f"Resume after a worker is killed ({res['family']}: {res['killed']}): "
                      f"{'resumed from the chief' + chr(39) + 's checkpoint' if res['resumed_from_checkpoint'] else 'DID NOT RESUME'}, largest "
                      f"difference from an uninterrupted two-worker run {res['max_abs_weight_diff_vs_uninterrupted']:g}"
                      f"{' (exact)' if exact else ''}; checkpoint folders written by other workers: "
                      f"{len(res['checkpoint_folders_besides_the_chiefs'])}."]
    else:
        lines += ["", "Several machines: not measured in this run (`--multi-worker` runs two worker processes)."]
    return "\n".join(lines)


TABLES = {"game2d.json": game2d_table, "classifier.json": classifier_table, "gans.json": gans_table, "gan_speed.json": gan_speed_table, "img2img.json": img2img_table, "cocogan.json": cocogan_table, "esrgan.json": esrgan_table,
          "esrgan_unseen.json": esrgan_unseen_table, "budget.json": budget_table, "labs.json": labs_table,
          "kill_resume.json": kill_resume_table, "distribute.json": distribute_table}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", type=Path, default=ROOT / "results", help="folder of the results files")
    ap.add_argument("--readme", type=Path, default=ROOT / "README.md", help="the README to rewrite (CI: a copy)")
    args = ap.parse_args(argv)
    text = args.readme.read_text()
    for name, render in TABLES.items():
        path = args.results / name
        begin, end = f"<!-- BEGIN results/{name} -->", f"<!-- END results/{name} -->"
        if begin not in text:
            raise SystemExit(f"{args.readme} has no {begin} marker: add one where the table belongs")
        body = render(json.loads(path.read_text())) if path.exists() else f"_No `results/{name}` yet: run `make bench`._"
        text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: f"{begin}\n{body}\n{end}", text, flags=re.S)
        print(f"{args.readme.name}: table from {path}")
    args.readme.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark of notebook 06: COCO-GAN on 32x32 Fashion-MNIST at a profile, and its peak training memory and
step time against a full-image GAN of comparable capacity at the profile's sizes (cpu: 64x64 and 128x128; each
in its own process, on crops of the scikit-image photographs, as notebook 06).
Writes ``results/cocogan.json`` and figures next to it.

    python benchmarks/cocogan.py --profile cpu
    python benchmarks/cocogan.py --profile smoke --out /tmp/cocogan/cocogan.json   # end-to-end check

Quality (images drawn by the generator's weight average, and for comparison by its last iterate):
classifier-feature FID of assembled images (centre 28x28, notebook 01's classifier) against real test
images, next to notebook 02's DCGAN (its FID from ``results/gans.json`` when that holds one measured at the
same profile, else a DCGAN trained here on the same images); the share of samples the classifier labels
confidently; seam scores of generated and real images; beyond-boundary samples after fine-tuning; patch-guided
generation (the Q network): how closely an image generated from one real macro patch redraws that patch.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import keras
import numpy as np

import kit
from kit import cocogan, gans, judge, metrics, models
from kit.cocogan import PatchGrid, crop28, fashion_mnist_32, seam_score
from kit.data import make_dataset

RESULTS = Path(__file__).resolve().parent.parent / "results"
# Epochs of the DCGAN trained here when results/gans.json has none (was P.cocogan.dcgan_epochs, no longer in kit.profiles).
DCGAN_EPOCHS = {"smoke": 1, "cpu": 2, "full": 30}


def _save(fig, path: Path) -> str:
    fig.savefig(path)
    kit.viz.close(fig)
    return path.name


def dcgan_fid(P, fm, features, n: int) -> dict:
    """Notebook 02's DCGAN FID: from results/gans.json at the same profile, else trained here on the same images."""
    gans_json = RESULTS / "gans.json"
    if gans_json.exists():
        doc = json.loads(gans_json.read_text())
        if doc["summary"].get("profile") == P.name and doc["summary"].get("dcgan_fid_classifier") is not None:
            return {"fid_classifier": doc["summary"]["dcgan_fid_classifier"], "source": "results/gans.json"}
    keras.utils.set_random_seed(0)
    dcgan = gans.GAN(models.dcgan_generator(100), models.dcgan_discriminator(), loss="bce", seed=0)
    dcgan.compile(g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5), d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                  jit_compile=P.jit_compile)
    epochs = DCGAN_EPOCHS.get(P.name, P.gan_epochs)
    t0 = time.perf_counter()
    gans.fit_gan(dcgan, make_dataset(crop28(fm.x_train), batch_size=64, drop_remainder=True), epochs=epochs, verbose=2)
    fid = metrics.fid_kid(crop28(fm.x_test), gans.generate_many(dcgan, n), features)["fid"]
    return {"fid_classifier": fid, "source": f"trained here: {epochs} epochs on the same {len(fm.x_train)} images",
            "seconds": time.perf_counter() - t0}


def quality(P, out: Path, *, n_critic: int | None = None, stage_epochs: tuple[int, int, int] | None = None) -> dict:
    C = P.cocogan
    stage_epochs = tuple(stage_epochs or C.stage_epochs)
    fm = fashion_mnist_32(train_samples=C.train_samples, test_samples=C.fid_samples)
    grid = PatchGrid(32, 16, 8)
    keras.utils.set_random_seed(0)
    gan = cocogan.cocogan(grid, base_filters=C.base_filters, seed=0, **({} if n_critic is None else {"n_critic": n_critic}))
    gan.compile(**cocogan.ttur_optimizers(), jit_compile=P.jit_compile)
    ds = make_dataset(fm.x_train, batch_size=C.batch_size, drop_remainder=True)
    z = np.random.default_rng(3).standard_normal((10, gan.latent_dim)).astype("float32")
    t0 = time.perf_counter()
    histories, after_stage = cocogan.fit_stages(gan, ds, epochs=stage_epochs, snapshot_z=z, verbose=2)
    train_seconds = time.perf_counter() - t0

    n = C.fid_samples
    features = judge.classifier_features(P)
    fake = gans.generate_many(gan, n)  # the weight average (the sampler), as everywhere in the course
    fake_last = gans.generate_many(gan, n, average=False)  # the same z, the generator's last iterate
    probs_fake, probs_real = features.probabilities(crop28(fake)), features.probabilities(crop28(fm.x_test))
    probs_last = features.probabilities(crop28(fake_last))
    fid = metrics.fid_kid(crop28(fm.x_test), crop28(fake), features)
    fid_last = metrics.fid_kid(crop28(fm.x_test), crop28(fake_last), features)
    real_vs_real = metrics.fid_kid(crop28(fm.x_test), crop28(fm.x_train[:n]), features)
    seam_fake, seam_real = seam_score(fake, grid.micro_size), seam_score(fm.x_test, grid.micro_size)

    before = gan.generate_beyond(z[:8], C.beyond_size)
    beyond_history = cocogan.fine_tune_beyond(gan, ds, steps=C.beyond_steps, size=C.beyond_size, verbose=2)
    beyond = gan.generate_beyond(z[:8], C.beyond_size)

    # Patch-guided generation: the Q network, trained after the GAN against its frozen generator.
    q = cocogan.q_network(gan, base_filters=C.base_filters)
    q_history = cocogan.fit_q_network(q, ds, epochs=C.q_epochs, jit_compile=P.jit_compile, verbose=2)
    patch_errors = q.patch_errors(fm.x_test[:n], np.random.default_rng(6).integers(0, grid.n_macro, (n, 2)))
    positions = np.random.default_rng(5).integers(0, grid.n_macro, (8, 2))
    guided, _ = q.guided(grid.crop_macro(fm.x_test[:8], positions), positions)

    figures = {
        "stages": _save(kit.viz.side_by_side(after_stage, value_ranges={s: (-1, 1) for s in after_stage}, cell=0.9,
                                             title=f"COCO-GAN after each stage ({P.name} profile)", show=False),
                        out.with_name(out.stem + "_stages.png")),
        "samples": _save(cocogan.plot_patch_grid(fake[:16], grid.micro_size, ncols=8,
                                                 title=f"Assembled 32x32 COCO-GAN samples, 8x8 micro-patch grid overlaid ({P.name} profile)",
                                                 show=False), out.with_name(out.stem + "_samples.png")),
    }
    # The beyond-boundary figure on its own, with the 32x32 training area outlined.
    figures["beyond"] = _save(cocogan.plot_patch_grid(np.concatenate([before, beyond]), grid.micro_size, boundary=32, ncols=8,
                                                      title=f"{C.beyond_size}x{C.beyond_size} from a 32x32 model: before (top) / after "
                                                            f"(bottom) beyond-boundary fine-tuning ({P.name} profile)", show=False),
                              out.with_name(out.stem + "_beyond.png"))
    figures["guided"] = _save(cocogan.plot_guided(fm.x_test[:8], guided, positions, grid,
                                                  title=f"Patch-guided generation: real (top), generated from the outlined patch (bottom) "
                                                        f"({P.name} profile)", show=False), out.with_name(out.stem + "_guided.png"))
    return {
        "train_samples": len(fm.x_train), "batch_size": C.batch_size, "stage_epochs": list(stage_epochs),
        "n_critic": gan.gan_loss.n_critic, "ema_decay": gan.ema_decay,
        "base_filters": C.base_filters, "generator_params": gan.generator.count_params(),
        "discriminator_params": gan.discriminator.count_params(), "train_seconds": train_seconds,
        "history": histories, "beyond_history": beyond_history,
        "fid_classifier": fid["fid"], "kid_classifier": fid["kid"], "real_vs_real_fid_classifier": real_vs_real["fid"],
        "confident_generated": metrics.confident_fraction(probs_fake),
        "confident_real": metrics.confident_fraction(probs_real),
        "fid_classifier_last_iterate": fid_last["fid"],
        "confident_generated_last_iterate": metrics.confident_fraction(probs_last),
        "seam_score_last_iterate": seam_score(fake_last, grid.micro_size),
        "predicted_class_histogram": np.bincount(probs_fake.argmax(-1), minlength=10).tolist(),
        "seam_score_generated": seam_fake, "seam_score_real": seam_real,
        "seam_score_beyond": seam_score(beyond, grid.micro_size),
        "beyond_boundary_size": C.beyond_size, "beyond_steps": C.beyond_steps, "fid_samples": n,
        "q_epochs": C.q_epochs, "q_history": q_history,
        "patch_l1_guided": patch_errors["guided"], "patch_l1_random_z": patch_errors["random"],
        "dcgan": dcgan_fid(P, fm, features, n), "figures": figures,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default=None)
    ap.add_argument("--out", default=str(RESULTS / "cocogan.json"))
    ap.add_argument("--n-critic", type=int, default=None, help="critic steps per generator step (default: kit.cocogan.cocogan's)")
    ap.add_argument("--stage-epochs", default=None, help="cloudy,detail,lucid epochs (default: the profile's), e.g. 1,1,4")
    args = ap.parse_args(argv)
    P = kit.setup(seed=0, profile_name=args.profile)
    C = P.cocogan
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    stage_epochs = None if args.stage_epochs is None else tuple(int(e) for e in args.stage_epochs.split(","))
    if stage_epochs is not None and (len(stage_epochs) != 3 or min(stage_epochs) < 0):
        ap.error(f"--stage-epochs wants three non-negative integers like 1,1,4, got {args.stage_epochs}")
    q = quality(P, out, n_critic=args.n_critic, stage_epochs=stage_epochs)
    memory = cocogan.compare_memory(cocogan.images_at(cocogan.photo_images(64), C.memory_sizes, n=4 * C.memory_batch), steps=C.memory_steps,
                                    batch=C.memory_batch, base_filters=C.base_filters, parallel=C.memory_parallel)
    peaks = {m: [np.nan if r["oom"] else r["peak_mb"] for r in memory["rows"] if r["model"] == m] for m in cocogan.MODELS}
    fig = kit.viz.bar_chart([f"{s}x{s}" for s in C.memory_sizes], {"COCO-GAN": peaks["coco"], "full-image GAN": peaks["full"]},
                            ylabel="peak training memory (MB)", title=f"Peak training memory, batch {C.memory_batch} ({memory['rows'][0].get('device', '?')})",
                            show=False)
    q["figures"]["memory"] = _save(fig, out.with_name(out.stem + "_memory.png"))
    summary = {
        "profile": P.name,
        "hardware": kit.hardware(),
        "fid_classifier": q["fid_classifier"],
        "dcgan_fid_classifier": q["dcgan"]["fid_classifier"],
        "real_vs_real_fid_classifier": q["real_vs_real_fid_classifier"],
        "confident_generated": q["confident_generated"],
        "confident_real": q["confident_real"],
        "ema_decay": q["ema_decay"],
        "fid_classifier_last_iterate": q["fid_classifier_last_iterate"],
        "confident_generated_last_iterate": q["confident_generated_last_iterate"],
        "seam_score_last_iterate": q["seam_score_last_iterate"],
        "seam_score_generated": q["seam_score_generated"],
        "seam_score_real": q["seam_score_real"],
        **{f"memory_ratio_{s}": memory["memory_ratio"][s] for s in C.memory_sizes},
        **{f"time_ratio_{s}": memory["time_ratio"][s] for s in C.memory_sizes},
        "beyond_boundary_size": q["beyond_boundary_size"],
        "patch_l1_guided": q["patch_l1_guided"],
        "patch_l1_random_z": q["patch_l1_random_z"],
        "n_critic": q["n_critic"],
        "stage_epochs": q["stage_epochs"],
        "train_seconds": q["train_seconds"],
    }
    kit.runs.write_results(out, summary, P, quality=q, memory=memory)
    print(json.dumps(summary, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

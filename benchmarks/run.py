"""Run the benchmarks at one profile into ``--out`` (``results/`` for ``make bench``; a temporary folder in CI).

1. **The notebooks are the experiments.** With ``--execute``, the notebooks are executed in order at the profile
   (nbconvert, as ``make run`` does), each writing ``<runs>/<notebook>/metrics.json`` through
   ``kit.runs.log_metrics`` and its figures to ``<runs>/<notebook>/figures``; without it, the runs already made
   are collected (``make test`` executes the notebooks with nbmake into ``--runs``). Each topic's results file
   (``results/gans.json`` from notebooks 02 and 03, ...: :data:`TOPICS`) holds its notebooks' metrics with
   profile, hardware, library versions, commit and date, and the README's figures are copied from the runs
   (:data:`FIGURES`). No benchmark repeats a notebook's flow, so a number in the README is what a student's
   notebook computes at that profile.
2. **The thin benchmarks** measure what no notebook runs: the budget model (``budget.py``), the kill-and-resume
   check of the checkpoints (``kill_resume.py``), training under a two-replica ``MirroredStrategy``
   (``distribute.py``; at ``smoke`` these two run in unit tests instead (``make test``, ``make ci``), which render their README
   tables too, so CI does not run them twice), the speed of the kit's ``train_step`` against a plain loop
   (``gan_speed.py``), and notebook 07's refiner on photographs it never saw, one left out at a time
   (``esrgan_unseen.py``, a composition of ``kit.sr`` calls). They run when no ``--notebooks`` subset is asked for.
   At ``smoke`` (CI) also ``improved_cnn.py``, so it cannot rot; ``gpu_check.py`` needs a GPU and runs by hand.
   Above ``smoke``, ``tools/labs.py`` also builds and grades every lab (at ``smoke``) into ``labs.json``, the README's
   labs table (``make labs`` writes its summary to ``dist/``, so it leaves the checkout clean).

    python benchmarks/run.py --profile cpu --execute --out results               # everything (make bench)
    python benchmarks/run.py --profile cpu --execute --notebooks 02 03 --out results  # one topic's notebooks
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kit.env import environment, git_commit  # noqa: E402
from kit.profiles import profile  # noqa: E402
from kit.runs import summarize  # noqa: E402

EXECUTION = "execution.json"  # <runs>/<notebook>/execution.json: run time and commit of that execution
PER_EXECUTION = ("notebook_seconds", "notebook_commit", "load_average_at_start")
# Each notebook's checked claims (kit.runs.claim) stay per notebook; the summary gathers them as "<notebook>: <text>".
CLAIMS = ("claims_held", "claims_failed")
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
# results/<topic>.json <- the notebooks that measure the topic (written only when all of them ran in the same runs).
TOPICS = {
    "game2d": ("00_gan_game_2d",),
    "classifier": ("01_classifier_fgsm",),
    "gans": ("02_dcgan", "03_acgan"),
    "img2img": ("04_colorization_gan", "05_sketch_cgan_patchgan"),
    "cocogan": ("06_coco_gan",),
    "esrgan": ("07_esrgan_refinement",),
}
# The README's figures: results/<name>.png <- (notebook, figure saved by kit.viz; "grid_epoch_*" = the last one).
FIGURES = {
    "game2d_plain_frames": ("00_gan_game_2d", "plain_frames"),
    "game2d_ring_samples": ("00_gan_game_2d", "ring_samples"),
    "classifier_epsilon": ("01_classifier_fgsm", "epsilon_curves"),
    "gans_dcgan_samples": ("02_dcgan", "grid_epoch_*"),
    "gans_acgan_classes": ("03_acgan", "acgan_classes"),
    "img2img_colorization": ("04_colorization_gan", "colorization_comparison"),
    "img2img_two_colour": ("04_colorization_gan", "two_colour_comparison"),
    "img2img_sketch": ("05_sketch_cgan_patchgan", "grid_epoch_*"),
    "cocogan_samples": ("06_coco_gan", "coco_samples_grid"),
    "cocogan_beyond": ("06_coco_gan", "coco_beyond_boundary"),
    "cocogan_guided": ("06_coco_gan", "coco_patch_guided"),
    "cocogan_photos": ("06_coco_gan", "coco_photo_samples"),
    "esrgan_refinement": ("07_esrgan_refinement", "refinement_zoom"),
}


def select(prefixes) -> list[Path]:
    """The notebooks whose names start with one of ``prefixes`` ("02", "07_esrgan"), all when none is given."""
    if not prefixes:
        return NOTEBOOKS
    chosen = [nb for nb in NOTEBOOKS if any(nb.stem.startswith(p) for p in prefixes)]
    unknown = [p for p in prefixes if not any(nb.stem.startswith(p) for nb in NOTEBOOKS)]
    if unknown:
        raise SystemExit(f"no notebook starts with {unknown}; notebooks: {[nb.stem for nb in NOTEBOOKS]}")
    return chosen


def execute(notebooks, runs: Path, prof: str) -> None:
    """Execute ``notebooks`` in order at ``prof``, recording each one's wall seconds and commit beside its metrics."""
    for nb in notebooks:
        print(f"=== executing {nb.stem} at {prof}", flush=True)
        shutil.rmtree(runs / nb.stem, ignore_errors=True)  # no metrics or figures left over from an earlier run
        env = {**os.environ, "KIT_PROFILE": prof, "KIT_BATCH": "1", "KIT_RUN_DIR": str(runs / nb.stem)}
        load = os.getloadavg()[0]  # other work on the machine inflates the run time: recorded beside it
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--ExecutePreprocessor.timeout=-1",
                        "--ExecutePreprocessor.kernel_name=python3", "--output-dir", str(runs), "--output", nb.stem, str(nb)],
                       check=True, env=env)
        # What this execution was: its run time and the commit it ran at (a topic can be collected later, at another).
        (runs / nb.stem / EXECUTION).write_text(json.dumps({"notebook_seconds": time.perf_counter() - t0, "notebook_commit": git_commit(),
                                                           "load_average_at_start": load}))


def _figure(runs: Path, notebook: str, name: str) -> Path | None:
    found = sorted((runs / notebook / "figures").glob(f"{name}.png"))
    return found[-1] if found else None


def collect(runs: Path, out: Path, prof, notebooks) -> list[Path]:
    """Write ``<out>/<topic>.json`` for every topic all of whose notebooks have metrics at ``prof`` in ``runs``,
    and copy those notebooks' README figures. Returns the paths written."""
    found = summarize(runs)  # every <runs>/<notebook>/metrics.json (also written to <runs>/summary.json)
    wanted = [nb.stem for nb in notebooks]
    missing = [nb for nb in wanted if nb not in found]
    if missing:
        raise SystemExit(f"no metrics.json in {runs} for {missing}: execute the notebooks first (--execute, or make test / make run)")
    wrong = {nb: found[nb].get("profile") for nb in wanted if found[nb].get("profile") != prof.name}
    if wrong:
        raise SystemExit(f"the runs in {runs} were made at other profiles than {prof.name}: {wrong}")
    written = []
    for topic, members in TOPICS.items():
        if not all(nb in wanted for nb in members):
            continue
        summary, per_notebook = {}, {}
        for nb in members:
            metrics = dict(found[nb])
            execution = runs / nb / EXECUTION
            if execution.exists():
                metrics.update(json.loads(execution.read_text()))
            per_notebook[nb] = metrics
            for key in CLAIMS:
                summary.setdefault(key, []).extend(f"{nb}: {text}" for text in metrics.get(key, []))
            for key, value in metrics.items():
                if key in PER_EXECUTION or key in CLAIMS:
                    continue
                if key in summary and summary[key] != value:
                    raise SystemExit(f"{topic}: {key!r} is {summary[key]!r} in one notebook and {value!r} in {nb}; rename one")
                summary.setdefault(key, value)
        figures = {}
        for name, (nb, figure) in FIGURES.items():
            if nb in members:
                src = _figure(runs, nb, figure)
                if src is None:
                    raise SystemExit(f"{nb} saved no figure {figure!r} in {runs / nb / 'figures'}; FIGURES in {__file__} names it")
                shutil.copyfile(src, out / f"{name}.png")
                figures[name] = f"{name}.png"
        path = out / f"{topic}.json"
        path.write_text(json.dumps({"summary": summary, **environment(prof), "source": "executed notebooks (benchmarks/run.py)",
                                    "notebooks": per_notebook, "figures": figures}, indent=2))
        print(f"wrote {path} from {', '.join(members)}")
        written.append(path)
    return written


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default=None, help="smoke | cpu | t4 | full (default: $KIT_PROFILE, else by hardware)")
    ap.add_argument("--out", type=Path, default=ROOT / "results")
    ap.add_argument("--runs", type=Path, default=None, help="executed notebooks' run folders (default: <out>/runs)")
    ap.add_argument("--execute", action="store_true", help="execute the notebooks at the profile first")
    ap.add_argument("--notebooks", nargs="*", default=None, help="only these notebooks (name prefixes, e.g. 02 03); skips the thin benchmarks")
    args = ap.parse_args(argv)
    prof = profile(args.profile)
    args.out.mkdir(parents=True, exist_ok=True)
    # Absolute: the notebook kernels run in notebooks/, so a relative KIT_RUN_DIR would land there.
    runs = (args.runs or args.out / "runs").resolve()
    notebooks = select(args.notebooks)
    t0 = time.perf_counter()
    if args.execute:
        execute(notebooks, runs, prof.name)
    collect(runs, args.out, prof, notebooks)
    if args.notebooks is None:
        env = {**os.environ, "KIT_PROFILE": prof.name}
        smoke = prof.name == "smoke"
        commands = {"budget": ["--out", str(args.out / "budget.json")]}
        if not smoke:  # at smoke, tests/test_checkpoints.py and tests/test_distribute.py (make ci) run these two, and render their tables
            commands |= {"kill_resume": ["--tries", "10", "--out", str(args.out)], "distribute": ["--multi-worker", "--out", str(args.out)]}
        commands |= {
            "gan_speed": ["--out", str(args.out / "gan_speed.json")] + (["--steps", "3", "--repeats", "1"] if smoke else []),
            "esrgan_unseen": ["--out", str(args.out / "esrgan_unseen.json")] + (["--photos", "astronaut"] if smoke else []),
        }
        if smoke:  # above smoke notebook 01 trains the improved CNN at the profile; improved_cnn.py is for --profile full by hand
            commands["improved_cnn"] = ["--out", str(args.out / "improved_cnn_smoke.json")]
        for name in commands:
            print(f"=== benchmarks/{name}.py", flush=True)
            subprocess.run([sys.executable, str(ROOT / "benchmarks" / f"{name}.py"), *commands[name]], check=True, env=env)
        if not smoke:  # the labs summary of the README: every lab built and graded whole at smoke, as `make labs` grades
            # (at smoke, CI's labs-check grades them instead)
            print("=== tools/labs.py", flush=True)
            subprocess.run([sys.executable, str(ROOT / "tools" / "labs.py"), "--dist", str(ROOT / "build" / "bench-labs"), "--grade",
                            "--results", str(args.out / "labs.json")], check=True, env={**env, "KIT_PROFILE": "smoke", "KIT_BATCH": "1"})
    print(f"benchmarks at {prof.name} done in {time.perf_counter() - t0:.0f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

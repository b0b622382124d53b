"""Run the benchmarks at one profile into ``--out`` (``results/`` for ``make bench``; a temporary folder in CI).

1. The notebooks' numbers: with ``--execute``, every notebook is executed in order at the profile (nbconvert,
   as ``make run`` does), each writing ``<runs>/<notebook>/metrics.json`` through ``kit.runs.log_metrics``;
   without it, the metrics of runs already made (``make test`` executes the notebooks with nbmake into
   ``--runs``). They are collected into ``<out>/notebooks.json`` with profile, hardware, versions, commit and date.
   The notebooks are the one copy of each experiment; this script only collects what they measured.
2. The thin benchmarks, measuring what no notebook runs: the budget model (``budget.py``) and the
   kill-and-resume check of the checkpoints (``kill_resume.py``; fewer kills at ``smoke``).
3. Above ``smoke``: the benchmark scripts behind the README's result tables (``LEGACY``). They still repeat
   flows the notebooks run (version 0.1's layout); folding them into ``notebooks.json`` is open work.

    python benchmarks/run.py --profile cpu --execute --out results
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kit.env import environment  # noqa: E402
from kit.profiles import profile  # noqa: E402
from kit.runs import summarize  # noqa: E402

LEGACY = ("classifier", "gans", "img2img", "cocogan", "esrgan", "esrgan_unseen")
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def execute(runs: Path, prof: str) -> None:
    for nb in NOTEBOOKS:
        print(f"=== executing {nb.stem} at {prof}", flush=True)
        env = {**os.environ, "KIT_PROFILE": prof, "KIT_BATCH": "1", "KIT_RUN_DIR": str(runs / nb.stem)}
        subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--ExecutePreprocessor.timeout=-1",
                        "--ExecutePreprocessor.kernel_name=python3", "--output-dir", str(runs), "--output", nb.stem, str(nb)],
                       check=True, env=env)


def collect(runs: Path, out: Path, prof) -> Path:
    found = summarize(runs)  # every <runs>/<notebook>/metrics.json (also written to <runs>/summary.json)
    missing = [nb.stem for nb in NOTEBOOKS if nb.stem not in found]
    if missing:
        raise SystemExit(f"no metrics.json in {runs} for {missing}: execute the notebooks first (--execute, or make test / make run)")
    wrong = {nb: m.get("profile") for nb, m in found.items() if m.get("profile") != prof.name}
    if wrong:
        raise SystemExit(f"the runs in {runs} were made at other profiles than {prof.name}: {wrong}")
    path = out / "notebooks.json"
    path.write_text(json.dumps({"notebooks": found, **environment(prof)}, indent=2))
    print(f"wrote {path} ({len(found)} notebooks)")
    return path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default=None, help="smoke | cpu | t4 | full (default: $KIT_PROFILE, else by hardware)")
    ap.add_argument("--out", type=Path, default=ROOT / "results")
    ap.add_argument("--runs", type=Path, default=None, help="executed notebooks' run folders (default: <out>/runs)")
    ap.add_argument("--execute", action="store_true", help="execute every notebook at the profile first")
    args = ap.parse_args(argv)
    prof = profile(args.profile)
    args.out.mkdir(parents=True, exist_ok=True)
    runs = args.runs or args.out / "runs"
    t0 = time.perf_counter()
    if args.execute:
        execute(runs, prof.name)
    collect(runs, args.out, prof)
    env = {**os.environ, "KIT_PROFILE": prof.name}
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "budget.py"), "--out", str(args.out / "budget.json")], check=True, env=env)
    tries = "1" if prof.name == "smoke" else "10"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "kill_resume.py"), "--tries", tries, "--out", str(args.out)], check=True, env=env)
    if prof.name != "smoke":
        for name in LEGACY:
            subprocess.run([sys.executable, str(ROOT / "benchmarks" / f"{name}.py"), "--profile", prof.name, "--out", str(args.out / f"{name}.json")],
                           check=True, env=env)
    print(f"benchmarks at {prof.name} done in {time.perf_counter() - t0:.0f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

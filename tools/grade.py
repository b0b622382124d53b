"""Grade a class's submissions of one lab, each exactly as ``otter run`` grades it, without Docker.

    python tools/grade.py 02 submissions/*.ipynb               # after `make labs` (or `make labs NOTEBOOKS="02"`)
    python tools/grade.py 02 submissions/*.ipynb --out grades  # where the grades go (default: grades/)
    python tools/grade.py --verify grades/00_gan_game_2d        # CI: solution.ipynb full marks, untouched.ipynb not

For every submission, ``grades/<lab>/<submission>/`` receives otter's ``results.json``, the notebook as otter
executed it (``<name>.executed.ipynb``: every output, so a training cell that crashed can be seen) and
``errors.log`` (each cell's error, or a line saying there was none). ``grades/<lab>/summary.csv`` has one row
per submission: each question's score, the total and the number of cells that raised an error.

This is the tested alternative to ``otter grade`` (which runs each submission in a Docker container that would
have to install the kit and TensorFlow): it runs in the instructor's environment, where the kit is installed.
Set ``KIT_PROFILE=smoke`` to make the notebooks' training cells short; the hidden tests do not depend on it.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from labs import grade, lab_notebooks, select  # noqa: E402  (tools/labs.py: one home for grading)


def verify(folder: Path) -> int:
    """CI's check of a graded class of two, ``solution.ipynb`` and ``untouched.ipynb`` (a student version as
    handed out): the solution has full marks and no error logged; the untouched notebook scores less, and its
    unanswered cells' errors are in its log and its executed notebook. Returns the exit status."""
    with open(folder / "summary.csv") as f:
        rows = {r["submission"]: r for r in csv.DictReader(f)}
    problems = []
    sol, stu = rows.get("solution.ipynb"), rows.get("untouched.ipynb")
    if sol is None or stu is None:
        raise SystemExit(f"{folder / 'summary.csv'} must grade solution.ipynb and untouched.ipynb, it has {sorted(rows)}")
    if float(sol["total"]) != float(sol["max"]) or int(sol["cells_with_errors"]):
        problems.append(f"the solution scored {sol['total']} of {sol['max']} with {sol['cells_with_errors']} cells raising")
    if float(stu["total"]) >= float(stu["max"]) or not int(stu["cells_with_errors"]):
        problems.append(f"the untouched student version scored {stu['total']} of {stu['max']} with {stu['cells_with_errors']} errors logged")
    for name in ("solution", "untouched"):
        if not list((folder / name).glob("*.executed.ipynb")):
            problems.append(f"no executed notebook kept for {name}")
    for p in problems:
        print("FAIL:", p)
    if not problems:
        print(f"{folder}: solution {sol['total']}/{sol['max']}, untouched {stu['total']}/{stu['max']} with "
              f"{stu['cells_with_errors']} cells' errors logged, executed notebooks kept")
    return 1 if problems else 0


def main(argv=None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["--verify"]:
        if len(argv) != 2:
            raise SystemExit("usage: tools/grade.py --verify GRADES/LAB")
        return verify(Path(argv[1]))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("lab", help='the lab, by its number or name ("02", "02_dcgan")')
    ap.add_argument("submissions", nargs="+", type=Path, help="the students' notebooks (.ipynb)")
    ap.add_argument("--dist", type=Path, default=ROOT / "dist", help="where `make labs` built the autograders")
    ap.add_argument("--out", type=Path, default=Path("grades"))
    args = ap.parse_args(argv)
    labs = select(lab_notebooks(), [args.lab])
    if len(labs) != 1:
        raise SystemExit(f"{args.lab!r} names {len(labs)} labs; give one lab's number, e.g. 02")
    lab = labs[0].stem
    zips = sorted((args.dist / "autograder" / lab).glob("*-autograder_*.zip"))
    if not zips:
        raise SystemExit(f"no autograder for {lab} in {args.dist / 'autograder' / lab}: build it with `make labs NOTEBOOKS=\"{lab[:2]}\"`")
    missing = [str(s) for s in args.submissions if not s.is_file() or s.suffix != ".ipynb"]
    if missing:
        raise SystemExit(f"not notebook files: {missing}")
    stems = [s.stem for s in args.submissions]
    twice = sorted({s for s in stems if stems.count(s) > 1})
    if twice:
        raise SystemExit(f"two submissions share the name {twice}: their grades would overwrite each other; rename them")
    rows, questions = [], []
    for submission in args.submissions:
        work = args.out / lab / submission.stem
        grade(submission, zips[-1], work)
        points = {t["name"]: (t["score"], t["max_score"]) for t in json.loads((work / "results.json").read_text())["tests"]
                  if "max_score" in t}  # otter's "Public Tests" summary carries no points
        errors = (work / "errors.log").read_text()
        n_errors = 0 if errors.startswith("no cell raised") else errors.count("\ncell ") + errors.startswith("cell ")
        questions = questions or sorted(points)
        rows.append({"submission": submission.name, **{q: points.get(q, (0, 0))[0] for q in questions},
                     "total": sum(v[0] for v in points.values()), "max": sum(v[1] for v in points.values()), "cells_with_errors": n_errors})
        print(f"{submission.name}: {rows[-1]['total']:g} / {rows[-1]['max']:g}" + (f", {n_errors} cell(s) raised an error (see {work / 'errors.log'})" if n_errors else ""))
    summary = args.out / lab / "summary.csv"
    with open(summary, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["submission", *questions, "total", "max", "cells_with_errors"])
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Build the graded labs with otter-grader 7.x, check them, and (``--grade``) prove them.

For every notebook that carries otter's assignment config (a raw cell ``# ASSIGNMENT CONFIG``)::

    dist/student/NN_name/      the student notebook (solutions replaced by ``...``; the public checks are plain
                               cells after each question, so students need no otter)
    dist/autograder/NN_name/   the solution notebook, all tests (hidden ones too) and the autograder zip

Checks, each failing the build: no line of a solution passage survives in the student notebook, no hidden
test's name appears in the student's files, and the student notebook never calls otter's ``grader`` (otter is
not a student dependency: questions set ``check_cell: false``). With ``--grade``: otter grades the solution notebook (every
question must score 100%) and the untouched student notebook (every question must score less), both executed
at the active profile (``make labs`` uses ``smoke``). The summary goes to ``--results`` (``results/labs.json``).

otter is an instructor extra (``pip install -e ".[labs]"``), never a student dependency; this script is the
thin layer that runs it over the course. Usage: ``python tools/labs.py --dist dist [--grade] [--results F]
[--notebooks 02 05]`` (``--notebooks``: only the labs whose names start with these; ``make labs NOTEBOOKS="02"``).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG_MARK = "# ASSIGNMENT CONFIG"
HIDDEN_TEST_RE = re.compile(r"@test_case\([^)]*hidden=True[^)]*\)\s*\ndef (\w+)")


def otter() -> str:
    exe = Path(sys.executable).parent / "otter"
    if exe.exists():
        return str(exe)
    found = shutil.which("otter")
    if not found:
        raise SystemExit("otter-grader is not installed: pip install -e '.[labs]' (an instructor extra)")
    return found


def lab_notebooks(folder: Path = ROOT / "notebooks") -> list[Path]:
    """The notebooks with otter's assignment config, in course order."""
    out = []
    for path in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        if any(c["cell_type"] == "raw" and "".join(c["source"]).lstrip().startswith(CONFIG_MARK) for c in cells):
            out.append(path)
    return out


def select(labs: list[Path], wanted) -> list[Path]:
    """The labs named by ``wanted`` (name prefixes such as "02" or "05_sketch", or notebook paths), all when empty."""
    if not wanted:
        return labs
    prefixes = [Path(w).stem for w in wanted]
    unknown = [w for w, p in zip(wanted, prefixes) if not any(nb.stem.startswith(p) for nb in labs)]
    if unknown:
        raise SystemExit(f"no lab notebook starts with {unknown}; labs: {[nb.stem for nb in labs]}")
    return [nb for nb in labs if any(nb.stem.startswith(p) for p in prefixes)]


def code_text(notebook: Path) -> str:
    return "\n".join("".join(c["source"]) for c in json.loads(notebook.read_text())["cells"] if c["cell_type"] == "code")


def solution_lines(notebook: Path) -> list[str]:
    """Every substantive line between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` in the code cells."""
    lines, inside = [], False
    for line in code_text(notebook).splitlines():
        s = line.strip()
        if s == "# BEGIN SOLUTION":
            inside = True
        elif s == "# END SOLUTION":
            inside = False
        elif inside and len(s) > 12 and not s.startswith("#"):
            lines.append(s)
    return lines


def build(notebook: Path, dist: Path) -> dict:
    """``otter assign`` one notebook into dist/student/<name> and dist/autograder/<name>; check the student side."""
    name = notebook.stem
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / name
        proc = subprocess.run([otter(), "assign", "--no-run-tests", str(notebook), str(out)], capture_output=True, text=True)
        if proc.returncode:
            raise SystemExit(f"otter assign failed on {notebook}:\n{proc.stdout}\n{proc.stderr}")
        for side in ("student", "autograder"):
            target = dist / side / name
            shutil.rmtree(target, ignore_errors=True)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(out / side, target)
    student = dist / "student" / name
    student_text = (student / f"{name}.ipynb").read_text() + "".join(p.read_text() for p in sorted((student / "tests").glob("*.py")))
    student_code = code_text(student / f"{name}.ipynb")
    left = [line for line in solution_lines(notebook) if line in student_code]
    hidden = sorted({m for p in (dist / "autograder" / name / "tests").glob("*.py") for m in HIDDEN_TEST_RE.findall(p.read_text())})
    leaked = [h for h in hidden if h in student_text]
    needs_otter = "grader." in student_code
    questions = sorted(p.stem for p in (dist / "autograder" / name / "tests").glob("*.py"))
    return {"questions": questions, "hidden_tests": len(hidden), "solutions_left_in_student": len(left), "hidden_tests_in_student": len(leaked),
            "left": left[:5], "leaked": leaked,
            "needs_otter": needs_otter}


def grade(notebook: Path, autograder_zip: Path, work: Path) -> dict:
    """Grade ``notebook`` with ``otter run``: ``{question: score / max}``."""
    work.mkdir(parents=True, exist_ok=True)
    copy = work / notebook.name
    shutil.copy(notebook, copy)
    proc = subprocess.run([otter(), "run", "-a", str(autograder_zip), "-o", str(work), str(copy)], capture_output=True, text=True)
    results = work / "results.json"
    if proc.returncode or not results.exists():
        raise SystemExit(f"otter run failed on {notebook}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    tests = json.loads(results.read_text())["tests"]
    return {t["name"]: t["score"] / t["max_score"] for t in tests if t.get("max_score")}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dist", type=Path, default=ROOT / "dist")
    ap.add_argument("--grade", action="store_true", help="grade the solution and the untouched student notebooks")
    ap.add_argument("--results", type=Path, help="write the summary here (e.g. results/labs.json)")
    ap.add_argument("--notebooks", nargs="*", default=[], metavar="NN",
                    help='only the labs whose names start with these ("02", "05_sketch"; notebook paths work too); default: all')
    args = ap.parse_args(argv)

    labs = lab_notebooks()
    if not labs:
        raise SystemExit("no notebook carries otter's assignment config")
    labs = select(labs, args.notebooks)
    if args.results and len(labs) < len(lab_notebooks()):
        raise SystemExit("--results summarises every lab: leave out --notebooks to write it")
    per_lab, problems = {}, []
    for nb in labs:
        t0 = time.perf_counter()
        info = build(nb, args.dist)
        if info["solutions_left_in_student"]:
            problems.append(f"{nb.stem}: solution lines left in the student notebook: {info['left']}")
        if info["hidden_tests_in_student"]:
            problems.append(f"{nb.stem}: hidden tests visible to students: {info['leaked']}")
        if info.pop("needs_otter"):
            problems.append(f"{nb.stem}: the student notebook calls otter's grader (set check_cell: false in every question)")
        if args.grade:
            zips = sorted((args.dist / "autograder" / nb.stem).glob("*-autograder_*.zip"))
            with tempfile.TemporaryDirectory() as tmp:
                info["solution_scores"] = grade(args.dist / "autograder" / nb.stem / nb.name, zips[-1], Path(tmp) / "solution")
                info["student_scores"] = grade(args.dist / "student" / nb.stem / nb.name, zips[-1], Path(tmp) / "student")
            for q in info["questions"]:
                if info["solution_scores"].get(q) != 1.0:
                    problems.append(f"{nb.stem}/{q}: the solution scores {info['solution_scores'].get(q)}, not 100%")
                if info["student_scores"].get(q, 0.0) >= 1.0:
                    problems.append(f"{nb.stem}/{q}: the untouched student notebook scores 100%")
        info["seconds"] = round(time.perf_counter() - t0, 1)
        info.pop("left"), info.pop("leaked")
        per_lab[nb.stem] = info
        print(f"{nb.stem}: {len(info['questions'])} graded questions, {info['hidden_tests']} hidden tests"
              + (f", solution {min(info['solution_scores'].values()):.0%}, student max {max(info['student_scores'].values()):.0%}" if args.grade else "")
              + f" ({info['seconds']} s)")

    summary = {
        "labs": len(per_lab),
        "notebooks": len(sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))),
        "questions": sum(len(v["questions"]) for v in per_lab.values()),
        "solutions_left_in_student": sum(v["solutions_left_in_student"] for v in per_lab.values()),
        "hidden_tests_in_student": sum(v["hidden_tests_in_student"] for v in per_lab.values()),
    }
    if args.grade:
        summary["solution_score_min"] = min(s for v in per_lab.values() for s in v["solution_scores"].values())
        summary["unmodified_student_score_max"] = max(s for v in per_lab.values() for s in v["student_scores"].values())
    if args.results:
        sys.path.insert(0, str(ROOT))
        from kit.env import environment

        args.results.parent.mkdir(parents=True, exist_ok=True)
        args.results.write_text(json.dumps({**summary, "per_lab": per_lab, **environment()}, indent=2))
        print(f"wrote {args.results}")
    print(f"student versions in {args.dist / 'student'}, autograder (solutions, hidden tests, zip) in {args.dist / 'autograder'}")
    if problems:
        print("\n".join(["LAB PROBLEMS:", *problems]), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

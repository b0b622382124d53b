"""Build the graded labs with otter-grader 7.x, check them, and (``--grade``) prove them.

For every notebook that carries otter's assignment config (a raw cell ``# ASSIGNMENT CONFIG``)::

    dist/student/NN_name/      the student notebook (solutions replaced by ``...``; the public checks are plain
                               cells after each question, so students need no otter)
    dist/autograder/NN_name/   the solution notebook, all tests (hidden ones too) and the autograder zip

Checks, each failing the build: no line of a solution passage survives in the student notebook, no hidden
test's name appears in the student's files, and the student notebook never calls otter's ``grader`` (otter is
not a student dependency: questions set ``check_cell: false``). With ``--grade``: otter grades the solution notebook (every
question must score 100%) and the untouched student notebook (every question must score less), both executed
at the active profile (``make labs`` uses ``smoke``). ``--grade questions`` grades the same way a notebook cut
down to its imports and its questions (built by ``otter assign`` like the whole one): the hidden tests build their
own inputs, so this proves otter's whole path (assign, the test files, ``otter run``) in seconds instead of a
training run per lab (CI's ``make labs-check``; ``make labs`` grades whole notebooks). Each graded notebook is kept
in ``<dist>/graded/<lab>/{solution,student}/``: otter's ``results.json``, the notebook as otter executed it and
``errors.log`` (:func:`grade`; ``tools/grade.py`` grades a class's submissions the same way). The summary goes to
``--results`` (``dist/labs.json`` for ``make labs``; ``make bench`` writes ``results/labs.json``, the README's).

Student versions: ``--students notebooks/student`` writes each built student notebook there, its Open-in-Colab
badge pointing at that copy (never at the solution notebook), so an instructor hands out links into the
repository. ``--check-students notebooks/student`` fails when the committed student versions differ from a fresh
build (a solution changed and nobody rebuilt them).

otter is an instructor extra (``pip install -e ".[labs]"``), never a student dependency; this script is the
thin layer that runs it over the course. Usage: ``python tools/labs.py --dist dist [--grade] [--results F]
[--notebooks 02 05] [--students DIR | --check-students DIR]`` (``--notebooks``: only the labs whose names start with
these; ``make labs NOTEBOOKS="02"``).
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
sys.path.insert(0, str(ROOT / "tools"))
from notebook_setup import BADGE_RE, badge, repository  # noqa: E402  (tools/ is not a package)

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


def read_cells(path: Path) -> list[dict]:
    """The cells of a notebook, refusing a file that is not one (truncated, or not JSON) with its name."""
    try:
        cells = json.loads(Path(path).read_text())["cells"]
        if not isinstance(cells, list) or not all(isinstance(c, dict) and "cell_type" in c and "source" in c for c in cells):
            raise ValueError("its cells are not a list of cells with a type and a source")
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise SystemExit(f"{path} is not a readable notebook ({type(err).__name__}: {err})") from None
    return cells


def lab_notebooks(folder: Path = ROOT / "notebooks") -> list[Path]:
    """The notebooks with otter's assignment config, in course order."""
    out = []
    for path in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
        if any(c["cell_type"] == "raw" and "".join(c["source"]).lstrip().startswith(CONFIG_MARK) for c in read_cells(path)):
            out.append(path)
    return out


BLOCKS = {"QUESTION": None, "SOLUTION": "QUESTION", "TESTS": "QUESTION", "PROMPT": "QUESTION"}  # block: the block it must be in


def source_problems(notebook: Path) -> list[str]:
    """What is wrong with a lab's markers, before otter sees them (otter's own errors name neither cell nor
    marker): one assignment config; raw ``# BEGIN X`` / ``# END X`` cells balanced, never nested but for
    SOLUTION, TESTS and PROMPT directly inside a QUESTION; ``# BEGIN SOLUTION`` / ``# END SOLUTION`` lines in a code
    cell balanced and not nested. Empty when the source is sound."""
    problems, stack = [], []
    cells = read_cells(notebook)
    configs = sum(c["cell_type"] == "raw" and "".join(c["source"]).lstrip().startswith(CONFIG_MARK) for c in cells)
    if configs != 1:
        problems.append(f"{configs} assignment config cells (raw '{CONFIG_MARK}'), expected 1")
    for i, cell in enumerate(cells):
        text = "".join(cell["source"])
        if cell["cell_type"] == "raw":
            m = re.match(r"\s*# (BEGIN|END) (\w+)", text)
            if not m:
                continue
            kind, block = m.groups()
            if block not in BLOCKS:
                problems.append(f"cell {i}: unknown marker '# {kind} {block}'")
            elif kind == "BEGIN":
                parent = stack[-1] if stack else None
                if parent != BLOCKS[block]:
                    where = f"inside {parent}" if parent else "outside any QUESTION"
                    problems.append(f"cell {i}: '# BEGIN {block}' {where}")
                stack.append(block)
            elif not stack or stack[-1] != block:
                problems.append(f"cell {i}: '# END {block}' closes {'nothing' if not stack else stack[-1]}")
            else:
                stack.pop()
        elif cell["cell_type"] == "code":
            inside = False
            for line in text.splitlines():
                mark = line.strip()
                if mark == "# BEGIN SOLUTION":
                    if inside:
                        problems.append(f"cell {i}: '# BEGIN SOLUTION' inside another solution passage")
                    inside = True
                elif mark == "# END SOLUTION":
                    if not inside:
                        problems.append(f"cell {i}: '# END SOLUTION' without its '# BEGIN SOLUTION'")
                    inside = False
            if inside:
                problems.append(f"cell {i}: '# BEGIN SOLUTION' never closed in its cell")
    if stack:
        problems.append(f"unclosed block(s) at the end of the notebook: {stack}")
    return problems


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
    return "\n".join("".join(c["source"]) for c in read_cells(notebook) if c["cell_type"] == "code")


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


def question_notebook(notebook: Path, out: Path) -> Path:
    """``notebook`` cut down to what grading needs: its assignment config, one cell with its top-level imports
    (as the student's kernel has them), and every question's cells (solution and hidden tests). Written to
    ``out/<same name>``; otter assigns it like the whole notebook."""
    import ast

    nb = json.loads(notebook.read_text())
    cells, imports, inside = [], [], False
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] == "raw" and src.lstrip().startswith(CONFIG_MARK):
            cells.append(cell)
        elif cell["cell_type"] == "raw" and src.lstrip().startswith("# BEGIN QUESTION"):
            inside = True
            cells.append(cell)
        elif cell["cell_type"] == "raw" and src.strip() == "# END QUESTION":
            inside = False
            cells.append(cell)
        elif inside:
            cells.append(cell)
        elif cell["cell_type"] == "code":
            imports += [ast.unparse(node) for node in ast.parse(src).body if isinstance(node, (ast.Import, ast.ImportFrom))
                        and not (isinstance(node, ast.ImportFrom) and node.module == "IPython.display")]
    head = 1 if cells and cells[0]["cell_type"] == "raw" else 0
    cells.insert(head, {"cell_type": "code", "execution_count": None, "id": "grading-imports", "metadata": {}, "outputs": [],
                        "source": "\n".join(["import kit", *dict.fromkeys(imports)])})
    out.mkdir(parents=True, exist_ok=True)
    path = out / notebook.name
    path.write_text(json.dumps({**nb, "cells": cells}, indent=1, ensure_ascii=False) + "\n")
    return path


def student_version(built: Path) -> str:
    """The built student notebook as it is handed out: outputs cleared, its badge opening this very copy."""
    import hashlib

    nb = json.loads(built.read_text())
    repo, ref = repository()
    for i, cell in enumerate(nb["cells"]):
        # otter gives the cells it adds random ids: ids from the position and text keep a rebuild identical
        cell["id"] = hashlib.sha1(f"{i} {cell['cell_type']} {''.join(cell['source'])}".encode()).hexdigest()[:8]
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
        elif cell["cell_type"] == "markdown":
            text = BADGE_RE.sub(lambda m: badge(m.group(2), repo, ref, student=True), "".join(cell["source"]))
            cell["source"] = text.splitlines(keepends=True)
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def links_to_solutions(text: str) -> list[str]:
    """Links in a student notebook to a course notebook outside notebooks/student/ (a solution notebook)."""
    return sorted({m.group(0) for m in re.finditer(r"notebooks/(?!student/)\d\d_\w+\.ipynb", text)})


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


# One submission through otter's own `otter run` path (otter.run.main, what the command calls), in a fresh
# interpreter as the command would be; it also keeps the notebook otter executed, which the command throws away.
_OTTER_RUN = """
import sys
import nbformat
from otter.run import main
results = main(sys.argv[1], autograder=sys.argv[2], output_dir=sys.argv[3], no_logo=True)
if results.notebook is not None:
    nbformat.write(results.notebook, sys.argv[4])
"""


def grade(notebook: Path, autograder_zip: Path, work: Path) -> dict:
    """Grade ``notebook`` as ``otter run`` does: ``{question: score / max}``. Leaves in ``work``: otter's
    ``results.json``, the executed notebook (``<name>.executed.ipynb``, every output as the grader saw it) and
    ``errors.log``, the error of every cell that raised one (a training cell that crashed shows there)."""
    work.mkdir(parents=True, exist_ok=True)
    copy = work / notebook.name
    shutil.copy(notebook, copy)
    executed = work / f"{notebook.stem}.executed.ipynb"
    proc = subprocess.run([sys.executable, "-c", _OTTER_RUN, str(copy), str(autograder_zip), str(work), str(executed)],
                          capture_output=True, text=True)
    results = work / "results.json"
    if proc.returncode or not results.exists():
        raise SystemExit(f"otter run failed on {notebook}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    (work / "errors.log").write_text(error_log(executed))
    tests = json.loads(results.read_text())["tests"]
    return {t["name"]: t["score"] / t["max_score"] for t in tests if t.get("max_score")}


def error_log(executed: Path) -> str:
    """The errors an executed notebook's cells raised, one block per cell: its index, its first line, the
    exception and the last lines of its traceback (ANSI colours removed); one line saying so when there were none."""
    if not executed.exists():
        return "otter kept no executed notebook\n"
    cells = read_cells(executed)
    blocks = []
    for i, cell in enumerate(cells):
        for out in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            if out.get("output_type") == "error":
                first = "".join(cell.get("source", "")).strip().splitlines()[:1]
                trace = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in out.get("traceback", [])][-6:]
                blocks.append(f"cell {i} ({first[0][:80] if first else 'empty'}): {out.get('ename')}: {out.get('evalue')}\n"
                              + "\n".join("    " + line for t in trace for line in t.splitlines()[-3:]))
    return ("\n\n".join(blocks) if blocks else "no cell raised an error") + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dist", type=Path, default=ROOT / "dist")
    ap.add_argument("--grade", nargs="?", const="full", choices=["full", "questions"],
                    help="grade the solution and the untouched student notebooks: whole (full, the default) or cut down to "
                         "their imports and questions (questions: seconds per lab, what CI runs)")
    sides = ap.add_mutually_exclusive_group()
    sides.add_argument("--students", type=Path, metavar="DIR", help="write the student versions here (notebooks/student)")
    sides.add_argument("--check-students", type=Path, metavar="DIR",
                       help="fail when the student versions committed here differ from a fresh build")
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
    broken = {nb.stem: source_problems(nb) for nb in labs}
    if any(broken.values()):
        raise SystemExit("lab sources with broken markers (fix them before building):\n"
                         + "\n".join(f"  {name}: {p}" for name, ps in broken.items() for p in ps))
    for nb in labs:
        t0 = time.perf_counter()
        info = build(nb, args.dist)
        if info["solutions_left_in_student"]:
            problems.append(f"{nb.stem}: solution lines left in the student notebook: {info['left']}")
        if info["hidden_tests_in_student"]:
            problems.append(f"{nb.stem}: hidden tests visible to students: {info['leaked']}")
        if info.pop("needs_otter"):
            problems.append(f"{nb.stem}: the student notebook calls otter's grader (set check_cell: false in every question)")
        handed_out = student_version(args.dist / "student" / nb.stem / nb.name)
        if links_to_solutions(handed_out):
            problems.append(f"{nb.stem}: the student version links to solution notebooks: {links_to_solutions(handed_out)}")
        if args.students:
            args.students.mkdir(parents=True, exist_ok=True)
            (args.students / nb.name).write_text(handed_out)
        if args.check_students:
            committed = args.check_students / nb.name
            if not committed.exists() or committed.read_text() != handed_out:
                problems.append(f"{nb.stem}: {committed} is {'missing' if not committed.exists() else 'out of date'}: "
                                f"rebuild the student versions with `make labs NOTEBOOKS=\"{nb.stem[:2]}\"` and commit them")
        if args.grade:
            with tempfile.TemporaryDirectory() as tmp:
                if args.grade == "questions":
                    graded = args.dist / "questions"
                    build(question_notebook(nb, Path(tmp) / "cut"), graded)
                else:
                    graded = args.dist
                zips = sorted((graded / "autograder" / nb.stem).glob("*-autograder_*.zip"))
                info["graded"] = "imports and questions only" if args.grade == "questions" else "whole notebook"
                # Kept: dist/graded/<lab>/{solution,student}/ hold otter's results, the executed notebooks and their errors.
                kept = args.dist / "graded" / nb.stem
                shutil.rmtree(kept, ignore_errors=True)
                info["solution_scores"] = grade(graded / "autograder" / nb.stem / nb.name, zips[-1], kept / "solution")
                info["student_scores"] = grade(graded / "student" / nb.stem / nb.name, zips[-1], kept / "student")
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

"""tools/labs.py refuses broken lab sources before otter sees them (otter's own errors name neither the cell nor
the marker): unbalanced or nested markers, a second assignment config, and a truncated notebook."""

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import labs  # noqa: E402


def raw(text):
    return {"cell_type": "raw", "metadata": {}, "source": text}


def code(text):
    return {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": text}


SOUND = [raw("# ASSIGNMENT CONFIG\nname: x"), raw("# BEGIN QUESTION\nname: q1"), raw("# BEGIN SOLUTION"),
         code("def f():\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION"), raw("# END SOLUTION"), raw("# BEGIN TESTS"),
         code("f()"), raw("# END TESTS"), raw("# END QUESTION")]


def write(tmp_path, cells):
    path = tmp_path / "01_lab.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_a_sound_lab_and_every_course_lab_have_no_problems(tmp_path):
    assert labs.source_problems(write(tmp_path, SOUND)) == []
    assert {nb.stem: labs.source_problems(nb) for nb in labs.lab_notebooks()} == {nb.stem: [] for nb in labs.lab_notebooks()}


@pytest.mark.parametrize("change, match", [
    (lambda c: c[:-1], r"unclosed block\(s\) at the end of the notebook: \['QUESTION'\]"),
    (lambda c: c[:4] + c[5:], r"cell 4: '# BEGIN TESTS' inside SOLUTION"),
    (lambda c: c[:2] + [raw("# BEGIN QUESTION\nname: q2")] + c[2:], r"cell 2: '# BEGIN QUESTION' inside QUESTION"),
    (lambda c: [c[0], raw("# END QUESTION")], r"cell 1: '# END QUESTION' closes nothing"),
    (lambda c: c[:3] + [code("def f():\n    # BEGIN SOLUTION\n    return 1")] + c[4:], r"cell 3: '# BEGIN SOLUTION' never closed"),
    (lambda c: c[:3] + [code("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION")] + c[4:], r"inside another solution passage"),
    (lambda c: c[:3] + [code("x = 1\n# END SOLUTION")] + c[4:], r"'# END SOLUTION' without its '# BEGIN SOLUTION'"),
    (lambda c: c + [raw("# ASSIGNMENT CONFIG\nname: y")], r"2 assignment config cells"),
    (lambda c: c[:1] + [raw("# BEGIN SOLUTION"), raw("# END SOLUTION")], r"cell 1: '# BEGIN SOLUTION' outside any QUESTION"),
    (lambda c: c + [raw("# BEGIN ANSWER")], r"unknown marker '# BEGIN ANSWER'"),
])
def test_broken_markers_are_named_with_their_cell(tmp_path, change, match):
    problems = labs.source_problems(write(tmp_path, change(list(SOUND))))
    assert problems and any(re.search(match, p) for p in problems), problems


def test_a_truncated_notebook_is_refused_naming_the_file(tmp_path):
    path = write(tmp_path, SOUND)
    path.write_text(path.read_text()[:50])
    with pytest.raises(SystemExit, match=r"01_lab.ipynb is not a readable notebook \(JSONDecodeError"):
        labs.source_problems(path)
    path.write_text(json.dumps({"cells": [{"cell_type": "raw"}]}))
    with pytest.raises(SystemExit, match="not a list of cells with a type and a source"):
        labs.lab_notebooks(tmp_path)


def test_the_error_log_names_each_cell_that_raised(tmp_path):
    """What tools/labs.py keeps beside each graded notebook: the cells whose training crashed, readable."""
    crashed = code("history = fit(model)\nplot(history)")
    crashed["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "epoch 1"},
                          {"output_type": "error", "ename": "ValueError", "evalue": "logits and labels must have the same shape",
                           "traceback": ["\x1b[0;31mValueError\x1b[0m  Traceback", "  File train_step", "ValueError: logits and labels"]}]
    path = tmp_path / "graded.executed.ipynb"
    path.write_text(json.dumps({"cells": [code("import kit"), crashed], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    log = labs.error_log(path)
    assert log.startswith("cell 1 (history = fit(model)): ValueError: logits and labels must have the same shape")
    assert "\x1b" not in log and "    ValueError: logits and labels" in log
    path.write_text(json.dumps({"cells": [code("import kit")], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    assert labs.error_log(path) == "no cell raised an error\n"
    assert labs.error_log(tmp_path / "missing.ipynb") == "otter kept no executed notebook\n"


def test_the_class_grader_refuses_what_it_cannot_grade(tmp_path):
    import grade

    with pytest.raises(SystemExit, match=r"no lab notebook starts with \['99'\]"):
        grade.main(["99", str(tmp_path / "a.ipynb")])
    with pytest.raises(SystemExit, match="no autograder for 02_dcgan in .*: build it with `make labs NOTEBOOKS=\"02\"`"):
        grade.main(["02", str(tmp_path / "a.ipynb"), "--dist", str(tmp_path / "dist")])
    zips = tmp_path / "dist" / "autograder" / "02_dcgan"
    zips.mkdir(parents=True)
    (zips / "02_dcgan-autograder_2026.zip").write_bytes(b"")
    (tmp_path / "a.txt").write_text("")
    with pytest.raises(SystemExit, match=r"not notebook files: \[.*a.txt"):
        grade.main(["02", str(tmp_path / "a.txt"), "--dist", str(tmp_path / "dist")])
    for d in ("x", "y"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "alice.ipynb").write_text("{}")
    with pytest.raises(SystemExit, match=r"two submissions share the name \['alice'\]"):
        grade.main(["02", str(tmp_path / "x" / "alice.ipynb"), str(tmp_path / "y" / "alice.ipynb"), "--dist", str(tmp_path / "dist")])

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

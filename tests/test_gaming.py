"""No gaming passes: every submission in tests/gaming/ (the kit's reference under another name, numpy replaced so
that comparisons hold, ...) fails the hidden test of the question it targets, while the notebooks' solutions pass
every hidden test. Questions are graded from their own cells (the notebook's imports, the solutions, the hidden
tests), not by running whole notebooks, so this stays fast. With ``KIT_GAMING_RESULTS=path`` the outcome of each
submission is written there as JSON."""

import json
import os
from pathlib import Path

import pytest

import labtools

GAMING = Path(__file__).resolve().parent / "gaming"
SUBMISSIONS = sorted(GAMING.glob("lab[0-9][0-9]_q[0-9]*_*.py"))
GRADED = [(path, q) for path in labtools.lab_notebooks() for q in labtools.questions(path).values() if not q.manual]
OUTCOMES = []


def target(submission: Path):
    """(notebook, question) a submission ``labNN_qK_what.py`` targets."""
    lab, number = submission.stem.split("_")[:2]
    path = labtools.notebook(lab[3:])
    found = [q for name, q in labtools.questions(path).items() if name.startswith(number + "_")]
    assert len(found) == 1, f"{submission.name}: no single question {number}_... in {path.name}"
    return path, found[0]


@pytest.fixture(autouse=True)
def libraries_restored():
    """Whatever a submission replaced in numpy, TensorFlow, Keras or the kit is put back after its test."""
    with labtools.restored_libraries():
        yield


@pytest.fixture(scope="module", autouse=True)
def summary():
    yield
    out = os.environ.get("KIT_GAMING_RESULTS")
    if out and OUTCOMES:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps({
            "submissions": len(OUTCOMES),
            "passed": sum(o["passed"] for o in OUTCOMES),
            "results": sorted(OUTCOMES, key=lambda o: o["submission"]),
        }, indent=2) + "\n")


def test_the_gaming_set_covers_the_labs():
    assert len(SUBMISSIONS) >= 20
    labs = {target(s)[0].stem[:2] for s in SUBMISSIONS}
    assert {"01", "02", "04", "05", "07"} <= labs, labs


@pytest.mark.parametrize("path, question", GRADED, ids=[f"{p.stem[:2]}-{q.name}" for p, q in GRADED])
def test_the_solution_passes_every_hidden_test(path, question):
    assert question.tests, f"{path.stem}/{question.name} has no hidden test"
    ns = labtools.solution_namespace(path)
    for test in question.tests:
        labtools.run(test, ns)


@pytest.mark.parametrize("submission", SUBMISSIONS, ids=lambda p: p.stem)
def test_the_gaming_submission_fails_its_question(submission):
    path, question = target(submission)
    ns = labtools.solution_namespace(path)
    exec(compile(submission.read_text(), str(submission), "exec"), ns)  # pasted over the answer cell
    outcome = {"submission": submission.stem, "notebook": path.stem, "question": question.name, "passed": True, "message": ""}
    OUTCOMES.append(outcome)
    with pytest.raises(AssertionError) as failure:
        for test in question.tests:
            labtools.run(test, ns)
    outcome.update(passed=False, message=(str(failure.value).strip().splitlines() or ["AssertionError"])[-1])

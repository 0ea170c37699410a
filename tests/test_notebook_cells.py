"""The course notebooks' own cells: what a check cell gives back, the total cell, and the bound on a
check cell whose exercise never ends."""
import json
import subprocess
import sys
import time

import pytest

from grader.learner import nbcheck, points, targets
from grader.authoring import notebooks

LESSON = targets.find_lesson("01")


def _reference_namespace(lesson: targets.Lesson) -> dict:
    namespace = {}
    for cell in notebooks.build(lesson)["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if cell["cell_type"] == "code" and not meta.get("grade") and cell["id"] != "total":
            exec(cell["source"], namespace)
    return namespace


def test_a_check_cells_plain_value_is_the_partial_credit_nbgrader_reads():
    formatters = pytest.importorskip("IPython.core.formatters")
    utils = pytest.importorskip("nbgrader.utils")
    value = nbcheck.Points(2, 3, "set_first")
    data, _ = formatters.DisplayFormatter().format(value)
    assert data["text/plain"] == "2"
    assert utils.get_partial_grade({"data": data}, 3) == 2
    assert "`set_first`" in data["text/markdown"] and "2 / 3" in data["text/markdown"]


def test_every_notebook_ends_with_a_total_cell_that_is_not_graded():
    for lesson in targets.all_lessons():
        last = notebooks.build(lesson)["cells"][-1]
        assert last["id"] == "total"
        meta = last["metadata"]["nbgrader"]
        assert meta["locked"] and not meta["grade"] and not meta["solution"]
        assert f'total("{lesson.number}")' in last["source"]


def test_the_total_cell_sums_the_checks_run_and_names_the_others(capsys):
    exercises = points.exercise_points(LESSON)
    first = next(iter(exercises))
    nbcheck._checked.pop(LESSON.number, None)
    namespace = _reference_namespace(LESSON)
    earned = nbcheck.check(LESSON.number, first, namespace)
    assert earned == exercises[first] and earned.total == exercises[first]
    result = nbcheck.total(LESSON.number)
    assert (result.earned, result.total) == (exercises[first], sum(exercises.values()))
    assert result.unchecked == [name for name in exercises if name != first]
    text = repr(result)
    assert f"Lesson {LESSON.number}: {exercises[first]} / {sum(exercises.values())} points" in text
    assert "not checked yet" in text and f"`{list(exercises)[1]}`" in text
    nbcheck._checked.pop(LESSON.number, None)


def test_a_notebook_without_the_kit_says_how_to_install_it(tmp_path):
    setup = notebooks.build(LESSON)["cells"][1]
    assert setup["id"] == "setup"
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", setup["source"]], capture_output=True, text=True,
                          cwd=tmp_path)
    assert proc.returncode != 0
    assert "student package" in proc.stderr and "pip install" in proc.stderr


ENDLESS = """
import json, sys, time
from grader.learner import nbcheck, points, targets
lesson = targets.find_lesson(sys.argv[1])
exercise = sys.argv[2]
def endless(*args, **kwargs):
    while True:
        pass
start = time.perf_counter()
earned, total, results = nbcheck.run_exercise(lesson.number, exercise, {exercise: endless})
print(json.dumps({"earned": earned, "results": results, "seconds": time.perf_counter() - start}))
"""


def test_a_check_cell_whose_exercise_never_ends_stops_after_one_bound(tmp_path):
    """With a 2 s bound, the first test is stopped and the exercise's other tests don't run, so the
    cell ends after about one bound instead of one per test (or nbgrader's cell timeout)."""
    exercise = next(name for name in points.exercise_points(LESSON)
                    if sum(t.exercise == name for t in points.graded_tests(LESSON.test_file)) >= 2)
    env = {**__import__("os").environ, "JAX_LESSONS_TIME_LIMIT": "2"}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", ENDLESS, LESSON.number, exercise], capture_output=True,
                          text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    assert found["earned"] == 0
    outcomes = [r["outcome"] for r in found["results"]]
    assert outcomes[0] == "failed" and nbcheck.STOPPED in found["results"][0]["message"]
    assert outcomes[1:] and all(o == "not run" for o in outcomes[1:]), found["results"]
    assert all("stopped at its bound" in r["message"] for r in found["results"][1:])
    assert time.perf_counter() - start < 240

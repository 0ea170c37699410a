"""The nbgrader course end to end, with stock nbgrader commands: generated notebooks are up to date,
and a small class graded through generate_assignment, autograde, generate_feedback and export gets
exactly the points its code earned."""
import pytest

from grader.authoring import course_run, notebooks
from grader.learner import points, targets


def test_generated_notebooks_are_up_to_date():
    stale = [str(notebooks.notebook_path(l)) for l in notebooks.stale_notebooks()]
    assert not stale, f"out of date: {stale}; run `python -m grader notebooks`"


def test_every_exercise_has_a_solution_cell_and_a_grade_cell_worth_its_points():
    for lesson in targets.all_lessons():
        nb = notebooks.build(lesson)
        grades = {c["metadata"]["nbgrader"]["grade_id"]: c["metadata"]["nbgrader"]["points"]
                  for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade")}
        want = {f"{name}-tests": pts for name, pts in points.exercise_points(lesson).items()}
        assert grades == want
        solutions = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("solution")]
        assert all("### BEGIN SOLUTION" in c["source"] for c in solutions)
        assert not any("def test_" in c["source"] for c in nb["cells"]), "tests are run, never copied"


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    assignment, students = course_run.example_class(root, "01")
    return students, course_run.grade(root, assignment), root


def test_class_scores(graded_class):
    students, scores, _ = graded_class
    per = points.exercise_points(targets.find_lesson("01"))
    exercises, total = list(per), sum(per.values())
    last = exercises[-1]
    assert set(scores) == set(students)
    assert scores == {
        "student-01": total,
        "student-02": 0,
        "student-03": sum(per[n] for n in exercises[: len(exercises) // 2]),
        "student-04": total - per[last],
        "student-05": total - per[last],
        "student-06": total,
        "student-07": per[exercises[0]],  # its own `check` redirects no grade cell
    }


def test_feedback_is_written_for_every_student(graded_class):
    _, scores, root = graded_class
    for student in scores:
        assert (root / "feedback" / student / "lesson01" / "lesson01.html").is_file()


RUN_NOTEBOOK = """
import json, sys
from grader.learner import nbcheck, points, targets
from grader.authoring import notebooks
lesson = targets.find_lesson(sys.argv[1])
namespace = {}
for cell in notebooks.build(lesson)["cells"]:
    meta = cell["metadata"].get("nbgrader", {})
    if cell["cell_type"] == "code" and not meta.get("grade"):
        exec(cell["source"], namespace)
scores = {name: nbcheck.run_exercise(lesson.number, name, namespace)[:2] for name in points.exercise_points(lesson)}
print(json.dumps(scores))
"""


@pytest.mark.parametrize("number", [lesson.number for lesson in targets.all_lessons()])
def test_reference_notebook_earns_every_point_through_its_grade_cells(number):
    import json
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", RUN_NOTEBOOK, number], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    scores = json.loads(proc.stdout.strip().splitlines()[-1])
    assert all(earned == total for earned, total in scores.values()), scores


def test_what_the_class_got_wrong_is_read_from_the_autograded_notebooks(graded_class):
    """Stock nbgrader graded it: the report reads each check cell's lines, so every student who lost an
    exercise's points is counted once under that exercise, the same mistake under one cause."""
    import csv
    import subprocess
    import sys

    from grader import KIT_ROOT

    students, scores, root = graded_class
    proc = subprocess.run([sys.executable, "-m", "grader", "report", str(root)], capture_output=True, text=True,
                          cwd=KIT_ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    with open(root / "misconceptions.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    per = points.exercise_points(targets.find_lesson("01"))
    first, last = list(per)[0], list(per)[-1]
    assert sum(int(r["students"]) for r in rows if r["exercise"] == first) == 1  # student-02's release
    lost_last = [r for r in rows if r["exercise"] == last]
    assert sum(int(r["students"]) for r in lost_last) == 5  # 02, 03, 07 never wrote it; 04 and 05 broke it
    assert [int(r["students"]) for r in lost_last if "not today" in r["wording"]] == [1]
    assert max(int(r["students"]) for r in lost_last) == 3, lost_last  # the release's stub, one cause
    assert (root / "report.html").is_file()

"""Running stock nbgrader on a course folder built from the kit: used by the kit's end-to-end test
and by the example class (``python -m grader grade-example``)."""
from __future__ import annotations

import csv
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from grader.authoring import notebooks
from grader.learner import targets

CONFIG = notebooks.COURSE_DIR / "nbgrader_config.py"


def make_course(root: Path, lessons: list[targets.Lesson]) -> Path:
    """A fresh course folder: the config (rooted there) and the generated source notebooks."""
    root.mkdir(parents=True, exist_ok=True)
    config = CONFIG.read_text().replace(
        "c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))",
        f"c.CourseDirectory.root = {str(root)!r}")
    (root / "nbgrader_config.py").write_text(config)
    notebooks.write_notebooks(root / "source", lessons)
    return root


def nbgrader(root: Path, *args: str, timeout: float = 1800) -> subprocess.CompletedProcess:
    """Run an nbgrader command in the course folder, with this Python's scripts on PATH (nbgrader
    calls alembic, and its kernel must be this environment's)."""
    if importlib.util.find_spec("nbgrader") is None:
        raise ValueError("nbgrader is part of the instructor's install, not the learner's: "
                         "pip install -e '.[instructor]' adds it.")
    bin_dir = str(Path(sys.executable).parent)
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    return proc


def release(root: Path, assignment: str) -> Path:
    nbgrader(root, "generate_assignment", assignment, "--create", "--force")
    return root / "release" / assignment / f"{assignment}.ipynb"


def submit(root: Path, student: str, assignment: str, notebook: dict) -> None:
    folder = root / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{assignment}.ipynb").write_text(json.dumps(notebook, indent=1))


def grade(root: Path, assignment: str) -> dict[str, float]:
    """Autograde every submission, write feedback, export, and return {student: score}."""
    nbgrader(root, "autograde", assignment, "--create", "--force")
    nbgrader(root, "generate_feedback", assignment, "--force")
    out = root / "grades.csv"
    nbgrader(root, "export", "--to", str(out))
    with out.open() as f:
        return {row["student_id"]: float(row["score"]) for row in csv.DictReader(f) if row["assignment"] == assignment}


def cell_source(notebook: dict, cell_id: str) -> str:
    for cell in notebook["cells"]:
        if cell.get("id") == cell_id:
            src = cell["source"]
            return "".join(src) if isinstance(src, list) else src
    raise KeyError(cell_id)


def with_cells(notebook: dict, replacements: dict[str, str]) -> dict:
    """A copy of ``notebook`` whose cells with the given ids hold new code."""
    copy = json.loads(json.dumps(notebook))
    for cell in copy["cells"]:
        if cell.get("id") in replacements:
            cell["source"] = replacements[cell["id"]]
    return copy


def remove(root: Path) -> None:
    shutil.rmtree(root, ignore_errors=True)


def example_class(root: Path, number: str = "01") -> tuple[str, dict[str, str]]:
    """Release one lesson and submit a small class in ``root``: right, untouched, half done, broken
    and noisy submissions, written by code from the reference and the release. Returns the
    assignment and {student: what their submission is}."""
    lesson = targets.find_lesson(number)
    assignment = notebooks.assignment_name(lesson)
    make_course(root, [lesson])
    source = json.loads(notebooks.notebook_path(lesson, root / "source").read_text())
    released = json.loads(release(root, assignment).read_text())
    exercises = list(notebooks.points.exercise_points(lesson))
    answers = {f"{n}-code": cell_source(source, f"{n}-code") for n in exercises}
    first, last = exercises[0], exercises[-1]
    half = exercises[: len(exercises) // 2]
    broken_def = answers[f"{last}-code"].split("\n", 1)[0]  # the exercise's own def line, then a bad body
    students = {
        "student-01": ("every exercise right", with_cells(released, answers)),
        "student-02": ("nothing written (the release as handed out)", released),
        "student-03": (f"the first {len(half)} exercises done", with_cells(
            released, {f"{n}-code": answers[f"{n}-code"] for n in half})),
        "student-04": (f"all right but a syntax error in `{last}`", with_cells(
            released, {**answers, f"{last}-code": broken_def + "\n    return (("})),
        "student-05": (f"all right but `{last}` raises", with_cells(
            released, {**answers, f"{last}-code": broken_def + "\n    raise ValueError('not today')"})),
        "student-06": (f"all right, and `{first}` warns and prints", with_cells(released, {
            **answers, f"{first}-code": "import warnings\n" + answers[f"{first}-code"].replace(
                '"""\n', '"""\n    warnings.warn("a warning from a right answer")\n    print("hello")\n', 1)})),
        "student-07": (f"only `{first}`, and its own `check` and `globals` to fool the grade cells", with_cells(
            released, {f"{first}-code": answers[f"{first}-code"] + "\n\n\ndef check(*args, **kwargs):\n    return 99\n"
                       "\n\ndef globals():\n    return {}\n"})),
    }
    for student, (_, nb) in students.items():
        submit(root, student, assignment, nb)
    return assignment, {s: what for s, (what, _) in students.items()}

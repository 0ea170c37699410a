"""The class grader against stock nbgrader and against bare pytest, on the same generated class.

    python benchmarks/grading_speed.py [--lesson 01] [--students 20] [--jobs 2]

One run builds a class of submissions for one lesson (right, partial, broken and two that cheat),
both as module folders and as the equivalent nbgrader notebooks, then measures:
(The class is built from the reference, so most of its programs are the reference's, which the shared
compile cache holds; a class that wrote every exercise its own way gains only the tests' programs.)
- `python -m grader grade --jobs N` (and --jobs 1, for the cost per submission), and the same with
  `--compile-afresh` (no sandbox reads the programs the reference's sandbox compiled);
- `pytest lessons/NN --target <submission>` run once per student, one after another (bare pytest:
  no sandbox, no hidden inputs, no protection, and the learner's warm compile cache, which holds
  every student's programs: a sandbox reads only the reference's), then the same with no compile
  cache;
- `nbgrader autograde` on the notebooks.
It prints each student's score from both graders, marks where they differ and why, and the ratios.
Targets: the grader >= 3x faster than nbgrader; --jobs 1 <= 1.5x bare pytest per submission.
"""
from __future__ import annotations

import argparse
import ast
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.authoring import course_run, devcheck, notebooks  # noqa: E402
from grader.learner import stubs, targets


def make_class(lesson: targets.Lesson, count: int) -> dict[str, tuple[str, str]]:
    """{student: (what it is, module source)}: a fixed mix, cycled to `count` students."""
    reference = lesson.solution_file.read_text()
    stub = stubs.stub_for(lesson)
    kinds = [("right", reference), ("nothing written", stub)]
    for planted in [p for p in devcheck.planted_mistakes() if p.parent.name == lesson.number]:
        kinds.append((f"partial: {planted.stem}", reference + "\n\n" + planted.read_text()))
    first = next(iter(notebooks.points.exercise_points(lesson)))
    kinds.append((f"broken: `{first}` raises", reference + f"\n\ndef {first}(*args, **kwargs):\n    raise ValueError('oops')\n"))
    kinds.append(("cheat: os._exit(0) at import", reference + "\n\nimport os\nos._exit(0)\n"))
    kinds.append(("cheat: answers patched to pass", stub + "\n\nimport numpy as np\nnp.testing.assert_allclose = "
                  "lambda *a, **k: None\nimport chex\nchex.assert_trees_all_close = lambda *a, **k: None\n"))
    return {f"s{i + 1:02d}": kinds[i % len(kinds)] for i in range(count)}


def _notebook(released: dict, source: str, exercises: list[str]) -> dict:
    """The released notebook with the module's definitions in the solution cells. Helpers go in the
    first cell; a bare statement (a planted patch such as `Dense.tree_flatten = ...`) goes after the
    definition of the last exercise it names, so it runs before that exercise's tests, as in the module."""
    try:
        imports, chunks = notebooks._chunks(source)
    except SyntaxError:
        return course_run.with_cells(released, {f"{exercises[0]}-code": source})
    cells = {f"{name}-code": text for name, text in chunks if name in exercises}
    if not cells:
        return course_run.with_cells(released, {})
    first = next(iter(cells))
    helpers = [text for name, text in chunks if name is not None and name not in exercises]
    for name, text in chunks:
        if name is None:
            named = [e for e in exercises if f"{e}-code" in cells and _names(text) & {e}]
            key = f"{named[-1]}-code" if named else first
            if key == first and not named:
                helpers.append(text)
            else:
                cells[key] += "\n\n" + text
    cells[first] = "\n\n".join(x for x in (imports, *helpers, cells[first]) if x)
    return course_run.with_cells(released, cells)


def _names(code: str) -> set[str]:
    return {n.id for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Name)}


def bare_pytest(lesson, modules: Path, students, **env) -> float:
    """Seconds for `pytest lessons/NN --target` on every student, one after another."""
    total = 0.0
    for student in students:
        elapsed, _ = timed([sys.executable, "-m", "pytest", f"lessons/{lesson.number}", "--target",
                            str(modules / student), "-q", "-p", "no:cacheprovider"], cwd=ROOT,
                           env=dict(os.environ, **env))
        total += elapsed
    return total


def timed(cmd: list[str], **kw) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    return time.perf_counter() - start, proc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lesson", default="01")
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    lesson = targets.find_lesson(args.lesson)
    work = Path(tempfile.mkdtemp(prefix="jaxkit-grading-bench-"))
    students = make_class(lesson, args.students)
    modules = work / "modules"
    for student, (_, source) in students.items():
        path = lesson.module_in(modules / student)
        path.parent.mkdir(parents=True)
        path.write_text(source)

    grade = [sys.executable, "-m", "grader", "grade", str(modules), "--lessons", lesson.number, "--secret", "bench",
             "-q", "--regrade"]
    ours_jobs, proc = timed(grade + ["--out", str(work / "ours"), "--jobs", str(args.jobs)], cwd=ROOT)
    if proc.returncode:
        raise SystemExit(proc.stdout + proc.stderr)
    ours_one, proc = timed(grade + ["--out", str(work / "ours1"), "--jobs", "1"], cwd=ROOT)
    afresh, proc = timed(grade + ["--out", str(work / "afresh"), "--jobs", str(args.jobs), "--compile-afresh"], cwd=ROOT)
    if proc.returncode:
        raise SystemExit(proc.stdout + proc.stderr)
    with open(work / "ours" / "grades.csv") as f:
        ours = {row["student_id"]: int(row["total"]) for row in csv.DictReader(f)}

    bare = bare_pytest(lesson, modules, students)
    cold = bare_pytest(lesson, modules, students, JAX_LESSONS_CACHE="off")

    course = work / "course"
    assignment = notebooks.assignment_name(lesson)
    course_run.make_course(course, [lesson])
    released = json.loads(course_run.release(course, assignment).read_text())
    exercises = list(notebooks.points.exercise_points(lesson))
    for student, (_, source) in students.items():
        course_run.submit(course, student, assignment, _notebook(released, source, exercises))
    start = time.perf_counter()
    try:
        course_run.nbgrader(course, "autograde", assignment, "--create", "--force")
    except RuntimeError as err:
        print(f"(nbgrader autograde reported an error; its scores below are what it recorded)\n{str(err)[:500]}")
    nb_time = time.perf_counter() - start
    export = course / "grades.csv"
    course_run.nbgrader(course, "export", "--to", str(export))
    with export.open() as f:
        nb = {row["student_id"]: float(row["score"]) for row in csv.DictReader(f) if row["assignment"] == assignment}

    print(f"lesson {lesson.number}, {len(students)} students (work folder: {work})\n")
    print(f"{'student':<8}{'grader':>7}{'nbgrader':>9}  submission")
    for student, (what, _) in students.items():
        a, b = ours.get(student), nb.get(student)
        mark = "" if b is not None and a == round(b) else "  <- differ"
        print(f"{student:<8}{a!s:>7}{'-' if b is None else f'{b:.0f}':>9}  {what}{mark}")
    n = len(students)
    print(f"\ngrader --jobs {args.jobs}: {ours_jobs:7.1f} s   ({ours_jobs / n:.2f} s a submission)")
    print(f"grader --jobs 1: {ours_one:7.1f} s   ({ours_one / n:.2f} s a submission)")
    print(f"grader --jobs {args.jobs} --compile-afresh: {afresh:7.1f} s   ({afresh / n:.2f} s a submission; "
          f"the shared cache saves {afresh / ours_jobs:.2f}x here)")
    print(f"bare pytest:     {bare:7.1f} s   ({bare / n:.2f} s a submission, one after another, warm compile cache)")
    print(f"  the same, cold: {cold:7.1f} s   ({cold / n:.2f} s a submission, no compile cache, as in a sandbox)")
    print(f"nbgrader:        {nb_time:7.1f} s   ({nb_time / n:.2f} s a submission, autograde only)")
    print(f"\nspeed-up over nbgrader (--jobs {args.jobs}): {nb_time / ours_jobs:.1f}x   (target >= 3x); "
          f"compiling afresh: {nb_time / afresh:.1f}x")
    print(f"cost per submission against bare pytest (--jobs 1): {ours_one / bare:.2f}x   (target <= 1.5x); "
          f"against cold bare pytest: {ours_one / cold:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

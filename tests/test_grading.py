"""The class grader: exact scores for hostile and broken submissions, honest students untouched,
reruns, shards, nbgrader submissions, and the wire format's refusals."""
import ast
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from grader import KIT_ROOT, confine, notebooks, points, report, stubs, submissions, targets, wire

HOSTILE = sorted((KIT_ROOT / "tests" / "hostile").glob("*.py"))
LESSON = targets.find_lesson("01")
CONFINED = sys.platform == "linux" and confine.landlock_abi() >= 1
needs_confinement = pytest.mark.skipif(
    not CONFINED, reason="the hostile corpus runs only where the sandbox can be confined (Linux, Landlock)")


def _declared(path: Path, name: str):
    """BASE or EXPECTED, read from a corpus file without running it (some files don't even parse)."""
    for line in path.read_text().splitlines():
        if line.startswith(f"{name} = "):
            return ast.literal_eval(line.split("=", 1)[1].strip())
    raise ValueError(f"{path.name} declares no {name}")


def _write(root: Path, student: str, source: str) -> None:
    module = LESSON.module_in(root / student)
    module.parent.mkdir(parents=True, exist_ok=True)
    module.write_text(source)


def _honest(root: Path) -> None:
    reference = LESSON.solution_file.read_text()
    _write(root, "honest_full", reference)
    planted = (KIT_ROOT / "tests" / "planted" / "01" / "swap_overwrites.py").read_text()
    _write(root, "honest_partial", reference + "\n\n" + planted)


def grade(submissions_dir: Path, out: Path, *extra: str, lesson_args=("--lessons", "01", "--timeout", "16")
          ) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "grader", "grade", str(submissions_dir), "--out", str(out),
                           *lesson_args, "--jobs", "2", "--secret", "kit-tests", "-q", *extra],
                          capture_output=True, text=True, timeout=600, cwd=KIT_ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def scores(out: Path) -> dict[str, int]:
    with open(out / "grades.csv") as f:
        return {row["student_id"]: int(row["total"]) for row in csv.DictReader(f)}


def record(out: Path, student: str) -> dict:
    return json.loads((report.student_dir(out, student) / report.RESULT).read_text())


@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    base = {"solution": LESSON.solution_file.read_text(), "stub": stubs.stub_for(LESSON)}
    for case in HOSTILE:
        _write(root / "class", case.stem, base[_declared(case, "BASE")] + "\n\n" + case.read_text())
    _honest(root / "class")
    _honest(root / "alone")
    grade(root / "class", root / "out")
    grade(root / "alone", root / "out-alone")
    return root


def test_the_corpus_covers_the_attacks_it_must():
    names = {p.stem for p in HOSTILE}
    assert {"exit_at_import", "os_exit_at_import", "exit_in_function", "os_exit_in_function", "infinite_loop",
            "memory_bomb", "fork_bomb", "patch_checkers", "patch_pytest_reports", "always_equal", "forged_stdout",
            "atexit_rewrite", "read_outside", "write_grade_store", "hardcoded_public", "noisy_but_right"} <= names


@needs_confinement
@pytest.mark.parametrize("case", HOSTILE, ids=lambda p: p.stem)
def test_hostile_submission_gets_its_exact_score(case, hostile_class):
    got = scores(hostile_class / "out")[case.stem]
    assert got == _declared(case, "EXPECTED"), json.dumps(record(hostile_class / "out", case.stem)["lessons"], indent=1)


@needs_confinement
def test_honest_students_are_graded_as_if_the_others_were_not_there(hostile_class):
    for student, expected in (("honest_full", 15), ("honest_partial", 13)):
        beside, alone = record(hostile_class / "out", student), record(hostile_class / "out-alone", student)
        assert beside["earned"] == alone["earned"] == expected
        assert beside["lessons"] == alone["lessons"]


@needs_confinement
def test_nothing_outside_the_sandbox_was_written_or_read(hostile_class):
    out = hostile_class / "out"
    assert not (out / "students" / "intruder").exists()
    assert set(scores(out)) == {p.stem for p in HOSTILE} | {"honest_full", "honest_partial"}
    assert all(v <= 15 for v in scores(out).values())
    leaked = record(out, "read_outside")
    assert leaked["earned"] == 0 and leaked["confinement"]["landlock"] >= 1 and leaked["confinement"]["seccomp"]


@needs_confinement
@pytest.mark.parametrize("student, test, words", [
    ("infinite_loop", "test_swap", "longer than"),
    ("os_exit_in_function", "test_add_at", "ended the process"),
    ("os_exit_at_import", "test_set_first", "importing your file ended the process"),
    ("memory_bomb", "test_scale_row", "MemoryError"),
    ("fork_bomb", "test_zero_negatives", "not permitted"),
    ("hardcoded_public", "test_set_first", "hidden inputs"),
    ("syntax_error", "test_set_first", "syntax error"),
    ("missing_function", "test_swap", "has no `swap`"),
])
def test_a_broken_submission_is_told_what_went_wrong(hostile_class, student, test, words):
    tests = {t["test"]: t for t in record(hostile_class / "out", student)["lessons"]["01"]["tests"]}
    assert tests[test]["earned"] == 0 and words in tests[test]["message"], tests[test]
    feedback = (report.student_dir(hostile_class / "out", student) / "feedback.md").read_text()
    assert words in feedback
    gradescope = json.loads((report.student_dir(hostile_class / "out", student) / "results.json").read_text())
    assert gradescope["score"] == record(hostile_class / "out", student)["earned"]


@needs_confinement
def test_a_rerun_skips_graded_students_and_loses_nothing(hostile_class):
    before = (hostile_class / "out-alone" / "grades.csv").read_text()
    proc = grade(hostile_class / "alone", hostile_class / "out-alone")
    assert "graded 0 of 2 students (2 already graded)" in proc.stdout
    assert (hostile_class / "out-alone" / "grades.csv").read_text() == before


@needs_confinement
def test_shards_merge_to_the_same_grades(hostile_class, tmp_path):
    alone = hostile_class / "alone"
    for i in (1, 2):
        grade(alone, tmp_path / f"shard{i}", "--shard", f"{i}/2")
    sizes = [len(scores(tmp_path / f"shard{i}")) for i in (1, 2)]
    assert sum(sizes) == 2
    proc = subprocess.run([sys.executable, "-m", "grader", "merge", str(tmp_path / "shard1"), str(tmp_path / "shard2"),
                           "--out", str(tmp_path / "merged"), "--lessons", "01"], capture_output=True, text=True, cwd=KIT_ROOT)
    assert proc.returncode == 0, proc.stderr
    assert scores(tmp_path / "merged") == scores(hostile_class / "out-alone")


@needs_confinement
def test_an_nbgrader_submitted_folder_is_graded_from_its_solution_cells(tmp_path):
    notebook = notebooks.build(LESSON)
    folder = tmp_path / "course" / "submitted" / "ada" / "lesson01"
    folder.mkdir(parents=True)
    (folder / "lesson01.ipynb").write_text(json.dumps(notebook))
    stub_nb = json.loads(json.dumps(notebook))
    for cell in stub_nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("solution"):
            cell["source"] = stubs.make_stub(cell["source"])
    (tmp_path / "course" / "submitted" / "bo" / "lesson01").mkdir(parents=True)
    (tmp_path / "course" / "submitted" / "bo" / "lesson01" / "lesson01.ipynb").write_text(json.dumps(stub_nb))
    grade(tmp_path / "course", tmp_path / "out")
    assert scores(tmp_path / "out") == {"ada": 15, "bo": 0}


def test_a_notebook_becomes_the_module_without_its_setup_and_grade_cells():
    source = submissions.module_from_notebook(notebooks.build(LESSON))
    assert "check(" not in source and "jax_setup" not in source
    assert "def set_first" in source and "import jax.numpy as jnp" in source


def test_submissions_take_only_lesson_modules(tmp_path):
    _write(tmp_path, "ann", "x = 1\n")
    (tmp_path / "ann" / "01" / "jax.py").write_text("raise SystemExit\n")
    (tmp_path / "bad id!").mkdir()
    found, notes = submissions.discover(tmp_path, [LESSON])
    assert [s.student for s in found] == ["ann"] and list(found[0].files) == ["01"]
    assert any("bad id!" in n for n in notes)


def test_the_wire_refuses_pickles_objects_and_oversized_files(tmp_path):
    with pytest.raises(wire.WireError):
        wire.encode({"x": object()})
    with pytest.raises(wire.WireError):
        wire.encode(np.array([object()], dtype=object))
    path = tmp_path / "evil.npz"
    np.savez(path, a=np.array([{"x": 1}], dtype=object), __spec__=np.array('{"t": "array", "a": "a"}'))
    with pytest.raises(wire.WireError):
        wire.load(path)
    wire.save(path, {"w": np.ones((2, 3), np.float32), "n": 3, "t": (1.5, None)})
    assert wire.load(path)["n"] == 3
    with pytest.raises(wire.WireError):
        wire.load(path, max_bytes=10)
    path.write_bytes(b"not a zip")
    with pytest.raises(wire.WireError):
        wire.load(path)


def test_a_notebook_cell_with_a_syntax_error_costs_only_its_exercise():
    notebook = notebooks.build(LESSON)
    for cell in notebook["cells"]:
        if cell["id"] == "mean_of_list-code":
            cell["source"] = "def mean_of_list(values):\n    return (("
    namespace: dict = {}
    exec(compile(submissions.module_from_notebook(notebook), "<nb>", "exec"), namespace)
    assert float(namespace["set_first"](np.zeros(3, np.float32), 2.0)[0]) == 2.0
    with pytest.raises(SyntaxError, match="mean_of_list.*syntax error on the cell's line 2"):
        namespace["mean_of_list"]([1.0])


@needs_confinement
def test_scores_can_go_into_the_nbgrader_gradebook(tmp_path):
    from grader import course_run

    course = tmp_path / "course"
    course_run.example_class(course, LESSON.number)
    grade(course / "submitted", tmp_path / "out", "--gradebook")
    course_run.nbgrader(course, "export", "--to", str(tmp_path / "export.csv"))
    with open(tmp_path / "export.csv") as f:
        exported = {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}
    assert exported == {k: float(v) for k, v in scores(tmp_path / "out").items()}
    assert exported["student-01"] == 15 and exported["student-02"] == 0


def test_every_lesson_grades_the_reference_full_and_the_stub_zero_in_the_sandbox(tmp_path):
    """The confinement, the wire and every lesson's probes together: nothing in the sandbox stops an
    honest answer (flax, optax, pmap's CPU devices), and nothing there gives the untouched release a point."""
    for lesson in targets.all_lessons():
        module = lesson.module_in(tmp_path / "class" / "reference")
        module.parent.mkdir(parents=True)
        module.write_text(lesson.solution_file.read_text())
    stubs.write_stubs(tmp_path / "class" / "stub")
    grade(tmp_path / "class", tmp_path / "out", lesson_args=())  # every lesson, default timeout
    full = sum(sum(points.exercise_points(l).values()) for l in targets.all_lessons())
    assert scores(tmp_path / "out") == {"reference": full, "stub": 0}

"""The class grader: exact scores for hostile and broken submissions, honest students untouched,
reruns, shards, nbgrader submissions, and the bounded readers of everything a sandbox or a
submission can write."""
import ast
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from grader import KIT_ROOT
from grader.authoring import notebooks
from grader.learner import points, stubs, targets
from grader.classroom import cgroups, channel, confine, report, runner, submissions, wire

HOSTILE = sorted((KIT_ROOT / "tests" / "hostile").glob("*.py"))
LESSON = targets.find_lesson("01")
CONFINED = sys.platform == "linux" and confine.landlock_abi() >= 1
needs_confinement = pytest.mark.skipif(
    not CONFINED, reason="the hostile corpus runs only where the sandbox can be confined (Linux, Landlock)")
_KERNEL = cgroups.place().parents if cgroups.place() else {}  # what the grader's cgroups hold here
# a loop that keeps allocating meets the memory limit, or (where the kernel fills new pages slowly, as on a
# freshly started machine) the CPU bound first, with the memory it took: either way it hears of memory
_TOOK_MEMORY = ("ran out of memory", "of memory on the way")


def _declared(path: Path, name: str, default=None):
    """BASE, EXPECTED or LESSON, read from a corpus file without running it (some don't even parse)."""
    for line in path.read_text().splitlines():
        if line.startswith(f"{name} = "):
            return ast.literal_eval(line.split("=", 1)[1].strip())
    if default is not None:
        return default
    raise ValueError(f"{path.name} declares no {name}")


def _write(root: Path, student: str, source: str, lesson=LESSON) -> None:
    module = lesson.module_in(root / student)
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


def scores(out: Path) -> dict[str, int | None]:
    """{id: total}; None for a student the grader could not grade (an empty row: no grade)."""
    with open(out / "grades.csv") as f:
        return {row["student_id"]: int(row["total"]) if row["total"] else None for row in csv.DictReader(f)}


def record(out: Path, student: str) -> dict:
    return json.loads((report.student_dir(out, student) / report.RESULT).read_text())


# Folders that would break a run that trusted them: links to the reference, a link beside honest code,
# a linked student folder, a notebook nested past any parser, a cell nested past the compiler.
STRUCTURAL = {"linked_lesson": 0, "link_beside": 0, "linked_student": 0, "hard_linked": 0, "nested_notebook": 0,
              "deep_cell": 14}
HOSTILE_ARGS = ("--lessons", "01", "06", "--timeout", "16", "--memory", "2G")  # bombs reach it before a step's bound, even under load


def _structural(root: Path) -> None:
    (root / "linked_lesson").mkdir(parents=True)
    (root / "linked_lesson" / "01").symlink_to(KIT_ROOT / "solutions" / "01")
    _write(root, "link_beside", LESSON.solution_file.read_text())
    (root / "link_beside" / "notes").symlink_to("/etc")
    (root / "linked_student").symlink_to(root / "honest_full")
    copy = root.parent / "a-copy-of-the-reference.py"  # a hard link shares the file's content
    copy.write_text(LESSON.solution_file.read_text())
    LESSON.module_in(root / "hard_linked").parent.mkdir(parents=True)
    os.link(copy, LESSON.module_in(root / "hard_linked"))
    nested = root / "nested_notebook" / "lesson01"
    nested.mkdir(parents=True)
    (nested / "lesson01.ipynb").write_text('{"cells": ' + "[" * 100_000 + "]" * 100_000 + "}")
    deep_cell = json.loads(json.dumps(notebooks.build(LESSON)))
    for cell in deep_cell["cells"]:
        if cell["id"] == "set_first-code":
            cell["source"] = "x = " + "-" * 200_000 + "1\n" + "y = " + "(" * 5000 + "1" + ")" * 5000 + "\n"
    (root / "deep_cell" / "lesson01").mkdir(parents=True)
    (root / "deep_cell" / "lesson01" / "lesson01.ipynb").write_text(json.dumps(deep_cell))


@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    for case in HOSTILE:
        numbers = _declared(case, "LESSON", "01")
        for lesson in map(targets.find_lesson, (numbers,) if isinstance(numbers, str) else numbers):
            base = {"solution": lesson.solution_file.read_text(), "stub": stubs.stub_for(lesson)}
            _write(root / "class", case.stem, base[_declared(case, "BASE")] + "\n\n" + case.read_text(), lesson)
    _honest(root / "class")
    _structural(root / "class")
    _honest(root / "alone")
    start = time.monotonic()
    grade(root / "class", root / "out", lesson_args=HOSTILE_ARGS)
    (root / "seconds").write_text(str(time.monotonic() - start))
    # alone, and compiling every program afresh: the shared cache changes no grade
    grade(root / "alone", root / "out-alone", "--compile-afresh", lesson_args=HOSTILE_ARGS)
    return root


def test_the_corpus_covers_the_attacks_it_must():
    names = {p.stem for p in HOSTILE}
    assert {"exit_at_import", "os_exit_at_import", "exit_in_function", "os_exit_in_function", "infinite_loop",
            "memory_bomb", "fork_bomb", "patch_checkers", "patch_pytest_reports", "always_equal", "forged_stdout",
            "atexit_rewrite", "read_outside", "write_grade_store", "hardcoded_public", "noisy_but_right",
            # what the grader's own side must not believe: paths, messages, outputs, clocks, outcomes
            "links_fifos_and_paths", "malformed_channel", "output_bombs", "forged_done_then_hang",
            "forged_outcomes", "claimed_failures_everywhere", "disk_bomb", "escape_attempts",
            # memory an address-space limit does not see, and threads by the thousand
            "memfd_bomb", "thread_bomb", "memory_left_behind",
            # the compile cache the reference filled: read by name only, never listed or written
            "shared_compiles"} <= names
    assert _declared(KIT_ROOT / "tests" / "hostile" / "forged_outcomes.py", "LESSON") == ("01", "06")


@needs_confinement
@pytest.mark.parametrize("case", HOSTILE, ids=lambda p: p.stem)
def test_hostile_submission_gets_its_exact_score(case, hostile_class):
    got = scores(hostile_class / "out")[case.stem]
    assert got == _declared(case, "EXPECTED"), json.dumps(record(hostile_class / "out", case.stem)["lessons"], indent=1)


@needs_confinement
def test_a_step_short_of_memory_others_left_behind_runs_again_in_a_fresh_process(hostile_class):
    got = record(hostile_class / "out", "memory_left_behind")
    if "memory" in _KERNEL:  # an address-space limit counts what each process maps: all of it fits
        assert any("ran short of memory after" in note for note in got["notes"]), got["notes"]
    assert got["earned"] == _declared(KIT_ROOT / "tests" / "hostile" / "memory_left_behind.py", "EXPECTED")


@needs_confinement
@pytest.mark.parametrize("student", sorted(STRUCTURAL))
def test_a_folder_that_would_break_the_run_costs_only_its_author(student, hostile_class):
    assert scores(hostile_class / "out")[student] == STRUCTURAL[student], record(hostile_class / "out", student)


@needs_confinement
def test_a_link_in_a_submission_is_refused_with_a_note(hostile_class):
    for student in ("linked_lesson", "link_beside", "linked_student"):
        assert "symbolic link" in record(hostile_class / "out", student)["lessons"]["01"]["tests"][0]["message"]
    assert "hard link" in record(hostile_class / "out", "hard_linked")["lessons"]["01"]["tests"][0]["message"]


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
    assert set(scores(out)) == {p.stem for p in HOSTILE} | {"honest_full", "honest_partial"} | set(STRUCTURAL)
    assert all(v <= 15 for v in scores(out).values())
    leaked = record(out, "read_outside")
    assert leaked["earned"] == 0 and leaked["confinement"]["landlock"] >= 1 and leaked["confinement"]["seccomp"]
    site_packages = {p for p in sys.path if "site-packages" in p}
    assert not [p for p in site_packages if (Path(p) / "zz_hostile.pth").exists()]
    assert not (out / ".sandbox").exists() or not any((out / ".sandbox").glob("*/work/*"))


@needs_confinement
def test_every_student_ends_within_the_grader_own_bound(hostile_class):
    """Whatever a sandbox says or does, a student costs at most the bound the grader's clocks set
    (startup, then each lesson's wall-clock ceiling), and the run writes grades.csv for everyone."""
    limits = runner.Limits(lesson_cpu=16, step_cpu=4, memory=4 << 30)
    bound = runner.STARTUP_LIMIT + limits.lesson_wall + 30  # + the kill, drain and judging
    slow = {r["student"]: r["seconds"] for r in report.read_results(hostile_class / "out") if r["seconds"] > bound}
    assert not slow, f"over the {bound:.0f} s bound: {slow}"
    assert float((hostile_class / "seconds").read_text()) < 2 * len(HOSTILE) * bound


@needs_confinement
@pytest.mark.parametrize("student, test, words", [
    ("infinite_loop", "test_swap", "without finishing"),
    ("os_exit_in_function", "test_add_at", "ended the process"),
    ("os_exit_at_import", "test_set_first", "importing your file ended the process"),
    ("memory_bomb", "test_scale_row", _TOOK_MEMORY if "memory" in _KERNEL else ("MemoryError",)),
    ("memfd_bomb", "test_set_first", _TOOK_MEMORY if "memory" in _KERNEL else ("not permitted",)),
    ("thread_bomb", "test_add_at", "more threads than it may" if "pids" in _KERNEL else "can't start new thread"),
    ("fork_bomb", "test_zero_negatives", "not permitted"),
    ("hardcoded_public", "test_set_first", "hidden inputs"),
    ("syntax_error", "test_set_first", "syntax error"),
    ("missing_function", "test_swap", "has no `swap`"),
    ("escape_attempts", "test_set_first", "escaped: nothing"),
    ("malformed_channel", "test_set_first", "malformed message"),
    ("output_bombs", "test_set_first", "could not be read"),
    ("forged_done_then_hang", "test_swap", "no answer the grader could check"),
])
def test_a_broken_submission_is_told_what_went_wrong(hostile_class, student, test, words):
    """`words`: what the message must say, or a tuple of the ways it may say it."""
    alternatives = words if isinstance(words, tuple) else (words,)
    tests = {t["test"]: t for t in record(hostile_class / "out", student)["lessons"]["01"]["tests"]}
    said = [w for w in alternatives if w in tests[test]["message"]]
    assert tests[test]["earned"] == 0 and said, tests[test]
    feedback = (report.student_dir(hostile_class / "out", student) / "feedback.md").read_text()
    assert said[0] in feedback
    gradescope = json.loads((report.student_dir(hostile_class / "out", student) / "results.json").read_text())
    assert gradescope["score"] == record(hostile_class / "out", student)["earned"]


@needs_confinement
def test_a_rerun_skips_graded_students_and_loses_nothing(hostile_class):
    before = (hostile_class / "out-alone" / "grades.csv").read_text()
    proc = grade(hostile_class / "alone", hostile_class / "out-alone", lesson_args=HOSTILE_ARGS)
    assert "graded 0 of 2 students (2 already graded)" in proc.stdout
    assert (hostile_class / "out-alone" / "grades.csv").read_text() == before


@needs_confinement
def test_shards_merge_to_the_same_grades(hostile_class, tmp_path):
    alone = hostile_class / "alone"
    for i in (1, 2):
        grade(alone, tmp_path / f"shard{i}", "--shard", f"{i}/2", lesson_args=HOSTILE_ARGS)
    sizes = [len(scores(tmp_path / f"shard{i}")) for i in (1, 2)]
    assert sum(sizes) == 2
    proc = subprocess.run([sys.executable, "-m", "grader", "merge", str(tmp_path / "shard1"), str(tmp_path / "shard2"),
                           "--out", str(tmp_path / "merged"), "--lessons", "01", "06"], capture_output=True, text=True, cwd=KIT_ROOT)
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
    tampered = json.loads(json.dumps(stub_nb))
    for cell in tampered["cells"]:
        if cell["id"] == "set_first-code":
            reference = {c["id"]: c for c in notebook["cells"]}["set_first-code"]["source"]
            cell["source"] = reference + "\n\ndef check(lesson, exercise, namespace):\n    return 99\n"
        if cell["id"] == "mean_of_list-code":
            cell["source"] = "def mean_of_list(values):\n    x = 1\n    return values[0] / 0\n"
    tampered["cells"] = [c for c in tampered["cells"] if c["id"] != "swap-tests"]
    (tmp_path / "course" / "submitted" / "cy" / "lesson01").mkdir(parents=True)
    (tmp_path / "course" / "submitted" / "cy" / "lesson01" / "lesson01.ipynb").write_text(json.dumps(tampered))
    proc = grade(tmp_path / "course", tmp_path / "out")
    assert scores(tmp_path / "out") == {"ada": 15, "bo": 0, "cy": 1}
    cy = record(tmp_path / "out", "cy")["lessons"]["01"]
    assert "a cell of the student's redefines `check`, a name of the grading" in cy["tamper"]
    assert "the grade cell `swap-tests` was deleted" in cy["tamper"]
    assert "redefines `check`" in proc.stderr and "redefines `check`" in (
        report.student_dir(tmp_path / "out", "cy") / "feedback.md").read_text()
    assert "tamper" not in record(tmp_path / "out", "ada")["lessons"]["01"]
    mean = next(t for t in cy["tests"] if t["exercise"] == "mean_of_list")
    assert "notebook cell `mean_of_list-code`, line 3" in mean["message"], mean["message"]


def test_a_notebook_becomes_the_module_without_its_setup_and_grade_cells():
    source = submissions.module_from_notebook(notebooks.build(LESSON))
    assert "check(" not in source and "jax_setup" not in source
    assert "def set_first" in source and "import jax.numpy as jnp" in source


def test_submissions_take_only_lesson_modules_and_keep_every_id(tmp_path):
    _write(tmp_path, "ann", "x = 1\n")
    (tmp_path / "ann" / "01" / "jax.py").write_text("raise SystemExit\n")
    (tmp_path / "odd id!").mkdir()
    (tmp_path / ".git").mkdir()
    found, notes = submissions.discover(tmp_path, [LESSON])
    assert [s.student for s in found] == ["ann", "odd id!"] and list(found[0].files) == ["01"]
    assert found[1].files == {} and notes == []


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


def test_a_notebook_cell_that_raises_costs_only_the_names_it_did_not_define(tmp_path):
    """In Jupyter a cell that raises stops there and the next cells still run; the module rebuilt
    from the notebook is imported the same way, so one bad cell never costs the whole lesson."""
    notebook = notebooks.build(LESSON)
    cell = next(c for c in notebook["cells"] if c["id"] == "swap-code")
    cell["source"] = "import numpy\nnumpy.loadtxt('no such file')\ndef swap(x, i, j):\n    return x"
    path = LESSON.module_in(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(submissions.module_from_notebook(notebook))
    ex = targets.load(path)
    assert float(ex.set_first(np.zeros(3, np.float32), 2.0)[0]) == 2.0  # a cell before it
    assert float(ex.mean_of_list([1.0, 3.0])) == 2.0  # a cell after it
    with pytest.raises(targets.MissingExercise, match=r"has no `swap`: a notebook cell raised.*FileNotFoundError"):
        ex.swap
    path.write_text("# notebook cells, each run on its own, start at lines: 1 x\nraise SystemExit\n")
    with pytest.raises(targets.TargetError, match="SystemExit"):
        targets.load(path)  # a forged header is just a comment: the file runs as one module


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
    from grader.authoring import course_run

    course = tmp_path / "course"
    course_run.example_class(course, LESSON.number)
    grade(course / "submitted", tmp_path / "out", "--gradebook")
    course_run.nbgrader(course, "export", "--to", str(tmp_path / "export.csv"))
    with open(tmp_path / "export.csv") as f:
        exported = {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}
    assert exported == {k: float(v) for k, v in scores(tmp_path / "out").items()}
    assert exported["student-01"] == 15 and exported["student-02"] == 0
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        flagged = [s.student.id for s in gb.assignment_submissions("lesson01") if s.needs_manual_grade]
    assert flagged == [], f"graded here, yet marked for manual grading: {flagged}"


def test_every_lesson_grades_the_reference_full_and_the_stub_zero_in_the_sandbox(tmp_path):
    """The confinement, the wire and every lesson's probes together: nothing in the sandbox stops an
    honest answer (flax, optax, pmap's CPU devices), and nothing there gives the untouched release a point.
    The run's own canary grades the reference and the untouched stub of every lesson handed in first,
    in the sandbox and settings every student gets; the two students here hand in every other lesson."""
    lessons = targets.all_lessons()
    for n, lesson in enumerate(lessons):
        _write(tmp_path / "class", f"reference_{n % 2}", lesson.solution_file.read_text(), lesson)
    grade(tmp_path / "class", tmp_path / "out", lesson_args=())  # every lesson, default timeout
    full = [sum(sum(points.exercise_points(l).values()) for l in lessons[half::2]) for half in (0, 1)]
    assert scores(tmp_path / "out") == {"reference_0": full[0], "reference_1": full[1]}
    canary = json.loads((tmp_path / "out" / "run.json").read_text())["canary"]
    assert canary == {"reference": f"{sum(full)}/{sum(full)}", "stub": f"0/{sum(full)}"}


def test_a_run_whose_sandbox_cannot_grade_the_reference_stops_before_any_grade(tmp_path):
    """The canary: where the settings break every sandbox (here a platform JAX can't start on this
    machine), the reference can't score full marks, so the run says why and writes no student's
    record; the deaths, before any student code ran, are the grader's."""
    proc = _canary_stops_the_run(tmp_path, "--platform", "tpu")
    assert "before any of the student's code ran" in proc.stderr


def _canary_stops_the_run(tmp_path: Path, *settings: str) -> subprocess.CompletedProcess:
    """Grade one honest student in `settings`: the canary must stop the run before any record."""
    _write(tmp_path / "class", "ada", LESSON.solution_file.read_text())
    proc = subprocess.run([sys.executable, "-m", "grader", "grade", str(tmp_path / "class"), "--out",
                           str(tmp_path / "out"), "--lessons", "01", *settings, "-q"],
                          capture_output=True, text=True, timeout=600, cwd=KIT_ROOT)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "No student was graded" in proc.stderr
    assert not (tmp_path / "out" / "students").exists()
    return proc


@pytest.mark.skipif("memory" not in _KERNEL, reason="without a memory cgroup, --memory is an address-space limit "
                    "with room for JAX to start added, so no --memory stops every sandbox")
def test_a_memory_limit_jax_cannot_start_under_stops_the_run_and_says_so(tmp_path):
    assert "--memory" in _canary_stops_the_run(tmp_path, "--memory", "64M").stderr


@needs_confinement
def test_a_relative_out_folder_works_as_the_readme_writes_it(tmp_path):
    _write(tmp_path / "class", "ada", LESSON.solution_file.read_text())
    proc = subprocess.run([sys.executable, "-m", "grader", "grade", "class", "--out", "graded", "--lessons", "01",
                           "--secret", "kit-tests", "-q"], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert scores(tmp_path / "graded") == {"ada": 15}


def test_the_kit_digest_covers_the_references_and_stages_none_of_them(tmp_path):
    from grader.classroom import grading

    staged = set(grading.staged_files())
    references = {l.solution_file for l in targets.all_lessons()}
    assert references <= set(grading.judged_against()) and not references & staged
    grading.stage_kit(tmp_path / "kit", targets.all_lessons())
    assert not list((tmp_path / "kit").rglob("solutions"))


def test_the_channel_refuses_what_would_exhaust_the_grader():
    reader = channel.Reader(budget=1 << 20)
    deep = b"[" * 100_000 + b"]" * 100_000 + b"\n"
    assert reader.feed(len(deep).to_bytes(4, "little") + deep) == [] and "malformed" in reader.broken
    reader = channel.Reader(budget=1 << 20)
    assert reader.feed((0xFFFFFFF0).to_bytes(4, "little")) == [] and "bytes" in reader.broken
    reader = channel.Reader(budget=100)
    assert reader.feed(b"\0" * 200) == [] and "more than" in reader.broken
    good = b'{"ev": "start", "step": "probe:01:swap"}\nBODY'
    frames = channel.Reader(budget=1 << 20).feed(len(good).to_bytes(4, "little") + good)
    assert frames[0].header["step"] == "probe:01:swap" and frames[0].body == b"BODY"


def test_the_wire_refuses_declared_sizes_before_allocating(tmp_path):
    import io
    import zipfile

    from numpy.lib import format as npy

    header = io.BytesIO()
    npy.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (1 << 40,)})
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a0.npy", header.getvalue())
        archive.writestr("a1.npy", b"\0" * (100 << 20))
    with pytest.raises(wire.WireError):
        wire.loads(bomb.getvalue())
    assert wire.loads(wire.dumps({"x": np.arange(6).reshape(2, 3)}))["x"].shape == (2, 3)


def test_the_folder_measure_sees_deep_paths_and_real_blocks(tmp_path):
    fd = os.open(tmp_path, os.O_RDONLY)
    try:
        for _ in range(250):  # 5,000 characters: deeper than one path may name
            os.mkdir("d" * 20, dir_fd=fd)
            new = os.open("d" * 20, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = new
        with open(os.open("big", os.O_WRONLY | os.O_CREAT, dir_fd=fd), "wb") as f:
            f.write(b"\1" * (runner.MAX_WORKDIR_BYTES + (1 << 20)))
    finally:
        os.close(fd)
    assert "MiB" in (runner.disk_problem(tmp_path) or "")
    runner.remove_tree(tmp_path)
    assert not tmp_path.exists()


def test_a_grader_failure_on_one_student_is_that_student_record(tmp_path):
    """A bug of the grader's (here: judging raises for one student) is recorded for that student,
    everyone else is graded, grades.csv lists all, and a rerun tries that student again."""
    _write(tmp_path / "class", "ok", LESSON.solution_file.read_text())
    _write(tmp_path / "class", "boom", LESSON.solution_file.read_text())
    driver = (
        "import sys\nfrom grader.classroom import grading\nfrom grader import cli\n"
        "original = grading.lesson_record\n"
        "def broken(lesson, outcome, sub, secret):\n"
        "    if sub.student == 'boom':\n        raise KeyError('a grader bug')\n"
        "    return original(lesson, outcome, sub, secret)\n"
        "grading.lesson_record = broken\n"
        "sys.exit(cli.main(sys.argv[1:]))\n")
    args = ["grade", str(tmp_path / "class"), "--out", str(tmp_path / "out"), "--lessons", "01", "--secret", "kit-tests", "-q"]
    proc = subprocess.run([sys.executable, "-c", driver, *args], capture_output=True, text=True, timeout=600,
                          cwd=KIT_ROOT)
    assert proc.returncode == 0, proc.stderr
    assert scores(tmp_path / "out") == {"ok": 15, "boom": None}  # not a zero: no grade yet
    assert "a grader bug" in record(tmp_path / "out", "boom")["error"] and "could not grade boom" in proc.stderr
    again = grade(tmp_path / "class", tmp_path / "out", lesson_args=("--lessons", "01"))
    assert "graded 1 of 2 students" in again.stdout
    assert scores(tmp_path / "out") == {"ok": 15, "boom": 15}


def test_the_channel_counts_messages_as_well_as_bytes():
    frame = b'{"ev": "x"}\n'
    flood = (len(frame).to_bytes(4, "little") + frame) * (channel.MAX_FRAMES + 1)
    reader = channel.Reader(budget=len(flood) + 1)
    assert len(reader.feed(flood)) <= channel.MAX_FRAMES and "messages" in reader.broken


@needs_confinement
def test_every_student_id_is_kept_and_only_the_lessons_handed_in_are_graded(tmp_path):
    """Ids are data: "John Smith", "zoë" and a name that is not UTF-8 all reach grades.csv, each with
    a folder of its own; with no --lessons the class is graded on the lessons its files hold."""
    names = ["John Smith", "zoë", os.fsdecode(b"caf\xe9"), "ada"]
    for name in names:
        _write(tmp_path / "class", name, LESSON.solution_file.read_text())
    proc = subprocess.run([sys.executable, "-m", "grader", "grade", str(tmp_path / "class"), "--out",
                           str(tmp_path / "out"), "--jobs", "2", "--secret", "kit-tests", "-q"],
                          capture_output=True, text=True, timeout=600, cwd=KIT_ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(tmp_path / "out" / "grades.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["student_id", "lesson01", "total"]
    assert {r["student_id"]: r["total"] for r in rows} == {
        "John Smith": "15", "zoë": "15", "caf\\xe9": "15", "ada": "15"}
    folders = {p.name for p in (tmp_path / "out" / "students").iterdir()}
    assert "ada" in folders and len(folders) == 4 and not any(" " in f for f in folders)


@needs_confinement
def test_twin_folders_and_a_notebook_with_plots_are_graded_apart(tmp_path):
    """A folder name that is not UTF-8 and its backslash-escaped twin once shared one folder of
    results (one student scored, the other gone from grades.csv); and a correct notebook with 3 MB
    of plots once scored 0, its outputs counted against the cap on code. Graded as one class."""
    root = tmp_path / "class"
    for name, source in ((b"caf\xe9", LESSON.solution_file.read_text()), (b"caf\\xe9", stubs.stub_for(LESSON))):
        module = os.path.join(os.fsencode(root), name, b"01", LESSON.topic.encode() + b".py")
        os.makedirs(os.path.dirname(module))
        with open(module, "w") as f:
            f.write(source)
    notebook = notebooks.build(LESSON)
    plot = {"output_type": "display_data", "metadata": {}, "data": {"image/png": "iVBORw0KGgo" * 300_000}}
    next(c for c in notebook["cells"] if c["id"] == "swap-code")["outputs"] = [plot]
    (root / "plots" / "lesson01").mkdir(parents=True)
    (root / "plots" / "lesson01" / "lesson01.ipynb").write_text(json.dumps(notebook))
    grade(root, tmp_path / "out")
    assert scores(tmp_path / "out") == {"caf\\xe9": 15, "caf\\\\xe9": 0, "plots": 15}
    assert len(list((tmp_path / "out" / "students").iterdir())) == 3
    assert record(tmp_path / "out", "caf\\\\xe9")["earned"] == 0 and "tamper" not in record(tmp_path / "out", "plots")["lessons"]["01"]
    assert "graded 0 of 3 students (3 already graded)" in grade(root, tmp_path / "out").stdout  # each found its record


@needs_confinement
def test_merge_refuses_shards_graded_with_different_secrets(hostile_class, tmp_path):
    grade(hostile_class / "alone", tmp_path / "other", "--secret", "another-term", lesson_args=HOSTILE_ARGS)
    proc = subprocess.run([sys.executable, "-m", "grader", "merge", str(hostile_class / "out-alone"),
                           str(tmp_path / "other"), "--out", str(tmp_path / "merged")],
                          capture_output=True, text=True, cwd=KIT_ROOT)
    assert proc.returncode == 2 and "different course secrets" in proc.stderr, proc.stderr
    assert not (tmp_path / "merged" / "grades.csv").exists()

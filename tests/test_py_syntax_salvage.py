"""A `.py` submission with a syntax error is graded one top-level definition at a time, as a notebook's
cells are (`grader.classroom.salvage`): the splitter on tricky sources, what discovery hands the
sandbox and the student, and one submission graded end to end through the class grader and one
through the Gradescope autograder (each costs a canary and a sandbox)."""
from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

from grader import KIT_ROOT
from grader.authoring import gradescope
from grader.learner import points, targets
from grader.classroom import report, salvage, submissions


def _kit_test(name: str):
    """One of the kit's test modules, for its helpers: the tests run with --import-mode=importlib,
    so they can't import each other by name."""
    spec = importlib.util.spec_from_file_location(f"kit_{name}", KIT_ROOT / "tests" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


grading_tests, gradescope_tests = _kit_test("test_grading"), _kit_test("test_gradescope")
LESSON = targets.find_lesson("01")
TOTAL = points.lesson_total(LESSON)
FILE = "01/immutability.py"


def _broken(exercise: str) -> tuple[str, int]:
    """(the reference with the colon of `exercise`'s `def` line taken out, that line's number)."""
    lines = LESSON.solution_file.read_text().splitlines(keepends=True)
    number = next(i for i, line in enumerate(lines) if line.startswith(f"def {exercise}("))
    assert lines[number].rstrip().endswith(":")
    lines[number] = lines[number].rstrip()[:-1] + "\n"
    return "".join(lines), number + 1


def _points_of(exercise: str) -> int:
    return points.exercise_points(LESSON)[exercise]


def _module(source: str) -> dict:
    """The namespace of the salvaged `source`, compiled as the whole file it stands for."""
    got = salvage.salvage(source.encode(), FILE)
    assert got is not None
    namespace: dict = {}
    exec(compile(got.module, FILE, "exec"), namespace)
    return namespace


# --- the splitter ----------------------------------------------------------------------------------

DECORATED = '''import functools


@functools.lru_cache(
    maxsize=None
)
@functools.wraps(print)
def cached(x):
    return x


def after(x):
    return x + 1
'''


def test_decorators_stay_with_the_definition_they_decorate():
    found = salvage.chunks(DECORATED)
    assert [(c.first, c.last, c.name) for c in found] == [(1, 3, None), (4, 11, "cached"), (12, 13, "after")]
    assert "".join(c.text for c in found) == DECORATED
    broken = DECORATED.replace("def cached(x):", "def cached(x)")
    namespace = _module(broken)
    with pytest.raises(SyntaxError, match=r"`cached` was left out.*01/immutability.py.*line 8: expected ':'"):
        namespace["cached"](1)  # the decorators went with it: no lru_cache wraps the stand-in
    assert namespace["after"](1) == 2


STRING_AT_COLUMN_0 = '''def documented(x):
    """A docstring whose lines start at column 0:
def not_a_definition(:
import not_a_module
"""
    code = \'\'\'
x = [
\'\'\'
    return x, code


def broken(x) return x


def last(x):
    return 2 * x
'''


def test_a_multiline_string_at_column_0_stays_inside_its_function():
    found = salvage.chunks(STRING_AT_COLUMN_0)
    assert [(c.first, c.last, c.name) for c in found] == [(1, 11, "documented"), (12, 14, "broken"),
                                                            (15, 16, "last")]
    namespace = _module(STRING_AT_COLUMN_0)
    assert namespace["documented"](3) == (3, "\nx = [\n")
    assert namespace["last"](3) == 6
    with pytest.raises(SyntaxError, match="line 12"):
        namespace["broken"](1)


def test_a_broken_definition_first_or_last_costs_only_itself_and_the_lines_stay_where_they_were():
    source = "def first(x):\n    return (x\n\n\ndef middle(x):\n    return x - 1\n\n\ndef final(x):\n    return x +"
    got = salvage.salvage(source.encode(), FILE)
    assert got is not None and got.module.decode().count("\n") == source.count("\n")
    assert got.notes == ["`first` was left out of grading: 01/immutability.py has a syntax error on line 2: "
                         "'(' was never closed",
                         "`final` was left out of grading: 01/immutability.py has a syntax error on line 10: "
                         "invalid syntax"]
    namespace: dict = {}
    exec(compile(got.module, FILE, "exec"), namespace)
    assert namespace["middle"](3) == 2 and namespace["middle"].__code__.co_firstlineno == 5
    for name in ("first", "final"):
        with pytest.raises(SyntaxError, match=f"`{name}` was left out"):
            namespace[name](1)


def test_an_unclosed_bracket_does_not_swallow_the_definitions_after_it():
    source = "import math\nTABLE = [1, 2,\n\ndef kept(x):\n    return x\n"
    found = salvage.chunks(source)
    assert [(c.first, c.last, c.name) for c in found] == [(1, 1, None), (2, 3, None), (4, 5, "kept")]
    got = salvage.salvage(source.encode(), FILE)
    assert got.notes == ["lines 2-3 were left out of grading: 01/immutability.py has a syntax error on line 2: "
                         "'[' was never closed"]
    namespace: dict = {}
    exec(compile(got.module, FILE, "exec"), namespace)
    assert namespace["kept"](4) == 4 and "TABLE" not in namespace and "math" in namespace


def test_clauses_and_a_dedented_return_belong_to_the_statement_above():
    source = ("if True:\n    A = 1\nelse:\n    A = 2\ntry:\n    B = 1\nexcept Exception:\n    pass\n"
              "def lost_indent(x):\n    y = x\nreturn y\n\ndef fine():\n    return A + B\n")
    found = salvage.chunks(source)
    assert [(c.first, c.name) for c in found] == [(1, None), (5, None), (9, "lost_indent"), (13, "fine")]
    namespace = _module(source)
    assert namespace["fine"]() == 2
    with pytest.raises(SyntaxError, match="line 11: 'return' outside function"):
        namespace["lost_indent"](1)  # not kept without its return, as if it were right


def test_the_notes_are_bounded_however_many_definitions_are_broken():
    source = "def kept(x):\n    return x\n" + "".join(f"def f{i}(:\n    pass\n" for i in range(50))
    got = salvage.salvage(source.encode(), FILE)
    assert len(got.notes) == salvage.MAX_NOTES and got.notes[-1].startswith("and 31 more parts")
    assert got.module.decode().count("raise SyntaxError") == 50


@pytest.mark.parametrize("data", [
    b"def fine(x):\n    return x\n",  # it compiles: nothing to salvage
    b'"""A docstring never closed\n\ndef f(x):\n    return x\n',  # nothing that defines anything is left
    b"def f(x):\n    return '\xff'\n\ndef g(x)\n    return x\n",  # not UTF-8: graded (and refused) as it is
    b"import math\nx = (\n",  # nothing defined at all
    b"def ok(x):\n    return x\n" + b"#" * salvage.MAX_BYTES + b"\ndef f(x)\n    return x\n",  # too large to salvage
])
def test_a_file_is_left_as_it_is_when_no_salvage_helps(data):
    assert salvage.salvage(data, FILE) is None


# --- what discovery hands the sandbox and the student, and what the learner still sees ----------------

def test_discovery_salvages_a_module_but_the_learner_still_sees_the_plain_syntax_error(tmp_path):
    source, line = _broken("swap")
    module = LESSON.module_in(tmp_path / "class" / "ada")
    module.parent.mkdir(parents=True)
    module.write_text(source)
    LESSON.module_in(tmp_path / "class" / "bo").parent.mkdir(parents=True)
    LESSON.module_in(tmp_path / "class" / "bo").write_text(LESSON.solution_file.read_text())
    (ada, bo), _ = submissions.discover(tmp_path / "class", [LESSON])
    assert ada.left_out == {"01": [f"`swap` was left out of grading: {FILE} has a syntax error on line {line}: "
                                   "expected ':'"]}
    assert bo.left_out == {} and bo.files["01"] == LESSON.solution_file.read_bytes()
    assert ada.digest() != submissions.Submission("ada", dict(ada.files), {}).digest()

    graded = LESSON.module_in(tmp_path / "graded")  # what the sandbox imports, through the learner's loader
    graded.parent.mkdir(parents=True)
    graded.write_bytes(ada.files["01"])
    ex = targets.load(graded)
    assert float(ex.set_first(np.zeros(3, np.float32), 2.0)[0]) == 2.0
    assert float(ex.mean_of_list([1.0, 3.0])) == 2.0
    with pytest.raises(SyntaxError, match=f"`swap` was left out.*line {line}: expected ':'"):
        ex.swap(np.arange(3), 0, 1)
    with pytest.raises(targets.TargetError, match=f"has a syntax error on line {line}: expected ':'"):
        targets.load(module)  # `pytest lessons/01` on the student's own file: no salvage there


def test_feedback_names_what_was_left_out():
    note = f"`swap` was left out of grading: {FILE} has a syntax error on line 53: expected ':'"
    record = {"student": "ada", "earned": 13, "total": 15, "lessons": {"01": {
        "topic": "immutability", "earned": 13, "total": 15, "left_out": [note],
        "tests": [{"test": "test_swap", "exercise": "swap", "points": 2, "earned": 0, "message": "x"}]}}}
    text = report.feedback(record)
    assert "graded one top-level definition at a time" in text and "`swap`" in text and "line 53" in text
    assert "Lesson 01: `swap` was left out" in report.gradescope(record)["output"]
    record["lessons"]["01"].pop("left_out")
    assert "top-level definition" not in report.feedback(record) and "output" not in report.gradescope(record)


# --- end to end --------------------------------------------------------------------------------------

@grading_tests.needs_confinement
def test_the_class_grader_costs_a_syntax_error_only_its_definition(tmp_path):
    source, line = _broken("swap")
    grading_tests._write(tmp_path / "class", "ada", source)
    grading_tests.grade(tmp_path / "class", tmp_path / "out")
    assert grading_tests.scores(tmp_path / "out") == {"ada": TOTAL - _points_of("swap")}
    lesson = grading_tests.record(tmp_path / "out", "ada")["lessons"]["01"]
    for test in lesson["tests"]:
        lost = test["exercise"] == "swap"
        assert test["earned"] == (0 if lost else test["points"]), test
        if lost:
            assert "`swap` was left out" in test["message"] and f"line {line}" in test["message"], test
    note = f"`swap` was left out of grading: {FILE} has a syntax error on line {line}: expected ':'"
    assert lesson["left_out"] == [note]
    feedback = (report.student_dir(tmp_path / "out", "ada") / "feedback.md").read_text()
    assert "graded one top-level definition at a time" in feedback and f"line {line}" in feedback
    assert "`swap` was left out" in json.dumps(json.loads((tmp_path / "out" / "run.json").read_text())["notes"])


def test_gradescope_costs_a_syntax_error_only_its_definition(tmp_path):
    source, line = _broken("count_labels")
    zipped = tmp_path / "autograder.zip"
    assert gradescope.main(["--lessons", "01", "--out", str(zipped), "--secret", "gradescope-test-secret"]) == 0
    results, log = gradescope_tests.run_autograder(zipped, tmp_path / "root", {"immutability.py": source.encode()})
    assert results["score"] == TOTAL - _points_of("count_labels"), log
    for test in results["tests"]:
        assert (test["status"] == "failed") == ("(count_labels)" in test["name"]), test
    assert f"`count_labels` was left out of grading: {FILE} has a syntax error on line {line}" in results["output"]

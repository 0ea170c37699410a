"""The harness: --target selection, one-line messages for unwritten or broken code, points, results."""
import json
import subprocess
import sys
import textwrap

import pytest

from grader.learner import points, targets

TOY_TESTS = '''
import pytest
from grader.learner import expect


@pytest.mark.exercise("double", points=2)
def test_double(ex):
    expect.close(ex.double(3.0), 6.0, call=expect.call("double", 3.0), hint="multiply by two")


@pytest.mark.exercise("triple", points=1)
def test_triple(ex):
    assert ex.triple(1) == 3
'''

RIGHT = "def double(x):\n    return 2 * x\n\n\ndef triple(x):\n    return 3 * x\n"


@pytest.fixture
def toy(tmp_path):
    """A one-lesson course (lesson 42, topic toy) in a temporary folder; returns a runner."""
    (tmp_path / "course" / "42").mkdir(parents=True)
    (tmp_path / "course" / "42" / "test_toy.py").write_text(TOY_TESTS)

    def run(module_source: str, *extra: str):
        target = tmp_path / "target"
        (target / "42").mkdir(parents=True, exist_ok=True)
        (target / "42" / "toy.py").write_text(textwrap.dedent(module_source))
        results = tmp_path / "results.json"
        results.unlink(missing_ok=True)
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "course/42", f"--target={target}", f"--results={results}",
             "-p", "no:cacheprovider", *extra],
            cwd=tmp_path, capture_output=True, text=True)
        tests = json.loads(results.read_text())["tests"] if results.exists() else []
        return proc, {t["test"]: t for t in tests}

    return run


def test_right_answers_pass_and_score_full_points(toy):
    proc, tests = toy(RIGHT)
    assert proc.returncode == 0, proc.stdout
    assert {n: t["outcome"] for n, t in tests.items()} == {"test_double": "passed", "test_triple": "passed"}
    assert "lesson 42 toy" in proc.stdout and "3 / 3 points" in proc.stdout


def test_unwritten_function_is_one_line_naming_it(toy):
    proc, tests = toy(RIGHT.replace("return 2 * x", "raise NotImplementedError()"))
    assert "`ex.double` in " in proc.stdout and "toy.py is not written yet." in proc.stdout
    assert "Traceback" not in proc.stdout and "raise NotImplementedError" not in proc.stdout
    assert tests["test_double"]["outcome"] == "failed" and tests["test_triple"]["outcome"] == "passed"
    assert "1 / 3 points" in proc.stdout


def test_wrong_answer_message_says_call_expected_returned_and_hint(toy):
    proc, tests = toy(RIGHT.replace("return 2 * x", "return x + 2"))
    message = tests["test_double"]["message"]
    for part in ("Called double(3.0)", "expected: 6.0", "returned: 5.0", "hint: multiply by two"):
        assert part in proc.stdout, proc.stdout
    assert "Called double(3.0)" in message


def test_syntax_error_fails_every_test_with_the_line(toy):
    proc, tests = toy("def double(x:\n    return 2 * x\n")
    assert proc.returncode == 1
    assert {t["outcome"] for t in tests.values()} == {"error"}
    assert "has a syntax error on line 1" in proc.stdout
    assert "During handling" not in proc.stdout


def test_a_problem_shared_by_every_test_is_told_once(toy, tmp_path):
    """A file that doesn't compile, or a --target folder that isn't there, is one cause: the first
    test tells it in full, the others point back to it."""
    proc, tests = toy("def double(x:\n    return 2 * x\n")
    full = tests["test_double"]["message"]
    assert len(full.splitlines()) > 1 and proc.stdout.count(full.splitlines()[-1]) == 1, proc.stdout
    assert "told in full at test_double" in tests["test_triple"]["message"]
    missing, results = tmp_path / "not-here", tmp_path / "missing.json"
    proc = subprocess.run([sys.executable, "-m", "pytest", "course/42", f"--target={missing}", f"--results={results}",
                           "-p", "no:cacheprovider"], cwd=tmp_path, capture_output=True, text=True)
    messages = [t["message"] for t in json.loads(results.read_text())["tests"]]
    assert "told in full at test_double" in messages[1] and "told in full" not in messages[0], proc.stdout
    assert proc.stdout.count(messages[0].removeprefix("Failed: ")) == 1


@pytest.mark.parametrize("body, says", [
    ("import nonexistent_module_xyz\n", "ModuleNotFoundError"),
    ("raise SystemExit(0)\n", "SystemExit"),
    ("1 / 0\n", "ZeroDivisionError"),
])
def test_import_failure_fails_the_lesson_not_the_run(toy, body, says):
    proc, tests = toy(RIGHT + body)
    assert len(tests) == 2 and {t["outcome"] for t in tests.values()} == {"error"}, proc.stdout
    assert f"raised {says}" in proc.stdout and "imports cleanly" in proc.stdout


def test_missing_function_names_the_file_and_the_name(toy):
    proc, tests = toy("def double(x):\n    return 2 * x\n")
    assert tests["test_triple"]["outcome"] == "failed"
    assert "has no `triple`" in proc.stdout


def test_missing_module_file_is_named(tmp_path):
    with pytest.raises(targets.TargetError, match="There is no file"):
        targets.load(tmp_path / "01" / "nothing.py")


def test_module_is_reimported_after_an_edit(tmp_path):
    path = tmp_path / "01" / "m.py"
    path.parent.mkdir()
    path.write_text("VALUE = 1\n")
    assert targets.load(path).VALUE == 1
    path.write_text("VALUE = 22\n")
    assert targets.load(path).VALUE == 22


def test_target_names_resolve_to_the_kit_folders(tmp_path):
    assert targets.resolve_target("lessons") == targets.LESSONS_DIR
    assert targets.resolve_target("solutions") == targets.SOLUTIONS_DIR
    assert targets.resolve_target("sub", base=tmp_path) == (tmp_path / "sub").resolve()


def test_points_are_read_without_running(tmp_path):
    path = tmp_path / "test_toy.py"
    path.write_text(TOY_TESTS)
    assert [(t.name, t.exercise, t.points) for t in points.graded_tests(path)] == [
        ("test_double", "double", 2), ("test_triple", "triple", 1)]
    path.write_text("def test_unmarked(ex):\n    pass\n")
    with pytest.raises(points.MarkerError, match="needs exactly one"):
        points.graded_tests(path)


def test_find_lesson_accepts_short_numbers_and_names_the_lessons():
    first = targets.all_lessons()[0]
    assert targets.find_lesson(str(int(first.number))) == first
    with pytest.raises(ValueError, match="There is no lesson '99'"):
        targets.find_lesson("99")


def test_every_lesson_test_file_has_points():
    for lesson in targets.all_lessons():
        assert points.lesson_total(lesson) > 0


def test_error_in_learner_code_is_told_from_the_learner_line(toy):
    proc, tests = toy(RIGHT.replace("return 2 * x", "return helper(x)\n\n\ndef helper(x):\n    return x + 'a'"))
    assert "Your code raised TypeError" in proc.stdout, proc.stdout
    assert "toy.py, line 6, in helper:\n    return x + 'a'" in proc.stdout
    assert "Traceback" not in proc.stdout and tests["test_double"]["outcome"] == "failed"


def test_unwritten_method_is_named_with_its_class(toy):
    module = RIGHT.replace("return 3 * x", "return Box().size()") + (
        "\n\nclass Box:\n    def size(self):\n        raise NotImplementedError()\n")
    proc, _ = toy(module)
    assert "`ex.Box.size` in " in proc.stdout, proc.stdout


def test_runs_from_inside_a_lesson_folder():
    lesson = targets.all_lessons()[0]
    proc = subprocess.run([sys.executable, "-m", "pytest", "--target", "solutions", "-q", "-p", "no:cacheprovider"],
                          cwd=lesson.dir, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert f"lesson {lesson.number} {lesson.topic}" in proc.stdout

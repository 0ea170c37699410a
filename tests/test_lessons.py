"""Every lesson is sound: the reference passes every test, the untouched stub fails every one."""
import pytest

from grader.learner import points, targets

LESSONS = [lesson.number for lesson in targets.all_lessons()]


def _show(run) -> str:
    return run.output[-4000:]


@pytest.mark.parametrize("number", LESSONS)
def test_reference_passes_every_test(number, lesson_runs):
    run = lesson_runs[(number, "solutions")]
    lesson = targets.find_lesson(number)
    expected = {t.name for t in points.graded_tests(lesson.test_file)}
    not_passed = {name: o for name, o in run.outcomes().items() if o != "passed"}
    assert not not_passed, f"lesson {number} reference fails {not_passed}\n{_show(run)}"
    assert set(run.outcomes()) == expected, f"collected {sorted(run.outcomes())}, graded {sorted(expected)}"
    assert run.returncode == 0, _show(run)
    assert run.earned() == points.lesson_total(lesson)


@pytest.mark.parametrize("number", LESSONS)
def test_untouched_stub_fails_every_test(number, lesson_runs):
    run = lesson_runs[(number, "stubs")]
    lesson = targets.find_lesson(number)
    passed = [name for name, o in run.outcomes().items() if o == "passed"]
    assert not passed, f"lesson {number}: these tests pass on the untouched stub: {passed}"
    assert len(run.outcomes()) == len(points.graded_tests(lesson.test_file)), _show(run)
    assert run.earned() == 0


@pytest.mark.parametrize("number", LESSONS)
def test_stub_failures_say_not_written_yet(number, lesson_runs):
    run = lesson_runs[(number, "stubs")]
    assert "is not written yet" in run.output, _show(run)
    assert "Traceback" not in run.output


@pytest.mark.parametrize("number", LESSONS)
def test_every_exercise_is_a_top_level_name_of_the_solution(number):
    import ast

    lesson = targets.find_lesson(number)
    tree = ast.parse(lesson.solution_file.read_text())
    defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    exercises = set(points.exercise_points(lesson))
    assert exercises, f"lesson {number} has no graded tests"
    assert exercises <= defined, f"exercises without a definition: {exercises - defined}"


@pytest.mark.parametrize("number", LESSONS)
def test_lesson_has_readme_stub_and_solution(number):
    lesson = targets.find_lesson(number)
    for path in (lesson.dir / "README.md", lesson.stub_file, lesson.solution_file):
        assert path.is_file(), f"missing {path}"

"""After a lesson passes: what to remember from it (`check`), and the reference, once earned (`solution`)."""
import json
import os
import subprocess
import sys

import pytest

from grader.learner import points, remember, status, stubs, targets

LESSONS = [l.number for l in targets.all_lessons()]


def _grader(*args, env=None):
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True,
                          cwd=targets.KIT_ROOT, env={**os.environ, **(env or {})})


@pytest.mark.parametrize("number", LESSONS)
def test_every_readme_says_what_to_remember_in_a_few_short_bullets(number):
    lesson = targets.find_lesson(number)
    text = remember.section(lesson)
    assert text, f"lessons/{number}/README.md has no '{remember.HEADING}' section"
    items = remember.bullets(lesson)
    assert 3 <= len(items) <= 5, f"lesson {number}: {len(items)} bullets to remember, not 3 to 5"
    assert all(0 < len(item) <= 260 for item in items), "a bullet to remember should stay short"
    assert "```" not in text, "no code blocks in what to remember"
    lines = [line for line in text.splitlines() if line.strip()]
    assert all(line.startswith(("- ", "  ")) for line in lines), "the section holds bullets only"


def test_check_of_a_passing_lesson_shows_what_to_remember_and_the_way_to_the_reference():
    lesson = targets.find_lesson("04")
    proc = _grader("check", "04", "--target", "solutions")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Every exercise passes." in proc.stdout
    assert "What to remember from lesson 04:" in proc.stdout
    assert remember.section(lesson).splitlines()[0].strip() in proc.stdout
    assert "Compare with the reference: python -m grader solution 04" in proc.stdout


def test_check_of_an_unfinished_lesson_keeps_it_for_later(tmp_path):
    lesson = targets.find_lesson("04")
    stubs.write_stubs(tmp_path, [lesson])
    proc = _grader("check", "04", "--target", str(tmp_path))
    assert proc.returncode == 1
    assert "What to remember" not in proc.stdout and "grader solution" not in proc.stdout


def test_solution_is_refused_kindly_while_the_lesson_does_not_pass(tmp_path):
    lesson = targets.find_lesson("04")
    stubs.write_stubs(tmp_path, [lesson])
    proc = _grader("solution", "04", "--target", str(tmp_path))
    total = points.lesson_total(lesson)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"{total} of its {total} points still to earn" in proc.stderr
    assert "python -m grader hint 04" in proc.stderr
    assert proc.stdout == ""
    assert "def " not in proc.stderr  # no line of the reference


def test_solution_shows_the_reference_once_the_lesson_passes():
    lesson = targets.find_lesson("04")
    proc = _grader("solution", "04", "--target", "solutions")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert remember.reference_text(lesson) in proc.stdout
    assert stubs.BEGIN not in proc.stdout and stubs.END not in proc.stdout
    assert "return jax.tree.map(lambda p, g: p - lr * g, params, grads)" in proc.stdout


def _cache(tmp_path, lesson, passing: int):
    """A status cache for the learner's lesson in which the first `passing` tests passed."""
    tests = [{"lesson": lesson.number, "test": t.name, "outcome": "passed" if i < passing else "failed",
              "points": t.points, "message": ""} for i, t in enumerate(points.graded_tests(lesson.test_file))]
    (tmp_path / f"{lesson.number}.json").write_text(
        json.dumps({"fingerprint": status.fingerprint(lesson), "tests": tests}))
    return tests


def test_solution_reads_the_status_cache_while_the_learners_files_are_unchanged(tmp_path):
    lesson = targets.find_lesson("01")
    env = {"JAX_LESSONS_STATUS_CACHE": str(tmp_path)}
    tests = _cache(tmp_path, lesson, passing=1)
    proc = _grader("solution", "01", env=env)
    left = sum(t["points"] for t in tests[1:])
    assert proc.returncode == 1 and f"{left} of its {left + tests[0]['points']} points" in proc.stderr
    _cache(tmp_path, lesson, passing=len(tests))
    proc = _grader("solution", "01", env=env)
    assert proc.returncode == 0 and remember.reference_text(lesson) in proc.stdout


class _Reporter:
    def __init__(self):
        self.lines = []

    def section(self, title, sep="-"):
        self.lines.append(title)

    def write_line(self, line):
        self.lines.append(line)


class _Config:
    def __init__(self, results, target):
        from grader import pytest_plugin

        self.stash = {pytest_plugin._RESULTS: results}
        self.target = target

    def getoption(self, name):
        return self.target


@pytest.mark.parametrize("target, every_test, said", [("lessons", True, True), ("lessons", False, False),
                                                       ("solutions", True, False)])
def test_a_whole_lesson_passed_under_pytest_points_to_check(target, every_test, said):
    from grader import pytest_plugin

    lesson = targets.find_lesson("04")
    graded = points.graded_tests(lesson.test_file)
    results = {t.name: {"lesson": "04", "topic": lesson.topic, "test": t.name, "points": t.points,
                        "outcome": "passed"} for t in (graded if every_test else graded[:2])}
    reporter = _Reporter()
    pytest_plugin.pytest_terminal_summary(reporter, 0, _Config(results, target))
    line = "All passed: python -m grader check 04 shows what to remember."
    assert (line in reporter.lines) == said

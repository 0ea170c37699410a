"""The learner commands: check one lesson, reset a lesson to its stub without losing work."""
import subprocess
import sys

from grader.learner import commands as learner, points, stubs, targets


def _grader(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True, cwd=cwd)


def test_check_lists_each_exercise_with_its_message(tmp_path):
    lesson = targets.find_lesson("04")
    module = lesson.module_in(tmp_path)
    module.parent.mkdir()
    module.write_text(lesson.solution_file.read_text().replace(
        "return jax.tree.map(lambda p, g: p - lr * g, params, grads)", "return params"))
    proc = _grader("check", "4", "--target", str(tmp_path))
    assert proc.returncode == 1
    assert "lesson 04 pytrees: 20 / 22 points" in proc.stdout
    assert "+ scale" in proc.stdout and "- sgd_step" in proc.stdout
    assert "Called sgd_step(params, grads, lr=0.1)." in proc.stdout
    assert "next: `sgd_step`" in proc.stdout


def test_check_on_a_file_with_a_syntax_error_says_so(tmp_path):
    lesson = targets.find_lesson("04")
    module = lesson.module_in(tmp_path)
    module.parent.mkdir()
    module.write_text("def scale(params, factor:\n")
    proc = _grader("check", "04", "--target", str(tmp_path))
    assert proc.returncode == 1 and "Traceback" not in proc.stdout + proc.stderr
    assert "has a syntax error on line 1" in proc.stdout


def test_unknown_lesson_is_a_clear_message():
    proc = _grader("check", "42")
    assert proc.returncode == 2 and "There is no lesson '42'" in proc.stderr and "Traceback" not in proc.stderr


def test_reset_restores_the_stub_and_keeps_the_learners_file():
    lesson = targets.find_lesson("01")
    original = lesson.stub_file.read_text()
    work = original.replace("# YOUR CODE HERE\n    raise NotImplementedError()", "return 1", 1)
    backup = None
    try:
        lesson.stub_file.write_text(work)
        backup = learner.reset(lesson, now=0)
        assert lesson.stub_file.read_text() == stubs.stub_for(lesson)
        assert backup is not None and backup.read_text() == work
        second = learner.reset(lesson, now=0)  # already the stub: nothing to keep
        assert second is None
    finally:
        lesson.stub_file.write_text(original)
        if backup is not None:
            backup.unlink()
            if not any(backup.parent.iterdir()):
                backup.parent.rmdir()


def test_status_reruns_only_lessons_whose_files_changed(tmp_path):
    from grader.learner import status

    scores, ran = status.status(cache_dir=tmp_path)
    numbers = [l.number for l in targets.all_lessons()]
    assert ran == numbers and [s.lesson.number for s in scores] == numbers
    assert sum(s.total for s in scores) > 0
    assert status.status(cache_dir=tmp_path)[1] == []
    (tmp_path / "02.json").write_text('{"fingerprint": "of an older file", "tests": []}')
    again, ran = status.status(cache_dir=tmp_path)
    assert ran == ["02"]
    assert [(s.earned, s.total) for s in again] == [(s.earned, s.total) for s in scores]


def test_watch_reruns_when_the_file_is_saved(tmp_path):
    import threading
    import time

    lesson = targets.find_lesson("04")
    module = lesson.module_in(tmp_path)
    module.parent.mkdir()
    module.write_text(stubs.stub_for(lesson))
    reports = []

    def save_when_first_run_is_done():
        while not reports:
            time.sleep(0.05)
        time.sleep(0.05)
        module.write_text(lesson.solution_file.read_text())

    saver = threading.Thread(target=save_when_first_run_is_done)
    saver.start()
    runs = learner.watch(lesson, str(tmp_path), interval=0.05, max_runs=2, out=reports.append)
    saver.join()
    texts = [r for r in reports if "--- " in r]
    assert runs == 2 and len(texts) == 2
    total = sum(t.points for t in points.graded_tests(lesson.test_file))
    assert f"0 / {total} points" in texts[0] and f"{total} / {total} points" in texts[1]


def test_a_one_digit_lesson_folder_gets_a_did_you_mean():
    proc = subprocess.run([sys.executable, "-m", "pytest", "lessons/3", "-q", "-p", "no:cacheprovider"],
                          cwd=targets.KIT_ROOT, capture_output=True, text=True)
    assert proc.returncode != 0
    assert "Did you mean pytest lessons/03?" in proc.stdout + proc.stderr


def test_reset_asks_before_replacing_the_file():
    lesson = targets.find_lesson("01")
    before = lesson.stub_file.read_text()
    proc = subprocess.run([sys.executable, "-m", "grader", "reset", "01"], cwd=targets.KIT_ROOT,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2 and "--yes" in proc.stderr
    assert lesson.stub_file.read_text() == before


def test_watch_goes_on_to_the_next_lesson_once_one_passes():
    reports = []
    runs = learner.watch(targets.find_lesson("04"), "solutions", interval=0.05, max_runs=2, out=reports.append)
    texts = [r for r in reports if "--- " in r]
    assert runs == 2 and "lesson 04" in texts[0] and "lesson 05" in texts[1]
    assert any(r.startswith("On to lesson 05") for r in reports)


def test_a_misspelt_test_name_gets_a_did_you_mean():
    proc = subprocess.run([sys.executable, "-m", "pytest", "lessons/01/test_immutability.py::test_swapp", "-q",
                           "-p", "no:cacheprovider"], cwd=targets.KIT_ROOT, capture_output=True, text=True)
    assert proc.returncode != 0
    assert "Did you mean lessons/01/test_immutability.py::test_swap?" in proc.stdout + proc.stderr

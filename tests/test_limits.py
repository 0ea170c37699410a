"""A learner's run is bounded: a test that runs away is stopped with a message naming its
exercise, and the run goes on (or, when the stuck work can't be interrupted, ends with every
result so far kept)."""
from grader import runs, targets


def _target_with(tmp_path, definitions: str):
    lesson = targets.find_lesson("01")
    module = lesson.module_in(tmp_path)
    module.parent.mkdir(parents=True)
    module.write_text(lesson.solution_file.read_text() + "\n\n" + definitions)
    return str(tmp_path)


def test_an_endless_loop_is_stopped_and_the_run_goes_on(tmp_path):
    target = _target_with(tmp_path, "def set_first(x, value):\n    while True:\n        pass\n")
    run = runs.run_lessons(["lessons/01"], target, ["--time-limit", "2"], timeout=600)
    by_test = {t["test"]: t for t in run.tests}
    assert by_test["test_set_first"]["outcome"] == "failed"
    assert "`set_first` was stopped" in by_test["test_set_first"]["message"]
    assert "loop" in by_test["test_set_first"]["message"]
    assert by_test["test_add_at"]["outcome"] == "passed", run.output[-2000:]


def test_work_that_ignores_signals_ends_the_run_with_the_results_so_far(tmp_path):
    """`sum(range(...))` runs in C without looking at signals, as an XLA compile does: the watcher
    records the test as failed and ends the process; the test before it keeps its result."""
    target = _target_with(tmp_path, "def add_at(x, i, v):\n    return sum(range(10 ** 13))\n")
    run = runs.run_lessons(["lessons/01"], target, ["--time-limit", "2"], timeout=600)
    by_test = {t["test"]: t for t in run.tests}
    assert by_test["test_set_first"]["outcome"] == "passed", run.output[-2000:]
    assert by_test["test_add_at"]["outcome"] == "failed"
    assert "`add_at` was stopped" in by_test["test_add_at"]["message"]
    assert "did not stop in time" in run.output

"""A learner's run is bounded: a test that runs away is stopped with a message naming its
exercise, and the run goes on (in a fresh process when the stuck work can't be interrupted)."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from grader.learner import points, runs, targets


ENDLESS_COUNT_LABELS = ("import jax\n\n"
                        "def count_labels(labels, n):\n"
                        "    k = jax.jit(lambda: jax.lax.while_loop(lambda k: k >= 0, lambda k: k + 1, jnp.float32(0)))()\n"
                        "    return jnp.zeros(n, jnp.int32).at[labels].add(1 + 0 * k.astype(jnp.int32), mode='drop')\n")


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


def test_work_that_ignores_signals_costs_its_exercise_and_the_run_goes_on(tmp_path):
    """`sum(range(...))` runs in C without looking at signals, as an XLA compile does: the watcher
    records the test as failed and ends its process, and the rest of the lesson runs in a fresh one
    (`grader.learner.resume`); the test before it keeps its result."""
    target = _target_with(tmp_path, "def add_at(x, i, v):\n    return sum(range(10 ** 13))\n")
    run = runs.run_lessons(["lessons/01"], target, ["--time-limit", "2"], timeout=600)
    by_test = {t["test"]: t for t in run.tests}
    assert by_test["test_set_first"]["outcome"] == "passed", run.output[-2000:]
    assert by_test["test_add_at"]["outcome"] == "failed"
    assert "`add_at` was stopped" in by_test["test_add_at"]["message"]
    assert "goes on in a fresh process" in run.output
    assert by_test["test_scale_row"]["outcome"] == "passed", run.output[-2000:]
    total = points.lesson_total(targets.find_lesson("01"))
    assert f"/ {total} points" in run.output


def test_an_endless_while_loop_costs_its_exercise_once(tmp_path):
    """An endless `lax.while_loop` runs inside XLA, where no signal reaches it: its process is ended,
    the exercise's other tests say why they did not run (without paying the bound again), every
    other exercise is graded, and the points line counts the whole lesson."""
    target = _target_with(tmp_path, ENDLESS_COUNT_LABELS)
    run = runs.run_lessons(["lessons/01"], target, ["--time-limit", "2"], timeout=600)
    by_test = {t["test"]: t for t in run.tests}
    stopped = [t for t in run.tests if t["exercise"] == "count_labels"]
    assert len(stopped) > 1
    first, *later = stopped
    assert "`count_labels` was stopped" in first["message"], run.output[-2000:]
    assert all(t["outcome"] == "failed" and "Not run: `count_labels` was stopped" in t["message"] for t in later)
    others = [t for t in run.tests if t["exercise"] != "count_labels"]
    assert others and all(t["outcome"] == "passed" for t in others), run.output[-3000:]
    total = points.lesson_total(targets.find_lesson("01"))
    earned = total - sum(t["points"] for t in stopped)
    assert f"{earned} / {total} points" in run.output
    assert by_test["test_set_first"]["outcome"] == "passed"


def test_ctrl_c_ends_the_run_even_inside_native_code(tmp_path):
    """Ctrl-C (SIGINT to the terminal's process group) ends the run, and no fresh process takes it
    up: a test stuck in XLA can't see the KeyboardInterrupt, so its process is ended for it."""
    target = _target_with(tmp_path, ENDLESS_COUNT_LABELS)
    proc = subprocess.Popen([sys.executable, "-m", "pytest", "lessons/01", "--target", target, "--time-limit", "600",
                             "-q", "-p", "no:cacheprovider"], cwd=targets.KIT_ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    time.sleep(15)
    os.killpg(proc.pid, signal.SIGINT)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode in (2, 130), output[-2000:]
    assert "fresh process" not in output
    time.sleep(1)
    assert not _processes_naming(target), output[-2000:]


def _processes_naming(text: str) -> list[int]:
    """The pids whose command line contains `text`, read from /proc (no procps on a minimal system)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if text.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found

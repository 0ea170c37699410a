"""Shared runs for the kit's own tests: every lesson against the reference, the generated stubs and
the planted mistakes, run once per session in child processes, a few at a time."""
import contextlib
import time

import pytest

from grader.authoring import devcheck, kit_shards
from grader.authoring.kit_shards import pytest_addoption, pytest_configure, pytest_runtestloop  # noqa: F401
from grader.learner import runs


@pytest.fixture(scope="session", autouse=True)
def _no_persistent_compile_cache_here():
    """This process compiles hundreds of different programs (every probe on every planted mistake)
    and jaxlib 0.10 was seen to crash reading one of them back from the persistent cache in such a
    long run, so the kit's own test process compiles afresh; the lesson runs it starts, one process
    each, keep the cache."""
    import jax

    jax.config.update("jax_enable_compilation_cache", False)
    try:
        from jax._src import compilation_cache

        compilation_cache.reset_cache()
    except (ImportError, AttributeError):
        pass
    yield


def shown_progress(config, what: str, every: float = 30.0):
    """A `runs.run_many` progress callback that prints a line past pytest's capture every `every`
    seconds and at the end, so a fixture that takes minutes shows that it is moving."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    start, last = time.monotonic(), [time.monotonic()]

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        if reporter is None or (done < total and now - last[0] < every):
            return
        last[0] = now
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            reporter.write_line(f"{what}: {done} of {total} runs done, {now - start:.0f} s")
    return report


@pytest.fixture(scope="session")
def lesson_runs(tmp_path_factory, pytestconfig):
    return runs.run_many(devcheck.lesson_jobs(tmp_path_factory.mktemp("stubs")),
                         progress=shown_progress(pytestconfig, "every lesson against its reference and its stub"))


@pytest.fixture(scope="session")
def planted_runs(tmp_path_factory, pytestconfig):
    return runs.run_many(devcheck.planted_jobs(tmp_path_factory.mktemp("planted")),
                         progress=shown_progress(pytestconfig, "planted mistakes"))


# The fixtures that cost minutes: every planted mistake run, every probe on every planted mistake, the
# hostile class graded twice, a class through stock nbgrader, the class of planted mistakes the class
# report reads. A test that uses one is marked `slow`, so
# `pytest tests -m "not slow"` is a quick pass for a developer; CI runs everything.
SLOW_FIXTURES = {"planted_runs", "probe_results", "hostile_class", "graded_class", "report_class"}
SLOW_TESTS = {
    "test_every_lesson_grades_the_reference_full_and_the_stub_zero_in_the_sandbox",
    "test_work_that_ignores_signals_costs_its_exercise_and_the_run_goes_on",
    "test_an_endless_while_loop_costs_its_exercise_once",
    "test_scores_can_go_into_the_nbgrader_gradebook",
    # each alone 10-20 s (tests/durations.json): a class graded twice, a run stopped and resumed, every
    # other spelling of a lesson trained, a workspace laid out and tested; their areas keep quicker
    # tests in the quick pass
    "test_ctrl_c_ends_the_run_even_inside_native_code",
    "test_a_grader_failure_on_one_student_is_that_student_record",
    "test_other_correct_spellings_get_every_point",
    "test_twin_folders_and_a_notebook_with_plots_are_graded_apart",
    "test_init_lays_out_a_workspace_that_pytest_runs",
    "test_a_memory_limit_jax_cannot_start_under_stops_the_run_and_says_so",
    "test_every_student_id_is_kept_and_only_the_lessons_handed_in_are_graded",
}


def pytest_collection_modifyitems(config, items):
    kit_shards.keep_only_the_shard(config, items)
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) or item.originalname in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)

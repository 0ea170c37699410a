"""Shared runs for the kit's own tests: every lesson against the reference, the generated stubs and
the planted mistakes, run once per session in child processes, a few at a time."""
import pytest

from grader.authoring import devcheck
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


@pytest.fixture(scope="session")
def lesson_runs(tmp_path_factory):
    return runs.run_many(devcheck.lesson_jobs(tmp_path_factory.mktemp("stubs")))


@pytest.fixture(scope="session")
def planted_runs(tmp_path_factory):
    return runs.run_many(devcheck.planted_jobs(tmp_path_factory.mktemp("planted")))


# The fixtures that cost minutes: every planted mistake run, the hostile class graded twice, a class
# through stock nbgrader. A test that uses one is marked `slow`, so `pytest tests -m "not slow"` is a
# quick pass for a developer; CI runs everything.
SLOW_FIXTURES = {"planted_runs", "hostile_class", "graded_class"}
SLOW_TESTS = {
    "test_every_lesson_grades_the_reference_full_and_the_stub_zero_in_the_sandbox",
    "test_work_that_ignores_signals_costs_its_exercise_and_the_run_goes_on",
    "test_an_endless_while_loop_costs_its_exercise_once",
    "test_scores_can_go_into_the_nbgrader_gradebook",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) or item.originalname in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)

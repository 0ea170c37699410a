"""Shared runs for the kit's own tests: every lesson against the reference, the generated stubs and
the planted mistakes, run once per session in child processes, a few at a time."""
import pytest

from grader import devcheck, runs


@pytest.fixture(scope="session")
def lesson_runs(tmp_path_factory):
    return runs.run_many(devcheck.lesson_jobs(tmp_path_factory.mktemp("stubs")))


@pytest.fixture(scope="session")
def planted_runs(tmp_path_factory):
    return runs.run_many(devcheck.planted_jobs(tmp_path_factory.mktemp("planted")))

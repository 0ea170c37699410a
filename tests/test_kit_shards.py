"""`pytest tests` in several processes: split so that shared fixtures are computed once, and told
as one run, failures and dead processes included."""
import subprocess
import sys
import textwrap
from types import SimpleNamespace

from grader import KIT_ROOT
from grader.authoring import kit_shards


def _item(nodeid, *fixtures):
    return SimpleNamespace(nodeid=nodeid, fixturenames=list(fixtures))


def test_files_sharing_a_session_fixture_go_to_one_process_and_the_heaviest_are_spread():
    items = [_item("tests/a.py::t1", "lesson_runs"), _item("tests/b.py::t1"), _item("tests/b.py::t2", "lesson_runs"),
             _item("tests/c.py::t1"), _item("tests/d.py::t1", "planted_runs"), _item("tests/e.py::t1", "planted_runs")]
    seconds = {"tests/a.py::t1": 50, "tests/b.py::t1": 1, "tests/b.py::t2": 1, "tests/c.py::t1": 30,
               "tests/d.py::t1": 40, "tests/e.py::t1": 5}
    plans = kit_shards.split(items, 2, seconds)
    where = {nodeid: i for i, plan in enumerate(plans) for nodeid in plan}
    assert sorted(where) == sorted(i.nodeid for i in items)
    assert where["tests/a.py::t1"] == where["tests/b.py::t1"] == where["tests/b.py::t2"]  # lesson_runs: a and b
    assert where["tests/d.py::t1"] == where["tests/e.py::t1"]  # planted_runs: d and e
    assert where["tests/d.py::t1"] != where["tests/a.py::t1"]  # the two heaviest units (52 s, 45 s) apart
    assert where["tests/c.py::t1"] == where["tests/d.py::t1"]  # then 30 s joins the lighter one
    assert len(kit_shards.split(items[3:4], 4, seconds)) == 1  # no process without tests


CONFTEST = """
from grader.authoring.kit_shards import (pytest_addoption, pytest_collection_modifyitems, pytest_configure,
                                         pytest_runtestloop)
"""


def test_two_processes_read_as_one_run_and_a_dead_one_costs_only_its_tests(tmp_path):
    (tmp_path / "conftest.py").write_text(CONFTEST)
    for name in "abcd":
        (tmp_path / f"test_{name}.py").write_text("\n".join(f"def test_{i}(): pass" for i in range(12)))
    (tmp_path / "test_e.py").write_text(textwrap.dedent("""
        import os
        def test_wrong(): assert 1 + 1 == 3, "one and one"
        def test_dies(): os._exit(7)
        def test_never_reached(): pass
    """))
    proc = subprocess.run([sys.executable, "-m", "pytest", str(tmp_path), "-q", "--shards", "2", "-p", "no:cacheprovider",
                           "--rootdir", str(tmp_path)], capture_output=True, text=True, timeout=300,
                          cwd=tmp_path, env={"PYTHONPATH": str(KIT_ROOT), "PATH": "/usr/bin:/bin"})
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    assert "51 tests in 2 processes" in out
    assert "3 failed, 48 passed" in out
    assert "one and one" in out
    assert out.count("process ") >= 2 and "ended (exit 7) before this test's result came" in out
    for name in ("test_wrong", "test_dies", "test_never_reached"):
        assert f"FAILED test_e.py::{name}" in out


def test_a_small_run_stays_in_one_process(tmp_path):
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_a.py").write_text("def test_one(): pass\n")
    proc = subprocess.run([sys.executable, "-m", "pytest", str(tmp_path), "-q", "--shards", "2", "-p", "no:cacheprovider",
                           "--rootdir", str(tmp_path)], capture_output=True, text=True, timeout=300,
                          cwd=tmp_path, env={"PYTHONPATH": str(KIT_ROOT), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0 and "processes" not in proc.stdout and "1 passed" in proc.stdout, proc.stdout

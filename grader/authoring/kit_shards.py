"""The kit's own tests on every core: `pytest tests` splits what it collected into shards, one pytest
process each, and shows their results as they come, as one run.

Most of the kit's tests start processes of their own (a lesson run, a grader, nbgrader) one after
another, so one pytest keeps little more than one core busy. Here the main process collects, splits
the test files between ``--shards`` workers (files that share a session fixture stay together, so it
is computed once; the heaviest first, by the durations the last run recorded), starts each worker on
its list, and replays every report a worker sends through its own hooks: the dots, the failures and
the summary read as from one process, and the exit status counts every worker's failures. A worker
that dies costs the tests it had left, each reported as failed with the worker's last words.

`--shards 1` (or `KIT_TEST_SHARDS=1`) runs in one process, as does any run of fewer than
`MIN_TESTS` tests.

A conftest takes it on by importing the four hooks at the end of this module; one that has its own
`pytest_collection_modifyitems` calls `keep_only_the_shard` from it instead.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

MIN_TESTS = 40
SHARED_FIXTURES = ("lesson_runs", "planted_runs")  # session-scoped: a shard that uses one computes it
DURATIONS = Path(__file__).resolve().parents[2] / "tests" / "durations.json"
DEFAULT_SECONDS = 1.0  # a test the recorded durations don't know
PROGRESS_EVERY = 60.0
ENV = "KIT_TEST_SHARDS"


def addoption(parser) -> None:
    group = parser.getgroup("kit shards")
    group.addoption("--shards", default=os.environ.get(ENV, "auto"),
                    help=f"pytest processes the kit's tests run in (default: {ENV}, else one a core, at most 2)")
    group.addoption("--shard-worker", default=None, help=argparse.SUPPRESS)
    group.addoption("--record-durations", action="store_true",
                    help=f"write each test's seconds to {DURATIONS.name}, which the next runs split by")


def shard_count(config) -> int:
    value = str(config.getoption("shards"))
    if value == "auto":
        return max(1, min(2, os.cpu_count() or 1))
    return max(1, int(value))


# --- the worker's side -----------------------------------------------------------------------------

def keep_only_the_shard(config, items: list) -> None:
    """In a worker: deselect every test outside its list, keeping the collection's order."""
    listing = config.getoption("shard_worker")
    if not listing:
        return
    wanted = set(json.loads(Path(listing).read_text()))
    kept = [item for item in items if item.nodeid in wanted]
    config.hook.pytest_deselected(items=[item for item in items if item.nodeid not in wanted])
    items[:] = kept


class ReportWriter:
    """In a worker: every test report, serialized by pytest's own hook, one JSON line each."""

    def __init__(self, config, path: str):
        self.config, self.file = config, open(path, "a", buffering=1)

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report):
        data = self.config.hook.pytest_report_to_serializable(config=self.config, report=report)
        self.file.write(json.dumps(data) + "\n")


def start_worker(config) -> None:
    listing = config.getoption("shard_worker")
    if listing:
        config.pluginmanager.register(ReportWriter(config, listing + ".reports"), "kit-shard-writer")


# --- the main process's side -----------------------------------------------------------------------

def recorded_seconds() -> dict[str, float]:
    try:
        return {k: float(v) for k, v in json.loads(DURATIONS.read_text()).items()}
    except (OSError, ValueError, AttributeError):
        return {}


def split(items: list, shards: int, seconds: dict[str, float]) -> list[list[str]]:
    """Node ids per shard. A unit is a test file, joined with every other file that uses the same
    session fixture; units go, heaviest first, to the shard with the least work so far."""
    owner: dict[str, str] = {}  # file -> the unit it belongs to

    def find(f):
        while owner.get(f, f) != f:
            f = owner[f]
        return f

    by_fixture: dict[str, str] = {}
    for item in items:
        path = item.nodeid.split("::")[0]
        owner.setdefault(path, path)
        for name in SHARED_FIXTURES:
            if name in getattr(item, "fixturenames", ()):
                other = by_fixture.setdefault(name, path)
                owner[find(path)] = find(other)
    units: dict[str, list[str]] = {}
    weight: dict[str, float] = {}
    for item in items:
        unit = find(item.nodeid.split("::")[0])
        units.setdefault(unit, []).append(item.nodeid)
        weight[unit] = weight.get(unit, 0.0) + seconds.get(item.nodeid, DEFAULT_SECONDS)
    loads, plans = [0.0] * shards, [[] for _ in range(shards)]
    for unit in sorted(units, key=lambda u: -weight[u]):
        i = loads.index(min(loads))
        loads[i] += weight[unit]
        plans[i] += units[unit]
    order = {item.nodeid: i for i, item in enumerate(items)}
    return [sorted(plan, key=order.__getitem__) for plan in plans if plan]  # each in the order it runs


class Shard:
    def __init__(self, index: int, nodeids: list[str], folder: Path, args: list[str], cwd: Path):
        self.index, self.nodeids, self.left = index, nodeids, dict.fromkeys(nodeids)
        self.listing = folder / f"shard{index}.json"
        self.listing.write_text(json.dumps(nodeids))
        self.reports_path = Path(str(self.listing) + ".reports")
        self.reports_path.touch()
        self.log = open(folder / f"shard{index}.log", "w+b")
        cmd = [sys.executable, "-m", "pytest", *args, "--shard-worker", str(self.listing), "--shards", "1",
               "--basetemp", str(folder / f"tmp{index}"), "-p", "no:cacheprovider"]
        self.proc = subprocess.Popen(cmd, cwd=cwd, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        self.reader = open(self.reports_path, "r")
        self.partial = ""
        self.done = 0
        self.pending: dict[str, list] = {}  # node id -> its reports so far

    def new_reports(self) -> list[dict]:
        text = self.partial + self.reader.read()
        lines = text.split("\n")
        self.partial = lines.pop()
        return [json.loads(line) for line in lines if line]

    def now(self) -> str:
        """The file of the test this worker is on (it runs its list in order)."""
        return next(iter(self.left)).split("::")[0]

    def last_words(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-3000:]


def _worker_args(config) -> list[str]:
    """The command line the run was given, without what only the main process acts on."""
    args, skip = [], False
    for arg in config.invocation_params.args:
        if skip:
            skip = False
            continue
        if arg in ("--shards", "--basetemp", "--record-durations"):
            skip = arg != "--record-durations"
            continue
        if arg.startswith(("--shards=", "--basetemp=")):
            continue
        args.append(arg)
    return args


def run_in_shards(session) -> bool | None:
    """`pytest_runtestloop` for the main process: None (run as usual) where there's nothing to split."""
    config = session.config
    if (config.getoption("shard_worker") or config.option.collectonly or shard_count(config) < 2
            or len(session.items) < MIN_TESTS or config.getoption("usepdb", False)):
        return None
    plans = split(session.items, shard_count(config), recorded_seconds())
    if len(plans) < 2:
        return None
    folder = Path(tempfile.mkdtemp(prefix="kit-shards-"))
    shards = [Shard(i + 1, plan, folder, _worker_args(config), config.invocation_params.dir)
              for i, plan in enumerate(plans)]
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"{len(session.items)} tests in {len(shards)} processes: "
                            + ", ".join(f"{len(s.nodeids)}" for s in shards) + f" (logs in {folder})")
    seconds: dict[str, float] = {}
    start = last_progress = time.monotonic()
    try:
        while True:
            running = [s for s in shards if s.proc.poll() is None]
            for shard in shards:
                for data in shard.new_reports():
                    _replay(config, data, shard, seconds)
            if not running or session.shouldfail:
                for shard in shards:  # what came after the last look
                    for data in shard.new_reports():
                        _replay(config, data, shard, seconds)
                break
            if reporter is not None and time.monotonic() - last_progress > PROGRESS_EVERY:
                last_progress = time.monotonic()
                reporter.ensure_newline()
                reporter.write_line(f"  {(last_progress - start) / 60:.0f} min: " + "; ".join(
                    f"process {s.index} {s.done} of {len(s.nodeids)} done" + (f", in {s.now()}" if s.left else "")
                    for s in shards))
            time.sleep(0.2)
    finally:
        for shard in shards:
            if shard.proc.poll() is None:
                shard.proc.kill()
                shard.proc.wait()
    for shard in shards:
        if shard.left and not session.shouldfail:
            _lost(config, shard)
        shard.log.close()
        shard.reader.close()
        shutil.rmtree(folder / f"tmp{shard.index}", ignore_errors=True)
    if not session.testsfailed:
        shutil.rmtree(folder, ignore_errors=True)
    if config.getoption("record_durations"):
        DURATIONS.write_text(json.dumps(dict(sorted(seconds.items())), indent=0) + "\n")
    return True


def _replay(config, data: dict, shard: Shard, seconds: dict[str, float]) -> None:
    """Hold a test's reports until its teardown's, then tell them together, so that what the terminal
    prints under a file's name is that file's, however the workers interleave."""
    report = config.hook.pytest_report_from_serializable(config=config, data=data)
    if report is None:
        return
    seconds[report.nodeid] = round(seconds.get(report.nodeid, 0.0) + report.duration, 2)
    shard.pending.setdefault(report.nodeid, []).append(report)
    if report.when == "teardown":
        _tell(config, shard.pending.pop(report.nodeid))
        shard.left.pop(report.nodeid, None)
        shard.done += 1


def _tell(config, reports: list) -> None:
    first = reports[0]
    config.hook.pytest_runtest_logstart(nodeid=first.nodeid, location=first.location)
    for report in reports:
        config.hook.pytest_runtest_logreport(report=report)
    config.hook.pytest_runtest_logfinish(nodeid=first.nodeid, location=first.location)


def _lost(config, shard: Shard) -> None:
    """The tests a worker never finished, each a failure that says why."""
    from _pytest.reports import TestReport

    why = (f"process {shard.index} of the kit's tests ended (exit {shard.proc.returncode}) before this test's "
           f"result came; its last output:\n{shard.last_words()}")
    for nodeid in shard.left:
        path = nodeid.split("::")[0]
        report = TestReport(nodeid=nodeid, location=(path, None, nodeid), keywords={}, outcome="failed",
                            longrepr=why, when="call")
        _tell(config, shard.pending.pop(nodeid, []) + [report])


# --- the hooks a conftest imports ------------------------------------------------------------------

def pytest_addoption(parser):
    addoption(parser)


def pytest_configure(config):
    start_worker(config)


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session):
    return run_in_shards(session)


def pytest_collection_modifyitems(config, items):
    keep_only_the_shard(config, items)

"""What the class got wrong: a class built from the kit's planted mistakes, several students to a mistake,
beside the reference and the stub, is graded in sandboxes, and misconceptions.csv counts each mistake's
students exactly, under one cause id; report.html holds every id as text and renders in a browser."""
from __future__ import annotations

import csv
import io
import html
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader import KIT_ROOT
from grader.authoring import devcheck
from grader.learner import points, stubs, targets
from grader.classroom import class_report, misconceptions

LESSON = targets.find_lesson("01")
PLANTED = KIT_ROOT / "tests" / "planted" / "01"
# mistake -> students who made it; each on an exercise no other mistake touches
CLASS = {"add_at_sets": 3, "swap_overwrites": 2, "count_labels_float": 2, "scale_row_scales_column": 1,
         "numpy_in_place": 1, "lookup_or_fixed_fill": 2}
STUBS, REFERENCES = 2, 2
ODD_ID = '<b onmouseover="x()">&amp; zoë'
# two students with the same answer of their own, one with its names changed and its lines re-indented
OWN_ANSWER = """

def count_labels(labels, n):
    \"\"\"A histogram of the labels, counted another way.\"\"\"
    totals = jnp.zeros((n,), dtype=jnp.int32)
    valid = (labels >= 0) & (labels < n)
    safe_index = jnp.where(valid, labels, 0)
    increments = jnp.where(valid, 1, 0).astype(jnp.int32)
    return totals.at[safe_index].add(increments)


def swap(x, i, j):
    x = jnp.asarray(x)
    first_value, second_value = x[i], x[j]
    result = x.at[i].set(second_value)
    return result.at[j].set(first_value)
"""
RENAMES = {"totals": "hist", "safe_index": "where_to", "increments": "ones", "first_value": "a",
           "second_value": "b", "    ": "  "}


def _exercise_of(test: str) -> str:
    return next(t.exercise for t in points.graded_tests(LESSON.test_file) if t.name == test)


def _write(root: Path, student: str, source: str) -> None:
    module = LESSON.module_in(root / student)
    module.parent.mkdir(parents=True, exist_ok=True)
    module.write_text(source)


@pytest.fixture(scope="module")
def report_class(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    reference = LESSON.solution_file.read_text()
    for mistake, count in CLASS.items():
        for k in range(count):
            _write(root / "class", f"{mistake}-{k}", reference + "\n\n" + (PLANTED / f"{mistake}.py").read_text())
    for k in range(STUBS):
        _write(root / "class", f"stub-{k}", stubs.stub_for(LESSON))
    for k in range(REFERENCES - 1):
        _write(root / "class", f"reference-{k}", reference)
    _write(root / "class", ODD_ID, reference)
    twin = OWN_ANSWER
    for old, new in RENAMES.items():
        twin = twin.replace(old, new)
    _write(root / "class", "own-answer", reference + OWN_ANSWER)
    _write(root / "class", "own-answer-renamed", reference + twin)
    proc = subprocess.run([sys.executable, "-m", "grader", "grade", str(root / "class"), "--out", str(root / "out"),
                           "--lessons", "01", "--timeout", "16", "--jobs", "2", "--secret", "kit-tests", "-q"],
                          capture_output=True, text=True, timeout=600, cwd=KIT_ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "report.html" in proc.stdout
    return root / "out"


def _rows(out: Path) -> list[dict]:
    with open(out / class_report.CSV_NAME, encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_each_planted_mistake_is_one_cause_counted_exactly(report_class):
    rows = _rows(report_class)
    assert set(rows[0]) >= {"lesson", "exercise", "cause", "students", "share"}
    students = sum(CLASS.values()) + STUBS + REFERENCES + 2
    for mistake, count in CLASS.items():
        must_fail, must_say = devcheck.must_fail(PLANTED / f"{mistake}.py"), devcheck.must_say(PLANTED / f"{mistake}.py")
        exercise = _exercise_of(must_fail[0])
        words = must_say[must_fail[0]][0]
        theirs = [r for r in rows if r["exercise"] == exercise and "not written yet" not in r["wording"]]
        assert any(words in r["example"] for r in theirs), (mistake, words, theirs)  # the cause, as diagnosed
        for row in theirs:  # each of the tests it fails: one cause, every student who made the mistake
            assert int(row["students"]) == count, (mistake, row)
            assert float(row["share"]) == pytest.approx(count / students, abs=1e-3)


def test_the_stub_is_one_cause_per_exercise_and_the_reference_none(report_class):
    rows = _rows(report_class)
    exercises = {t.exercise for t in points.graded_tests(LESSON.test_file)}
    stub_rows = [r for r in rows if "not written yet" in r["wording"]]
    assert sorted(r["exercise"] for r in stub_rows) == sorted(exercises)  # one cause an exercise
    assert all(int(r["students"]) == STUBS for r in stub_rows), stub_rows
    assert {r["exercise"] for r in rows} == exercises  # the references and the own answers lost nothing


def test_a_cause_keeps_its_id_when_the_report_is_rebuilt(report_class, tmp_path):
    copy = tmp_path / "again"
    shutil.copytree(report_class / "students", copy / "students")
    proc = subprocess.run([sys.executable, "-m", "grader", "report", str(copy)], capture_output=True, text=True,
                          cwd=KIT_ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert (copy / class_report.CSV_NAME).read_text() == (report_class / class_report.CSV_NAME).read_text()


def test_the_page_holds_every_id_and_message_as_text(report_class):
    page = (report_class / class_report.HTML_NAME).read_text(encoding="utf-8")
    assert "<script" not in page and "http://" not in page and "https://" not in page  # opens offline, runs nothing
    assert '<b onmouseover' not in page and html.escape(ODD_ID) in page
    assert 'name="viewport"' in page
    shown = [r for r in _rows(report_class) if not misconceptions.unattempted(r["wording"])]
    assert len(shown) >= 5
    for row in shown:
        assert html.escape(row["cause"]) in page and html.escape(row["wording"]) in page
    assert "Not written yet" in page


def test_the_students_who_may_need_help_are_the_stub_ones(report_class):
    found = misconceptions.analyse(class_report.report.read_results(report_class))
    assert [s for s, _, _ in found.needing_help()] == sorted(f"stub-{k}" for k in range(STUBS))


@pytest.mark.parametrize("message, same_as", [
    ("Called f(x=[1. 2. 3.]). It returned 4, but the tests expected 9.\nHint: read the README.",
     "Called f(x=[0.5 -2.]). It returned -1.5e-3, but the tests expected 0.25.\nHint: something else."),
    ("It failed at /tmp/pytest-of-ada/x/ada/01/arrays.py line 3", "It failed at /home/bo/01/arrays.py line 12"),
    ("Your code raised ValueError: bad\n  at 01/m.py, line 3, in f:\n    return g(x)",
     "Your code raised ValueError: bad\n  at 01/m.py, line 9, in f:\n    y = compute(x, 2)"),
])
def test_two_students_same_observation_read_as_one_cause(message, same_as):
    assert misconceptions.wording(message) == misconceptions.wording(same_as)


def test_different_observations_stay_apart():
    assert misconceptions.wording("`swap` came back unchanged") != misconceptions.wording("`swap` came back as float32")


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(_chromium() is None and not os.environ.get("CI_NEEDS_BROWSER"),
                    reason="no Chromium here (.ci/run installs Debian's package)")
def test_the_report_renders_in_a_real_browser_without_errors(report_class, tmp_path):
    browser = _chromium()
    assert browser, "CI_NEEDS_BROWSER is set but no Chromium is installed"
    shot = tmp_path / "report.png"
    proc = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
                           f"--user-data-dir={tmp_path / 'profile'}", "--window-size=412,915",
                           f"--screenshot={shot}", (report_class / class_report.HTML_NAME).as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 10_000, proc.stderr[-2000:]
    console = [l for l in proc.stderr.splitlines() if "CONSOLE" in l or "Uncaught" in l]
    assert not console, console
    dom = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'p2'}",
                          "--dump-dom", (report_class / class_report.HTML_NAME).as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    assert "What the class got wrong" in dom and html.escape(ODD_ID, quote=False) in dom


def test_the_one_pair_that_shares_its_own_code_is_listed_side_by_side(report_class):
    pairs = class_report.alike(report_class)
    assert [(p.first, p.second) for p in pairs] == [("own-answer", "own-answer-renamed")], pairs
    page = (report_class / class_report.HTML_NAME).read_text(encoding="utf-8")
    assert "own-answer-renamed" in page and html.escape("safe_index") in page
    assert (report_class / "students" / "own-answer" / "graded" / "01.py").read_text().endswith(OWN_ANSWER)


def test_a_small_class_gets_no_list_of_pairs():
    from grader.classroom import copies

    same = {f"s{k}": "def f(x):\n    return x * 2 + 1\n" * 20 for k in range(copies.MIN_CLASS - 1)}
    assert copies.pairs("01", same, []) == []


_SHARED_COUNT = """
import sys
from grader.classroom import copies
from grader.learner import stubs, targets
lesson = targets.find_lesson("01")
reference, given = lesson.solution_file.read_text(), [stubs.stub_for(lesson), lesson.solution_file.read_text()]
own = open(sys.argv[1]).read()
boilerplate = set()
for i, text in enumerate(given):
    boilerplate |= set(copies._fingerprint(f"given{i}", text).hashes)
first, second = (copies._fingerprint(name, reference + own, boilerplate) for name in "ab")
from copydetect import compare_files
print(int(compare_files(first, second)[0]))
"""


def test_how_much_two_students_share_is_the_same_in_every_run():
    """copydetect hashes with Python's hash(), which each process seeds anew: two students' shared
    code measured 107 to 120 characters over 40 runs, so a pair near the threshold came and went."""
    pytest.importorskip("copydetect")
    planted = PLANTED / "count_labels_float.py"
    counts = {subprocess.run([sys.executable, "-c", _SHARED_COUNT, str(planted)], capture_output=True, text=True,
                             cwd=KIT_ROOT, env=dict(os.environ, PYTHONHASHSEED=str(seed))).stdout.strip()
              for seed in (1, 2, 3, 4)}
    assert len(counts) == 1 and counts != {""}, counts


def _record(student, lessons):
    """A graded record: {lesson: [(test, exercise, points, earned, message)]}."""
    out = {"student": student, "lessons": {}}
    for number, tests in lessons.items():
        rows = [{"test": t, "exercise": e, "points": p, "earned": g, "message": m} for t, e, p, g, m in tests]
        out["lessons"][number] = {"topic": "t", "earned": sum(r["earned"] for r in rows),
                                  "total": sum(r["points"] for r in rows), "tests": rows}
    return out


LOOP = "`f` was stopped: computed for 4.0 s without finishing (one step may compute for 4 s): an endless loop?"
KEY = "Called g(x).\n  expected: 1\n  returned: 2\n  hint: the same PRNG key was used twice: split it first."


def test_stopped_tests_and_a_cause_met_in_two_lessons_are_shown():
    records = [_record("ada", {"01": [("test_f", "f", 2, 0, LOOP), ("test_g", "g", 1, 1, "")],
                               "02": [("test_h", "h", 3, 3, "")]}),
               _record("bo", {"01": [("test_f", "f", 2, 2, ""), ("test_g", "g", 1, 0, KEY)],
                              "02": [("test_h", "h", 3, 0, KEY.replace("g(x)", "h(y)"))]}),
               _record("cy", {"01": [("test_f", "f", 2, 2, ""), ("test_g", "g", 1, 1, "")]}),
               {"student": "dee", "error": "the sandbox died", "lessons": {}}]
    found = misconceptions.analyse(records)
    assert found.exercises[("01", "f")].stopped == {"ada"}
    assert found.ungraded == ["dee"]
    help_ = {s: repeated for s, _, repeated in found.needing_help()}
    assert set(help_) == {"bo"} and help_["bo"] == ["the same PRNG key was used twice: split it first."]
    page = class_report.page(found)
    assert "dee" in page and "stopped at a bound" in page
    assert found.graded("01") == 3 and found.graded("02") == 2


def test_a_message_that_would_start_a_formula_is_text_in_the_csv():
    records = [_record("ada", {"01": [("test_f", "f", 1, 0, "=HYPERLINK(\"http://x\")")]})]
    rows = list(csv.DictReader(io.StringIO(misconceptions.csv_text(misconceptions.analyse(records)))))
    assert rows[0]["wording"].startswith("'=") and rows[0]["example"].startswith("'=")

"""What the class grader writes and reads around the sandbox, checked without running one: one id and
one folder a student whatever their folder is named, feedback whose messages render as text
whatever they hold, and the notebook's tamper report and bounds (outputs never cost a grade)."""
import base64
import copy
import csv
import io
import json
import os
import random
import re
import subprocess
import sys

import pytest

from grader import KIT_ROOT
from grader.authoring import gradescope, notebooks
from grader.learner import points, targets
from grader.classroom import ids, notebook_checks, report, submissions

LESSON = targets.find_lesson("01")
TESTS = points.graded_tests(LESSON.test_file)


# --- one student, one id, one folder ----------------------------------------------------------------

_TRICKY = ["a", "Z", "0", ".", "-", "_", "@", "+", "%", "^", "~", "/", "\\", "\0", " ", "\n", "\x1b", "é", "É",
           "ß", "İ", "\u2028", "李", "😀", "\udce9", "\udcff", "\ud800", "x", "e9", "\\x", "%2e", "^a"]


def _random_ids(rng: random.Random, count: int) -> list[str]:
    """Ids as any text can be (lone surrogates, "/" and NUL included), and as folder names give them."""
    found = ["", ".", "..", "...", "%", "^", "~", "a" * 500, "A" * 500, "É" * 200]
    for _ in range(count):
        found.append("".join(rng.choice(_TRICKY) for _ in range(rng.choice([1, 2, 3, 5, 8, 40, 120]))))
        name = bytes(rng.choice([0x2E, 0x41, 0x5C, 0x61, 0x78, 0x80, 0xC3, 0xA9, 0xE9, 0xFF, 0x0A, 0x25])
                     for _ in range(rng.randint(1, 12)))
        found.append(submissions.student_id(name))
    return found


def test_every_id_gets_its_own_folder_and_the_folder_gives_it_back():
    everyone = sorted(set(_random_ids(random.Random(0), 4000)))
    folders = [report.folder_name(s) for s in everyone]
    assert len(set(folders)) == len(everyone)
    assert len({f.lower() for f in folders}) == len(everyone), "two ids would share a folder on macOS or Windows"
    for student, folder in zip(everyone, folders):
        assert folder.isascii() and folder.isprintable() and folder == folder.lower()
        assert "/" not in folder and "\\" not in folder and not folder.startswith(".") and 0 < len(folder) <= ids.MAX_FOLDER
        if "~" not in folder:
            assert report.student_of_folder(folder) == student
    assert report.folder_name("ada") == "ada" and report.folder_name("s-123_x@uni.edu") == "s-123_x@uni.edu"


def test_an_id_spelled_like_another_ids_folder_gets_a_folder_of_its_own():
    everyone = ["John Smith", "Ada", "ada", "zoë", "..", "", submissions.student_id(b"caf\xe9")]
    twins = everyone + [report.folder_name(s) for s in everyone]
    twins += [report.folder_name(s) for s in twins]  # and the folders of those
    assert len({report.folder_name(s) for s in set(twins)}) == len(set(twins))
    assert report.student_of_folder("^john%20^smith") == "John Smith" and report.student_of_folder("^john_smith") == "John_smith"
    assert report.student_of_folder("not%zz") is None and report.student_of_folder("%41") is None  # not one of ours


def test_every_folder_name_gives_one_id_and_back():
    rng = random.Random(1)
    names = {bytes(rng.choice(b"ab\\xe9\x80\xc3\xa9\xff\n %") for _ in range(rng.randint(1, 10))) for _ in range(3000)}
    names |= {b"caf\xe9", b"caf\\xe9", b"caf\\\\xe9", b"\\", b"\\\\", "zoë".encode(), "John Smith".encode()}
    got = {submissions.student_id(name): name for name in names}
    assert len(got) == len(names)
    for student, name in got.items():
        assert submissions.folder_of(student) == name
        assert submissions.student_id(os.fsdecode(name)) == student  # os.listdir's text gives the same id
        student.encode("utf-8")  # every id can be written to grades.csv and hashed into a shard
    assert submissions.student_id(b"caf\xe9") == "caf\\xe9" and submissions.student_id(b"caf\\xe9") == "caf\\\\xe9"
    assert submissions.student_id("John Smith") == "John Smith" and submissions.student_id("zoë") == "zoë"


def _record(student: str, earned: int = 0, message: str = "it failed") -> dict:
    rows = [{"test": t.name, "exercise": t.exercise, "points": t.points, "earned": min(earned, t.points),
             "message": "" if earned >= t.points else message} for t in TESTS]
    lesson = {"topic": LESSON.topic, "earned": sum(r["earned"] for r in rows), "total": sum(t.points for t in TESTS),
              "tests": rows}
    return {"student": student, "submission": "x", "secret": "s", "kit": "k", "lessons": {"01": lesson},
            "earned": lesson["earned"], "total": lesson["total"], "seconds": 1.0}


# Folder names that gave two students one folder before: a name that is not UTF-8 and its
# backslash-escaped twin, an id and another id's old safe folder name, two ids differing in case.
COLLIDING = [b"caf\xe9", b"caf\\xe9", b"John Smith", b"John_Smith-1a2b3c4d", "^john%20^smith".encode(), b"Ada", b"ada",
             b"x..", "zoë".encode(), b"a\nb", b"x" * 250, b"x" * 249 + b"y"]


def test_colliding_folder_names_are_discovered_kept_and_written_apart(tmp_path):
    """Discovery, the folders of results, grades.csv and merge: one row and one folder a student."""
    from grader.classroom import grading

    root = tmp_path / "class"
    root.mkdir()
    for name in COLLIDING:
        module = os.path.join(os.fsencode(root), name, b"01", LESSON.topic.encode() + b".py")
        os.makedirs(os.path.dirname(module))
        with open(module, "w") as f:
            f.write("x = 1\n")
    found, _ = submissions.discover(root, [LESSON])
    assert sorted(submissions.folder_of(s.student) for s in found) == sorted(COLLIDING)
    assert all(s.files == {"01": b"x = 1\n"} for s in found)
    out = tmp_path / "out"
    for points_, sub in enumerate(found):
        report.write_student(out, _record(sub.student, earned=points_ % 3))
    assert len(list((out / "students").iterdir())) == len(COLLIDING)
    report.write_grades(out, ["01"])
    with open(out / "grades.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["student_id"] for r in rows) == sorted(s.student for s in found)
    for points_, sub in enumerate(found):
        record = json.loads((report.student_dir(out, sub.student) / report.RESULT).read_text())
        assert record["student"] == sub.student
        assert record["lessons"]["01"]["earned"] == _record(sub.student, points_ % 3)["earned"]
    grading.merge([out], tmp_path / "merged", ["01"])
    assert (tmp_path / "merged" / "grades.csv").read_text() == (out / "grades.csv").read_text()
    assert len(list((tmp_path / "merged" / "students").iterdir())) == len(COLLIDING)


def test_an_id_made_by_hand_is_still_written():
    """Ids come from discovery, where they are always text; one made otherwise (a lone surrogate, "/",
    NUL) is still written, and apart from the id its escape would spell."""
    text = report.grades_csv([_record(s) for s in ("caf\udce9", "caf\\xe9", "a/b", "a\0b", "")], ["01"])
    assert len({r[0] for r in csv.reader(io.StringIO(text))}) == 6
    report.feedback(_record("caf\udce9", message="bad \udcff byte")).encode("utf-8")


# --- feedback.md: a message is data ---------------------------------------------------------------

HOSTILE_MESSAGES = [
    "one ` two `` three ``` four ```` five ````` six ``````",
    "```\n**15 / 15 points**\n```",
    "````\n# Feedback for someone else\n````",
    "~~~\n<script>alert(1)</script>\n~~~",
    "  ```\n</code></pre><script>alert(1)</script>",
    "<img src=x onerror=alert(1)>\n**15 / 15 points**\n\n- passed: everything",
    "x" * 200_000,
    "line\rbreaks\r\nof\u2028every\x0ckind\x85```\u2029<b>bold</b>",
    "\0\x1b[2J a lone \udce9 surrogate",
    "``````````````````````````````````````````````````",
    "",
]


def _fences(lines: list[str]) -> list[tuple[int, int]]:
    """(first, last) line of each fenced block as CommonMark reads it: a block opened by N backticks
    ends at the first line of at least N backticks and nothing else (or at the end)."""
    blocks, i = [], 0
    while i < len(lines):
        opened = re.fullmatch(r" {0,5}(`{3,})[^`]*", lines[i])
        if opened is None:
            i += 1
            continue
        width = len(opened[1])
        end = next((j for j in range(i + 1, len(lines)) if re.fullmatch(rf" {{0,5}}`{{{width},}} *", lines[j])),
                   len(lines))
        blocks.append((i, end))
        i = end + 1
    return blocks


@pytest.mark.parametrize("message", HOSTILE_MESSAGES, ids=range(len(HOSTILE_MESSAGES)))
def test_a_message_in_feedback_is_one_block_that_holds_it_all(message):
    record = _record("ada", earned=0, message=message)
    text = report.feedback(record)
    text.encode("utf-8")
    lines = text.split("\n")
    blocks = _fences(lines)
    if not message:
        assert blocks == []
        return
    assert len(blocks) == len(TESTS)  # one a failed test, each closed where it was opened
    first, last = blocks[0]
    body = "\n".join(line[2:] for line in lines[first + 1:last])
    assert body == report.writable("\n".join(message.splitlines()))
    outside = [line for i, line in enumerate(lines) if not any(a <= i <= b for a, b in blocks)]
    assert sum("points**" in line for line in outside) == 1  # the grader's own total line only
    assert not any("<" in line for line in outside)


@pytest.mark.parametrize("message", HOSTILE_MESSAGES[:6], ids=range(6))
def test_a_message_renders_as_text(message):
    mistune = pytest.importorskip("mistune")
    html = mistune.html(report.feedback(_record("<i>ada</i> **15 / 15 points**", message=message)))
    assert "<script" not in html and "<img" not in html and "<i>" not in html
    assert html.count("<strong>") == 1  # the grader's "**0 / 15 points**"


def test_names_and_notes_render_as_themselves():
    assert report.inline("<b>*x*</b> & [l](u) # _y_") == "&lt;b&gt;\\*x\\*&lt;\\/b&gt; &amp; \\[l\\]\\(u\\) \\# \\_y\\_"
    assert report.code("a``b") == "```a``b```" and report.code("`x") == "`` `x ``"
    assert report.with_code("the grade cell `swap-tests` was deleted") == "the grade cell `swap-tests` was deleted"
    assert report.with_code("odd ` <b>") == "odd \\` &lt;b&gt;"
    record = _record("ada")
    record["lessons"]["01"]["tamper"] = ["a cell the release doesn't have, `x<b>`, is marked for grading (9 points)"]
    assert "`x<b>`" in report.feedback(record)  # a code span: the <b> is text


def test_results_json_outputs_are_plain_text(tmp_path):
    results = report.gradescope(_record("ada", message="<script>x</script>"))
    assert results["test_output_format"] == "text" and all(t["output_format"] == "text" for t in results["tests"])
    gradescope.write_results(tmp_path / "results.json", {"score": 0, "output": "<b>", "tests": [{"output": "<i>"}]})
    written = json.loads((tmp_path / "results.json").read_text())
    assert written["output_format"] == written["test_output_format"] == written["tests"][0]["output_format"] == "text"


# --- the notebook: what its tamper report says, and what its size costs ----------------------------

def _cells(notebook: dict) -> dict:
    return {c["id"]: c for c in notebook["cells"]}


def _meta(notebook: dict, cell_id: str) -> dict:
    return _cells(notebook)[cell_id]["metadata"]["nbgrader"]


def _edit_points(nb):
    _meta(nb, "swap-tests")["points"] = 99


def _edit_points_away(nb):
    del _meta(nb, "swap-tests")["points"]


def _edit_grade_mark(nb):
    _meta(nb, "swap-tests")["grade"] = False


def _edit_solution_mark(nb):
    _meta(nb, "swap-tests")["solution"] = True


def _edit_task_mark(nb):
    _meta(nb, "swap-code")["task"] = True


def _edit_locked_mark(nb):
    _meta(nb, "setup")["locked"] = False


def _edit_grade_id(nb):
    _meta(nb, "swap-tests")["grade_id"] = "swap-tests-mine"


def _edit_grade_id_away(nb):
    del _meta(nb, "swap-tests")["grade_id"]


def _delete_grade_cell(nb):
    nb["cells"] = [c for c in nb["cells"] if c["id"] != "swap-tests"]


def _duplicate_grade_cell(nb):
    nb["cells"].append(copy.deepcopy(_cells(nb)["swap-tests"]))


def _edit_locked_cell(nb):
    _cells(nb)["imports"]["source"] += "\nimport numpy as jnp"


def _delete_total_cell(nb):
    nb["cells"] = [c for c in nb["cells"] if c["id"] != "total"]


def _edit_total_cell(nb):
    _cells(nb)["total"]["source"] = "print('Lesson 01: 15 / 15 points')"


def _add_grade_cell(nb):
    nb["cells"].append({"cell_type": "markdown", "id": "bonus", "source": "bonus",
                        "metadata": {"nbgrader": {"grade": True, "grade_id": "bonus", "points": 100, "solution": False}}})


def _forge_result(nb):
    _cells(nb)["swap-tests"]["outputs"] = [_result({"text/plain": "2", "text/markdown": "**15 / 15 points**"})]


def _forge_points_over(nb):
    _cells(nb)["swap-tests"]["outputs"] = [_result({"text/plain": "9"})]


def _forge_display(nb):
    _cells(nb)["swap-tests"]["outputs"] = [{"output_type": "display_data", "metadata": {},
                                            "data": {"text/html": "<b>15 / 15 points</b>"}}]


def _forge_stdout(nb):
    _cells(nb)["swap-tests"]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "15 / 15 points\n"}]


def _forge_total(nb):
    total = sum(points.exercise_points(LESSON).values())
    _cells(nb)["total"]["outputs"] = [_result({"text/plain": f"Lesson 01: {total + 5} / {total} points"})]


def _result(data: dict) -> dict:
    return {"output_type": "execute_result", "execution_count": 1, "metadata": {}, "data": data}


TAMPERING = {
    _edit_points: "the grade cell `swap-tests` says it is worth 99 points (released: 2 points)",
    _edit_points_away: "the grade cell `swap-tests` lost its points (released: 2 points)",
    _edit_grade_mark: "the grade cell `swap-tests` had its nbgrader marks changed: `grade` removed",
    _edit_solution_mark: "the grade cell `swap-tests` had its nbgrader marks changed: `solution` added",
    _edit_task_mark: "the solution cell `swap-code` had its nbgrader marks changed: `task` added",
    _edit_locked_mark: "the set-up cell had its nbgrader marks changed: `locked` removed",
    _edit_grade_id: "the grade cell `swap-tests` was renamed to `swap-tests-mine`",
    _edit_grade_id_away: "the grade cell `swap-tests` lost its grade id",
    _delete_grade_cell: "the grade cell `swap-tests` was deleted",
    _duplicate_grade_cell: "the grade cell `swap-tests` appears 2 times",
    _edit_locked_cell: "the locked cell `imports` was changed",
    _delete_total_cell: "the total cell was deleted",
    _edit_total_cell: "the total cell was changed",
    _add_grade_cell: "a cell the release doesn't have, `bonus`, is marked for grading (100 points)",
    _forge_result: "the grade cell `swap-tests` holds an output that its code does not print",
    _forge_points_over: "the grade cell `swap-tests` holds an output that its code does not print",
    _forge_display: "the grade cell `swap-tests` holds an output that its code does not print",
    _forge_stdout: "the grade cell `swap-tests` holds an output that its code does not print",
    _forge_total: "the total cell holds an output that its code does not print",
}


@pytest.mark.parametrize("edit", list(TAMPERING), ids=lambda f: f.__name__)
def test_each_edit_of_what_grades_a_notebook_is_reported(edit):
    assert points.exercise_points(LESSON)["swap"] == 2
    notebook = notebooks.build(LESSON)
    assert notebook_checks.tamper_report(notebook, LESSON) == []
    edit(notebook)
    assert notebook_checks.tamper_report(notebook, LESSON) == [TAMPERING[edit]]


def test_a_hostile_notebook_structure_is_reported_not_raised():
    notebook = notebooks.build(LESSON)
    _cells(notebook)["swap-tests"]["outputs"] = [{"output_type": "execute_result", "data": {"text/plain": ["²"]}}]
    notebook["cells"] += [{"cell_type": "code", "id": ["x"], "metadata": {"nbgrader": {"grade": True, "points": [1]}},
                           "outputs": "x"}, {"cell_type": "code", "metadata": []}, "not a cell", {"metadata": {"nbgrader": 3}}]
    notes = notebook_checks.tamper_report(notebook, LESSON)
    assert "the grade cell `swap-tests` holds an output that its code does not print" in notes
    assert "a cell the release doesn't have, `?`, is marked for grading ([1] points)" in notes
    assert notebook_checks.tamper_report({"cells": 3}, LESSON)[:1] == ["the set-up cell was deleted"]


CHECK_OUTPUTS = """
import contextlib, io, json, sys
from grader.learner import nbcheck, stubs, targets
from grader.authoring import notebooks
lesson = targets.find_lesson("01")
namespace = {}
for cell in notebooks.build(lesson)["cells"]:
    meta = cell["metadata"].get("nbgrader", {})
    if cell["cell_type"] == "code" and not meta.get("grade") and cell["id"] != "total":
        source = stubs.make_stub(cell["source"]) if cell["id"] == "count_labels-code" else cell["source"]
        exec(source, namespace)
found = {}
for exercise in ("swap", "count_labels"):
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        value = nbcheck.check("01", exercise, namespace)
    found[exercise] = [printed.getvalue(), repr(value), value._repr_markdown_()]
total = nbcheck.total("01")
found["total"] = ["", repr(total), total._repr_markdown_()]
print(json.dumps(found))
"""


def test_the_outputs_a_check_cell_prints_when_run_are_not_reported():
    """Students run the check cells: the outputs those runs store, a pass and a failure, and the
    total's, are what the cells print, and the report says nothing of them."""
    proc = subprocess.run([sys.executable, "-c", CHECK_OUTPUTS], capture_output=True, text=True, cwd=KIT_ROOT,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    notebook = notebooks.build(LESSON)
    for exercise, (printed, plain, markdown) in found.items():
        cell = _cells(notebook)["total" if exercise == "total" else f"{exercise}-tests"]
        stream = [{"output_type": "stream", "name": "stdout", "text": printed.splitlines(keepends=True)}] if printed else []
        cell["outputs"] = stream + [_result({"text/plain": plain.splitlines(keepends=True), "text/markdown": markdown})]
    assert "failed" in found["count_labels"][0] and found["count_labels"][1] == "0"
    assert notebook_checks.tamper_report(notebook, LESSON) == []


def _notebook_student(root, student: str, notebook: dict) -> None:
    folder = root / student / "lesson01"
    folder.mkdir(parents=True)
    (folder / "lesson01.ipynb").write_text(json.dumps(notebook, indent=1))


def _with_plots(notebook: dict, size: int) -> dict:
    plotted = copy.deepcopy(notebook)
    png = base64.b64encode(os.urandom(size * 3 // 4)).decode()
    cell = _cells(plotted)["swap-code"]
    cell["outputs"] = [{"output_type": "display_data", "metadata": {}, "data": {"image/png": png, "text/plain": "<Figure>"}}]
    return plotted


def test_outputs_never_count_toward_the_cap_on_what_is_graded(tmp_path):
    """A correct notebook with 3 MB of plots is the same submission as without them."""
    notebook = notebooks.build(LESSON)
    _notebook_student(tmp_path, "plain", notebook)
    _notebook_student(tmp_path, "plotted", _with_plots(notebook, 3 << 20))
    assert (tmp_path / "plotted" / "lesson01" / "lesson01.ipynb").stat().st_size > submissions.MAX_FILE_BYTES
    found = {s.student: s for s in submissions.discover(tmp_path, [LESSON])[0]}
    assert found["plotted"].problems == {} and found["plotted"].tamper == {}
    assert found["plotted"].files == found["plain"].files and found["plotted"].digest() == found["plain"].digest()


def test_a_notebook_is_held_to_its_bounds_with_a_reason(tmp_path):
    notebook = notebooks.build(LESSON)
    big_code = copy.deepcopy(notebook)
    _cells(big_code)["swap-code"]["source"] += "\n" + "# padding\n" * (submissions.MAX_FILE_BYTES // 10)
    _notebook_student(tmp_path, "big_code", big_code)
    many = copy.deepcopy(notebook)
    _cells(many)["swap-code"]["outputs"] = [{"output_type": "stream", "name": "stdout",
                                               "text": ["."] * (submissions.MAX_NOTEBOOK_VALUES + 1)}]
    _notebook_student(tmp_path, "many_values", many)
    (tmp_path / "deep" / "lesson01").mkdir(parents=True)
    (tmp_path / "deep" / "lesson01" / "lesson01.ipynb").write_text('{"cells": ' + "[" * 65 + "]" * 65 + "}")
    (tmp_path / "huge" / "lesson01").mkdir(parents=True)
    with open(tmp_path / "huge" / "lesson01" / "lesson01.ipynb", "wb") as f:
        f.truncate(submissions.MAX_NOTEBOOK_BYTES + 1)
    problems = {s.student: s.problems.get("01", "") for s in submissions.discover(tmp_path, [LESSON])[0]}
    assert problems["big_code"] == "the code in lesson01.ipynb's cells is larger than 2 MiB"
    assert problems["many_values"].startswith("lesson01.ipynb holds more than 2,000,000 values; clear its outputs")
    assert problems["deep"] == "lesson01.ipynb is nested deeper than 64 levels"
    assert problems["huge"].startswith("lesson01.ipynb is larger than 64 MiB; clear its outputs")


def _reference_shape(text: str) -> tuple[int, int]:
    """json_shape's counts, one character at a time."""
    depth = deepest = values = 0
    inside = escaped = False
    for char in text:
        if inside:
            inside, escaped = (escaped or char != '"'), (not escaped and char == "\\")
        elif char == '"':
            inside = True
        elif char in "[{":
            depth, values = depth + 1, values + 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
        elif char == ",":
            values += 1
    return deepest, values + 1


def test_the_shape_of_a_notebook_is_counted_outside_its_strings():
    rng = random.Random(2)
    pieces = ['"', "\\", "[", "]", "{", "}", ",", "a", ":", "é"]
    for _ in range(300):
        value = [["".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))] * rng.randint(0, 3),
                 {"k\\\"": [[rng.random()], "\\\\"]}, [[[]]] * rng.randint(0, 2)]
        text = json.dumps(value, ensure_ascii=rng.random() < 0.5)
        for chunk in (3, 7, 1 << 20):
            assert submissions.json_shape(text.encode(), chunk=chunk) == _reference_shape(text), text


def test_a_course_notebook_is_compared_with_the_course_release(tmp_path):
    """What a course's students were handed is what their notebooks are compared with: a release
    made by an older kit (here its imports cell differs from today's) flags nothing, while the
    same notebook compared with today's build would have its imports cell said changed."""
    older = notebooks.build(LESSON)
    _cells(older)["imports"]["source"] += "\nimport math"
    (tmp_path / "course" / "release" / "lesson01").mkdir(parents=True)
    (tmp_path / "course" / "release" / "lesson01" / "lesson01.ipynb").write_text(json.dumps(older))
    _notebook_student(tmp_path / "course" / "submitted", "ada", older)
    edited = copy.deepcopy(older)
    _meta(edited, "swap-tests")["points"] = 99
    _notebook_student(tmp_path / "course" / "submitted", "bo", edited)
    found = {s.student: s for s in submissions.discover(tmp_path / "course", [LESSON])[0]}
    assert found["ada"].tamper == {}
    assert found["bo"].tamper == {"01": ["the grade cell `swap-tests` says it is worth 99 points (released: 2 points)"]}
    assert notebook_checks.tamper_report(older, LESSON) == ["the locked cell `imports` was changed"]

"""The Gradescope autograder zip: built by `python -m grader gradescope`, then unzipped into a fake
AUTOGRADER_ROOT and run as Gradescope runs it (setup.sh skipped: the kit's own Python stands in for
its venv), on lesson 01, the cheapest to grade."""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.authoring import gradescope, notebooks
from grader.learner import points, targets

LESSON = targets.find_lesson("01")
TOTAL = points.lesson_total(LESSON)
TESTS = points.graded_tests(LESSON.test_file)
FIELDS = {"name", "score", "max_score", "output", "visibility"}


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gradescope") / "autograder.zip"
    assert gradescope.main(["--lessons", "01", "--out", str(out), "--secret", "gradescope-test-secret"]) == 0
    return out


def run_autograder(zip_path: Path, root: Path, upload: dict[str, bytes], python: str = sys.executable,
                   before=None) -> tuple[dict, str]:
    """Lay out ROOT as Gradescope does (the zip in source/, run_autograder beside it, the upload in
    submission/), run it, and return results.json and what it printed."""
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(root / "source")
    for name in ("run_autograder", "setup.sh"):  # zipfile drops the mode bits; unzip keeps them
        (root / "source" / name).chmod(0o755)
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    for rel, data in upload.items():
        (root / "submission" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "submission" / rel).write_bytes(data)
    if before is not None:
        before(root)
    env = {k: v for k, v in os.environ.items() if k not in ("JAX_LESSONS_SECRET", "JAX_LESSONS_HOME", "PYTHONPATH")}
    env.update(AUTOGRADER_ROOT=str(root), JAX_LESSONS_PYTHON=python)
    done = subprocess.run([str(root / "run_autograder")], env=env, capture_output=True, text=True, timeout=600,
                          cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    return results, done.stdout + done.stderr


def check_format(results: dict) -> None:
    assert isinstance(results["score"], (int, float))
    assert isinstance(results["execution_time"], (int, float))
    assert isinstance(results["output"], str) and results["output"]
    assert results["stdout_visibility"] in ("hidden", "visible", "after_due_date", "after_published")
    assert [t["max_score"] for t in results["tests"]] == [t.points for t in TESTS]
    for test in results["tests"]:
        assert FIELDS <= set(test)
        assert test["visibility"] == "visible"
        assert 0 <= test["score"] <= test["max_score"]
    assert results["score"] == sum(t["score"] for t in results["tests"])


def test_the_zip_holds_what_gradescope_runs(autograder_zip, tmp_path):
    with zipfile.ZipFile(autograder_zip) as zf:
        infos = {i.filename: i for i in zf.infolist()}
        config = json.loads(zf.read(gradescope.CONFIG))
        assert zf.read(gradescope.SECRET).decode().strip() == "gradescope-test-secret"
    for name in ("setup.sh", "run_autograder"):
        assert name in infos
        assert (infos[name].external_attr >> 16) & 0o111, f"{name} is not executable in the zip"
    assert config["lessons"] == ["01"] and config["points"] == {"01": TOTAL}
    for needed in ("kit/pyproject.toml", "kit/README.md", "kit/grader/authoring/gradescope.py", "kit/grader/cli.py",
                   "kit/grader/classroom/grading.py", "kit/grader/probes/lesson01.py",
                   "kit/lessons/01/test_immutability.py", "kit/solutions/01/immutability.py",
                   "kit/lessons/data/digits.npz"):
        assert needed in infos, needed
    for name in infos:
        parts = name.split("/")
        assert not {"__pycache__", ".venv", "backups", ".git", "submitted", "tests"} & set(parts), name
    if shutil.which("unzip"):  # as Gradescope unpacks it: the mode bits survive
        subprocess.run(["unzip", "-q", str(autograder_zip), "-d", str(tmp_path)], check=True)
        assert os.access(tmp_path / "run_autograder", os.X_OK) and os.access(tmp_path / "setup.sh", os.X_OK)


def test_kit_files_without_git_skip_caches_and_class_work(tmp_path):
    for rel in ("grader/a.py", "grader/__pycache__/a.pyc", "grader/course/source/l/l.ipynb",
                "grader/course/submitted/ada/l.ipynb", "grader/course/gradebook.db", "lessons/01/x.py",
                "lessons/01/backups/x.py", "solutions/01/x.py", "pyproject.toml", "README.md", ".venv/bin/python",
                "tests/test_x.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    got = {p.as_posix() for p in gradescope.kit_files(tmp_path)}
    assert got == {"grader/a.py", "grader/course/source/l/l.ipynb", "lessons/01/x.py", "solutions/01/x.py",
                   "pyproject.toml", "README.md"}


def test_the_reference_gets_full_marks_from_an_oddly_named_file(autograder_zip, tmp_path):
    upload = {"my work/immutability (1).py": LESSON.solution_file.read_bytes(), "notes.txt": b"hello"}
    results, log = run_autograder(autograder_zip, tmp_path, upload)
    check_format(results)
    assert results["score"] == TOTAL, log
    assert all(t["status"] == "passed" for t in results["tests"])
    assert "my work/immutability (1).py" in results["output"]
    assert "confinement" in log


def test_the_untouched_stub_gets_nothing(autograder_zip, tmp_path):
    upload = {"lessons/01/immutability.py": LESSON.stub_file.read_bytes()}
    results, log = run_autograder(autograder_zip, tmp_path, upload)
    check_format(results)
    assert results["score"] == 0, log
    assert all(t["status"] == "failed" and t["output"] for t in results["tests"])


def test_a_notebook_is_graded_and_its_changes_to_grading_reported(autograder_zip, tmp_path):
    notebook = notebooks.build(LESSON)  # the source notebook: the reference in its solution cells
    notebook["cells"] = [c for c in notebook["cells"]
                         if (c.get("metadata", {}).get("nbgrader") or {}).get("grade_id") != "set_first-tests"]
    results, log = run_autograder(autograder_zip, tmp_path, {"lesson01.ipynb": json.dumps(notebook).encode()})
    check_format(results)
    assert results["score"] == TOTAL, log
    assert "lesson01.ipynb" in results["output"]
    assert "changed what grades it" in results["output"] and "set_first-tests" in results["output"]


@pytest.mark.parametrize("upload", [{}, {"report.pdf": b"%PDF", "test_immutability.py": b"def test(): pass\n"}],
                         ids=["empty", "unrelated"])
def test_an_upload_with_no_lesson_file_says_what_was_expected(autograder_zip, tmp_path, upload):
    results, log = run_autograder(autograder_zip, tmp_path, upload)
    check_format(results)
    assert results["score"] == 0
    assert "Nothing in your upload could be graded" in results["output"]
    assert "immutability.py" in results["output"] and "lesson01.ipynb" in results["output"]
    if upload:
        assert "report.pdf" in results["output"] and "test file" in results["output"]
    assert all(t["score"] == 0 and "not submitted" in t["output"] for t in results["tests"])


def test_a_failing_grader_still_writes_a_result_that_says_so(autograder_zip, tmp_path):
    def break_the_grader(root):
        (root / "source" / "kit" / "grader" / "classroom" / "grading.py").write_text("raise RuntimeError('broken')\n")

    upload = {"immutability.py": LESSON.solution_file.read_bytes()}
    results, log = run_autograder(autograder_zip, tmp_path, upload, before=break_the_grader)
    check_format(results)
    assert results["score"] == 0
    assert "failed" in results["output"] and "not a grade" in results["output"]
    assert "RuntimeError" in log


def test_a_python_that_does_not_start_still_gets_a_result(autograder_zip, tmp_path):
    upload = {"immutability.py": LESSON.solution_file.read_bytes()}
    results, log = run_autograder(autograder_zip, tmp_path, upload, python=str(tmp_path / "no-such-python"))
    assert results["score"] == 0 and results["tests"] == []
    assert "could not run" in results["output"] and "not a grade" in results["output"]


def _candidate(path: str, kind: str | None = None) -> gradescope.Candidate:
    kind = kind or ("notebook" if path.endswith(".ipynb") else "module")
    return gradescope.Candidate(path, kind, b"x = 1\n")


def test_files_are_matched_to_lessons_by_name():
    l01, l03 = targets.find_lesson("01"), targets.find_lesson("03")
    files = [_candidate(p) for p in ("solutions/01/immutability.py", "lessons/01/immutability.py",
                                     "lessons/01/test_immutability.py", "Transforms-final.py", "lesson03.ipynb",
                                     "immutability.py")]
    picked, _ = gradescope.match(files, [l01, l03])
    assert picked["01"].file.path == "lessons/01/immutability.py"  # in its lesson's folder, not solutions/
    assert "immutability.py" in picked["01"].others and "solutions/01/immutability.py" in picked["01"].others
    assert picked["03"].file.path == "lesson03.ipynb"  # its exact name beats a name that holds the topic
    # a number in a name is the weakest sign, and one file serves one lesson only
    picked, _ = gradescope.match([_candidate("transforms_v1.py")], [l01, l03])
    assert set(picked) == {"03"}
    # with one lesson graded, a single uploaded module is taken whatever its name; a test file never is
    picked, _ = gradescope.match([_candidate("homework.py"), _candidate("test_immutability.py")], [l01])
    assert picked["01"].file.path == "homework.py"
    picked, _ = gradescope.match([_candidate("homework.py"), _candidate("other.py")], [l01])
    assert picked == {}


def test_an_uploaded_zip_is_looked_into_and_links_are_not_followed(tmp_path):
    upload = tmp_path / "submission"
    upload.mkdir()
    with zipfile.ZipFile(upload / "work.zip", "w") as zf:
        zf.writestr("work/immutability.py", "x = 1\n")
        zf.writestr("__MACOSX/work/._immutability.py", "junk")
    (upload / "link.py").symlink_to(LESSON.solution_file)
    found, seen, notes = gradescope.scan_upload(upload)
    by_path = {c.path: c for c in found}
    assert by_path["work.zip:work/immutability.py"].data == b"x = 1\n"
    assert by_path["link.py"].data is None and "link" in by_path["link.py"].problem
    assert not any("__MACOSX" in p for p in by_path)
    picked, notes = gradescope.match(found, [LESSON])
    assert picked["01"].file.path == "work.zip:work/immutability.py"
    assert any("link.py" in n for n in notes)
    assert stat.S_ISLNK(os.lstat(upload / "link.py").st_mode)

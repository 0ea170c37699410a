"""The student package: a wheel with the lessons and the checks and no answers, which runs a released
notebook's check cells and lays out a learner's workspace (`grader init`) with no clone around."""
import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.authoring import notebooks, student_package
from grader.learner import points, stubs, targets


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return student_package.build_wheel(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="module")
def site(wheel, tmp_path_factory) -> Path:
    """The wheel unpacked as pip would lay it out in site-packages."""
    folder = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(folder)
    return folder


def _env(site: Path) -> dict:
    # the unpacked wheel comes first on the path, ahead of this clone's editable install
    return {**os.environ, "PYTHONPATH": str(site), "JAX_LESSONS_HOME": ""}


def test_the_wheel_holds_no_answer(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        texts = {n: archive.read(n).decode("utf-8", "replace") for n in names if not n.endswith(".npz")}
    assert not [n for n in names if n.startswith(("solutions/", "grader/course/", "grader/probes/", "grader/classroom/"))]
    lessons = {n: text for n, text in texts.items() if n.startswith("grader/kit/")}
    assert not [n for n, text in lessons.items() if stubs.BEGIN in text or stubs.END in text]
    for lesson in targets.all_lessons():
        module = texts[f"grader/kit/lessons/{lesson.number}/{lesson.topic}.py"]
        assert module == stubs.stub_for(lesson)
        reference = lesson.solution_file.read_text()
        leaked = [line for line in stubs.answer_lines(reference) if line in module.splitlines()]
        assert not leaked, f"lesson {lesson.number}'s packaged module holds answer lines: {leaked}"
        assert texts[f"grader/kit/lessons/{lesson.number}/test_{lesson.topic}.py"] == lesson.test_file.read_text()


def test_the_wheel_is_installable_and_the_same_each_time(wheel, tmp_path):
    with zipfile.ZipFile(wheel) as archive:
        info = next(n.split("/")[0] for n in archive.namelist() if n.endswith(".dist-info/RECORD"))
        record = archive.read(f"{info}/RECORD").decode().splitlines()
        for line in record:
            path, digest, size = line.rsplit(",", 2)
            if path.endswith("RECORD"):
                continue
            data = archive.read(path)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert (digest, int(size)) == (f"sha256={expected}", len(data)), path
        metadata = archive.read(f"{info}/METADATA").decode()
        assert "grader.pytest_plugin" in archive.read(f"{info}/entry_points.txt").decode()
    for requirement in ("jax>=", "flax>=", "optax>=", "chex>=", "pytest>="):
        assert f"Requires-Dist: {requirement}" in metadata
    assert "nbgrader" not in metadata
    assert student_package.build_wheel(tmp_path).read_bytes() == wheel.read_bytes()


def test_without_a_clone_the_kit_finds_the_packaged_lessons(site, tmp_path):
    code = "import grader, grader.learner.targets as t; print(grader.KIT_ROOT); print([l.number for l in t.all_lessons()])"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=_env(site))
    assert proc.returncode == 0, proc.stderr[-2000:]
    root, numbers = proc.stdout.strip().splitlines()
    assert Path(root) == site / "grader" / "kit"
    assert eval(numbers) == [l.number for l in targets.all_lessons()]


def test_a_notebook_runs_its_check_cells_against_the_package(site, tmp_path, monkeypatch):
    """Lesson 01's notebook with the reference's code in its solution cells, run in a Jupyter kernel
    that has only the student package: every grade cell gives its full points."""
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("ipykernel")
    lesson = targets.find_lesson("01")
    notebook = nbformat.reads(notebooks.render(lesson), as_version=4)
    for key, value in _env(site).items():
        monkeypatch.setenv(key, value)
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    earned = {}
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        results = [o for o in cell.get("outputs", []) if o.output_type == "execute_result"]
        assert not [o for o in cell.get("outputs", []) if o.output_type == "error"], cell.source
        if meta.get("grade"):
            earned[meta["grade_id"][:-len("-tests")]] = float(results[0]["data"]["text/plain"])
    assert earned == {name: float(p) for name, p in points.exercise_points(lesson).items()}
    total = notebook.cells[-1].outputs[0]["data"]["text/plain"]
    assert f"Lesson 01: {points.lesson_total(lesson)} / {points.lesson_total(lesson)} points" in total


def test_init_lays_out_a_workspace_that_pytest_runs(site, tmp_path):
    workspace = tmp_path / "my-lessons"
    env = _env(site)
    made = subprocess.run([sys.executable, "-m", "grader", "init", str(workspace)], capture_output=True, text=True,
                          cwd=tmp_path, env=env)
    assert made.returncode == 0, made.stderr[-2000:]
    assert "pytest lessons/01" in made.stdout
    lesson = targets.find_lesson("01")
    assert (workspace / "lessons" / "01" / f"{lesson.topic}.py").read_text() == stubs.stub_for(lesson)
    assert (workspace / "pytest.ini").is_file() and (workspace / "README.md").is_file()
    again = subprocess.run([sys.executable, "-m", "grader", "init", str(workspace)], capture_output=True,
                           text=True, cwd=tmp_path, env=env)
    assert again.returncode == 2 and "already exists" in again.stderr

    def run_lesson():
        return subprocess.run([sys.executable, "-m", "pytest", "lessons/01", "-q", "-p", "no:cacheprovider"],
                              capture_output=True, text=True, cwd=workspace, env=env)

    stub_run = run_lesson()
    assert stub_run.returncode == 1 and "not written yet" in stub_run.stdout, stub_run.stdout[-2000:]
    (workspace / "lessons" / "01" / f"{lesson.topic}.py").write_text(lesson.solution_file.read_text())
    done = run_lesson()
    assert done.returncode == 0, done.stdout[-3000:]
    checked = subprocess.run([sys.executable, "-m", "grader", "check", "01"], capture_output=True, text=True,
                             cwd=workspace, env=env)
    assert checked.returncode == 0 and "Every exercise passes" in checked.stdout, checked.stdout[-3000:]
    assert "grader solution" not in checked.stdout  # it has no reference to show here
    shown = subprocess.run([sys.executable, "-m", "grader", "solution", "01"], capture_output=True, text=True,
                           cwd=workspace, env=env)
    assert shown.returncode == 1 and "without their reference solutions" in shown.stderr
    reset = subprocess.run([sys.executable, "-m", "grader", "reset", "01", "--yes"], capture_output=True,
                           text=True, cwd=workspace, env=env)
    assert reset.returncode == 0, reset.stderr[-2000:]
    assert (workspace / "lessons" / "01" / f"{lesson.topic}.py").read_text() == stubs.stub_for(lesson)


def test_the_workspace_settings_are_the_kits_own():
    import tomllib

    pyproject = tomllib.loads((Path(student_package.CLONE) / "pyproject.toml").read_text())
    ini = student_package.pytest_ini(pyproject)
    assert pyproject["tool"]["pytest"]["ini_options"]["addopts"] in ini
    assert "testpaths = lessons" in ini
    assert json.dumps(ini)  # a plain text file


def test_the_packaged_command_line_offers_only_what_works_there(site, tmp_path):
    from grader import cli

    def grader(*args):
        return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True,
                              cwd=tmp_path, env=_env(site))

    shown = grader("--help")
    assert shown.returncode == 0, shown.stderr[-2000:]
    offered = re.search(r"\{([\w,-]+)\}", shown.stdout).group(1).split(",")
    assert offered == [c for c in cli.LEARNER_COMMANDS if c not in cli.HIDDEN_IN_STUDENT_PACKAGE]
    for command in cli.INSTRUCTOR_COMMANDS + cli.HIDDEN_IN_STUDENT_PACKAGE:
        assert not re.search(rf"^\s+{command}\s", shown.stdout, re.M), f"{command} is offered"
    assert "solutions" not in grader("check", "--help").stdout
    for command in cli.INSTRUCTOR_COMMANDS:
        refused = grader(command, "--help")
        assert refused.returncode == 2 and not refused.stdout
        assert refused.stderr.count("\n") == 1 and f"`{command}` is an instructor's command" in refused.stderr


def test_every_command_is_a_learners_or_an_instructors():
    """So that a new command is placed on purpose: shown in the student package, or left out of it."""
    from grader import cli

    commands = cli.build_parser(student=False)._subparsers._group_actions[0].choices
    assert list(commands) == list(cli.LEARNER_COMMANDS + cli.INSTRUCTOR_COMMANDS)


def test_check_offers_the_reference_only_where_there_is_one(monkeypatch):
    from grader.learner import remember

    lesson = targets.find_lesson("01")
    assert "python -m grader solution 01" in remember.after_passing(lesson)
    monkeypatch.setattr(remember, "has_reference", lambda lesson: False)  # a workspace of the student package
    assert "grader solution" not in remember.after_passing(lesson)

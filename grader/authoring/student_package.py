"""The student package: a wheel with the lessons and the check machinery, and never the answers.

A learner, or a released notebook's check cells, needs each lesson's stub, tests, README, hints and
data, and the kit's code that runs them (the pytest plugin, `check`, `status`, hints, plots). It
never needs solutions/, the nbgrader course (its source notebooks hold the solutions), the probes or
the class grader, so the wheel leaves them out. The lessons go inside the package, under
``grader/kit/``, where the kit finds them when no workspace or clone is around (grader/__init__.py).
``init_workspace`` lays out a learner's own folder from the same files, as rustlings does.
"""
from __future__ import annotations

import base64
import hashlib
import io
import re
import tomllib
import zipfile
from pathlib import Path

from grader import BUNDLED_ROOT, PACKAGE_DIR, WORKSPACE_MARKER, package_modules
from grader.learner import stubs

CLONE = PACKAGE_DIR.parent
LESSON_FILES = ("README.md", "HINTS.md")  # besides the stub and the test file
_LESSON_DIR_RE = re.compile(r"^\d\d$")
_DATA_SUFFIXES = (".npz", ".npy", ".csv", ".json")
# A fixed time for every entry, so the same kit gives the same wheel, byte for byte.
_ZIP_TIME = (2026, 1, 1, 0, 0, 0)


class PackageError(ValueError):
    pass


def _pyproject() -> dict:
    path = CLONE / "pyproject.toml"
    if not path.is_file():
        raise PackageError("The student package is built from a clone of the kit (with pyproject.toml).")
    return tomllib.loads(path.read_text())


def pytest_ini(pyproject: dict) -> str:
    """A workspace's pytest settings: the kit's own, with the lessons as the tests to collect."""
    options = pyproject["tool"]["pytest"]["ini_options"]
    markers = "".join(f"\n    {m}" for m in options.get("markers", []))
    return f"[pytest]\ntestpaths = lessons\naddopts = {options['addopts']}\nmarkers ={markers}\n"


def _from_clone() -> dict[str, bytes]:
    if not (CLONE / "solutions").is_dir():
        raise PackageError("This copy of the kit has no solutions/ to make the stubs from.")
    files = {"pytest.ini": pytest_ini(_pyproject()).encode()}
    lessons = CLONE / "lessons"
    for folder in sorted(p for p in lessons.iterdir() if p.is_dir() and _LESSON_DIR_RE.match(p.name)):
        tests = sorted(folder.glob("test_*.py"))
        if len(tests) != 1:
            continue
        topic = tests[0].stem[len("test_"):]
        solution = CLONE / "solutions" / folder.name / f"{topic}.py"
        # the stub is made from the reference, never read from lessons/ (which may hold a learner's work)
        files[f"lessons/{folder.name}/{topic}.py"] = stubs.make_stub(solution.read_text(), str(solution)).encode()
        files[f"lessons/{folder.name}/{tests[0].name}"] = tests[0].read_bytes()
        for name in LESSON_FILES:
            if (folder / name).is_file():
                files[f"lessons/{folder.name}/{name}"] = (folder / name).read_bytes()
    for data in sorted((lessons / "data").iterdir()) if (lessons / "data").is_dir() else []:
        if data.is_file() and data.suffix in _DATA_SUFFIXES:
            files[f"lessons/data/{data.name}"] = data.read_bytes()
    return files


def _from_bundle() -> dict[str, bytes]:
    return {p.relative_to(BUNDLED_ROOT).as_posix(): p.read_bytes()
            for p in sorted(BUNDLED_ROOT.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def lesson_files() -> dict[str, bytes]:
    """What a learner gets, by path inside a workspace: the lessons (stubs made afresh from the
    references when this is a clone), their data, and pytest.ini."""
    if (CLONE / "solutions").is_dir() and (CLONE / "pyproject.toml").is_file():
        return _from_clone()
    if BUNDLED_ROOT.is_dir():
        return _from_bundle()
    raise PackageError("This install of the kit carries no lessons to copy.")


def is_installed() -> bool:
    """Whether this is the student package: the wheel carries the lessons in grader/kit/ (and leaves
    out solutions/, the nbgrader course and the class grader); a clone has no grader/kit/."""
    return BUNDLED_ROOT.is_dir()


# -- the wheel -------------------------------------------------------------------------------------

MACHINERY = ("learner", "authoring")  # the wings the package carries, besides the top's modules


def _machinery() -> dict[str, bytes]:
    """The kit's face and command line, the learner's wing (everything a learner's run imports) and
    the authoring wing (the commands the package refuses, so that they can say so). The class grader,
    its probes and the nbgrader course stay out."""
    return {p.relative_to(PACKAGE_DIR.parent).as_posix(): p.read_bytes() for p in package_modules(*MACHINERY)}


def _metadata(project: dict) -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {project['name']}", f"Version: {project['version']}",
             f"Summary: {project.get('description', '')} (student package: the lessons, without the answers)",
             f"Requires-Python: {project.get('requires-python', '>=3.11')}"]
    lines += [f"Requires-Dist: {dep}" for dep in project.get("dependencies", [])]
    return "\n".join(lines) + "\n"


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def wheel_name(project: dict) -> str:
    name = re.sub(r"[-_.]+", "_", project["name"]).lower()
    return f"{name}-{project['version']}-py3-none-any.whl"


def wheel_contents() -> dict[str, bytes]:
    """Every file of the wheel, by path, dist-info included except RECORD."""
    project = _pyproject()["project"]
    files = _machinery()
    files.update({f"grader/kit/{path}": data for path, data in _from_clone().items()})
    info = f"{re.sub(r'[-_.]+', '_', project['name']).lower()}-{project['version']}.dist-info"
    plugins = _pyproject()["project"].get("entry-points", {}).get("pytest11", {})
    entry_points = "[pytest11]\n" + "".join(f"{k} = {v}\n" for k, v in plugins.items())
    files[f"{info}/METADATA"] = _metadata(project).encode()
    files[f"{info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: jax-lessons-kit student_package\n"
                              b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    files[f"{info}/entry_points.txt"] = entry_points.encode()
    return files


def build_wheel(out_dir: Path) -> Path:
    """Write the student wheel into `out_dir` and return its path."""
    project = _pyproject()["project"]
    files = wheel_contents()
    info = next(p.split("/")[0] for p in files if p.endswith(".dist-info/METADATA"))
    record = [_record_line(path, data) for path, data in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as wheel:
        for path, data in files.items():
            entry = zipfile.ZipInfo(path, _ZIP_TIME)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            wheel.writestr(entry, data)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / wheel_name(project)
    path.write_bytes(buffer.getvalue())
    return path


# -- a learner's workspace -------------------------------------------------------------------------

WORKSPACE_README = """# Your JAX lessons

Each folder under `lessons/` is one lesson: read its README.md, fill in its module (for lesson 01,
`lessons/01/{topic01}.py`), and run its tests until they are green:

    pytest lessons/01

More help, from this folder:
- `python -m grader check 01`: your score on the lesson and what to look at next;
- `python -m grader hint 01`: a nudge for the first unfinished exercise (ask again for more);
- `python -m grader status`: points per lesson;
- `python -m grader watch 01`: run the tests again each time you save.
"""


def init_workspace(folder: Path) -> list[Path]:
    """Lay out a learner's workspace in `folder`: the lessons, pytest.ini and the marker by which
    the kit knows the folder (grader/__init__.py). Never writes over an existing lessons/."""
    folder = Path(folder)
    if (folder / "lessons").exists():
        raise PackageError(f"{folder / 'lessons'} already exists: nothing was written. Pick a new folder, "
                           "or keep working in this one.")
    files = lesson_files()
    topic01 = next((p.split("/")[2][:-3] for p in files
                    if p.startswith("lessons/01/") and p.endswith(".py") and "/test_" not in p), "...")
    files[WORKSPACE_MARKER] = b"A JAX lessons workspace, made by `python -m grader init`.\n"
    if not (folder / "README.md").exists():
        files["README.md"] = WORKSPACE_README.format(topic01=topic01).encode()
    written = []
    for path, data in files.items():
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written.append(target)
    return written

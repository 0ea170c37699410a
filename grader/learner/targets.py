"""Where lessons live and how an exercise module under test is found and imported.

A *target* is a folder laid out like ``lessons/``: ``TARGET/03/transforms.py``. The names
``lessons`` and ``solutions`` mean the kit's own folders; anything else is a path.
"""
from __future__ import annotations

import ast
import hashlib
import importlib.util
import os
import re
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

from grader import KIT_ROOT

LESSONS_DIR = KIT_ROOT / "lessons"
SOLUTIONS_DIR = KIT_ROOT / "solutions"
_LESSON_DIR_RE = re.compile(r"^\d\d$")


@dataclass(frozen=True)
class Lesson:
    number: str  # two digits, e.g. "03"
    topic: str  # the module's name, e.g. "transforms"

    @property
    def dir(self) -> Path:
        return LESSONS_DIR / self.number

    @property
    def test_file(self) -> Path:
        return self.dir / f"test_{self.topic}.py"

    @property
    def stub_file(self) -> Path:
        return self.dir / f"{self.topic}.py"

    @property
    def solution_file(self) -> Path:
        return SOLUTIONS_DIR / self.number / f"{self.topic}.py"

    def module_in(self, target_dir: Path) -> Path:
        return Path(target_dir) / self.number / f"{self.topic}.py"


def all_lessons() -> list[Lesson]:
    found = []
    for d in sorted(LESSONS_DIR.iterdir()) if LESSONS_DIR.is_dir() else []:
        if d.is_dir() and _LESSON_DIR_RE.match(d.name):
            tests = sorted(d.glob("test_*.py"))
            if len(tests) == 1:
                found.append(Lesson(d.name, tests[0].stem[len("test_"):]))
    return found


def find_lesson(number: str | int) -> Lesson:
    """The lesson numbered ``number`` ("3", "03" or 3); a ValueError that lists the lessons otherwise."""
    lessons = all_lessons()
    text = str(number).strip().strip("/").split("/")[-1]
    if text.isdigit():
        for lesson in lessons:
            if int(lesson.number) == int(text):
                return lesson
    known = ", ".join(l.number for l in lessons)
    raise ValueError(f"There is no lesson {number!r}. The lessons are {known}.")


def lesson_of_test_file(path: Path) -> Lesson | None:
    path = Path(path)
    if _LESSON_DIR_RE.match(path.parent.name) and path.stem.startswith("test_"):
        return Lesson(path.parent.name, path.stem[len("test_"):])
    return None


def resolve_target(target: str | os.PathLike, base: Path | None = None) -> Path:
    if str(target) == "lessons":
        return LESSONS_DIR
    if str(target) == "solutions":
        return SOLUTIONS_DIR
    path = Path(target)
    if not path.is_absolute():
        path = (base or Path.cwd()) / path
    return path.resolve()


def display(path: Path) -> str:
    """A path as a learner would type it: relative to the current folder where possible."""
    path = Path(path)
    for base in (Path.cwd(), KIT_ROOT):
        try:
            return str(path.resolve().relative_to(base.resolve()))
        except ValueError:
            continue
    return str(path)


class TargetError(Exception):
    """The exercise module could not be loaded; the message is written for the learner."""


class MissingExercise(AttributeError):
    pass


def _is_placeholder(body: list) -> bool:
    """A function body that is only the stub's `raise NotImplementedError()` (after a docstring)."""
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        body = body[1:]
    if len(body) != 1 or not isinstance(body[0], ast.Raise) or body[0].exc is None:
        return False
    exc = body[0].exc.func if isinstance(body[0].exc, ast.Call) else body[0].exc
    return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"


def unwritten(path: Path, exercise: str) -> str | None:
    """The name of the part of `exercise` in the module file at `path` that is still the stub's
    placeholder (the function, or a method of the class), read from the source without running it;
    None when it is written, missing, or the file can't be parsed (the test itself says why)."""
    try:
        tree = ast.parse(Path(path).read_text())
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        if getattr(node, "name", None) != exercise:
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return exercise if _is_placeholder(node.body) else None
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and _is_placeholder(item.body):
                    return f"{exercise}.{item.name}"
        return None
    return None


class ExerciseModule:
    """The module under test, as the tests' ``ex`` sees it: attributes pass through unchanged
    (so JAX transforms get the real functions), and a missing one gets a message that says where."""

    def __init__(self, module, path: Path):
        object.__setattr__(self, "_module", module)
        object.__setattr__(self, "path", Path(path))

    def __getattr__(self, name):
        try:
            return getattr(self._module, name)
        except AttributeError:
            if name.startswith("__"):
                raise
            errors = getattr(self._module, "__cell_errors__", None)
            if errors:
                raise MissingExercise(
                    f"{display(self.path)} has no `{name}`: a notebook cell raised before defining it "
                    f"({errors[0]}). Run the cells in order and fix the first one that raises."
                ) from None
            raise MissingExercise(
                f"{display(self.path)} has no `{name}`. The tests call `ex.{name}`: define it at the top "
                f"level of the file, spelled exactly `{name}`."
            ) from None

    def __setattr__(self, name, value):
        setattr(self._module, name, value)

    def __dir__(self):
        return dir(self._module)

    def __repr__(self):
        return f"<exercises from {display(self.path)}>"


_cache: dict[tuple, ExerciseModule | TargetError] = {}

IN_PROCESS = "notebook"
_in_process: dict[str, ExerciseModule] = {}


def register_in_process(number: str, module) -> ExerciseModule:
    """Make ``module`` (e.g. built from a notebook's namespace) the target of lesson ``number`` for
    runs with ``--target notebook`` in this process."""
    wrapped = module if isinstance(module, ExerciseModule) else ExerciseModule(module, Path(f"<notebook of lesson {number}>"))
    _in_process[number] = wrapped
    return wrapped


def in_process(number: str) -> ExerciseModule:
    if number not in _in_process:
        raise TargetError(f"No notebook code is registered for lesson {number}: run the notebook's cells first.")
    return _in_process[number]


def load(path: Path) -> ExerciseModule:
    """Import the exercise module at ``path`` (once per version of the file); TargetError if it can't be."""
    path = Path(path).resolve()
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise TargetError(_missing_file_message(path)) from None
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key not in _cache:
        try:
            _cache[key] = _import(path)
        except TargetError as err:
            _cache[key] = err
    result = _cache[key]
    if isinstance(result, TargetError):
        raise result
    return result


def _missing_file_message(path: Path) -> str:
    """A module file that is not there; in the learner's own lessons/, `reset` puts the stub back."""
    number = path.parent.name
    message = f"There is no file {display(path)}. The tests of lesson {number} look for `{path.name}` there."
    if path.parent.parent == LESSONS_DIR.resolve():
        message += f"\nDeleted it? `python -m grader reset {number}` puts the untouched stub back."
    return message


NOTEBOOK_CELLS = "# notebook cells, each run on its own, start at lines: "


def notebook_cells(source: str) -> list[tuple[int, str]] | None:
    """(first line, code) of each cell of a module rebuilt from a notebook, or None for a plain
    module. The cells are cut where the first line says, never at a marker a cell could hold."""
    header, _, _ = source.partition("\n")
    if not header.startswith(NOTEBOOK_CELLS):
        return None
    try:
        starts = [int(word) for word in header[len(NOTEBOOK_CELLS):].split()]
    except ValueError:
        return None
    lines = source.splitlines(keepends=True)
    if starts != sorted(set(starts)) or any(not 2 <= s <= len(lines) for s in starts):
        return None
    ends = starts[1:] + [len(lines) + 1]
    return [(s, "".join(lines[s - 1:e - 1])) for s, e in zip(starts, ends)]


def _run_cells(module, path: Path, cells: list[tuple[int, str]]) -> None:
    """Run a rebuilt notebook as Jupyter would: each cell on its own, in order, in one namespace. A
    cell that raises stops there; the later cells still run, and the error is kept for the messages
    of the names it did not define."""
    errors = []
    for first, code in cells:
        try:
            exec(compile("\n" * (first - 1) + code, str(path), "exec"), module.__dict__)
        except (Exception, SystemExit) as err:
            lines = [f.lineno for f in traceback.extract_tb(err.__traceback__) if Path(f.filename) == path]
            where = f" in line {lines[-1]} of {path.name}" if lines else ""
            errors.append(f"{type(err).__name__}{where}: {str(err)[:300]}")
    module.__dict__["__cell_errors__"] = errors


def _import(path: Path) -> ExerciseModule:
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    name = f"jaxkit_{path.parent.name}_{path.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        cells = notebook_cells(path.read_text(errors="replace"))
        if cells is not None:
            _run_cells(module, path, cells)
        else:
            spec.loader.exec_module(module)
    except SyntaxError as err:
        sys.modules.pop(name, None)
        where = f"line {err.lineno}" if err.lineno else "somewhere"
        code = f"\n    {err.text.rstrip()}" if err.text else ""
        raise TargetError(
            f"{display(path)} has a syntax error on {where}: {err.msg}.{code}\n"
            f"Python can't read the file, so every test of this lesson fails until it is fixed."
        ) from None
    except (Exception, SystemExit) as err:
        sys.modules.pop(name, None)
        line = _line_in(err, path)
        raise TargetError(
            f"Importing {display(path)} raised {type(err).__name__}: {err}{line}.\n"
            f"Every test of this lesson fails until the file imports cleanly; "
            f"code at the top level runs on import, so keep work inside the functions."
        ) from None
    return ExerciseModule(module, path)


def _line_in(err: BaseException, path: Path) -> str:
    lines = [f.lineno for f in traceback.extract_tb(err.__traceback__) if Path(f.filename) == path]
    return f" (line {lines[-1]})" if lines else ""

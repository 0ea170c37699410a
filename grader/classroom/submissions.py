"""Finding a class's submissions, in either of the two layouts the grader reads.

- A folder of submissions: ``SUBMISSIONS/<student id>/NN/<topic>.py``, laid out like ``lessons/``.
  A module with a syntax error is graded one top-level definition at a time (`salvage`): the
  definitions that don't compile are left out, as a notebook's broken cells are, and said so.
- An nbgrader course's ``submitted/`` folder (or the course folder holding it):
  ``submitted/<student id>/lessonNN/lessonNN.ipynb``. The student's module is rebuilt from the
  notebook's code cells: the imports, the solution cells and the given code, in order, without the
  set-up cell and the grade cells (the grader runs the kit's own tests instead). Cells a student
  added are kept; IPython magics and shell lines in them are commented out. A cell with a syntax
  error, or one that raises when it runs, costs only what it would in the notebook.

Only the lesson modules are taken: other files in a submission never reach the sandbox. A
submission holding a symbolic link anywhere is refused (it could point at the reference or at a
classmate's work), and every file is read with bounds: a module at most 2 MiB; a notebook at most
64 MiB (its outputs, plots included, count here and nowhere else), its JSON nested at most 64 deep
and at most 2,000,000 values, checked before it is parsed, and the code taken from its cells at
most 2 MiB, like a module. A file that breaks them costs its author that lesson, never the run.

A student's id is their folder's name (`ids.from_name`: one id a name, and back).
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from grader.learner import targets
from grader.classroom import ids, notebook_checks, salvage

MAX_FILE_BYTES = 2 << 20  # a module, and the code rebuilt from a notebook's cells
MAX_NOTEBOOK_BYTES = 64 << 20  # a notebook file, outputs included
MAX_NOTEBOOK_VALUES = 2_000_000  # JSON values outside strings: what parsing a notebook allocates
MAX_ENTRIES = 2000  # files and folders looked at in one student's folder
MAX_NOTEBOOK_DEPTH = 64
_SKIPPED_CELLS = {"setup", "total"}  # the kit's own cells, not the student's code


@dataclass
class Submission:
    student: str
    files: dict[str, bytes]  # lesson number -> the module's source
    problems: dict[str, str]  # lesson number -> why its file could not be taken
    cells: dict = field(default_factory=dict)  # lesson number -> CellMap, for notebook submissions
    tamper: dict[str, list[str]] = field(default_factory=dict)  # lesson number -> what the notebook changed
    left_out: dict[str, list[str]] = field(default_factory=dict)  # lesson number -> definitions a syntax error cost

    def digest(self) -> str:
        h = hashlib.sha256()
        for number in sorted(self.files):
            h.update(number.encode() + b"\0" + self.files[number] + b"\0")
        for number in sorted(self.problems):
            h.update(b"problem" + number.encode() + self.problems[number].encode())
        for number in sorted(self.tamper):  # what feedback.md says of the notebook is graded too
            h.update(b"tamper" + number.encode() + json.dumps(self.tamper[number]).encode())
        for number in sorted(self.left_out):
            h.update(b"left out" + number.encode() + json.dumps(self.left_out[number]).encode())
        return h.hexdigest()


def discover(path: Path, lessons: list[targets.Lesson]) -> tuple[list[Submission], list[str]]:
    """(submissions sorted by student id, notes about folders that were passed over)."""
    path = _submitted_root(path)
    notes, found = [], []
    for folder in sorted(p for p in path.iterdir() if not p.name.startswith(".")):
        if not folder.is_symlink() and not folder.is_dir():
            continue
        student = student_id(folder.name)
        try:
            found.append(_one(folder, student, lessons))
        except Exception as err:  # noqa: BLE001 - one student's folder never stops the class
            problem = f"its folder could not be read ({type(err).__name__})"
            found.append(Submission(student, {}, {l.number: problem for l in lessons}))
    return found, notes


def _submitted_root(path: Path) -> Path:
    """The folder of student folders: `path`, or its submitted/ when it is an nbgrader course."""
    path = Path(path)
    return path / "submitted" if (path / "submitted").is_dir() else path


def student_id(name: str | bytes) -> str:
    """The student id of a folder named `name` (bytes, or text as `os.listdir` gives it): the name
    itself when it is UTF-8 text, with a backslash doubled and a byte that is not UTF-8 (or a
    control character) written \\xhh, so that two folders never give one id (`ids.from_name`)."""
    return ids.from_name(name)


def folder_of(student: str) -> bytes:
    """The name of the folder whose id is `student` (the inverse of `student_id`)."""
    return ids.to_name(student)


def lessons_present(path: Path, lessons: list[targets.Lesson]) -> list[targets.Lesson]:
    """The lessons that at least one submission in `path` holds (a module or a notebook), in order:
    what a class grader grades when it is not told which lessons."""
    path = _submitted_root(path)
    present = []
    for lesson in lessons:
        module = f"*/{lesson.number}/{lesson.topic}.py"
        notebook = f"*/lesson{lesson.number}/*.ipynb"
        if next(path.glob(module), None) is not None or next(path.glob(notebook), None) is not None:
            present.append(lesson)
    return present


def _one(folder: Path, student: str, lessons) -> Submission:
    link = _first_link(folder)
    if link is not None:
        problem = (f"the submission holds a symbolic link ({link}); hand in plain files only")
        return Submission(student, {}, {l.number: problem for l in lessons})
    if any(folder.glob("lesson[0-9][0-9]/*.ipynb")):
        return _from_notebooks(folder, student, lessons)
    return _from_modules(folder, student, lessons)


def _first_link(folder: Path) -> str | None:
    """The first symbolic link in `folder` (itself included), as a path relative to it; None if
    there is none. Links are never followed, and a folder too large to look through counts as one."""
    if folder.is_symlink():
        return "."
    seen = 0
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in dirs + files:
            seen += 1
            if seen > MAX_ENTRIES:
                return f"more than {MAX_ENTRIES} entries, not looked through"
            if os.path.islink(os.path.join(root, name)):
                return os.path.relpath(os.path.join(root, name), folder)
    return None


def _read(path: Path, limit: int = MAX_FILE_BYTES) -> tuple[bytes | None, str | None]:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None, f"{path.name} could not be opened as a plain file"
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None, f"{path.name} is not a plain file"
        if info.st_nlink > 1:  # a hard link shares its content with a file elsewhere (the reference?)
            return None, f"{path.name} is a hard link to another file; hand in plain files only"
        data = f.read(limit + 1)
    if len(data) > limit:
        return None, f"{path.name} is larger than {limit >> 20} MiB" + (
            "; clear its outputs (Edit > Clear Outputs of All Cells) and hand it in again"
            if path.suffix == ".ipynb" else "")
    return data, None


def _from_modules(folder: Path, student: str, lessons) -> Submission:
    files, problems, left_out = {}, {}, {}
    for lesson in lessons:
        module = folder / lesson.number / f"{lesson.topic}.py"
        if not os.path.lexists(module):
            continue
        data, problem = _read(module)
        if problem:
            problems[lesson.number] = problem
            continue
        files[lesson.number] = data
        salvaged = salvage.salvage(data, f"{lesson.number}/{lesson.topic}.py")
        if salvaged is not None:  # a syntax error costs the definitions it is in, as in a notebook
            files[lesson.number], left_out[lesson.number] = salvaged.module, salvaged.notes
    return Submission(student, files, problems, left_out=left_out)


def _from_notebooks(folder: Path, student: str, lessons) -> Submission:
    files, problems, cells, tamper = {}, {}, {}, {}
    for lesson in lessons:
        notebooks = sorted((folder / f"lesson{lesson.number}").glob("*.ipynb"))
        if not notebooks:
            continue
        data, problem = _read(notebooks[0], MAX_NOTEBOOK_BYTES)
        try:
            if problem:
                raise Unreadable(problem)
            module, notebook, spans = _module_of(data, notebooks[0].name)
        except Unreadable as err:
            problems[lesson.number] = str(err)
            continue
        files[lesson.number] = module
        cells[lesson.number] = notebook_checks.CellMap(f"{lesson.number}/{lesson.topic}.py", spans)
        tamper[lesson.number] = _tamper(notebook, lesson, _release(folder, lesson))
    return Submission(student, files, problems, cells, {k: v for k, v in tamper.items() if v})


class Unreadable(ValueError):
    """A submitted file that can't be graded; its message says why, to the student."""


def _module_of(data: bytes, name: str) -> tuple[bytes, dict, list[tuple[int, int, str]]]:
    """(the module rebuilt from the notebook file `name`, the notebook, where its cells landed).
    The module is held to a module's size; the outputs, which are never graded, only to the file's."""
    try:
        notebook = load_notebook(data)
        source, spans = rebuild(notebook)
        module = source.encode()
    except NotebookTooLarge as err:
        raise Unreadable(f"{name} {err}") from None
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError, MemoryError):
        raise Unreadable(f"{name} is not a readable notebook") from None
    if len(module) > MAX_FILE_BYTES:
        raise Unreadable(f"the code in {name}'s cells is larger than {MAX_FILE_BYTES >> 20} MiB")
    return module, notebook, spans


def _release(folder: Path, lesson) -> dict | None:
    """The notebook the course released for `lesson`, when `folder` is in an nbgrader course's
    submitted/ and the course holds it (release/lessonNN/lessonNN.ipynb): what its students were
    handed, even from an older kit. None otherwise, and the kit's own build stands for it."""
    if folder.parent.name != "submitted":
        return None
    name = f"lesson{lesson.number}"
    data, problem = _read(folder.parent.parent / "release" / name / f"{name}.ipynb", MAX_NOTEBOOK_BYTES)
    try:
        return load_notebook(data) if problem is None else None
    except ValueError:
        return None


def _tamper(notebook: dict, lesson, release: dict | None) -> list[str]:
    """What the notebook changed of its grading; a comparison that fails is said, never charged."""
    try:
        return notebook_checks.tamper_report(notebook, lesson, release)
    except Exception as err:  # noqa: BLE001 - the grader's own trouble never costs the student's score
        return [f"the grader could not compare this notebook with the released one ({type(err).__name__})"]


class NotebookTooLarge(ValueError):
    """A notebook whose JSON is nested too deep or holds too many values to parse safely."""


def load_notebook(data: bytes):
    """json.loads for a notebook file of up to `MAX_NOTEBOOK_BYTES`: its nesting and its count of
    values are checked first, in bounded memory, so parsing it can't exhaust the grader."""
    depth, values = json_shape(data)
    if depth > MAX_NOTEBOOK_DEPTH:
        raise NotebookTooLarge(f"is nested deeper than {MAX_NOTEBOOK_DEPTH} levels")
    if values > MAX_NOTEBOOK_VALUES:
        raise NotebookTooLarge(f"holds more than {MAX_NOTEBOOK_VALUES:,} values; clear its outputs "
                               "(Edit > Clear Outputs of All Cells) and hand it in again")
    return json.loads(data.decode("utf-8-sig"))  # UTF-8 (as nbformat writes), where the counts are exact


def json_shape(data: bytes, chunk: int = 1 << 20) -> tuple[int, int]:
    """(the deepest nesting, the count of values) of a JSON document, outside its strings, counted
    a chunk at a time. For valid JSON the counts are exact; for a document that is not, they are
    at least those of the part json.loads would read before it stops."""
    # Without escaped backslashes, then escaped quotes, every quote left opens or closes a string.
    plain = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    depth = deepest = values = 0
    inside = False
    for start in range(0, len(plain), chunk):
        raw = np.frombuffer(plain, np.uint8, count=min(chunk, len(plain) - start), offset=start)
        quote = raw == ord('"')
        before = np.cumsum(quote, dtype=np.int64) - quote  # quotes before each byte, in this chunk
        outside = ((before % 2 == 1) == inside) & ~quote
        opens = outside & ((raw == ord("[")) | (raw == ord("{")))
        closes = outside & ((raw == ord("]")) | (raw == ord("}")))
        level = depth + np.cumsum(opens.astype(np.int32) - closes.astype(np.int32))
        deepest = max(deepest, int(level.max(initial=depth)))
        depth = int(level[-1]) if level.size else depth
        values += int(np.count_nonzero(opens)) + int(np.count_nonzero(outside & (raw == ord(","))))
        inside ^= bool(np.count_nonzero(quote) % 2)
    return deepest, values + 1


def module_from_notebook(notebook: dict) -> str:
    return rebuild(notebook)[0]


def rebuild(notebook: dict) -> tuple[str, list[tuple[int, int, str]]]:
    """(the module, and where each kept cell landed in it: (first line, last line, cell label)).

    The module's first line names the line where each cell starts, so that the kit imports it cell by
    cell (`targets.NOTEBOOK_CELLS`): a cell that raises costs what it would in the notebook, the
    names it did not get to define, and the cells after it still run."""
    parts, spans, line = [], [], 2
    for index, cell in enumerate(notebook["cells"]):
        if cell.get("cell_type") != "code":
            continue
        meta = (cell.get("metadata") or {}).get("nbgrader") or {}
        if meta.get("grade") and not meta.get("solution") or meta.get("grade_id") in _SKIPPED_CELLS:
            continue
        source = notebook_checks.without_magics(notebook_checks.cell_source(cell))
        label = str(meta.get("grade_id") or cell.get("id") or f"cell {index + 1}")
        code = _compiling(source, label).rstrip("\n")
        lines = code.count("\n") + 1
        spans.append((line, line + lines - 1, label))
        parts.append(code)
        line += lines + 1
    header = targets.NOTEBOOK_CELLS + " ".join(str(first) for first, _, _ in spans)
    return header + "\n" + "\n\n".join(parts) + "\n", spans


def _compiling(source: str, cell_id: str) -> str:
    """The cell's code, or, if it has a syntax error, a stand-in that reports it: in a notebook a
    broken cell costs only its own exercise, and so it does here."""
    try:
        compile(source, cell_id or "<cell>", "exec")
        return source
    except SyntaxError as err:
        problem = f"its notebook cell has a syntax error on the cell's line {err.lineno}: {err.msg}"
    except (ValueError, RecursionError, MemoryError, OverflowError) as err:
        problem = f"its notebook cell can't be compiled: {type(err).__name__}"
    name = cell_id[: -len("-code")] if cell_id.endswith("-code") else ""
    if not name.isidentifier():
        return f"# a cell that did not compile was left out ({problem})"
    return f"def {name}(*args, **kwargs):\n    raise SyntaxError({f'`{name}`: {problem}'!r})"

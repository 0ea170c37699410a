"""What the class grader tells about a submitted notebook beyond its score.

- **Tampering.** Stock nbgrader runs the grade cells in the student's own kernel, so a notebook can
  delete or edit a grade cell, change its points or its nbgrader marks in the metadata, store a
  flattering output in it, or redefine a name the grade cells call (`check`), and be scored by its
  own rules. The class grader never runs those cells and reads no points or outputs from the
  notebook (it grades the solution cells with the kit's tests), so such a notebook gains nothing
  here; `tamper_report` says what was done, for the instructor and in the student's feedback, by
  comparing the notebook with the released one.
- **Where.** A message about the module rebuilt from a notebook ("01/immutability.py, line 57")
  means nothing to a notebook student: `CellMap` turns it into the cell and its own line.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from grader.learner import points, targets

GRADING_NAMES = ("check", "globals", "jax_setup", "grader", "_grading")


def cell_source(cell: dict) -> str:
    """A notebook cell's code, whether nbformat stored it as one string or a list of lines."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def without_magics(source: str) -> str:
    """IPython magics and shell lines (%, !) commented out, so the rest is plain Python."""
    return "\n".join("# " + line if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())


def nbgrader_meta(cell) -> dict:
    """A cell's nbgrader metadata, {} when it has none or it is not a mapping."""
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    meta = meta.get("nbgrader") if isinstance(meta, dict) else None
    return meta if isinstance(meta, dict) else {}


def _grade_id(cell: dict) -> str:
    return str(nbgrader_meta(cell).get("grade_id") or "")


def _cell_id(cell: dict) -> str:
    return cell.get("id") if isinstance(cell.get("id"), str) else ""


MAX_NOTES = 20  # what a notebook changed, said at most this many ways
_FLAGS = ("grade", "solution", "locked", "task")  # the marks that tell nbgrader what a cell is


def tamper_report(notebook: dict, lesson: targets.Lesson, release: dict | None = None) -> list[str]:
    """What a submitted notebook changed of the grading, compared with the released notebook
    (`release`, the course's own, else the kit's build of it): locked cells (the set-up, grade,
    given and total cells) deleted or edited, their nbgrader marks and points edited, outputs
    stored in grade cells that their code does not print, cells the release doesn't have marked as
    graded, and names the grade cells rely on rebound in the student's cells. Solution cells are
    the student's to write; only their marks are compared."""
    from grader.authoring import notebooks

    released = [c for c in _cells_of(release) if c.get("cell_type") == "code" and _grade_id(c)]
    if not released:
        released = [c for c in notebooks.build(lesson)["cells"] if c["cell_type"] == "code"]
    cells = _cells_of(notebook)
    legacy = any(_grade_id(c) == "setup" and cell_source(c).strip() == notebooks.LEGACY_SETUP for c in cells)
    found, kit_cells = [], set()  # kit_cells: those standing for a locked cell of the release
    for cell in released:
        match = _submitted(cell, cells)
        found += _changes(cell, match, lesson, legacy)
        if match[0] is not None and nbgrader_meta(cell).get("locked"):
            kit_cells.add(id(match[0]))
    ours = {_grade_id(c) for c in released} | {_cell_id(c) for c in released}
    found += _added_grades([c for c in cells if _grade_id(c) not in ours and _cell_id(c) not in ours])
    kit_code = {cell_source(c).strip() for c in released if nbgrader_meta(c).get("locked")}
    for cell in cells:
        if cell.get("cell_type") == "code" and id(cell) not in kit_cells and cell_source(cell).strip() not in kit_code:
            found += [f"a cell of the student's redefines `{name}`, a name of the grading"
                      for name in sorted(_rebinds(cell_source(cell)))]
    unique = list(dict.fromkeys(found))
    if len(unique) > MAX_NOTES:
        unique = unique[:MAX_NOTES - 1] + [f"and {len(unique) - MAX_NOTES + 1} more changes like these"]
    return unique


def _cells_of(notebook) -> list[dict]:
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    return [c for c in cells if isinstance(c, dict)] if isinstance(cells, list) else []


def _submitted(released: dict, cells: list[dict]) -> tuple[dict | None, str | None, int]:
    """(the submitted cell that stands for a released one, its grade id when it was renamed, how
    many cells bear the released grade id): found by its nbgrader grade id, else by its cell id (a
    renamed grade id keeps the cell's id)."""
    grade_id = _grade_id(released)
    named = [c for c in cells if _grade_id(c) == grade_id]
    if named:
        return named[0], None, len(named)
    same_cell = [c for c in cells if _cell_id(released) and _cell_id(c) == _cell_id(released)]
    if same_cell:
        return same_cell[0], _grade_id(same_cell[0]), 1
    return None, None, 0


def _what(grade_id: str) -> str:
    if grade_id == "setup":
        return "the set-up cell"
    if grade_id == "total":
        return "the total cell"
    if grade_id.endswith("-tests"):
        return f"the grade cell `{grade_id}`"
    if grade_id.endswith("-code"):
        return f"the solution cell `{grade_id}`"
    return f"the locked cell `{grade_id}`"


def _changes(released: dict, found: tuple[dict | None, str | None, int], lesson: targets.Lesson,
             legacy: bool) -> list[str]:
    """How the submitted cell `found` differs from its `released` cell, in what grades the notebook."""
    from grader.authoring import notebooks

    cell, renamed, copies = found
    meta = nbgrader_meta(released)
    grade_id, what = _grade_id(released), _what(_grade_id(released))
    guarded = meta.get("locked") or meta.get("grade")
    if cell is None:
        if not guarded or (legacy and grade_id == "total"):  # notebooks released before it had no total cell
            return []
        return [f"{what} was deleted"]
    notes = []
    if renamed is not None:
        notes.append(f"{what} was renamed to `{shown(renamed)}`" if renamed else f"{what} lost its grade id")
    if guarded and copies > 1:
        notes.append(f"{what} appears {copies} times")
    submitted = nbgrader_meta(cell)
    marks = [f"`{flag}` {'added' if submitted.get(flag) else 'removed'}" for flag in _FLAGS
             if bool(submitted.get(flag)) != bool(meta.get(flag))]
    if marks:
        notes.append(f"{what} had its nbgrader marks changed: {', '.join(marks)}")
    if "points" in meta and "points" not in submitted:
        notes.append(f"{what} lost its points (released: {_points(meta['points'])})")
    elif submitted.get("points", meta.get("points")) != meta.get("points"):
        notes.append(f"{what} says it is worth {_points(submitted.get('points'))} "
                     f"(released: {_points(meta['points']) if 'points' in meta else 'none'})")
    if guarded:
        accepted = {cell_source(released).strip()}
        if grade_id == "setup":
            accepted.add(notebooks.LEGACY_SETUP)
        if grade_id.endswith("-tests"):
            accepted.add(notebooks.LEGACY_GRADE_CELL.format(number=lesson.number, exercise=grade_id[:-len("-tests")]))
        source = cell_source(cell).strip()
        if source not in accepted:
            notes.append(f"{what} was changed")
        elif source == cell_source(released).strip() and not _prints(cell, grade_id, lesson):
            notes.append(f"{what} holds an output that its code does not print")
    return notes


def _added_grades(added: list[dict]) -> list[str]:
    """Of the cells the release doesn't have, those nbgrader would grade (a grade or task mark, points)."""
    notes = []
    for cell in added:
        meta = nbgrader_meta(cell)
        if meta.get("grade") or meta.get("task") or meta.get("points"):
            notes.append(f"a cell the release doesn't have, `{shown(_grade_id(cell) or _cell_id(cell) or '?')}`, "
                         f"is marked for grading ({_points(meta.get('points', 0))})")
    return notes


def _points(value) -> str:
    return "1 point" if value == 1 else f"{shown(value)} points"


def shown(value, limit: int = 40) -> str:
    """A value from the notebook, to be named in a note: printable, without backticks, short."""
    text = "".join(c if c.isprintable() and c != "`" else "?" for c in str(value))
    return text if len(text) <= limit else text[:limit - 1] + "…"


# --- outputs a grade cell's code prints --------------------------------------------------------------

_CHECK_LINE = re.compile(r"(passed|failed|not run) *(?P<test>\w+) \((?P<points>[0-9]{1,6}) points\)")


def _prints(cell: dict, grade_id: str, lesson: targets.Lesson) -> bool:
    """Whether the outputs stored in a released grade or total cell are ones its code prints when
    run (students run these cells, so an output of theirs is expected; the grader never reads it,
    and one it doesn't print was put there by hand). Cells with no outputs to check pass."""
    outputs = cell.get("outputs", [])
    if not (grade_id.endswith("-tests") or grade_id == "total") or outputs in (None, []):
        return True
    if not isinstance(outputs, list) or not all(isinstance(o, dict) for o in outputs):
        return False
    stdout = "".join(_joined(o.get("text")) for o in outputs
                     if o.get("output_type") == "stream" and o.get("name") == "stdout")
    results = [o.get("data") for o in outputs if o.get("output_type") == "execute_result"]
    if any(o.get("output_type") not in ("stream", "error", "execute_result") for o in outputs) or len(results) > 1:
        return False
    if any(o.get("output_type") == "stream" and o.get("name") not in ("stdout", "stderr") for o in outputs):
        return False
    if grade_id == "total":
        return not stdout and all(_total_result(data, lesson) for data in results)
    exercise = grade_id[:-len("-tests")]
    tests = {t.name: t.points for t in points.graded_tests(lesson.test_file) if t.exercise == exercise}
    return _check_lines(stdout, tests) and all(_check_result(data, exercise, sum(tests.values())) for data in results)


def _joined(text) -> str:
    return "".join(map(str, text)) if isinstance(text, list) else str(text or "")


def _check_lines(stdout: str, tests: dict[str, int]) -> bool:
    """Every line is a test's verdict line (`grader.learner.nbcheck.check`) or its message, indented."""
    for line in stdout.split("\n"):  # as printed: a message's own line breaks are indented too
        if not line or line.startswith(" " * 8):
            continue
        match = _CHECK_LINE.fullmatch(line)
        if match is None or tests.get(match["test"]) != int(match["points"]):
            return False
    return True


def _check_result(data, exercise: str, total: int) -> bool:
    """The value of a check cell: the points earned of the exercise's `total`, and the line naming it."""
    if not isinstance(data, dict) or not set(data) <= {"text/plain", "text/markdown"}:
        return False
    earned = _joined(data.get("text/plain"))
    if not re.fullmatch("[0-9]{1,6}", earned) or int(earned) > total:
        return False
    markdown = data.get("text/markdown")
    return markdown is None or _joined(markdown) == f"`{exercise}`: **{int(earned)} / {total}** points"


def _total_result(data, lesson: targets.Lesson) -> bool:
    """The value of the total cell: its first line says the lesson's points out of its total."""
    if not isinstance(data, dict) or not set(data) <= {"text/plain", "text/markdown"}:
        return False
    total = sum(points.exercise_points(lesson).values())
    claims = []
    for kind, pattern in (("text/plain", r"Lesson {n}: ([0-9]{{1,6}}) / {t} points"),
                          ("text/markdown", r"\*\*Lesson {n}: ([0-9]{{1,6}}) / {t} points\*\*")):
        if kind in data:
            first = (_joined(data[kind]).splitlines() or [""])[0]
            match = re.fullmatch(pattern.format(n=re.escape(lesson.number), t=total), first)
            if match is None or int(match[1]) > total:
                return False
            claims.append(int(match[1]))
    return len(set(claims)) <= 1


def _rebinds(source: str) -> set[str]:
    """The grading names that `source` binds or patches at any level (definitions, assignments,
    imports, attribute stores on them)."""
    try:
        tree = ast.parse(without_magics(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    bound = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            bound.update(node.names)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, (ast.Store, ast.Del)):
            root = node
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in ("builtins", "__builtins__", "grader", "nbcheck"):
                bound.add(node.attr if root.id in ("builtins", "__builtins__") else root.id)
    return bound & set(GRADING_NAMES)


@dataclass
class CellMap:
    """Where each cell of a notebook landed in the module rebuilt from it."""
    module: str  # "01/immutability.py"
    spans: list[tuple[int, int, str]]  # (first line, last line, cell label), 1-based

    def where(self, line: int) -> str | None:
        for first, last, label in self.spans:
            if first <= line <= last:
                return f"the notebook cell `{label}`, line {line - first + 1}"
        return None

    def translate(self, message: str) -> str:
        """The message with every "NN/topic.py, line N" (or "line N of topic.py") said as a cell."""
        topic = re.escape(self.module.split("/")[-1])

        def cell(match: re.Match) -> str:
            return self.where(int(match.group("line"))) or match.group(0)

        message = re.sub(rf"(?:\d\d/)?{topic}, line (?P<line>\d+)", cell, message)
        return re.sub(rf"line (?P<line>\d+) of {topic}", cell, message)

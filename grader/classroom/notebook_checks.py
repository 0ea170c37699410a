"""What the class grader tells about a submitted notebook beyond its score.

- **Tampering.** Stock nbgrader runs the grade cells in the student's own kernel, so a notebook can
  delete or edit a grade cell, or redefine a name the grade cells call (`check`), and be scored by
  its own rules. The class grader never runs those cells (it grades the solution cells with the
  kit's tests), so such a notebook gains nothing here; `tamper_report` says what was done, for the
  instructor and in the student's feedback, by comparing the notebook with the released one.
- **Where.** A message about the module rebuilt from a notebook ("01/immutability.py, line 57")
  means nothing to a notebook student: `CellMap` turns it into the cell and its own line.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from grader import targets

GRADING_NAMES = ("check", "globals", "jax_setup", "grader", "_grading")


def cell_source(cell: dict) -> str:
    """A notebook cell's code, whether nbformat stored it as one string or a list of lines."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def without_magics(source: str) -> str:
    """IPython magics and shell lines (%, !) commented out, so the rest is plain Python."""
    return "\n".join("# " + line if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())


def _grade_id(cell: dict) -> str:
    meta = (cell.get("metadata") or {}).get("nbgrader") or {}
    return str(meta.get("grade_id") or "")


def tamper_report(notebook: dict, lesson: targets.Lesson) -> list[str]:
    """What a submitted notebook changed of the grading: grade cells deleted or edited, the set-up
    cell edited, and names the grade cells rely on rebound in the student's cells."""
    from grader import notebooks

    released = {_grade_id(c): c for c in notebooks.build(lesson)["cells"] if c["cell_type"] == "code"}
    cells = [c for c in notebook.get("cells", []) if isinstance(c, dict) and c.get("cell_type") == "code"]
    submitted = {_grade_id(c): c for c in cells if _grade_id(c)}
    found = []
    for grade_id, cell in released.items():
        meta = cell["metadata"]["nbgrader"]
        if not (meta.get("grade") or grade_id == "setup"):
            continue
        what = "the set-up cell" if grade_id == "setup" else f"the grade cell `{grade_id}`"
        accepted = {cell_source(cell).strip()}
        if grade_id == "setup":
            accepted.add(notebooks.LEGACY_SETUP)
        if grade_id.endswith("-tests"):
            accepted.add(notebooks.LEGACY_GRADE_CELL.format(number=lesson.number, exercise=grade_id[:-len("-tests")]))
        if grade_id not in submitted:
            found.append(f"{what} was deleted")
        elif cell_source(submitted[grade_id]).strip() not in accepted:
            found.append(f"{what} was changed")
    locked = {g for g, c in released.items() if c["metadata"]["nbgrader"].get("locked")}
    for cell in cells:
        if _grade_id(cell) in locked:
            continue
        for name in sorted(_rebinds(cell_source(cell))):
            note = f"a cell of the student's redefines `{name}`, a name of the grading"
            if note not in found:
                found.append(note)
    return found


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

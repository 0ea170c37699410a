"""A submitted module that doesn't compile, graded one top-level definition at a time.

A notebook cell with a syntax error costs only that cell's exercise (`submissions.rebuild`); a `.py`
file with one typo would cost its whole lesson, since Python compiles the file as one. So before a
class grader's sandbox sees such a file, it is cut into top-level chunks (`chunks`): a chunk starts
at a line at column 0 that begins a statement (a `def`, a `class`, an `import`, an assignment...),
with its decorators, and holds every indented or continuation line after it, and every line inside
a bracket or a multi-line string (a string's lines at column 0 stay in their function). Each chunk
is compiled on its own; the ones that compile are kept where they were, and each broken one is
replaced, on its own first line, by a stand-in that raises a SyntaxError naming the file, the line
and the error (`def name(*args, **kwargs): raise SyntaxError(...)`), its other lines left blank.
The module keeps its line numbers, so every other message about the file points at the student's
own lines, and it imports as any module does. A file larger than MAX_BYTES is graded as it is.

This runs on the grader's side and only reads and compiles the text: nothing of it runs here. It
changes only what the student's own process imports; every point still rests on the grader's checks.
The learner's `pytest lessons/NN` never comes here, and keeps saying plainly that the file has a
syntax error.
"""
from __future__ import annotations

import keyword
import re
from dataclasses import dataclass

_CLOSE = {q: re.compile(r"(?:\\.|[^\\])*?" + re.escape(q), re.S) for q in ('"""', "'''")}
_CLOSE.update({q: re.compile(r"(?:\\.|[^\\\n])*?" + q) for q in ('"', "'")})
_OPEN = re.compile(r"""#|\"\"\"|'''|"|'|[][(){}]""")
# Lines at column 0 that continue the statement before them: a compound statement's other clauses,
# and a `return` that lost its indent (it belongs to the function above; alone it never compiles).
_CLAUSE = re.compile(r"(else|elif|except|finally|return)\b")
# Lines at column 0 that start a statement even inside an unclosed bracket (no expression goes on
# with them), so that one missing `)` does not swallow every definition after it.
_FRESH = re.compile(r"(async\s+def|def|class|import|from)\s|@[A-Za-z_]")
_NAMED = re.compile(r"(?:async\s+def|def|class)\s+([A-Za-z_][A-Za-z_0-9]{0,99})\b")
_LINE = re.compile(r"[^\n]*\n|[^\n]+$")
MAX_NOTES = 20  # what was left out, said at most this many ways
# A larger file is graded as it is. Lesson modules are under 16 KiB; the bound keeps what this side
# spends compiling a file small: CPython compiles N identical functions in time quadratic in N.
MAX_BYTES = 64 << 10


@dataclass
class Chunk:
    first: int  # 1-based line numbers in the file
    last: int
    text: str
    name: str | None = None  # the function or class it defines (after its decorators), if it is one


@dataclass
class _State:
    """Where a line of the file begins: inside a string (its quote), brackets, or a `\\` continuation."""
    quote: str | None = None
    depth: int = 0
    continued: bool = False

    @property
    def clean(self) -> bool:
        return self.quote is None and self.depth == 0 and not self.continued


def _scan(line: str, state: _State) -> None:
    """Move `state` past one line: strings (their escapes too; raw strings escape quotes alike),
    comments and brackets, all without tokenizing, since the file may not tokenize at all."""
    i, comment = 0, False
    while i < len(line):
        if state.quote is not None:
            end = _CLOSE[state.quote].match(line, i)
            if end is None:
                if len(state.quote) == 1 and not line.rstrip("\r\n").endswith("\\"):
                    state.quote = None  # a one-line string left open: a syntax error, the line ends it
                return
            i, state.quote = end.end(), None
            continue
        found = _OPEN.search(line, i)
        if found is None:
            break
        token, i = found[0], found.end()
        if token == "#":
            comment = True
            break
        if token in _CLOSE:
            state.quote = token
        else:
            state.depth = state.depth + 1 if token in "([{" else max(0, state.depth - 1)
    state.continued = not comment and line.rstrip("\r\n").endswith("\\")


def _starts(line: str) -> bool:
    """Whether a line at column 0 begins a statement (not a comment, a blank or an indented line)."""
    return line[:1] not in ("", " ", "\t", "\f", "\r", "\n", "#")


def chunks(source: str) -> list[Chunk]:
    """The top-level chunks of `source`, in order, covering every line (leading comments and blank
    lines make a chunk of their own)."""
    found: list[Chunk] = []
    texts: list[list[str]] = []  # each chunk's lines, joined at the end
    waiting = False  # the last chunk is decorators so far: the def or class they decorate joins it
    state = _State()
    for number, line in enumerate(_LINE.findall(source), start=1):
        if state.quote is None and not state.clean and _FRESH.match(line):
            state = _State()  # an unclosed bracket or `\` ends where a definition begins
        opens = state.clean and _starts(line) and not _CLAUSE.match(line)
        if not found or opens and not waiting:
            found.append(Chunk(number, number, ""))
            texts.append([])
        if opens:
            waiting = line.startswith("@")
            if not waiting and found[-1].name is None and (named := _NAMED.match(line)):
                found[-1].name = None if keyword.iskeyword(named[1]) else named[1]
        texts[-1].append(line)
        found[-1].last = number
        _scan(line, state)
    for chunk, lines in zip(found, texts):
        chunk.text = "".join(lines)
    return found


def problem_of(chunk: Chunk, filename: str) -> tuple[int, str] | None:
    """(the line of the file where the chunk's syntax error is, what it is), None if it compiles."""
    try:
        compile(chunk.text, filename, "exec", dont_inherit=True)
        return None
    except SyntaxError as err:
        line = chunk.first + (err.lineno or 1) - 1
        return min(max(line, chunk.first), chunk.last), str(err.msg)[:300]
    except (ValueError, RecursionError, MemoryError, OverflowError) as err:
        return chunk.first, f"it can't be compiled ({type(err).__name__})"


@dataclass
class Salvaged:
    module: bytes  # what the sandbox imports
    notes: list[str]  # what was left out and why, for the student's feedback


def salvage(data: bytes, filename: str) -> Salvaged | None:
    """The module `data` (the file `filename`, e.g. "01/immutability.py") with its chunks that don't
    compile left out, or None when it needs no salvage (it compiles) or can't have one (it is larger
    than MAX_BYTES or not UTF-8, nothing that defines anything is left, or what is left still doesn't
    compile): then the file is graded as it is, and its import reports the syntax error as before."""
    if len(data) > MAX_BYTES:
        return None
    try:
        compile(data, filename, "exec", dont_inherit=True)
        return None
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        pass
    try:
        source = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    module, notes, kept = _rebuilt(chunks(source), filename)
    if not kept or problem_of(Chunk(1, module.count("\n") + 1, module), filename) is not None:
        return None
    return Salvaged(module.encode(), notes)


def _rebuilt(parts: list[Chunk], filename: str) -> tuple[str, list[str], bool]:
    """(the module with a stand-in for each chunk that doesn't compile, the notes on those, whether
    a kept chunk defines something)."""
    lines, notes, kept = [], [], False
    for chunk in parts:
        problem = problem_of(chunk, filename)
        if problem is None:
            lines.append(chunk.text)
            kept = kept or chunk.name is not None
        else:
            notes.append(_note(chunk, filename, *problem))
            lines.append(_stand_in(chunk, filename, *problem))
    if len(notes) > MAX_NOTES:
        notes[MAX_NOTES - 1:] = [f"and {len(notes) - MAX_NOTES + 1} more parts of the file, each with a syntax error"]
    return "".join(lines), notes, kept


def _note(chunk: Chunk, filename: str, line: int, error: str) -> str:
    """What the student is told: the definition left out (or its lines, where it defines nothing) and why."""
    if chunk.name:
        what = f"`{chunk.name}` was"
    else:
        what = f"line {chunk.first} was" if chunk.first == chunk.last else f"lines {chunk.first}-{chunk.last} were"
    return f"{what} left out of grading: {filename} has a syntax error on line {line}: {error}"


def _stand_in(chunk: Chunk, filename: str, line: int, error: str) -> str:
    """The chunk's lines, blank but for its first: for a definition, one that raises its error."""
    blank = "\n" * chunk.text.count("\n")
    if chunk.name is None:
        return blank
    message = (f"`{chunk.name}` was left out of grading: {filename} has a syntax error on line {line}: "
               f"{error}. Fix it, and hand the file in again")
    code = f"def {chunk.name}(*args, **kwargs): raise SyntaxError({message!r})"
    return code + ("\n" if blank else "") + blank[1:]

"""The class report an instructor opens after a run: ``OUT/misconceptions.csv`` and ``OUT/report.html``.

The HTML is one static file (no script, no request to anywhere) that reads on a phone: per lesson, the
share of the class that passed each exercise and how its points fell, the causes of failure ranked with
bars, students by exercises as a heat map, and the students who may need help. Every text in it that a
submission can influence (an id, a message) is escaped, so it renders as itself.
"""
from __future__ import annotations

import html
from collections import Counter
from pathlib import Path

from grader.learner import stubs, targets
from grader.classroom import copies, misconceptions, nbgrader_records, report
from grader.classroom.misconceptions import Analysis

CSV_NAME = "misconceptions.csv"
HTML_NAME = "report.html"
CAUSES_SHOWN = 12  # per lesson; the CSV keeps every one
PAIRS_SHOWN = 50  # the most alike first
SOURCE_SHOWN = 20_000  # characters of each module of a pair on the page

_STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;padding:12px;max-width:60rem;color:#1d2330}
h1{font-size:1.4rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccd}h3{font-size:1rem}
table{border-collapse:collapse;font-size:.9rem}td,th{padding:3px 6px;text-align:left;vertical-align:top}
.wide{overflow-x:auto;max-width:100%}.num{text-align:right;font-variant-numeric:tabular-nums}
.bar{background:#e8ebf2;height:.9rem;min-width:6rem;border-radius:2px}.bar>div{background:#c0392b;height:100%;border-radius:2px}
.bar.pass>div{background:#2e8b57}.dist{display:flex;gap:2px;align-items:flex-end;height:1.6rem}
.dist>div{background:#5b6bbf;width:8px;min-height:1px}.cause{margin:.6rem 0}.cause code{font-size:.8rem;color:#667}
.wording{margin:.2rem 0}details{font-size:.85rem;color:#444}pre{white-space:pre-wrap;overflow-wrap:anywhere;margin:.3rem 0}
.heat td{width:1.4rem;height:1.4rem;padding:0;border:1px solid #fff}.heat th{font-weight:normal;font-size:.75rem}
.pair{display:flex;flex-wrap:wrap;gap:8px}.pair>div{flex:1 1 18rem;min-width:0}.pair pre{background:#f4f5f9;padding:6px;font-size:.75rem}
.heat th.col{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap}.muted{color:#667}
"""


def write(out: Path) -> tuple[Path, Path]:
    """Both files for `out`, rebuilt from its records alone: a class grader's --out folder, or a course
    graded with stock nbgrader (read from its autograded notebooks)."""
    found = misconceptions.analyse(read(out))
    csv_path, html_path = Path(out) / CSV_NAME, Path(out) / HTML_NAME
    report.atomic_write(csv_path, misconceptions.csv_text(found))
    report.atomic_write(html_path, page(found, alike(out)))
    return csv_path, html_path


def write_safely(out: Path) -> str | None:
    """`write`, after the grades are safe: a failure here is a note for the run, never a lost result."""
    try:
        write(out)
    except Exception as err:  # noqa: BLE001 - the grades are written; the report can be rebuilt
        return (f"the class report could not be built ({type(err).__name__}: {err}); the grades are "
                "written: `python -m grader report OUT` tries again")
    return None


def sources(out: Path) -> dict[str, dict[str, str]]:
    """{lesson: {student: the module graded}} as the run kept them."""
    if _graded_by_nbgrader(out):
        return nbgrader_records.sources(out)
    found: dict[str, dict[str, str]] = {}
    for record in report.read_results(out):
        folder = report.student_dir(out, record["student"]) / report.GRADED
        for path in sorted(folder.glob("*.py")) if not record.get("error") else ():
            found.setdefault(path.stem, {})[record["student"]] = path.read_text(encoding="utf-8", errors="replace")
    return found


def alike(out: Path) -> list[copies.Pair] | str:
    """The pairs that look copied, or why there is no list."""
    try:
        import copydetect  # noqa: F401 - the instructor extra's
    except ImportError:
        return "not checked: copydetect is not installed (pip install -e \".[instructor]\")"
    found = []
    for number, by_student in sorted(sources(out).items()):
        lesson = targets.find_lesson(number)
        found += copies.pairs(number, by_student, [stubs.stub_for(lesson), lesson.solution_file.read_text()])
    return found


def read(out: Path) -> list[dict]:
    return nbgrader_records.records(out) if _graded_by_nbgrader(out) else report.read_results(out)


def _graded_by_nbgrader(out: Path) -> bool:
    """An nbgrader course graded with stock autograde, rather than a class grader's --out folder."""
    return not (Path(out) / "students").is_dir() and nbgrader_records.is_course(out)


def _e(text) -> str:
    return html.escape(report.writable(text), quote=True)


def _bar(share: float, passing: bool = False) -> str:
    width = max(0.0, min(share, 1.0)) * 100
    return f'<div class="bar{" pass" if passing else ""}"><div style="width:{width:.1f}%"></div></div>'


def page(found: Analysis, pairs: list[copies.Pair] | str = ()) -> str:
    parts = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width,initial-scale=1">',
             "<title>What the class got wrong</title>", f"<style>{_STYLE}</style></head><body>",
             "<h1>What the class got wrong</h1>",
             f'<p class="muted">{len(found.students)} students graded in {len(found.lessons)} '
             f'lesson{"s" if len(found.lessons) != 1 else ""}.']
    if found.ungraded:
        parts.append(f" {len(found.ungraded)} could not be graded (the grader's failure, not a grade): "
                     + ", ".join(_e(s) for s in sorted(found.ungraded)) + ".")
    parts.append(" Causes are what the failing tests observed; the same cause keeps its id across runs.</p>")
    for number, topic in sorted(found.lessons.items()):
        parts += _lesson(found, number, topic)
    parts += _help(found)
    parts += _alike(pairs, len(found.students))
    parts.append("</body></html>")
    return "\n".join(parts)


def _lesson(found: Analysis, number: str, topic: str) -> list[str]:
    graded = found.graded(number)
    exercises = [e for (n, _), e in found.exercises.items() if n == number]
    parts = [f'<h2 id="lesson{_e(number)}">Lesson {_e(number)}: {_e(topic)}</h2>',
             f'<p class="muted">{graded} students.</p>', '<div class="wide"><table>',
             '<tr><th>exercise</th><th class="num">points</th><th>passed</th><th class="num">share</th>'
             '<th>points earned</th><th class="num">stopped at a bound</th></tr>']
    for exercise in exercises:
        share = len(exercise.passed()) / max(len(exercise.earned), 1)
        parts.append(f"<tr><td>{_e(exercise.name)}</td><td class='num'>{exercise.points}</td>"
                     f"<td>{_bar(share, passing=True)}</td><td class='num'>{share:.0%}</td>"
                     f"<td>{_distribution(exercise)}</td><td class='num'>{len(exercise.stopped) or ''}</td></tr>")
    parts.append("</table></div>")
    ranked = found.ranked(number)
    causes = [c for c in ranked if not misconceptions.unattempted(c.text)]
    parts.append(f"<h3>Causes, most students first ({len(causes)})</h3>")
    if not causes:
        parts.append("<p>No test failed on work handed in.</p>")
    for cause in causes[:CAUSES_SHOWN]:
        share = found.share(cause)
        parts.append(f'<div class="cause"><div><b>{_e(cause.exercise)}</b>: {len(cause.students)} '
                     f'student{"s" if len(cause.students) != 1 else ""} ({share:.0%}) <code>{_e(cause.id)}</code></div>'
                     f'{_bar(share)}<div class="wording">{_e(cause.text)}</div>'
                     f"<details><summary>one student's message</summary><pre>{_e(cause.example)}</pre></details></div>")
    if len(causes) > CAUSES_SHOWN:
        parts.append(f'<p class="muted">{len(causes) - CAUSES_SHOWN} more in {CSV_NAME}.</p>')
    blank = Counter()
    for cause in ranked:
        if misconceptions.unattempted(cause.text):
            blank[cause.exercise] = max(blank[cause.exercise], len(cause.students))
    if blank:
        parts.append('<p class="muted">Not written yet (the stub as handed out, or no file): '
                     + ", ".join(f"{_e(name)} {count}" for name, count in sorted(blank.items())) + ".</p>")
    parts += _heat_map(found, number, exercises)
    return parts


def _distribution(exercise: misconceptions.Exercise) -> str:
    """How many students earned each number of points, 0 to all of them, as columns."""
    tally = Counter(exercise.earned.values())
    most = max(tally.values(), default=1)
    columns = []
    for points in range(exercise.points + 1):
        height = 100 * tally.get(points, 0) / most
        columns.append(f'<div title="{points} points: {tally.get(points, 0)} students" style="height:{height:.0f}%"></div>')
    return f'<div class="dist">{"".join(columns)}</div>'


def _heat_map(found: Analysis, number: str, exercises: list[misconceptions.Exercise]) -> list[str]:
    students = sorted(s for s, marks in found.students.items() if number in marks)
    if not students:
        return []
    parts = ["<h3>Students by exercises</h3>", '<div class="wide"><table class="heat"><tr><th></th>']
    parts += [f'<th class="col">{_e(e.name)}</th>' for e in exercises]
    parts.append("</tr>")
    for student in students:
        cells = []
        for exercise in exercises:
            got = exercise.earned.get(student, 0)
            share = got / exercise.points if exercise.points else 1.0
            colour = f"hsl({120 * share:.0f},55%,{48 + 20 * (1 - share):.0f}%)"
            cells.append(f'<td title="{_e(exercise.name)}: {got} / {exercise.points}" style="background:{colour}"></td>')
        parts.append(f"<tr><th>{_e(student)}</th>{''.join(cells)}</tr>")
    parts.append("</table></div>")
    return parts


def _help(found: Analysis) -> list[str]:
    people = found.needing_help()
    parts = ["<h2>Students who may need help</h2>",
             '<p class="muted">Under half of their points, or the same cause in more than one lesson.</p>']
    if not people:
        return parts + ["<p>No one.</p>"]
    parts.append('<div class="wide"><table><tr><th>student</th><th class="num">points</th><th>met in more than one lesson</th></tr>')
    for student, share, repeated in people:
        parts.append(f"<tr><td>{_e(student)}</td><td class='num'>{share:.0%}</td>"
                     f"<td>{'<br>'.join(_e(r) for r in repeated)}</td></tr>")
    parts.append("</table></div>")
    return parts


def _alike(pairs: list[copies.Pair] | str, students: int) -> list[str]:
    parts = ["<h2>Submissions that look alike</h2>",
             '<p class="muted">Pairs sharing most of their own code once names, strings and formatting are '
             "set aside, and what was handed out and the reference answer left out: for you to read side by "
             "side, not a verdict.</p>"]
    if isinstance(pairs, str):
        return parts + [f"<p>{_e(pairs)}</p>"]
    if students < copies.MIN_CLASS:
        return parts + [f"<p>Not checked: under {copies.MIN_CLASS} students, likeness means nothing.</p>"]
    if not pairs:
        return parts + ["<p>None.</p>"]
    for pair in pairs[:PAIRS_SHOWN]:
        parts.append(f"<details><summary>Lesson {_e(pair.lesson)}: {_e(pair.first)} and {_e(pair.second)}, "
                     f"{pair.similarity[0]:.0%} and {pair.similarity[1]:.0%} of their own code in common</summary>"
                     f'<div class="pair"><div><b>{_e(pair.first)}</b><pre>{_e(_cut(pair.sources[0]))}</pre></div>'
                     f"<div><b>{_e(pair.second)}</b><pre>{_e(_cut(pair.sources[1]))}</pre></div></div></details>")
    if len(pairs) > PAIRS_SHOWN:
        parts.append(f'<p class="muted">{len(pairs) - PAIRS_SHOWN} more pairs, less alike, are not shown.</p>')
    return parts


def _cut(source: str) -> str:
    return source if len(source) <= SOURCE_SHOWN else source[:SOURCE_SHOWN] + "\n... (cut here; the whole file is in students/)"

"""Gradescope: ``python -m grader gradescope --lessons 03 --out autograder.zip``.

Writes the autograder zip that Gradescope asks for, built on the class grader:

    setup.sh          run once when Gradescope builds the image: a Python >= 3.11, a venv, the kit
    run_autograder    run for each submission: finds the lesson files in the upload, grades them with
                      ``python -m grader grade`` (sandboxed, hidden inputs), and writes
                      results/results.json in Gradescope's format
    gradescope.json   the lessons, platform and limits chosen here
    secret.txt        the course secret the hidden inputs are drawn from
    kit/              the kit's source: grader/, lessons/, solutions/ (the grader judges against them)

The zip holds the reference solutions and the secret: it is for the instructor and Gradescope only.

``run_autograder`` reads ``AUTOGRADER_ROOT`` (default ``/autograder``), so it runs the same way on a
laptop: unzip into ``ROOT/source``, put an upload in ``ROOT/submission`` and run it. Whatever happens
(no file that matches, a grader that fails, a Python that does not start) it writes
``ROOT/results/results.json``, and a failure never earns a point.

This module is also what ``run_autograder`` runs (``python -m grader.authoring.gradescope run``); that side
imports no JAX and runs no student code: the class grader does both, in its own processes.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import secrets as secrets_mod
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from grader import KIT_ROOT
from grader.learner import points, targets

CONFIG = "gradescope.json"
SECRET = "secret.txt"
KIT_DIR = "kit"
MAX_FILE_BYTES = 2 << 20  # as the class grader: a larger lesson file is refused
MAX_ENTRIES = 5000  # files and folders looked at in one upload
MAX_DEPTH = 12
KIT_PATHS = ["grader", "lessons", "solutions", "pyproject.toml", "README.md"]
# Never bundled, when the kit is not a git checkout (in one, .gitignore says the same)
_SKIP_DIRS = {"__pycache__", ".venv", "venv", ".git", ".pytest_cache", ".results", "build", "backups", "plots",
              ".ipynb_checkpoints"}
_SKIP_COURSE = {"release", "submitted", "autograded", "feedback"}
_SKIP_UPLOAD_DIRS = {"__MACOSX", "__pycache__", ".ipynb_checkpoints", ".git", "backups", ".venv", "venv"}


# --- building the zip ------------------------------------------------------------------------------

def kit_files(root: Path = KIT_ROOT) -> list[Path]:
    """The kit's files the autograder needs, relative to `root`: what git tracks (or would: new files
    that .gitignore does not exclude) under KIT_PATHS; without git, a walk that skips caches,
    environments, backups and an nbgrader course's student folders."""
    root = Path(root)
    files: set[Path] = set()
    try:
        top = subprocess.run(["git", "-C", str(root), "rev-parse", "--show-toplevel"], capture_output=True,
                             text=True, timeout=30)
        listed = None
        if top.returncode == 0 and Path(top.stdout.strip()).resolve() == root.resolve():
            listed = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached", "--others",
                                     "--exclude-standard", "--", *KIT_PATHS], capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        listed = None
    if listed is not None and listed.returncode == 0:
        for name in listed.stdout.decode().split("\0"):
            if name and (root / name).is_file() and not (root / name).is_symlink():
                files.add(Path(name))
    else:
        for entry in KIT_PATHS:
            path = root / entry
            if path.is_file():
                files.add(Path(entry))
            for folder, dirs, names in os.walk(path):
                rel = Path(folder).relative_to(root)
                dirs[:] = [d for d in dirs if d not in _SKIP_DIRS and not d.endswith(".egg-info")
                           and not (rel == Path("grader/course") and d in _SKIP_COURSE)]
                for name in names:
                    if name.endswith((".pyc", ".tmp")) or name == "gradebook.db" or re.match(r"grades.*\.csv$", name):
                        continue
                    if not os.path.islink(os.path.join(folder, name)):
                        files.add(rel / name)
    if (root / "grader" / "gradescope.py").is_file():  # run_autograder's side, tracked yet or not
        files.add(Path("grader/authoring/gradescope.py"))
    return sorted(files)


def _jax_requirement(root: Path) -> str:
    """The kit's own bounds on jax, for the CUDA build: "jax[cuda12]>=0.10.2,<0.13"."""
    import tomllib

    deps = tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]
    spec = next((d for d in deps if re.match(r"^jax\s*[<>=!~]", d)), "jax")
    return "jax[cuda12]" + spec[len("jax"):].replace(" ", "")


def build(out: Path, lessons: list[targets.Lesson], secret: str, platform: str = "cpu",
          timeout: float = 120.0, memory: str = "4G", root: Path = KIT_ROOT) -> dict:
    """Write the autograder zip to `out`; returns what went into it."""
    from grader.learner import limits

    limits.parse_size(memory)  # a bad --memory fails here, not on Gradescope
    missing = [str(l.solution_file) for l in lessons if not l.solution_file.is_file()]
    if missing:
        raise ValueError(f"The autograder judges against the reference solutions, and these are missing: "
                         f"{', '.join(missing)}")
    files = kit_files(root)
    config = {"lessons": [l.number for l in lessons], "topics": {l.number: l.topic for l in lessons},
              "points": {l.number: points.lesson_total(l) for l in lessons}, "platform": platform,
              "timeout": timeout, "memory": memory, "built": time.strftime("%Y-%m-%d %H:%M:%S %z"),
              "kit_commit": _commit(root)}
    extra = f' "{_jax_requirement(root)}"' if platform == "cuda" else ""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        _add(zf, "setup.sh", SETUP_SH.replace("@EXTRA@", extra), 0o755)
        _add(zf, "run_autograder", RUN_AUTOGRADER, 0o755)
        _add(zf, CONFIG, json.dumps(config, indent=1) + "\n", 0o644)
        _add(zf, SECRET, secret + "\n", 0o600)
        for rel in files:
            _add(zf, f"{KIT_DIR}/{rel.as_posix()}", (root / rel).read_bytes(), 0o644)
    os.replace(tmp, out)
    return {"zip": str(out), "files": len(files), "config": config, "bytes": out.stat().st_size}


def _add(zf: zipfile.ZipFile, name: str, data: str | bytes, mode: int) -> None:
    info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
    info.external_attr = (stat.S_IFREG | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data)


def _commit(root: Path) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def wall_ceiling(lessons: int, timeout: float) -> float:
    """How long the class grader may take for one student: 120 s to start, then each lesson's
    wall-clock ceiling (4x its CPU seconds); run_autograder allows a minute more on top."""
    return 120 + lessons * 4 * timeout + 60


SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder's image (Ubuntu 22.04 or 24.04, as root).
# It finds or installs a Python >= 3.11, makes the venv $ROOT/venv and installs the kit bundled in
# this zip into it, with the kit's own bounds on JAX and the other packages (pyproject.toml).
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SRC="$ROOT/source"
VENV="$ROOT/venv"
export DEBIAN_FRONTEND=noninteractive
export JAX_LESSONS_HOME="$SRC/kit"  # the lessons and references the grader judges with

try_venv() {  # $1: a python; leaves a working $VENV and succeeds, or fails and leaves none
  command -v "$1" >/dev/null 2>&1 || return 1
  "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || return 1
  rm -rf "$VENV"
  if "$1" -m venv "$VENV" >/dev/null 2>&1 && "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
    echo "setup: venv made with $1 ($("$VENV/bin/python" --version))"
    return 0
  fi
  rm -rf "$VENV"
  return 1
}

find_python() {
  for py in python3.12 python3.11 python3.13 python3; do
    try_venv "$py" && return 0
  done
  return 1
}

if ! find_python && command -v apt-get >/dev/null 2>&1; then
  apt-get update -q
  # 24.04: python3 is 3.12 and lacks only its venv module; 22.04 has python3.11 in universe
  apt-get install -y -q python3-venv python3.12-venv >/dev/null 2>&1 || true
  find_python || { apt-get install -y -q python3.11 python3.11-venv >/dev/null 2>&1 || true; }
  if ! find_python; then
    apt-get install -y -q software-properties-common >/dev/null 2>&1 || true
    add-apt-repository -y ppa:deadsnakes/ppa >/dev/null 2>&1 && apt-get update -q || true
    apt-get install -y -q python3.12 python3.12-venv >/dev/null 2>&1 || true
  fi
fi
if [ ! -x "$VENV/bin/python" ] && ! find_python; then
  # the last resort: uv's own build of CPython
  command -v curl >/dev/null 2>&1 || { apt-get install -y -q curl ca-certificates >/dev/null 2>&1 || true; }
  curl -LsSf https://astral.sh/uv/install.sh | env UV_INSTALL_DIR=/usr/local/bin INSTALLER_NO_MODIFY_PATH=1 sh
  uv python install 3.12
  uv venv --seed --python 3.12 "$VENV"
fi
[ -x "$VENV/bin/python" ] || { echo "setup: no Python >= 3.11 could be installed" >&2; exit 1; }

"$VENV/bin/python" -m pip install -q --upgrade pip
# editable: the grader finds its lessons and references beside its own package, in $SRC/kit
"$VENV/bin/python" -m pip install -q -e "$SRC/kit"@EXTRA@
"$VENV/bin/python" -c 'import sys, jax, grader; print("setup: Python", sys.version.split()[0], "jax", jax.__version__, "kit", grader.__file__)'
chmod 600 "$SRC/secret.txt" || true
# grade each lesson's reference once, as a submission would be: proves the image before a student uses it
"$VENV/bin/python" -m grader.authoring.gradescope selftest --source "$SRC"
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this for each submission. It grades $ROOT/submission with the kit's class grader
# and writes $ROOT/results/results.json; it writes that file whatever fails, and a failure earns 0.
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SRC="$ROOT/source"
RESULTS="$ROOT/results/results.json"
export JAX_LESSONS_HOME="$SRC/kit"  # the lessons and references the grader judges with
mkdir -p "$ROOT/results"
rm -f "$RESULTS"
if [ -x "$ROOT/venv/bin/python" ]; then
  PY="$ROOT/venv/bin/python"
elif [ -n "${JAX_LESSONS_PYTHON:-}" ]; then
  PY="$JAX_LESSONS_PYTHON"
else
  PY=python3
fi
cd "$SRC/kit" && PYTHONPATH="$SRC/kit" "$PY" -m grader.authoring.gradescope run --root "$ROOT"
status=$?
if [ ! -s "$RESULTS" ]; then
  echo "run_autograder: the grader stopped (exit status $status) before writing results.json" >&2
  cat > "$RESULTS" <<EOF
{"score": 0, "execution_time": 0, "stdout_visibility": "hidden", "tests": [],
 "output": "The autograder could not run (exit status $status with $PY), so this submission has not been graded: the 0 is not a grade. Your instructor can see why in the autograder's log and can regrade it once it is fixed."}
EOF
fi
exit 0
"""


# --- grading one upload ----------------------------------------------------------------------------

@dataclass
class Candidate:
    path: str  # as the student sees it, relative to the upload
    kind: str  # "module" or "notebook"
    data: bytes | None
    problem: str | None = None


@dataclass
class Picked:
    lesson: targets.Lesson
    file: Candidate
    others: list[str] = field(default_factory=list)  # other files that looked like this lesson's


def scan_upload(folder: Path) -> tuple[list[Candidate], list[str], list[str]]:
    """(the .py and .ipynb files of an upload, including those inside .zip files in it; every file's
    path, for telling the student what was seen; notes). Links are never followed."""
    found, seen, notes = [], [], []
    entries = 0
    if not folder.is_dir():
        return found, seen, notes
    for dirpath, dirs, names in os.walk(folder, followlinks=False):
        rel_dir = Path(dirpath).relative_to(folder)
        if len(rel_dir.parts) >= MAX_DEPTH:
            dirs[:] = []
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_UPLOAD_DIRS and not d.startswith("."))
        for name in sorted(names):
            entries += 1
            if entries > MAX_ENTRIES:
                notes.append(f"the upload has more than {MAX_ENTRIES} files; the rest were not looked at")
                return found, seen, notes
            if name.startswith("."):
                continue
            rel = (rel_dir / name).as_posix()
            seen.append(rel)
            path = Path(dirpath) / name
            suffix = Path(name).suffix.lower()
            if suffix == ".zip":
                found += _zip_members(path, rel, notes)
            elif suffix in (".py", ".ipynb"):
                data, problem = _read(path)
                found.append(Candidate(rel, "module" if suffix == ".py" else "notebook", data, problem))
    return found, seen, notes


def _read(path: Path) -> tuple[bytes | None, str | None]:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None, "is a link or could not be opened; upload the file itself"
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None, "is not a plain file"
        data = f.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        return None, f"is larger than {MAX_FILE_BYTES >> 20} MiB"
    return data, None


def _zip_members(path: Path, rel: str, notes: list[str]) -> list[Candidate]:
    found = []
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()[:MAX_ENTRIES]
            for info in members:
                name = info.filename
                parts = Path(name).parts
                if info.is_dir() or any(p in _SKIP_UPLOAD_DIRS or p.startswith(".") for p in parts):
                    continue
                suffix = Path(name).suffix.lower()
                if suffix not in (".py", ".ipynb") or stat.S_ISLNK(info.external_attr >> 16):
                    continue
                shown = f"{rel}:{name}"
                kind = "module" if suffix == ".py" else "notebook"
                if info.file_size > MAX_FILE_BYTES:
                    found.append(Candidate(shown, kind, None, f"is larger than {MAX_FILE_BYTES >> 20} MiB"))
                    continue
                with zf.open(info) as f:
                    data = f.read(MAX_FILE_BYTES + 1)
                if len(data) > MAX_FILE_BYTES:
                    found.append(Candidate(shown, kind, None, f"is larger than {MAX_FILE_BYTES >> 20} MiB"))
                else:
                    found.append(Candidate(shown, kind, data))
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError) as err:
        notes.append(f"{rel} could not be opened as a zip file ({type(err).__name__})")
    return found


_NOT_LESSON_FILES = re.compile(r"^(test_.*|conftest|setup|__init__|__main__)$", re.I)


def _words(name: str) -> list[str]:
    return re.findall(r"[a-z]+|\d+", name.lower())


def _rank(candidate: Candidate, lesson: targets.Lesson) -> int | None:
    """How surely a file is this lesson's: 0 (its exact name, in a folder named like the lesson),
    1 (its exact name), 2 (a name holding the topic), 3 (a name holding the lesson's number);
    None: not this lesson's."""
    path = Path(candidate.path.split(":")[-1])
    stem, parent = path.stem.lower(), path.parent.name.lower()
    number = int(lesson.number)
    folder_words = _words(parent)
    in_folder = bool(folder_words) and folder_words[-1].isdigit() and int(folder_words[-1]) == number
    exact = stem == lesson.topic if candidate.kind == "module" else stem in (f"lesson{lesson.number}", lesson.topic)
    if exact:
        return 0 if in_folder else 1
    if lesson.topic.replace("_", "") in re.sub(r"[^a-z0-9]+", "", stem):
        return 2
    if any(w.isdigit() and int(w) == number for w in _words(stem)):
        return 3
    return None


def _eligible(candidate: Candidate) -> bool:
    return not _NOT_LESSON_FILES.match(Path(candidate.path.split(":")[-1]).stem)


def match(candidates: list[Candidate], lessons: list[targets.Lesson]) -> tuple[dict[str, Picked], list[str]]:
    """The file graded for each lesson, and notes for the student. The surest matches are taken
    first, across lessons (a module before a notebook when equally sure; a file outside a
    `solutions` folder and nearer the top first), and a file is graded for one lesson at most.
    With one lesson graded and one lesson-like file uploaded, that file is taken whatever its name."""
    notes = []
    eligible = [c for c in candidates if _eligible(c)]
    for c in eligible:
        if c.data is None:
            notes.append(f"{c.path} {c.problem}, so it was not graded")
    usable = [c for c in eligible if c.data is not None]
    pairs = []
    for lesson in lessons:
        for c in usable:
            rank = _rank(c, lesson)
            if rank is None and len(lessons) == 1 and len(usable) == 1:
                rank = 4
            if rank is not None:
                parts = [p.lower() for p in Path(c.path.replace(":", "/")).parts]
                pairs.append(((rank, c.kind != "module", "solutions" in parts, len(parts), c.path), lesson, c))
    pairs.sort(key=lambda x: x[0])
    picked: dict[str, Picked] = {}
    used: set[str] = set()
    for _, lesson, c in pairs:
        if lesson.number not in picked and c.path not in used:
            picked[lesson.number] = Picked(lesson, c)
            used.add(c.path)
    for key, lesson, c in pairs:
        pick = picked.get(lesson.number)
        if pick is not None and c.path not in used and key[0] <= 2 and c.path not in pick.others:
            pick.others.append(c.path)
    return dict(sorted(picked.items())), notes


def _expected(lesson: targets.Lesson) -> str:
    return (f"`{lesson.topic}.py` (the file you edited in lessons/{lesson.number}/) or your "
            f"`lesson{lesson.number}.ipynb` notebook")


def _layout(picked: dict[str, Picked], subs: Path) -> dict[str, str]:
    """Lay the picked files out as a submissions folder the class grader reads; returns lesson ->
    the student folder holding it (modules and notebooks go to two folders: the grader reads one
    kind per folder)."""
    where = {}
    for number, pick in picked.items():
        lesson = pick.lesson
        if pick.file.kind == "module":
            path = subs / "modules" / number / f"{lesson.topic}.py"
            where[number] = "modules"
        else:
            path = subs / "notebooks" / f"lesson{number}" / f"lesson{number}.ipynb"
            where[number] = "notebooks"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pick.file.data)
    return where


def _unsubmitted_tests(lesson: targets.Lesson, message: str) -> list[dict]:
    return [{"name": _test_name(lesson.number, t.name, t.exercise), "score": 0, "max_score": t.points,
             "status": "failed", "output": message, "visibility": "visible"}
            for t in points.graded_tests(lesson.test_file)]


def _test_name(number: str, test: str, exercise: str) -> str:
    return f"Lesson {number}: {test} ({exercise})"


def _tests_of(number: str, record: dict) -> list[dict]:
    return [{"name": _test_name(number, t["test"], t["exercise"]), "score": t["earned"], "max_score": t["points"],
             "status": "passed" if t["earned"] == t["points"] else "failed", "output": t["message"] or "",
             "visibility": "visible"} for t in record["tests"]]


def _failure(lessons: list[targets.Lesson], why: str, start: float, log: list[str]) -> dict:
    """The result when the grader itself failed: every test 0, and a message that says so."""
    text = (f"The autograder failed while grading this submission ({why}), so it has not been graded: "
            "the 0 below is not a grade. Your instructor can see what went wrong and can regrade it.")
    tests = []
    for lesson in lessons:
        tests += _unsubmitted_tests(lesson, "not graded: the autograder failed (see the message at the top)")
    return {"score": 0, "execution_time": round(time.perf_counter() - start), "output": text, "tests": tests,
            "stdout_visibility": "hidden"}


def grade_upload(source: Path, upload: Path, log: list[str], python: str | None = None) -> dict:
    """Gradescope's results.json for the upload in `upload`, graded with the kit in `source`."""
    start = time.perf_counter()
    config = json.loads((source / CONFIG).read_text())
    lessons = [targets.find_lesson(n) for n in config["lessons"]]
    secret = (source / SECRET).read_text().strip()
    try:
        candidates, seen, notes = scan_upload(upload)
        picked, more = match(candidates, lessons)
        notes += more
    except Exception as err:  # noqa: BLE001 - an upload the scan can't read is graded as empty
        candidates, seen, picked, notes = [], [], {}, [f"the upload could not be read ({type(err).__name__})"]
    log.append(f"upload: {len(seen)} file(s): {', '.join(seen[:30])}{' ...' if len(seen) > 30 else ''}")
    for number, pick in picked.items():
        log.append(f"lesson {number}: grading {pick.file.path} ({pick.file.kind})")

    lines = []
    if not picked:
        what = " and ".join(f"lesson {l.number} ({l.topic})" for l in lessons)
        lines.append(f"Nothing in your upload could be graded. This assignment grades {what}: upload "
                     + "; ".join(_expected(l) for l in lessons) + ".")
        if seen:
            shown = ", ".join(seen[:10]) + (f" and {len(seen) - 10} more" if len(seen) > 10 else "")
            lines.append(f"Your upload held: {shown}.")
            if any(Path(s).name.lower().startswith("test_") for s in seen if s.endswith(".py")):
                lines.append("A test_*.py file is the lesson's test file: upload the module you edited instead.")
        else:
            lines.append("Your upload was empty.")
        lines += [f"Note: {n}." for n in notes]
        tests = []
        for lesson in lessons:
            tests += _unsubmitted_tests(lesson, f"not submitted: upload {_expected(lesson)}")
        return {"score": 0, "execution_time": round(time.perf_counter() - start), "output": "\n".join(lines),
                "tests": tests, "stdout_visibility": "hidden"}

    work = Path(tempfile.mkdtemp(prefix="jaxkit-gradescope-"))
    try:
        where = _layout(picked, work / "submissions")
        out = work / "graded"
        ceiling = wall_ceiling(len(picked), float(config["timeout"]))
        command = [python or sys.executable, "-m", "grader", "grade", str(work / "submissions"), "--out", str(out),
                   "--lessons", *sorted(picked), "--platform", config["platform"], "--timeout",
                   str(config["timeout"]), "--memory", str(config["memory"]), "--regrade", "-q"]
        env = {**os.environ, "JAX_LESSONS_SECRET": secret, "PYTHONPATH": str(source / KIT_DIR),
               "JAX_LESSONS_HOME": str(source / KIT_DIR)}
        log.append("grading: " + " ".join(command))
        with open(work / "grader.log", "w+b") as output:
            try:
                done = subprocess.run(command, cwd=source / KIT_DIR, env=env, stdout=output, stderr=subprocess.STDOUT,
                                      timeout=ceiling)
                status = done.returncode
            except subprocess.TimeoutExpired:
                status = None
            output.seek(max(0, output.seek(0, os.SEEK_END) - 20000))
            log.append(output.read().decode("utf-8", "replace").rstrip())
        if status is None:
            return _failure(lessons, f"the grader ran past {ceiling:.0f} s", start, log)
        from grader.classroom import report

        records = {}
        for folder in set(where.values()):
            path = report.student_dir(out, folder) / report.RESULT
            try:
                records[folder] = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                why = f"the grader exited with status {status} and wrote no result"
                return _failure(lessons, why, start, log)
        errors = [r["error"] for r in records.values() if r.get("error")]
        if errors:
            log += [f"grader error: {e}" for e in errors]
            return _failure(lessons, f"the grader raised {errors[0].split(':')[0]}", start, log)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    tests, score = [], 0
    for lesson in lessons:
        number = lesson.number
        if number not in picked:
            tests += _unsubmitted_tests(lesson, f"not submitted: upload {_expected(lesson)}")
            lines.append(f"Lesson {number} ({lesson.topic}): nothing found for it; upload {_expected(lesson)}.")
            continue
        record = records[where[number]]["lessons"][number]
        tests += _tests_of(number, record)
        score += record["earned"]
        pick = picked[number]
        lines.append(f"Lesson {number} ({lesson.topic}): {record['earned']} / {record['total']} points, "
                     f"from {pick.file.path}.")
        if pick.others:
            lines.append(f"  Also found, not graded: {', '.join(pick.others)} (one file is graded per lesson).")
        if record.get("tamper"):
            lines.append("  Your notebook changed what grades it (your solution cells were graded with the "
                         "lesson's own tests, so this did not change your score):")
            lines += [f"  - {t}" for t in record["tamper"]]
            log.append(f"lesson {number}: notebook changed its grading: " + "; ".join(record["tamper"]))
        if record.get("left_out"):
            lines.append("  " + report.LEFT_OUT)
            lines += [f"  - {note}" for note in record["left_out"]]
    lines += [f"Note: {n}." for n in notes]
    for record in records.values():
        confinement = record.get("confinement") or {}
        log.append(f"confinement: {confinement}")
        if not (confinement.get("landlock") and confinement.get("seccomp")):
            log.append("WARNING: the sandbox was not fully confined here: student code could read the "
                       "references and the secret in this image (see grader/README.md, Gradescope)")
        log += [f"note: {n}" for n in record.get("notes", [])]
    return {"score": score, "execution_time": round(time.perf_counter() - start), "output": "\n".join(lines),
            "tests": tests, "stdout_visibility": "hidden"}


def write_results(path: Path, results: dict) -> None:
    """Write results.json, every output marked plain text: a message quotes what the student's code
    raised or printed, and none of it may render as HTML or Markdown on Gradescope's page."""
    results = {**results, "output_format": "text", "test_output_format": "text",
               "tests": [{**test, "output_format": "text"} for test in results.get("tests", [])]}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(results, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def run(root: Path, source: Path | None = None, upload: Path | None = None, results: Path | None = None) -> dict:
    """run_autograder's work: grade ROOT/submission, write ROOT/results/results.json (always)."""
    root = Path(root)
    source = Path(source or root / "source")
    results = Path(results or root / "results" / "results.json")
    start, log = time.perf_counter(), []
    try:
        found = grade_upload(source, Path(upload or root / "submission"), log)
    except Exception as err:  # noqa: BLE001 - a result is written whatever fails
        import traceback

        log.append(traceback.format_exc())
        try:
            config = json.loads((source / CONFIG).read_text())
            lessons = [targets.find_lesson(n) for n in config["lessons"]]
        except Exception:  # noqa: BLE001
            lessons = []
        found = _failure(lessons, f"{type(err).__name__}: {str(err)[:200]}", start, log)
    write_results(results, found)
    print("\n".join(log))
    print(f"score: {found['score']} in {found['execution_time']} s; results: {results}")
    return found


def selftest(source: Path) -> int:
    """Grade each lesson's reference as an upload; fails unless each gets full marks."""
    config = json.loads((Path(source) / CONFIG).read_text())
    problems = 0
    for number in config["lessons"]:
        lesson = targets.find_lesson(number)
        with tempfile.TemporaryDirectory(prefix="jaxkit-selftest-") as tmp:
            upload = Path(tmp) / "submission"
            upload.mkdir()
            shutil.copyfile(lesson.solution_file, upload / f"{lesson.topic}.py")
            found = run(Path(tmp), source=Path(source), upload=upload, results=Path(tmp) / "results.json")
        total = points.lesson_total(lesson)
        lesson_score = sum(t["score"] for t in found["tests"] if t["name"].startswith(f"Lesson {number}:"))
        ok = lesson_score == total
        print(f"selftest: lesson {number}'s reference: {lesson_score} / {total}{'' if ok else '  FAILED'}")
        problems += not ok
    return 1 if problems else 0


# --- the command line ------------------------------------------------------------------------------

def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("gradescope", help="write the Gradescope autograder zip (setup.sh, run_autograder, the kit)",
                              description="Write the autograder zip Gradescope asks for. It holds the reference "
                                          "solutions and the course secret: keep it private.")
    p.add_argument("--lessons", nargs="+", required=True, help="the lesson numbers this assignment grades, e.g. 03")
    p.add_argument("--out", default="autograder.zip", help="the zip to write (default autograder.zip)")
    p.add_argument("--secret", default=None, help="course secret for the hidden inputs (default: JAX_LESSONS_SECRET, "
                   "else a fresh random one); it is written into the zip")
    p.add_argument("--platform", default="cpu", choices=["cpu", "cuda"], help="JAX platform on Gradescope (default cpu)")
    p.add_argument("--timeout", type=float, default=120.0, help="CPU seconds a lesson may use for one student (default 120)")
    p.add_argument("--memory", default="4G", help="memory cap of the sandbox (default 4G)")
    p.set_defaults(func=cmd_gradescope)
    return p


def cmd_gradescope(args) -> int:
    lessons = [targets.find_lesson(n) for n in args.lessons]
    secret = args.secret or os.environ.get("JAX_LESSONS_SECRET") or secrets_mod.token_hex(16)
    made = build(Path(args.out), lessons, secret, platform=args.platform, timeout=args.timeout, memory=args.memory)
    config = made["config"]
    total = sum(config["points"].values())
    where = "given" if args.secret else "from JAX_LESSONS_SECRET" if os.environ.get("JAX_LESSONS_SECRET") else "new"
    print(f"wrote {made['zip']} ({made['bytes'] >> 10} KiB, {made['files']} kit files): lessons "
          f"{', '.join(config['lessons'])}, {total} points, platform {args.platform}, secret {where}")
    print(f"On Gradescope: set the assignment's points to {total} and its autograder timeout to at least "
          f"{math.ceil(wall_ceiling(len(lessons), args.timeout) / 60) + 1} minutes.")
    print("The zip holds the reference solutions and the course secret: keep it private.")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m grader.authoring.gradescope [build options]`` builds the zip; ``... run --root ROOT`` is
    run_autograder's work; ``... selftest --source SRC`` is setup.sh's last check."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["run"]:
        p = argparse.ArgumentParser(prog="python -m grader.authoring.gradescope run")
        p.add_argument("--root", default=os.environ.get("AUTOGRADER_ROOT", "/autograder"))
        run(Path(p.parse_args(argv[1:]).root))
        return 0
    if argv[:1] == ["selftest"]:
        p = argparse.ArgumentParser(prog="python -m grader.authoring.gradescope selftest")
        p.add_argument("--source", default=str(Path(os.environ.get("AUTOGRADER_ROOT", "/autograder")) / "source"))
        return selftest(Path(p.parse_args(argv[1:]).source))
    parser = argparse.ArgumentParser(prog="python -m grader")
    add_parser(parser.add_subparsers(dest="command", required=True))
    if argv[:1] != ["gradescope"]:
        argv = ["gradescope", *argv]
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ValueError as err:
        print(err, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""The kit's command line: ``python -m grader <command>``."""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from grader.authoring import devcheck, notebooks
from grader.learner import limits, points, progress, runs, stubs, targets


def _lessons(numbers: list[str]) -> list[targets.Lesson]:
    return [targets.find_lesson(n) for n in numbers] if numbers else targets.all_lessons()


def cmd_stubs(args) -> int:
    lessons = _lessons(args.lessons)
    if args.check:
        stale = [l for l in stubs.stale_stubs() if l in lessons]
        for lesson in stale:
            print(f"out of date: {lesson.stub_file} (run: python -m grader stubs {lesson.number})")
        return 1 if stale else 0
    for path in stubs.write_stubs(lessons=lessons):
        print(f"wrote {targets.display(path)}")
    return 0


def cmd_notebooks(args) -> int:
    lessons = _lessons(args.lessons)
    if args.check:
        stale = [l for l in notebooks.stale_notebooks() if l in lessons]
        for lesson in stale:
            print(f"out of date: {notebooks.notebook_path(lesson)} (run: python -m grader notebooks)")
        return 1 if stale else 0
    for path in notebooks.write_notebooks(lessons=lessons):
        print(f"wrote {targets.display(path)}")
    return 0


def cmd_grade_example(args) -> int:
    """The example class: one lesson released through nbgrader, seven generated submissions, graded by
    the kit's sandboxed grader (and, with --nbgrader, by stock nbgrader too, for comparison)."""
    import time

    from grader.authoring import course_run
    from grader.classroom import grading, report

    root = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="jaxkit-example-course-"))
    lesson = targets.find_lesson(args.lesson)
    assignment, students = course_run.example_class(root, lesson.number)
    out = root / "graded"
    settings = grading.Settings(out=out, lessons=[lesson], secret=grading.secret_for(out, None), jobs=2,
                                regrade=True, progress=False)
    summary = grading.grade_class(root / "submitted", settings)
    scores = {r["student"]: r["earned"] for r in report.read_results(out)}
    nb_scores, nb_time = {}, None
    if args.nbgrader:
        start = time.perf_counter()
        nb_scores = course_run.grade(root, assignment)
        nb_time = time.perf_counter() - start
    total = points.lesson_total(lesson)
    print(f"Example class, {assignment}: {len(students)} submissions in {root / 'submitted'}\n")
    print(f"{'student':<12}{'score':>9}" + (f"{'nbgrader':>10}" if args.nbgrader else "") + "  submission")
    for student, what in students.items():
        nb = f"{nb_scores.get(student, 0):>10.0f}" if args.nbgrader else ""
        print(f"{student:<12}{scores.get(student, 0):>5}/{total:<3}{nb}  {what}")
    print(f"\ngraded in {summary['seconds']:.1f} s with --jobs 2 (sandboxed: {summary['confinement']}); "
          f"grades: {summary['grades']}, feedback: {out / 'students'}, what the class got wrong: "
          f"{out / 'report.html'}")
    if nb_time is not None:
        print(f"stock nbgrader autograde + feedback + export: {nb_time:.1f} s")
    if not args.out:
        print(f"The example course is in {root} (a temporary folder: remove it when done, or pass --out DIR).")
    return 0


def cmd_status(args) -> int:
    from grader.learner import status

    scores, ran = status.status(use_cache=not args.no_cache, extra=_bounds(args))
    print(progress.render(scores, "lessons", current=status.last_worked_on()))
    reused = len(scores) - len(ran)
    print(f"({len(ran)} lesson(s) run, {reused} unchanged since their last run)")
    return 0


def cmd_check(args) -> int:
    from grader.learner import commands as learner

    report, all_passed = learner.check_report(targets.find_lesson(args.lesson), args.target, _bounds(args))
    print(report)
    return 0 if all_passed else 1


def cmd_watch(args) -> int:
    from grader.learner import commands as learner

    def clear():
        print("\033[2J\033[H", end="")

    learner.watch(targets.find_lesson(args.lesson), args.target, args.interval, args.max_runs,
                  out=lambda text: print(text, flush=True), clear=clear if sys.stdout.isatty() else None,
                  extra=_bounds(args))
    return 0


def cmd_hint(args) -> int:
    from grader.learner import hints

    lesson = targets.find_lesson(args.lesson)
    if args.reset:
        hints.forget(lesson)
        print(f"Hints for lesson {lesson.number} start again from the first level.")
        return 0
    exercise = args.exercise or hints.first_unfinished(lesson)
    if exercise is None:
        print(f"Every exercise of lesson {lesson.number} passes: no hint needed.")
        return 0
    seen = hints.seen_level(lesson, exercise)
    level, levels, text = hints.next_hint(lesson, exercise)
    print(f"Hint {level} of {levels} for `{exercise}` (lesson {lesson.number}):\n  {text}")
    if level < levels:
        print(f"(ask again for the next one: python -m grader hint {lesson.number} {exercise})")
    else:
        print(hints.last_hint_note(lesson, exercise, again=seen >= levels))
    return 0


def cmd_solution(args) -> int:
    from grader.learner import remember

    text, shown = remember.solution(targets.find_lesson(args.lesson), args.target)
    print(text, file=sys.stdout if shown else sys.stderr)
    return 0 if shown else 1


def cmd_plot(args) -> int:
    from grader.learner import plots

    try:
        paths = plots.plot(args.lesson, Path(args.out), args.target)
    except plots.PlotUnavailable as err:
        print(f"No plot yet: {err}.", file=sys.stderr)
        return 1
    for path in paths:
        print(f"wrote {targets.display(path)}")
    return 0


def cmd_reset(args) -> int:
    from grader.learner import commands as learner

    lesson = targets.find_lesson(args.lesson)
    if not args.yes:
        if not sys.stdin.isatty():
            print(f"reset replaces {targets.display(lesson.stub_file)} with the untouched stub (your file is "
                  "kept in a backups/ folder beside it). Add --yes to go ahead.", file=sys.stderr)
            return 2
        answer = input(f"Replace {targets.display(lesson.stub_file)} with the untouched stub? "
                       "Your file is kept in backups/. [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing changed.")
            return 1
    backup = learner.reset(lesson)
    print(f"{targets.display(lesson.stub_file)} is back to the untouched stub.")
    if backup is not None:
        print(f"Your previous version is kept in {targets.display(backup)}.")
    return 0


def cmd_init(args) -> int:
    from grader.authoring import student_package

    folder = Path(args.folder)
    try:
        written = student_package.init_workspace(folder)
    except student_package.PackageError as err:
        raise ValueError(str(err)) from None
    lessons = sorted({p.parent.name for p in written if p.parent.parent.name == "lessons" and p.parent.name.isdigit()})
    print(f"Made a workspace in {folder} with lessons {', '.join(lessons)}. Start with:\n"
          f"    cd {folder}\n    pytest lessons/{lessons[0] if lessons else '01'}")
    return 0


def cmd_package(args) -> int:
    from grader.authoring import student_package

    try:
        path = student_package.build_wheel(Path(args.out))
    except student_package.PackageError as err:
        raise ValueError(str(err)) from None
    print(f"wrote {targets.display(path)} ({path.stat().st_size // 1024} KiB): the lessons and the checks, "
          f"no reference solutions. Students install it with: pip install {path.name}")
    return 0


def cmd_points(args) -> int:
    for number, total in points.course_totals().items():
        print(f"lesson {number}: {total} points")
    return 0


def cmd_devcheck(args) -> int:
    """Reference passes everything, untouched stub fails everything, each planted mistake is caught."""
    lessons = _lessons(args.lessons)
    numbers = {l.number for l in lessons}
    planted = [p for p in devcheck.planted_mistakes() if p.parent.name in numbers]
    with tempfile.TemporaryDirectory(prefix="jaxkit-devcheck-") as tmp:
        jobs = devcheck.lesson_jobs(Path(tmp) / "stubs", lessons)
        jobs.update(devcheck.planted_jobs(Path(tmp) / "planted", planted))
        done = runs.run_many(jobs)
    problems = 0
    for lesson in lessons:
        expected = {t.name for t in points.graded_tests(lesson.test_file)}
        ref = done[(lesson.number, "solutions")].outcomes()
        stub = done[(lesson.number, "stubs")].outcomes()
        bad_ref = sorted(n for n in expected if ref.get(n) != "passed")
        bad_stub = sorted(n for n in expected if stub.get(n) not in ("failed", "error"))
        mark = "ok " if not (bad_ref or bad_stub) else "BAD"
        print(f"{mark} lesson {lesson.number}: reference passes {len(expected) - len(bad_ref)}/{len(expected)}, "
              f"stub fails {len(expected) - len(bad_stub)}/{len(expected)}")
        for name in bad_ref:
            print(f"      reference: {name} {ref.get(name, 'not collected')}")
        for name in bad_stub:
            print(f"      stub: {name} {stub.get(name, 'not collected')}")
        problems += bool(bad_ref or bad_stub)
    for lesson in lessons:
        claimed, total, names = devcheck.claim_points(lesson)
        print(f"    lesson {lesson.number}: {claimed} of {total} points rest on a claim alone (concept checks, "
              f"counted only where the exercise's values are right): {', '.join(names) or 'none'}")
    for path in planted:
        missed = devcheck.uncaught(path, done[devcheck.planted_key(path)])
        print(f"{'ok ' if not missed else 'BAD'} planted {devcheck.planted_key(path)}"
              + (f": not caught by {missed}" if missed else ""))
        problems += bool(missed)
    if args.charges:
        problems += _check_charges(planted)
    if args.verbose:
        for key, run in done.items():
            print(f"--- {key}\n{run.output[-3000:]}")
    return 1 if problems else 0


def _check_charges(planted: list[Path]) -> int:
    """Each planted mistake that fails a probe, graded as the class grader would: it must cost no test
    that its full public run passed (a mistake the public tests see is charged once)."""
    problems = 0
    with tempfile.TemporaryDirectory(prefix="jaxkit-charges-") as tmp:
        failed = devcheck.probe_failures(planted, Path(tmp))
        probed = [p for p in planted if failed[p]]
        done = runs.run_many(devcheck.planted_jobs(Path(tmp), probed, whole_lesson=True))
        for path in probed:
            extra = devcheck.charged_beyond_public(path, failed[path], done[devcheck.planted_key(path)])
            print(f"{'ok ' if not extra else 'BAD'} charged once {devcheck.planted_key(path)}"
                  + "".join(f"\n      {test}: {why[:200]}" for test, why in extra.items()))
            problems += bool(extra)
    return problems


def _shard(text: str) -> tuple[int, int]:
    try:
        index, count = (int(x) for x in text.split("/"))
    except ValueError:
        raise ValueError(f"--shard takes i/n, like 2/4 (got {text!r})") from None
    if not 1 <= index <= count:
        raise ValueError(f"--shard {text}: i must be between 1 and n")
    return index, count


def cmd_grade(args) -> int:
    """Grade a class's submissions in sandboxes, with the verdict decided outside them."""
    import os

    from grader.classroom import grading, submissions

    path = Path(args.submissions)
    if not path.is_dir():
        raise ValueError(f"There is no folder {path}: give the folder of submissions (ID/NN/<topic>.py) "
                         "or an nbgrader course's submitted/ folder.")
    out = Path(args.out)
    platform = args.platform or os.environ.get("JAX_PLATFORMS", "cpu") or "cpu"
    lessons = _lessons(args.lessons) if args.lessons else submissions.lessons_present(path, targets.all_lessons())
    if not lessons:
        raise ValueError(f"There is no lesson file in {path}: expected ID/NN/<topic>.py or an nbgrader "
                         "course's submitted/ID/lessonNN/*.ipynb.")
    settings = grading.Settings(
        out=out, lessons=lessons, secret=grading.secret_for(out, args.secret),
        jobs=args.jobs, timeout=args.timeout, memory=limits.parse_size(args.memory), platform=platform,
        regrade=args.regrade, shard=_shard(args.shard), keep_sandboxes=args.keep_sandboxes,
        progress=not args.quiet, shared_compiles=not args.compile_afresh)
    try:
        summary = grading.grade_class(path, settings)
    except grading.CanaryError as err:
        print(err, file=sys.stderr)
        return 3
    if args.gradebook is not None:
        from grader.classroom import gradebook, report

        course = Path(args.gradebook) if args.gradebook else (path.parent if path.name == "submitted" else path)
        summary["notes"] += gradebook.write(course, report.read_results(out))
        print(f"scores written to {course / 'gradebook.db'} (nbgrader export and formgrader read them)")
    for note in summary["notes"]:
        print(f"note: {note}", file=sys.stderr)
    confinement = summary["confinement"]
    if confinement and not (confinement.get("landlock") and confinement.get("seccomp")):
        print("warning: this system could not confine the sandboxes fully "
              f"({confinement}); student code could read files outside its folder.", file=sys.stderr)
    print(f"graded {summary['graded']} of {summary['students']} students "
          f"({summary['skipped']} already graded) in {summary['seconds']:.1f} s; grades: {summary['grades']}; "
          f"what the class got wrong: {out / 'report.html'}")
    return 0


def cmd_merge(args) -> int:
    from grader.classroom import grading

    lessons = [l.number for l in _lessons(args.lessons)] if args.lessons else None  # None: those graded
    try:
        path = grading.merge([Path(p) for p in args.shards], Path(args.out), lessons)
    except grading.MergeError as err:
        print(f"merge refused: {err}", file=sys.stderr)
        return 2
    print(f"merged {len(args.shards)} shard outputs; grades: {path}")
    return 0


def cmd_report(args) -> int:
    """Rebuild misconceptions.csv and report.html from a graded folder's records."""
    from grader.classroom import class_report, nbgrader_records

    out = Path(args.out)
    if not (out / "students").is_dir() and not nbgrader_records.is_course(out):
        print(f"There is no graded class in {out}: give the --out folder of `python -m grader grade` "
              "(it holds students/), or an nbgrader course that was autograded (it holds autograded/).",
              file=sys.stderr)
        return 2
    csv_path, html_path = class_report.write(out)
    print(f"what the class got wrong: {csv_path}; open {html_path} in a browser")
    return 0


def cmd_progress(args) -> int:
    lessons = _lessons(args.lessons)
    scores, run = progress.measure(args.target, lessons, _bounds(args))
    if not run.tests:
        print(run.output[-3000:])
        print("The lesson tests did not run; the output above says why.", file=sys.stderr)
        return 1
    current = None
    if args.target == "lessons":
        from grader.learner import status

        current = status.last_worked_on(lessons)
    print(progress.render(scores, args.target, current=current))
    return 0


LEARNER_COMMANDS = ("check", "watch", "hint", "solution", "plot", "reset", "status", "progress", "points", "init")
INSTRUCTOR_COMMANDS = ("stubs", "notebooks", "package", "devcheck", "grade-example", "grade", "merge", "report",
                       "gradescope")
HIDDEN_IN_STUDENT_PACKAGE = ("solution",)  # kept, so it can say why it has nothing to show there


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds, like 120 (0: no limit)")
    return seconds


def _size(text: str) -> str:
    try:
        size = limits.parse_size(text)
    except (ValueError, OverflowError):
        size = -1
    if size < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size: give bytes, or a number with K, M or G, "
                                         "like 8G (0: no limit)")
    return text


def _add_bounds(p: argparse.ArgumentParser) -> None:
    """The bounds on each test, as `pytest --time-limit SECONDS --memory-limit SIZE` takes them."""
    p.add_argument("--time-limit", type=_seconds, default=None, metavar="SECONDS",
                   help="stop a test after this many seconds (default 60, or JAX_LESSONS_TIME_LIMIT; 0: no limit)")
    p.add_argument("--memory-limit", type=_size, default=None, metavar="SIZE",
                   help="stop a test that holds more memory than this, e.g. 8G (default 4G, or "
                        "JAX_LESSONS_MEMORY_LIMIT; 0: no limit)")


def _bounds(args) -> list[str]:
    return runs.bound_args(args.time_limit, args.memory_limit)


def _target_help(student: bool) -> str:
    return ("lessons (yours) or a folder like lessons/" if student
            else "lessons (yours), solutions, or a folder like lessons/")


def _add_lesson_commands(sub, student: bool) -> None:
    """The commands about one lesson: check, watch, hint, solution, plot, reset."""
    p = sub.add_parser("check", help="run one lesson's tests and print its score and failing exercises")
    p.add_argument("lesson", help="lesson number, e.g. 3 or 03")
    p.add_argument("--target", default="lessons", help=_target_help(student))
    _add_bounds(p)
    p.set_defaults(func=cmd_check)
    p = sub.add_parser("watch", help="rerun a lesson's tests each time its file is saved, redrawn; on to the next lesson once it passes")
    p.add_argument("lesson", help="lesson number, e.g. 3 or 03")
    p.add_argument("--target", default="lessons", help=argparse.SUPPRESS)
    p.add_argument("--interval", type=float, default=0.5, help="seconds between looks at the file")
    p.add_argument("--max-runs", type=int, default=None, help="stop after this many runs")
    _add_bounds(p)
    p.set_defaults(func=cmd_watch)
    p = sub.add_parser("hint", help="the next hint for an exercise (the first unfinished one by default)")
    p.add_argument("lesson", help="lesson number, e.g. 3 or 03")
    p.add_argument("exercise", nargs="?", help="the exercise's name, e.g. td_loss")
    p.add_argument("--reset", action="store_true", help="start this lesson's hints again from level 1")
    p.set_defaults(func=cmd_hint)
    shown = {} if student else {"help": "the reference solution of a lesson, once your lesson passes"}
    p = sub.add_parser("solution", **shown)
    p.add_argument("lesson", help="lesson number, e.g. 3 or 03")
    p.add_argument("--target", default="lessons", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_solution)
    from grader.learner.plots import PLOTS

    p = sub.add_parser("plot", help=f"draw a lesson's pictures ({', '.join(PLOTS)}) as PNG files")
    p.add_argument("lesson", help=f"lesson number: one of {', '.join(PLOTS)}")
    p.add_argument("--out", default="plots", help="folder for the PNG files (default: plots/)")
    p.add_argument("--target", default="lessons", help=_target_help(student))
    p.set_defaults(func=cmd_plot)
    p = sub.add_parser("reset", help="put a lesson's stub back (your file is kept in lessons/NN/backups/)")
    p.add_argument("lesson", help="lesson number, e.g. 3 or 03")
    p.add_argument("--yes", action="store_true", help="don't ask first")
    p.set_defaults(func=cmd_reset)


def _add_course_commands(sub, student: bool) -> None:
    """The learner's commands about every lesson: status, progress, points, init."""
    p = sub.add_parser("status", help="points per lesson; reruns only lessons whose files changed")
    p.add_argument("--no-cache", action="store_true", help="run every lesson again")
    _add_bounds(p)
    p.set_defaults(func=cmd_status)
    p = sub.add_parser("progress", help="run every lesson's tests and print points per lesson")
    p.add_argument("lessons", nargs="*", help="lesson numbers (default: all)")
    p.add_argument("--target", default="lessons", help=_target_help(student))
    _add_bounds(p)
    p.set_defaults(func=cmd_progress)
    p = sub.add_parser("points", help="each lesson's total points, read from its tests")
    p.set_defaults(func=cmd_points)
    p = sub.add_parser("init", help="make a workspace of your own with every lesson, ready for pytest")
    p.add_argument("folder", help="a new folder, e.g. jax-lessons")
    p.set_defaults(func=cmd_init)


def _add_authoring_commands(sub) -> None:
    """The instructor's commands that make the kit's files: stubs, notebooks, package, devcheck."""
    p = sub.add_parser("stubs", help="regenerate lessons/NN/<topic>.py from solutions/ (or --check them)")
    p.add_argument("lessons", nargs="*", help="lesson numbers (default: all)")
    p.add_argument("--check", action="store_true", help="only report stubs that are out of date")
    p.set_defaults(func=cmd_stubs)
    p = sub.add_parser("notebooks", help="regenerate the nbgrader source notebooks (or --check them)")
    p.add_argument("lessons", nargs="*", help="lesson numbers (default: all)")
    p.add_argument("--check", action="store_true", help="only report notebooks that are out of date")
    p.set_defaults(func=cmd_notebooks)
    p = sub.add_parser("package", help="build the student package: a wheel with the lessons and checks, no answers")
    p.add_argument("--out", default="dist", help="folder for the wheel (default: dist/)")
    p.set_defaults(func=cmd_package)
    p = sub.add_parser("devcheck", help="prove lessons sound: reference passes, stub fails, mistakes caught")
    p.add_argument("lessons", nargs="*", help="lesson numbers (default: all)")
    p.add_argument("-v", "--verbose", action="store_true", help="print each run's output")
    p.add_argument("--charges", action="store_true",
                   help="also grade each planted mistake as the class grader does: no point beyond its public tests'")
    p.set_defaults(func=cmd_devcheck)


def _add_grading_commands(sub) -> None:
    """The instructor's commands that grade a class: grade-example, grade, merge, gradescope."""
    p = sub.add_parser("grade-example", help="grade the bundled example class and print its scores")
    p.add_argument("--lesson", default="01", help="the lesson to release and grade (default 01)")
    p.add_argument("--out", default=None, help="course folder to build (default: a new temporary folder)")
    p.add_argument("--nbgrader", action="store_true", help="also grade it with stock nbgrader, for comparison")
    p.set_defaults(func=cmd_grade_example)
    p = sub.add_parser("grade", help="grade a class: every submission sandboxed, verdicts decided outside it")
    p.add_argument("submissions", help="folder of ID/NN/<topic>.py submissions, or an nbgrader course (or its submitted/)")
    p.add_argument("--out", required=True, help="where grades.csv and students/<id>/ go (reruns skip graded students)")
    p.add_argument("--lessons", nargs="*", default=[], help="lesson numbers to grade (default: the lessons the submissions hold)")
    p.add_argument("--jobs", type=int, default=1, help="students graded at once (default 1)")
    p.add_argument("--shard", default="1/1", help="grade only shard i of n, e.g. 2/4 (merge the outputs after)")
    p.add_argument("--timeout", type=float, default=120.0, help="CPU seconds a lesson may use for one student (default 120; 4x that in wall-clock time)")
    p.add_argument("--memory", default="4G", help="memory cap of a sandbox (default 4G)")
    p.add_argument("--platform", default=None, help="cpu or cuda (default: JAX_PLATFORMS, else cpu)")
    p.add_argument("--secret", default=None, help="course secret for the hidden inputs (default: "
                   "JAX_LESSONS_SECRET, else OUT/secret.txt, made on the first run)")
    p.add_argument("--regrade", action="store_true", help="grade again students who already have results")
    p.add_argument("--gradebook", nargs="?", const="", default=None, metavar="COURSE",
                   help="also write the scores into an nbgrader course's gradebook.db (default: the course "
                        "the submissions came from)")
    p.add_argument("--keep-sandboxes", action="store_true", help="keep each sandbox's folder (for debugging)")
    p.add_argument("--compile-afresh", action="store_true",
                   help="every sandbox compiles everything itself, instead of reading by name the programs "
                        "the reference compiled (slower; the grades are the same)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_grade)
    p = sub.add_parser("merge", help="join the outputs of sharded grading runs into one grades.csv")
    p.add_argument("shards", nargs="+", help="the --out folders of the shards")
    p.add_argument("--out", required=True, help="folder for the merged students/ and grades.csv")
    p.add_argument("--lessons", nargs="*", default=[], help="lesson numbers (default: the lessons the shards graded)")
    p.set_defaults(func=cmd_merge)
    p = sub.add_parser("report", help="rebuild what the class got wrong (misconceptions.csv, report.html) from a graded folder")
    p.add_argument("out", help="the --out folder of a grading run, or an nbgrader course graded with nbgrader autograde")
    p.set_defaults(func=cmd_report)
    from grader.authoring import gradescope

    gradescope.add_parser(sub)


def build_parser(student: bool = False) -> argparse.ArgumentParser:
    """The command line; in the student package (``student``), only the commands that work there."""
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _add_lesson_commands(sub, student)
    _add_course_commands(sub, student)
    if not student:
        _add_authoring_commands(sub)
        _add_grading_commands(sub)
    hidden = HIDDEN_IN_STUDENT_PACKAGE if student else ()
    sub.metavar = "{" + ",".join(c for c in sub.choices if c not in hidden) + "}"
    return parser


def not_in_student_package(command: str) -> str:
    return (f"`{command}` is an instructor's command: it needs a clone of the kit, and this is the student "
            "package. `python -m grader --help` lists what works here.")


def main(argv: list[str] | None = None) -> int:
    from grader.authoring import student_package

    argv = sys.argv[1:] if argv is None else list(argv)
    student = student_package.is_installed()
    if student and argv and argv[0] in INSTRUCTOR_COMMANDS:
        print(not_in_student_package(argv[0]), file=sys.stderr)
        return 2
    args = build_parser(student).parse_args(argv)
    try:
        return args.func(args)
    except ValueError as err:
        print(err, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

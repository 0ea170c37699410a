"""The kit's command line: ``python -m grader <command>``."""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from grader import devcheck, points, progress, runs, stubs, targets


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
    for path in planted:
        missed = devcheck.uncaught(path, done[devcheck.planted_key(path)])
        print(f"{'ok ' if not missed else 'BAD'} planted {devcheck.planted_key(path)}"
              + (f": not caught by {missed}" if missed else ""))
        problems += bool(missed)
    if args.verbose:
        for key, run in done.items():
            print(f"--- {key}\n{run.output[-3000:]}")
    return 1 if problems else 0


def cmd_progress(args) -> int:
    lessons = _lessons(args.lessons)
    scores, run = progress.measure(args.target, lessons)
    if not run.tests:
        print(run.output[-3000:])
        print("The lesson tests did not run; the output above says why.", file=sys.stderr)
        return 1
    print(progress.render(scores, args.target))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("stubs", help="regenerate lessons/NN/<topic>.py from solutions/ (or --check them)")
    p.add_argument("lessons", nargs="*", help="lesson numbers (default: all)")
    p.add_argument("--check", action="store_true", help="only report stubs that are out of date")
    p.set_defaults(func=cmd_stubs)
    p = sub.add_parser("points", help="each lesson's total points, read from its tests")
    p.set_defaults(func=cmd_points)
    p = sub.add_parser("progress", help="run every lesson's tests and print points per lesson")
    p.add_argument("lessons", nargs="*", help="lesson numbers (default: all)")
    p.add_argument("--target", default="lessons", help="lessons (yours), solutions, or a folder like lessons/")
    p.set_defaults(func=cmd_progress)
    p = sub.add_parser("devcheck", help="prove lessons sound: reference passes, stub fails, mistakes caught")
    p.add_argument("lessons", nargs="*", help="lesson numbers (default: all)")
    p.add_argument("-v", "--verbose", action="store_true", help="print each run's output")
    p.set_defaults(func=cmd_devcheck)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ValueError as err:
        print(err, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

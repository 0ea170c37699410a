"""The program that runs one student's code: ``python -m grader.sandbox`` (its plan on stdin).

It confines itself first (``grader.confine``), then, for each lesson in the plan:
imports the student's module, runs every probe on that lesson's hidden inputs and saves the outputs
as plain arrays, and finally runs the lesson's public tests with pytest for the learner's feedback.
Each step is announced on ``stream.jsonl`` before it starts and after it ends, so the grader knows
which step a crash, an exit or a hang happened in, and can start a fresh process for the steps left.

Nothing this process writes is a verdict: the grader compares the saved outputs itself, and takes a
public test's pass only together with the probes of its exercise.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


class Stream:
    def __init__(self, path: Path):
        self.path = path

    def emit(self, **event) -> None:
        line = json.dumps(event)[:20_000] + "\n"
        with open(self.path, "a") as f:
            f.write(line)


def _run_probes(lesson, module, inputs, plan, stream, probes, wire, judge) -> None:
    out_dir = Path(plan["outputs"]) / lesson.number
    out_dir.mkdir(parents=True, exist_ok=True)
    for probe in probes.for_lesson(lesson.number).all:
        step = f"probe:{lesson.number}:{probe.name}"
        if step in plan["skip"]:
            continue
        stream.emit(ev="start", step=step, t=time.time())
        try:
            out = probe.run(module, **inputs[probe.name])
            wire.save(out_dir / f"{probe.name}.npz", out)
            stream.emit(ev="done", step=step, status="ok")
        except wire.WireError as err:
            stream.emit(ev="done", step=step, status="error", message=f"returned {err}")
        except BaseException as err:  # SystemExit and KeyboardInterrupt included: the student's call ended
            message = "called exit()" if isinstance(err, SystemExit) else judge.describe_error(err)
            stream.emit(ev="done", step=step, status="error", message=message)


def main() -> None:
    plan = json.loads(sys.stdin.read())  # the grader's plan: never a file the student could rewrite
    plan["skip"] = set(plan["skip"])
    stream = Stream(Path(plan["stream"]))
    from grader import confine

    limits = plan["confine"]
    applied = confine.apply(read=limits["read"], write=limits["write"], devices=limits["devices"],
                            memory_bytes=limits["memory"], file_bytes=limits["file"])
    stream.emit(ev="confined", **applied)

    from grader import jax_setup

    jax_setup.configure()
    from grader import judge, probes, targets, wire

    submission = Path(plan["submission"])
    test_files = []
    for number in plan["lessons"]:
        if f"lesson:{number}" in plan["skip"]:
            continue
        lesson = targets.find_lesson(number)
        step = f"import:{number}"
        announce = step not in plan["skip"]  # after a restart the module is imported again, silently
        if announce:
            stream.emit(ev="start", step=step, t=time.time())
        try:
            module = targets.load(lesson.module_in(submission))
        except targets.TargetError as err:
            if announce:
                stream.emit(ev="done", step=step, status="error", message=str(err)[:2000])
            module = None
        else:
            if announce:
                stream.emit(ev="done", step=step, status="ok")
        if module is not None:
            inputs = wire.load(Path(plan["inputs"]) / f"{number}.npz", keys="wrap")
            _run_probes(lesson, module, inputs, plan, stream, probes, wire, judge)
        test_files.append(str(lesson.test_file))

    if test_files:
        import pytest

        deselect = []
        for step in plan["skip"]:
            if step.startswith("test:"):
                _, number, name = step.split(":", 2)
                lesson = targets.find_lesson(number)
                deselect += ["--deselect", f"{lesson.test_file.relative_to(Path(plan['kit']))}::{name}"]
        pytest.main([*test_files, "--target", str(submission), "--stream", str(stream.path),
                     "-c", str(Path(plan["kit"]) / "pytest.ini"), "--rootdir", plan["kit"],
                     "-p", "no:cacheprovider", "-q", "--no-header", *deselect])
    stream.emit(ev="finished")
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()

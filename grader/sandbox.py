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


def run(plan: dict) -> None:
    """Everything a student's process does, from confinement to the last test; never returns."""
    plan["skip"] = set(plan["skip"])
    stream = Stream(Path(plan["stream"]))
    from grader import confine

    limits = plan["confine"]
    applied = confine.apply(read=limits["read"], write=limits["write"], devices=limits["devices"],
                            memory_bytes=limits["memory"], file_bytes=limits["file"], cpu_seconds=limits["cpu"])
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


# --- the fork server ---------------------------------------------------------------------------
# Importing JAX, Flax, optax, chex and pytest takes about a second; a class pays it once. The
# server imports them (it starts no JAX backend and no threads, and never imports student code),
# then forks one child per request: the child takes the request's environment and folder, then
# confines itself and runs exactly as a freshly started sandbox would.

PRELOAD = ("numpy", "jax", "jax.numpy", "flax.nnx", "optax", "chex", "pytest", "grader.pytest_plugin",
           "grader.judge", "grader.wire", "grader.confine")


def _child(request: dict) -> None:
    try:
        os.setsid()
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        null = os.open(os.devnull, os.O_RDWR)
        err = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(null, 0), os.dup2(null, 1), os.dup2(err, 2)
        os.closerange(3, 65536)
        sys.stdout = open(1, "w", closefd=False)
        sys.stderr = open(2, "w", closefd=False)
        import tempfile

        tempfile.tempdir = None  # TMPDIR changed
        run(request["plan"])
    finally:
        os._exit(70)


def serve(lessons: list[str]) -> None:
    """Read one JSON request a line on stdin; answer {"id", "pid"} at once and {"id", "exit"} later."""
    import importlib
    import select

    from grader import confine

    confine.die_with_parent()
    for name in PRELOAD:
        importlib.import_module(name)
    from grader import probes

    for number in lessons:
        probes.for_lesson(number)
    out = sys.stdout
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    children: dict[int, int] = {}
    buffer = b""
    while True:
        ready, _, _ = select.select([0], [], [], 0.05)
        if ready:
            chunk = os.read(0, 1 << 20)
            if not chunk:
                break
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                request = json.loads(line)
                pid = os.fork()
                if pid == 0:
                    _child(request)
                children[pid] = request["id"]
                out.write(json.dumps({"id": request["id"], "pid": pid}) + "\n")
                out.flush()
        while children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            out.write(json.dumps({"id": children.pop(pid), "exit": os.waitstatus_to_exitcode(status)}) + "\n")
            out.flush()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--server"]:
        serve(sys.argv[2:])
    else:
        run(json.loads(sys.stdin.read()))  # the grader's plan: never a file the student could rewrite

"""The program that runs one student's code, confined.

It is started by the fork server below (or, without one, as ``python -m grader.classroom.sandbox``
with its plan on stdin), with two file descriptors the grader made: the channel (``channel.FD``)
and stderr. It confines itself first (``grader.classroom.confine``), then, for each lesson in the
plan: imports the student's module, runs every probe on that lesson's hidden inputs and sends each
output through the channel, and finally runs the lesson's public tests with pytest. Each step is
announced on the channel before it starts and after it ends, so the grader knows which step a crash,
an exit or a hang happened in, and can start a fresh process for the steps left.

Nothing this process sends is a verdict: the grader compares the probes' outputs itself, keeps its
own clocks, and reads nothing from this process's folder.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

WORK_DIRS = ("home", "tmp", "cache")


def _run_probes(lesson, module, inputs, plan, stream, probes, wire, judge) -> None:
    for probe in probes.for_lesson(lesson.number).all:
        step = f"probe:{lesson.number}:{probe.name}"
        if step in plan["skip"]:
            continue
        stream.event(ev="start", step=step)
        try:
            out = probe.run(module, **inputs[probe.name])
            data = wire.dumps(out)
        except wire.WireError as err:
            stream.event(ev="done", step=step, status="error", message=f"returned {err}")
        except BaseException as err:  # SystemExit and KeyboardInterrupt included: the student's call ended
            message = "called exit()" if isinstance(err, SystemExit) else judge.describe_error(err)
            stream.event(ev="done", step=step, status="error", message=message)
        else:
            stream.event(data, ev="done", step=step, status="ok")


GPU_FLAG = "--xla_gpu_unsafe_fallback_to_driver_on_ptxas_not_found=true"


def _gpu_code_from_the_driver() -> None:
    """On a GPU, XLA turns the PTX it generates into GPU code with a library (libnvptxcompiler or
    libnvjitlink, in-process), else with ptxas and nvlink, which it runs as programs, else with the
    CUDA driver's own compiler if this flag allows it. The CUDA 12 plugin is built without both
    libraries, and this process may not start programs (seccomp; even ``ptxas --version`` fails, so
    XLA finds no ptxas), so the driver compiles, in-process."""
    platforms = os.environ.get("JAX_PLATFORMS", "").split(",")
    flags = os.environ.get("XLA_FLAGS", "")
    if ("cuda" in platforms or "gpu" in platforms) and "ptxas_not_found" not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} {GPU_FLAG}".strip()


def run(plan: dict) -> None:
    """Everything a student's process does, from confinement to the last test; never returns."""
    from grader.classroom import channel, confine

    plan["skip"] = set(plan["skip"])
    stream = channel.open_writer(channel.FD)
    limits = plan["confine"]
    applied = confine.apply(read=limits["read"], write=limits["write"], devices=limits["devices"],
                            memory_bytes=limits["memory"], file_bytes=limits["file"], cpu_seconds=limits["cpu"],
                            private_dir=limits.get("private_dir"), private_bytes=limits.get("private_bytes", 0),
                            cgroup=limits.get("cgroup"), threads=limits.get("threads", 1024),
                            read_by_name=limits.get("read_by_name", []))
    for name in WORK_DIRS:
        os.makedirs(os.path.join(plan["work"], name), exist_ok=True)
    if limits.get("read_by_name") and applied["landlock"] < 1:  # a shared cache only where it can't be listed
        os.environ.update(JAX_LESSONS_CACHE=os.path.join(plan["work"], "cache"), JAX_LESSONS_CACHE_WRITES="on")
    stream.event(ev="confined", **applied)
    _gpu_code_from_the_driver()

    from grader.learner import jax_setup

    jax_setup.configure()
    import jax

    jax.devices()  # the backend starts here, before any student code: a death now is never theirs
    from grader import probes
    from grader.learner import targets
    from grader.classroom import judge, wire

    submission = Path(plan["submission"])
    test_files = []
    for number in plan["lessons"]:
        if f"lesson:{number}" in plan["skip"]:
            continue
        lesson = targets.find_lesson(number)
        step = f"import:{number}"
        announce = step not in plan["skip"]  # after a restart the module is imported again, silently
        stream.event(ev="loading", lesson=number)
        if announce:
            stream.event(ev="start", step=step)
        try:
            module = targets.load(lesson.module_in(submission))
        except targets.TargetError as err:
            if announce:
                stream.event(ev="done", step=step, status="error", message=str(err)[:2000])
            module = None
        else:
            if announce:
                stream.event(ev="done", step=step, status="ok")
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
        pytest.main([*test_files, "--target", str(submission), "--stream",
                     "-c", str(Path(plan["kit"]) / "pytest.ini"), "--rootdir", plan["kit"],
                     "-p", "no:cacheprovider", "-q", "--no-header", *deselect])
    stream.event(ev="finished")
    sys.stdout.flush()
    os._exit(0)


def _enter(request: dict, channel_fd: int, stderr_fd: int) -> None:
    """In a new sandbox process: its own session, folder, environment and descriptors, then `run`."""
    from grader.classroom import channel

    try:
        os.setsid()
    except PermissionError:  # started by Popen in a session of its own already
        pass
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    null = os.open(os.devnull, os.O_RDWR)
    for fd, target in ((null, 0), (null, 1), (stderr_fd, 2), (channel_fd, channel.FD)):
        if fd != target:
            os.dup2(fd, target)
    os.closerange(channel.FD + 1, 65536)
    sys.stdout = open(1, "w", closefd=False)
    sys.stderr = open(2, "w", closefd=False)
    import tempfile

    tempfile.tempdir = None  # TMPDIR changed
    run(request["plan"])


# --- the fork server ---------------------------------------------------------------------------
# Importing JAX, Flax, optax, chex and pytest takes about a second; a class pays it once. The
# server imports them (it starts no JAX backend and no threads, and never imports student code),
# then forks one child per request: the child takes the request's environment, folder and the two
# pipe ends the grader sent with it, then confines itself and runs exactly as a fresh sandbox would.

PRELOAD = ("numpy", "jax", "jax.numpy", "flax.nnx", "optax", "chex", "pytest", "grader.pytest_plugin",
           "grader.classroom.judge", "grader.classroom.wire", "grader.classroom.confine",
           "grader.classroom.channel")
MAX_REQUEST = 1 << 20


def serve(sock_fd: int, lessons: list[str]) -> None:
    """Requests arrive on the socket `sock_fd` as one message each, a JSON request with two file
    descriptors attached (the channel's and stderr's writing ends); the server answers
    {"id", "pid"} at once and {"id", "exit"} when that sandbox ends."""
    import importlib
    import select
    import socket

    from grader.classroom import confine

    confine.die_with_parent()
    for name in PRELOAD:
        importlib.import_module(name)
    from grader import probes

    for number in lessons:
        probes.for_lesson(number)
    sock = socket.socket(fileno=sock_fd)
    sock.sendall(json.dumps({"ready": True}).encode())
    children: dict[int, int] = {}
    while True:
        ready, _, _ = select.select([sock], [], [], 0.05)
        if ready:
            message, fds, _, _ = socket.recv_fds(sock, MAX_REQUEST, 2)
            if not message:
                break
            request = json.loads(message)
            pid = os.fork()
            if pid == 0:
                try:
                    sock.close()
                    _enter(request, *fds)
                finally:
                    os._exit(70)
            for fd in fds:
                os.close(fd)
            children[pid] = request["id"]
            sock.sendall(json.dumps({"id": request["id"], "pid": pid}).encode())
        while children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            sock.sendall(json.dumps({"id": children.pop(pid), "exit": os.waitstatus_to_exitcode(status)}).encode())


if __name__ == "__main__":
    if sys.argv[1:2] == ["--server"]:
        serve(int(sys.argv[2]), sys.argv[3:])
    else:  # started directly: the plan on stdin, the channel and stderr at the numbers it gives
        request = json.loads(sys.stdin.read())
        _enter(request, request["channel_fd"], request["stderr_fd"])

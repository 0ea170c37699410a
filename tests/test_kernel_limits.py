"""Limits the kernel enforces on a sandbox: its own cgroup (memory that an address-space limit does
not see, threads), the address-space and task limits that stand in where no cgroup can be made, the
System V memory and memfds that seccomp refuses, and the CUDA plugin under the default --memory."""
import csv
import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from grader import KIT_ROOT
from grader.learner import points, targets
from grader.classroom import cgroups, confine

LINUX = sys.platform == "linux"


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:  # its parent package is missing
        return False


CUDA_PLUGIN = _installed("jax_plugins.xla_cuda12")
needs_cgroups = pytest.mark.skipif(
    not LINUX or cgroups.place() is None,
    reason=f"no cgroup can be made here ({cgroups.unavailable_reason()}); the grader uses address-space limits")
needs_seccomp = pytest.mark.skipif(
    not LINUX or os.uname().machine not in ("x86_64", "aarch64"), reason="seccomp filters are built for Linux x86_64 and aarch64")


def _joining(handle: cgroups.Handle | None) -> str:
    """The first lines of a child's code: join `handle`'s cgroup as a sandbox does (none: nothing)."""
    if handle is None:
        return ""
    return (f"from grader.classroom import confine\n"
            f"assert confine.join_cgroup({handle.procs_files()!r}) == {sorted(handle.dirs)!r}\n")


def _child(code: str, handle: cgroups.Handle | None = None) -> subprocess.CompletedProcess:
    """Run `code` in a fresh Python that first joins `handle`'s cgroup as a sandbox does."""
    return subprocess.run([sys.executable, "-c", _joining(handle) + textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120, cwd=KIT_ROOT)


@needs_cgroups
def test_a_cgroup_counts_memory_held_in_memfds_and_its_oom_kill_is_evidence():
    handle = cgroups.create(64 << 20, pids=64)
    try:
        described = handle.describe()
        assert described["version"] in (1, 2)
        assert described.get("memory") == (64 << 20 if "memory" in handle.dirs else None)
        assert described.get("pids") == (64 if "pids" in handle.dirs else None)
        proc = _child("""
            import os
            held = []
            for n in range(16):  # 256 MiB in memfds, written and kept open: no mapping to count
                fd = os.memfd_create(f"m{n}")
                for _ in range(16):
                    os.write(fd, b"1" * (1 << 20))
                held.append(fd)
            print("survived")
        """, handle)
        if "memory" in handle.dirs:
            assert proc.returncode == -9 and "survived" not in proc.stdout, proc.stdout + proc.stderr
            assert cgroups.oom_killed(handle)
        assert not cgroups.pids_exhausted(handle)
    finally:
        assert cgroups.remove(handle)
    assert not any(os.path.exists(path) for path in handle.dirs.values())


def _holding(code: str, handle: cgroups.Handle) -> bool:
    """Whether `handle` reads as full of memory while a child that ran `code` in it still lives."""
    proc = subprocess.Popen([sys.executable, "-c", _joining(handle) + textwrap.dedent(code) + "\nprint('ready', flush=True)\n"
                             "import time; time.sleep(60)"], stdout=subprocess.PIPE, text=True, cwd=KIT_ROOT)
    try:
        assert proc.stdout.readline().strip() == "ready"
        return cgroups.memory_full(handle)
    finally:
        proc.kill()
        proc.wait()


@needs_cgroups
@pytest.mark.parametrize("code, full", [
    # most of the limit held in written pages, then page cache pushed against the limit: full
    ("held = bytearray(200 << 20)\nheld[::4096] = b'1' * len(held[::4096])\n"
     "import tempfile\nwith tempfile.TemporaryFile(dir='.') as f:\n    [f.write(b'1' * (1 << 20)) for _ in range(96)]", True),
    # the same memory held, the limit never reached: not full
    ("held = bytearray(200 << 20)\nheld[::4096] = b'1' * len(held[::4096])", False),
    # the limit reached by page cache alone, which reclaim frees: not full
    ("import tempfile\nwith tempfile.TemporaryFile(dir='.') as f:\n    [f.write(b'1' * (1 << 20)) for _ in range(400)]", False),
])
def test_a_cgroup_reads_full_only_when_it_reached_its_limit_holding_memory_no_reclaim_frees(code, full):
    """The evidence behind "ran out of memory" for a process the grader's clock stopped."""
    handle = cgroups.create(224 << 20, pids=64)
    try:
        if "memory" not in handle.dirs:
            pytest.skip("no memory controller here")
        assert _holding(code, handle) == full
    finally:
        assert cgroups.remove(handle)


@needs_cgroups
def test_a_cgroup_bounds_threads_and_says_so():
    handle = cgroups.create(1 << 30, pids=32)
    try:
        proc = _child("""
            import threading, time
            started = 0
            try:
                for _ in range(200):
                    threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
                    started += 1
            except RuntimeError:
                pass
            print(started)
        """, handle)
        if "pids" in handle.dirs:
            assert proc.returncode == 0 and int(proc.stdout) < 32, proc.stdout + proc.stderr
            assert cgroups.pids_exhausted(handle) and not cgroups.oom_killed(handle)
            assert cgroups.peak(handle).get("pids", 32) <= 32
    finally:
        assert cgroups.remove(handle)


@needs_cgroups
def test_the_grader_moves_a_process_in_checks_it_and_kills_what_is_left():
    handle = cgroups.create(256 << 20)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert cgroups.adopt(handle, sleeper.pid) and cgroups.contains(handle, sleeper.pid)
        assert cgroups.remove(handle)
        assert sleeper.wait(timeout=10) == -9
    finally:
        sleeper.kill()
        cgroups.remove(handle)


def test_cgroups_can_be_turned_off_and_the_record_says_why(monkeypatch):
    monkeypatch.setenv(cgroups.SWITCH, "off")
    cgroups._place.cache_clear()
    try:
        assert cgroups.place() is None and cgroups.create(1 << 30) is None
        assert cgroups.SWITCH in cgroups.unavailable_reason()
    finally:
        monkeypatch.delenv(cgroups.SWITCH)
        cgroups._place.cache_clear()
    assert not cgroups.oom_killed(None) and not cgroups.pids_exhausted(None) and cgroups.remove(None)


def test_the_fallback_address_space_leaves_room_for_jax_and_the_cuda_plugin():
    memory = 4 << 30
    on_cpu = confine.fallback_address_space(memory, "cpu")
    assert on_cpu >= memory + confine._accelerator_library_bytes() + confine.RESERVED_BASE
    assert confine.fallback_address_space(memory, "cuda,cpu") is None  # CUDA reserves address space by the GPU's size
    if CUDA_PLUGIN:
        assert confine._accelerator_library_bytes() > 1 << 30


@needs_seccomp
@pytest.mark.parametrize("memfd", [True, False])
def test_seccomp_refuses_ipc_that_outlives_the_sandbox_and_memfds_where_no_cgroup_counts_them(memfd):
    proc = _child(f"""
        import ctypes, os
        from grader.classroom import confine
        assert confine.seccomp(memfd={memfd})
        libc = ctypes.CDLL(None, use_errno=True)
        print("shm", libc.shmget(0, 1 << 20, 0o1600), ctypes.get_errno())
        libc.mq_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_uint, ctypes.c_void_p]
        print("mq", libc.mq_open(b"/jax-lessons-test", 0o100 | 2, 0o600, None), ctypes.get_errno())
        try:
            os.close(os.memfd_create("x"))
            print("memfd allowed")
        except PermissionError:
            print("memfd refused")
    """)
    assert proc.returncode == 0, proc.stderr
    assert "shm -1 1" in proc.stdout and "mq -1 1" in proc.stdout  # EPERM
    assert ("memfd allowed" if memfd else "memfd refused") in proc.stdout


def _grade_reference(tmp_path: Path, env: dict) -> tuple[int, dict]:
    lesson = targets.find_lesson("01")
    module = lesson.module_in(tmp_path / "class" / "reference")
    module.parent.mkdir(parents=True)
    module.write_text(lesson.solution_file.read_text())
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "grader", "grade", str(tmp_path / "class"), "--out", str(out),
                           "--lessons", "01", "--secret", "kit-tests", "-q"], capture_output=True, text=True,
                          timeout=600, cwd=KIT_ROOT, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(out / "grades.csv") as f:
        earned = int(next(csv.DictReader(f))["total"])
    record = json.loads(next((out / "students").glob("*/result.json")).read_text())
    return earned, record


@pytest.mark.skipif(not CUDA_PLUGIN, reason="the CUDA plugin (the kit's cuda12 extra, module jax_plugins.xla_cuda12) is not installed")
@pytest.mark.skipif(not LINUX, reason="the sandbox's limits are Linux's")
@pytest.mark.parametrize("kernel_limits", ["cgroups", "address space"])
def test_with_the_cuda_plugin_installed_the_reference_gets_full_marks_at_default_settings(tmp_path, kernel_limits):
    """The plugin maps several GiB of NVIDIA libraries when JAX starts, even on the CPU: under an
    address-space limit of --memory (4G by default) every sandbox aborted with std::bad_alloc."""
    env = dict(os.environ)
    if kernel_limits == "address space":
        env[cgroups.SWITCH] = "off"
    earned, record = _grade_reference(tmp_path, env)
    assert earned == sum(points.exercise_points(targets.find_lesson("01")).values()), record["lessons"]
    confinement = record["confinement"]
    if "version" in confinement["cgroup"]:
        assert confinement["address_space"] is None
    else:
        assert confinement["address_space"] > 4 << 30


def test_on_a_gpu_the_sandbox_has_the_cuda_driver_compile_what_ptxas_would(monkeypatch):
    """The sandbox may not start ptxas, and the CUDA 12 plugin has no in-process PTX compiler of its
    own, so on a GPU XLA must be allowed to use the driver's; the flag must be one the installed
    jaxlib knows (an unknown flag in XLA_FLAGS aborts the process)."""
    from grader.classroom import sandbox

    for platforms, wanted in (("cuda,cpu", True), ("cpu", False)):
        monkeypatch.setenv("JAX_PLATFORMS", platforms)
        monkeypatch.setenv("XLA_FLAGS", "--xla_backend_optimization_level=0")
        sandbox._gpu_code_from_the_driver()
        assert (sandbox.GPU_FLAG in os.environ["XLA_FLAGS"]) == wanted
        assert "--xla_backend_optimization_level=0" in os.environ["XLA_FLAGS"]
    env = dict(os.environ, JAX_PLATFORMS="cpu", XLA_FLAGS=sandbox.GPU_FLAG)
    proc = subprocess.run([sys.executable, "-c", "import jax.numpy as jnp; print(float(jnp.ones(3).sum()))"],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0 and proc.stdout.strip() == "3.0", proc.stderr[-2000:]

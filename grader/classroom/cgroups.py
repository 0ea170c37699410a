"""Limits the kernel enforces on one sandbox process: a cgroup of its own (the grader's side).

Address-space limits (``RLIMIT_AS``) miss memory a process holds outside its mappings (a memfd or
a tmpfs file it wrote and closed, shared memory) and count reservations it never uses (the CUDA
plugin maps gigabytes of libraries; every thread reserves its stack and a malloc arena); root is
not held by ``RLIMIT_NPROC``. A cgroup counts what the process really holds, whatever holds it
(anonymous memory, shmem, memfd and tmpfs pages, page cache, kernel memory), and its pids limit
counts threads. So where the grader may make cgroups, each sandbox process gets one:

- ``memory``: ``--memory``, without swap (v2 ``memory.max`` and ``memory.swap.max`` 0; v1
  ``memory.limit_in_bytes`` and ``memory.memsw.limit_in_bytes`` where swap is accounted). Past it
  the kernel's OOM killer ends the process, and the cgroup's OOM count is the grader's evidence;
- ``pids``: ``PIDS_MAX`` processes and threads (the sandbox may not fork, so these are threads).

It prefers cgroup v2 where ``memory`` and ``pids`` can be enabled under the grader's own cgroup,
else the v1 ``memory`` and ``pids`` hierarchies, each under the grader's own cgroup there; a
controller it can't use is left out, and ``create`` returns None where it can use neither (not
root, a read-only ``/sys/fs/cgroup``, no controllers). The sandbox joins its cgroup itself, as the
first step of its confinement (``grader.classroom.confine.join_cgroup``, with the paths in its
plan), and the grader moves it there too once it knows its pid, then checks in ``/proc`` that it
is there. After the process ends, ``remove`` kills what is left in the cgroup and removes it.
"""
from __future__ import annotations

import functools
import itertools
import os
import re
import signal
import sys
import threading
import time
from dataclasses import dataclass

# A sandbox running lesson 07 or 11 peaks at 32 threads on a 2-core machine, the CUDA plugin
# installed or not; XLA's pools grow with the cores, so the limit does too, far above that.
PIDS_MAX = max(1024, 16 * (os.cpu_count() or 1))
PREFIX = "jax-lessons-"
SWITCH = "JAX_LESSONS_CGROUPS"  # "off": address-space limits only, as where no cgroup can be made
CONTROLLERS = ("memory", "pids")
_counter = itertools.count(1)
_finding = threading.Lock()  # graders of several students at once find the place once


@dataclass(frozen=True)
class Place:
    """Where new cgroups go: a directory per controller (the same one for both on v2)."""
    version: int
    parents: dict[str, str]


@dataclass
class Handle:
    """One sandbox process's cgroup: a directory per controller, and the limits written there."""
    version: int
    dirs: dict[str, str]
    memory: int
    pids: int

    def procs_files(self) -> dict[str, str]:
        """What the sandbox writes its pid ("0", itself) into: one file per distinct directory."""
        return {name: os.path.join(path, "cgroup.procs") for name, path in self.dirs.items()}

    def describe(self) -> dict:
        """The limits the kernel enforces, for the confinement record."""
        record = {"version": self.version}
        if "memory" in self.dirs:
            record.update(memory=self.memory, swap=0)
        if "pids" in self.dirs:
            record["pids"] = self.pids
        return record


# --- where cgroups can be made -----------------------------------------------------------------

def _unescape(path: str) -> str:
    """mountinfo writes a space as \\040 (and a tab, a newline and a backslash the same way)."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), path)


def _mounts() -> list[tuple[str, str, str, set[str]]]:
    """(mount point, mount root, fs type, super options) of every cgroup file system seen here."""
    found = []
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                left, _, right = line.partition(" - ")
                fields, tail = left.split(), right.split()
                if len(fields) >= 5 and len(tail) >= 3 and tail[0] in ("cgroup", "cgroup2"):
                    found.append((_unescape(fields[4]), _unescape(fields[3]), tail[0], set(tail[2].split(","))))
    except OSError:
        pass
    return found


def _own_cgroups() -> dict[str, str]:
    """This process's cgroup path per v1 controller, and under "" its v2 path."""
    own = {}
    try:
        with open("/proc/self/cgroup") as f:
            for line in f:
                parts = line.rstrip("\n").split(":", 2)
                if len(parts) == 3:
                    for name in parts[1].split(",") if parts[1] else [""]:
                        own[name] = parts[2]
    except OSError:
        pass
    return own


def _under(mount_point: str, mount_root: str, path: str) -> str | None:
    """`path` (as /proc/self/cgroup names it) in the file system, where the mount shows it."""
    root = mount_root.rstrip("/")
    if path != root and not path.startswith(root + "/"):
        return None
    return os.path.join(mount_point, path[len(root):].lstrip("/"))


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def _write(path: str, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


def _v2_place(mounts, own) -> Place | None:
    """v2, where memory and pids are (or can be) handed down from the grader's own cgroup."""
    if "" not in own:
        return None
    for point, root, kind, _ in mounts:
        if kind != "cgroup2":
            continue
        parent = _under(point, root, own[""])
        if parent is None or not os.path.isdir(parent):
            continue
        available = set(_read(os.path.join(parent, "cgroup.controllers")).split())
        if not set(CONTROLLERS) <= available:
            continue
        enabled = set(_read(os.path.join(parent, "cgroup.subtree_control")).split())
        try:
            if not set(CONTROLLERS) <= enabled:  # fails (EBUSY) where processes sit in a non-root cgroup
                _write(os.path.join(parent, "cgroup.subtree_control"), " ".join(f"+{c}" for c in CONTROLLERS))
        except OSError:
            continue
        return Place(2, {c: parent for c in CONTROLLERS})
    return None


def _v1_place(mounts, own) -> Place | None:
    parents = {}
    for controller in CONTROLLERS:
        for point, root, kind, options in mounts:
            if kind == "cgroup" and controller in options and controller in own:
                parent = _under(point, root, own[controller])
                if parent and os.path.isdir(parent) and os.access(parent, os.W_OK):
                    parents[controller] = parent
                    break
    return Place(1, parents) if parents else None


def _works(place: Place) -> Place | None:
    """The place, less the controllers where a trial cgroup can't be made and limited."""
    usable = {}
    for controller, parent in place.parents.items():
        trial = os.path.join(parent, f"{PREFIX}{os.getpid()}-trial")
        try:
            os.mkdir(trial)
        except FileExistsError:
            pass
        except OSError:
            continue
        try:
            _limit(place.version, controller, trial, 1 << 30, PIDS_MAX)
            usable[controller] = parent
        except OSError:
            pass
        finally:
            _rmdir(trial)
    return Place(place.version, usable) if usable else None


def place() -> Place | None:
    """Where this grader makes its sandboxes' cgroups, found once; None where it can't."""
    with _finding:
        return _place()


@functools.lru_cache(maxsize=1)
def _place() -> Place | None:
    if sys.platform != "linux" or os.environ.get(SWITCH, "").lower() in ("0", "off", "no"):
        return None
    mounts, own = _mounts(), _own_cgroups()
    for find in (_v2_place, _v1_place):
        found = find(mounts, own)
        found = _works(found) if found else None
        if found:
            _sweep(found)
            return found
    return None


def unavailable_reason() -> str:
    if sys.platform != "linux":
        return "no cgroups on this system"
    if os.environ.get(SWITCH, "").lower() in ("0", "off", "no"):
        return f"turned off ({SWITCH}={os.environ[SWITCH]})"
    if os.geteuid() != 0:
        return "not root, and no cgroup with memory and pids controllers delegated to this user"
    return "no cgroup memory or pids controller that this process may use"


# --- one sandbox's cgroup ------------------------------------------------------------------------

def _limit(version: int, controller: str, path: str, memory: int, pids: int) -> None:
    if controller == "pids":
        _write(os.path.join(path, "pids.max"), str(pids))
    elif version == 2:
        _write(os.path.join(path, "memory.max"), str(memory))
        _optional(os.path.join(path, "memory.swap.max"), "0")
        _optional(os.path.join(path, "memory.oom.group"), "1")
    else:
        _write(os.path.join(path, "memory.limit_in_bytes"), str(memory))
        _optional(os.path.join(path, "memory.memsw.limit_in_bytes"), str(memory))  # memory + swap: no swap
        _optional(os.path.join(path, "memory.swappiness"), "0")


def _optional(path: str, value: str) -> None:
    """A setting that only some kernels have (swap accounting, group OOM kills)."""
    if os.path.exists(path):
        try:
            _write(path, value)
        except OSError:
            pass


def create(memory: int, pids: int = PIDS_MAX) -> Handle | None:
    """A fresh cgroup holding `memory` bytes and `pids` tasks; None where none can be made."""
    where = place()
    if where is None:
        return None
    name = f"{PREFIX}{os.getpid()}-{next(_counter)}"
    handle = Handle(where.version, {}, memory, pids)
    made = set()
    try:
        for controller, parent in where.parents.items():
            path = os.path.join(parent, name)
            if path not in made:
                os.mkdir(path)
                made.add(path)
            _limit(where.version, controller, path, memory, pids)
            handle.dirs[controller] = path
    except OSError:
        remove(handle)
        for path in made:
            _rmdir(path)
        return None
    return handle


def adopt(handle: Handle | None, pid: int | None) -> bool:
    """Move process `pid` into the cgroup from here (the process also joins it itself, before any
    student code runs), then check in /proc that the kernel has it there: True when it does."""
    if handle is None or pid is None:
        return False
    for path in set(handle.procs_files().values()):
        try:
            _write(path, str(int(pid)))
        except OSError:
            pass
    return contains(handle, pid)


def contains(handle: Handle, pid: int) -> bool:
    """Whether the kernel lists process `pid` in every controller's directory of `handle`."""
    listed = set(_read(f"/proc/{int(pid)}/cgroup").splitlines())
    if not listed:
        return False
    for controller, path in handle.dirs.items():
        name = os.path.basename(path)
        if not any(line.rsplit("/", 1)[-1] == name and (handle.version == 2 or controller in line.split(":")[1].split(","))
                   for line in listed):
            return False
    return True


def oom_killed(handle: Handle | None) -> bool:
    """Whether the kernel's OOM killer ended a process of this cgroup because the cgroup reached
    its own memory limit (not because the whole machine ran out): the grader's own evidence of
    "ran out of memory"."""
    if handle is None or "memory" not in handle.dirs:
        return False
    path = handle.dirs["memory"]
    if handle.version == 2:
        events = _read(os.path.join(path, "memory.events"))
        return _field(events, "oom_kill") > 0 and (_field(events, "oom") > 0 or _reached_limit(handle))
    control = _read(os.path.join(path, "memory.oom_control"))
    if "oom_kill " in control:
        return _reached_limit(handle) and _field(control, "oom_kill") > 0
    return _reached_limit(handle) and _field(control, "under_oom") > 0  # kernels before 4.13 count no kills


def memory_full(handle: Handle | None) -> bool:
    """Whether the cgroup has run into its memory limit and now holds, in memory no reclaim can free
    (anonymous and shared pages, there being no swap), all but an eighth of it: a process stopped by a
    clock in that state was spending its time asking for memory it may not have."""
    if handle is None or "memory" not in handle.dirs:
        return False
    return _reached_limit(handle) and held(handle) >= handle.memory - (handle.memory >> 3)


def held(handle: Handle | None) -> int:
    """Bytes the cgroup holds in memory no reclaim can free (anonymous and shared pages); 0 where
    there is no memory controller to ask."""
    if handle is None or "memory" not in handle.dirs:
        return 0
    stat = _read(os.path.join(handle.dirs["memory"], "memory.stat"))
    return _field(stat, "anon" if handle.version == 2 else "rss") + _field(stat, "shmem")


def _reached_limit(handle: Handle) -> bool:
    """Whether the cgroup's memory ever pressed against its limit (v2 counts it in memory.events;
    v1 in failcnt, which recent kernels leave at 0, so also a peak within 1/64 of the limit)."""
    path = handle.dirs["memory"]
    if handle.version == 2:
        return _field(_read(os.path.join(path, "memory.events")), "max") > 0
    peak = _number(_read(os.path.join(path, "memory.max_usage_in_bytes")))
    return _number(_read(os.path.join(path, "memory.failcnt"))) > 0 or peak >= handle.memory - (handle.memory >> 6)


def process_count(handle: Handle | None) -> int:
    """How many processes the cgroup holds now (0 where there is no cgroup to ask)."""
    if handle is None or "memory" not in handle.dirs:
        return 0
    return len(_read(os.path.join(handle.dirs["memory"], "cgroup.procs")).split())


def pids_exhausted(handle: Handle | None) -> bool:
    """Whether the process tried to start a thread past the cgroup's pids limit."""
    if handle is None or "pids" not in handle.dirs:
        return False
    return _field(_read(os.path.join(handle.dirs["pids"], "pids.events")), "max") > 0


def peak(handle: Handle) -> dict[str, int]:
    """The most memory and tasks the cgroup held, where the kernel keeps those counts."""
    files = {"memory": ("memory.peak" if handle.version == 2 else "memory.max_usage_in_bytes"), "pids": "pids.peak"}
    found = {}
    for controller, name in files.items():
        if controller in handle.dirs:
            text = _read(os.path.join(handle.dirs[controller], name))
            if text.strip().isdigit():
                found[controller] = int(text)
    return found


def _field(text: str, key: str) -> int:
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == key:
            return _number(parts[1])
    return 0


def _number(text: str) -> int:
    text = text.strip()
    return int(text) if text.isdigit() else 0


def remove(handle: Handle | None, wait: float = 5.0) -> bool:
    """Kill whatever is left in the cgroup, then remove it; True once it is gone."""
    if handle is None:
        return True
    end = time.monotonic() + wait
    for path in set(handle.dirs.values()):
        _kill_members(path)
        while not _rmdir(path) and time.monotonic() < end:
            _kill_members(path)
            time.sleep(0.02)
    return not any(os.path.isdir(p) for p in handle.dirs.values())


def _kill_members(path: str) -> None:
    try:
        _write(os.path.join(path, "cgroup.kill"), "1")  # v2, Linux 5.14+: every member at once
        return
    except OSError:
        pass
    for line in _read(os.path.join(path, "cgroup.procs")).split():
        try:
            os.kill(int(line), signal.SIGKILL)
        except (OSError, ValueError):
            continue


def _rmdir(path: str) -> bool:
    try:
        os.rmdir(path)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return True


def _sweep(where: Place) -> None:
    """Remove the empty cgroups an earlier grader left (it was killed before removing them)."""
    for parent in set(where.parents.values()):
        try:
            names = [n for n in os.listdir(parent) if n.startswith(PREFIX)]
        except OSError:
            continue
        for name in names:
            owner = name[len(PREFIX):].split("-", 1)[0]
            if owner.isdigit() and int(owner) != os.getpid() and not os.path.exists(f"/proc/{owner}"):
                _rmdir(os.path.join(parent, name))

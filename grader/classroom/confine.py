"""Confinement a sandboxed process puts on itself before any student code runs (Linux).

- Landlock (kernel 5.13+): the process may read only the folders it needs (Python, its packages,
  the staged kit without the solutions) and write only its own working folder; no TCP at all; and
  (ABI 6+) no signals to processes outside its sandbox.
- seccomp: no new processes (threads only), no exec, no ptrace, no raising its own limits, no
  signals to other processes, no System V IPC or POSIX message queues; no memfds where no cgroup counts their pages.
- a cgroup of its own, where the grader could make one (``grader.classroom.cgroups``): joined
  before anything else, it bounds the memory the process holds, shmem, memfd and tmpfs pages
  included, and its threads;
- rlimits: size of any file written, CPU seconds, open files, core dumps; address space only where
  no cgroup holds the memory (see ``fallback_address_space``); and death with the parent process.
- As root: the working folder becomes a private tmpfs of a fixed size (in a mount namespace of its
  own, so the grader's view of the folder never changes), and every capability is dropped, so the
  process keeps uid 0 but none of its powers (no device nodes, raw sockets, mounts, reading files
  by overriding their permissions); Landlock still decides which files it may open at all.

Each piece is applied when the kernel offers it; ``apply`` returns which ones took effect, and the
grader records that with every result. Landlock and seccomp do not exempt root, and seccomp keeps
the process from raising its limits back.
"""
from __future__ import annotations

import ctypes
import os
import platform
import resource
import signal
import struct
import sys

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_libc.prctl.restype = ctypes.c_int

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2

# Landlock
_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446
_VERSION = 1
_RULE_PATH_BENEATH = 1
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1, 2, 4, 8
MAKE_CHAR, MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM = 1 << 6, 1 << 9, 1 << 10, 1 << 11, 1 << 12
_NO_SPECIAL_FILES = ~(MAKE_CHAR | MAKE_SOCK | MAKE_FIFO | MAKE_BLOCK | MAKE_SYM)
_FILE_ONLY = EXECUTE | WRITE_FILE | READ_FILE | (1 << 14) | (1 << 15)
READ = EXECUTE | READ_FILE | READ_DIR


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi() -> int:
    if sys.platform != "linux":
        return 0
    version = _libc.syscall(_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_VERSION))
    return max(int(version), 0)


def _fs_access(abi: int) -> int:
    access = (1 << 13) - 1
    if abi >= 2:
        access |= 1 << 13  # REFER
    if abi >= 3:
        access |= 1 << 14  # TRUNCATE
    if abi >= 5:
        access |= 1 << 15  # IOCTL_DEV
    return access


def landlock(read: list[str], write: list[str], devices: list[str], read_by_name: list[str] = ()) -> int:
    """Restrict this process (and what it starts) to the given paths; returns the ABI used, 0 if none.
    Beneath a folder in `read_by_name` the process may open a file it can name, but never list a
    folder: what it finds there is only what it already knew to ask for."""
    abi = landlock_abi()
    if abi < 1:
        return 0
    handled = _fs_access(abi)
    attr = struct.pack("<Q", handled)
    if abi >= 4:
        attr += struct.pack("<Q", 1 | 2)  # no TCP bind or connect
    if abi >= 6:
        attr += struct.pack("<Q", 1 | 2)  # scoped: abstract unix sockets, signals
    buf = ctypes.create_string_buffer(attr, len(attr))
    fd = _libc.syscall(_CREATE_RULESET, buf, ctypes.c_size_t(len(attr)), ctypes.c_uint32(0))
    if fd < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    try:
        for paths, access in ((read, READ & handled), (write, handled & _NO_SPECIAL_FILES),
                              (devices, _FILE_ONLY & handled), (read_by_name, READ_FILE & handled)):
            for path in _existing(paths):
                _add_rule(fd, path, access)
        if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(NO_NEW_PRIVS) failed")
        if _libc.syscall(_RESTRICT_SELF, ctypes.c_int(fd), ctypes.c_uint32(0)) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(fd)
    return abi


def _existing(paths):
    seen = set()
    for path in paths:
        for p in (path, os.path.realpath(path)):
            if p not in seen and os.path.exists(p):
                seen.add(p)
                yield p


def _add_rule(fd: int, path: str, access: int) -> None:
    flags = os.O_PATH | getattr(os, "O_CLOEXEC", 0)
    parent = os.open(path, flags)
    try:
        if not os.path.isdir(path):
            access &= _FILE_ONLY
        rule = _PathBeneath(access, parent)
        if _libc.syscall(_ADD_RULE, ctypes.c_int(fd), ctypes.c_int(_RULE_PATH_BENEATH),
                         ctypes.byref(rule), ctypes.c_uint32(0)) != 0:
            raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
    finally:
        os.close(parent)


# seccomp
_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
_SYSCALLS = {
    "x86_64": dict(fork=57, vfork=58, clone=56, clone3=435, execve=59, execveat=322, ptrace=101,
                   kill=62, tkill=200, tgkill=234, setrlimit=160, prlimit64=302, process_vm_readv=310,
                   process_vm_writev=311, kcmp=312, pidfd_open=434, pidfd_getfd=438, mknod=133, mknodat=259,
                   unshare=272, setns=308, mount=165, chroot=161, shmget=29, semget=64, msgget=68,
                   mq_open=240, memfd_create=319, memfd_secret=447),
    "aarch64": dict(clone=220, clone3=435, execve=221, execveat=281, ptrace=117,
                    kill=129, tkill=130, tgkill=131, setrlimit=164, prlimit64=261, process_vm_readv=270,
                    process_vm_writev=271, kcmp=272, pidfd_open=434, pidfd_getfd=438, mknodat=33,
                    unshare=97, setns=268, mount=40, chroot=51, shmget=194, semget=190, msgget=186,
                    mq_open=180, memfd_create=279, memfd_secret=447),
}
# Other processes' memory and descriptors, device nodes, namespaces and mounts: never needed here
_DENIED = ("fork", "vfork", "execve", "execveat", "ptrace", "tkill", "setrlimit", "process_vm_readv",
           "process_vm_writev", "kcmp", "pidfd_open", "pidfd_getfd", "mknod", "mknodat", "unshare", "setns",
           "mount", "chroot", "shmget", "semget", "msgget", "mq_open")
# System V shared memory, semaphores and message queues, and POSIX message queues, outlive the
# process that made them and the cgroup it ran in: no limit would hold what a sandbox left there,
# and the next student's process could read it. memfd_create is refused only where
# no cgroup counts the memory a memfd holds (an address-space limit does not see it).
_DENIED_WITHOUT_CGROUP = ("memfd_create", "memfd_secret")
_LD_ABS, _JEQ, _JSET, _RET = 0x20, 0x15, 0x45, 0x06
_ALLOW, _KILL = 0x7FFF0000, 0x80000000
_EPERM, _ENOSYS = 0x00050000 | 1, 0x00050000 | 38
CLONE_THREAD = 0x00010000


def _op(code, k, jt=0, jf=0):
    return (code, jt, jf, k)


def _arg(i, high=False):
    return _op(_LD_ABS, 16 + 8 * i + (4 if high else 0))


def _filter(arch: str, pid: int, memfd: bool = True) -> list[tuple]:
    calls = _SYSCALLS[arch]
    denied = [calls[n] for n in _DENIED + (() if memfd else _DENIED_WITHOUT_CGROUP) if n in calls]
    prog = [_op(_LD_ABS, 4), _op(_JEQ, _ARCH[arch], 1, 0), _op(_RET, _KILL), _op(_LD_ABS, 0)]
    if arch == "x86_64":  # the x32 syscall numbers
        prog += [_op(_JSET, 0x40000000, 0, 1), _op(_RET, _EPERM)]

    def block(nr, body):
        return [_op(_LD_ABS, 0), _op(_JEQ, nr, 0, len(body))] + body

    for nr in denied:
        prog += block(nr, [_op(_RET, _EPERM)])
    prog += block(calls["clone3"], [_op(_RET, _ENOSYS)])  # glibc then falls back to clone
    prog += block(calls["clone"], [_arg(0), _op(_JSET, CLONE_THREAD, 0, 1), _op(_RET, _ALLOW), _op(_RET, _EPERM)])
    for name in ("kill", "tgkill"):
        prog += block(calls[name], [_arg(0), _op(_JEQ, pid, 0, 1), _op(_RET, _ALLOW), _op(_RET, _EPERM)])
    prog += block(calls["prlimit64"], [_arg(2), _op(_JEQ, 0, 0, 3), _arg(2, high=True), _op(_JEQ, 0, 0, 1),
                                       _op(_RET, _ALLOW), _op(_RET, _EPERM)])
    return prog + [_op(_RET, _ALLOW)]


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(_SockFilter))]


def seccomp(memfd: bool = True) -> bool:
    """Forbid new processes, exec, ptrace, raising limits, signalling others and System V IPC (and
    memfds, unless `memfd`); False if unsupported."""
    arch = platform.machine()
    if sys.platform != "linux" or arch not in _ARCH:
        return False
    prog = _filter(arch, os.getpid(), memfd)
    filters = (_SockFilter * len(prog))(*[_SockFilter(*op) for op in prog])
    fprog = _SockFprog(len(prog), filters)
    if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return False
    return _libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) == 0


PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Be killed when the process that started this one ends (a grading run stopped with Ctrl-C
    leaves no sandbox spinning)."""
    if sys.platform == "linux":
        parent = os.getppid()
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)


def limits(address_space: int | None, file_bytes: int, cpu_seconds: int = 3600, tasks: int | None = None) -> None:
    """The rlimits; the address space is left as it is where `address_space` is None (a cgroup
    holds the memory, and CUDA's large reservations of address space must not abort the process),
    and so is the count of tasks where `tasks` is None."""
    chosen = [(resource.RLIMIT_FSIZE, file_bytes), (resource.RLIMIT_CORE, 0), (resource.RLIMIT_NOFILE, 1024),
              (resource.RLIMIT_CPU, cpu_seconds)]
    if address_space is not None:
        chosen.append((resource.RLIMIT_AS, address_space))
    if tasks is not None:
        chosen.append((resource.RLIMIT_NPROC, tasks))
    for which, value in chosen:
        soft, hard = resource.getrlimit(which)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(which, (value, value))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a huge write fails instead of killing the process


CLONE_NEWNS = 0x00020000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 1 << 14, 1 << 18


def private_tmpfs(folder: str, size_bytes: int) -> bool:
    """Mount a tmpfs of `size_bytes` on `folder`, seen only by this process (a mount namespace of
    its own): a hard cap on what it can write, and nothing of it is left when the process ends.
    Needs CAP_SYS_ADMIN (root); False where it can't be had."""
    if sys.platform != "linux" or os.geteuid() != 0 or size_bytes <= 0:
        return False
    _libc.unshare.argtypes = [ctypes.c_int]
    _libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
    if _libc.unshare(CLONE_NEWNS) != 0:
        return False
    if _libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        return False
    options = f"size={size_bytes},nr_inodes=20000,mode=0700".encode()
    return _libc.mount(b"tmpfs", os.fsencode(folder), b"tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, options) == 0


PR_CAPBSET_DROP, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 24, 47, 4
_CAP_VERSION_3 = 0x20080522


def drop_capabilities() -> bool:
    """Give up every capability for good (bounding, ambient, effective, permitted, inheritable):
    a root process keeps uid 0 but no power beyond a plain user's. True if it had any to drop."""
    if sys.platform != "linux" or os.geteuid() != 0:
        return False
    for cap in range(64):
        _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    _libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = struct.pack("<Ii", _CAP_VERSION_3, 0)
    data = bytes(24)  # two __user_cap_data_struct of three u32, all zero
    if _libc.syscall(126 if platform.machine() == "x86_64" else 91, header, data) != 0:  # capset
        raise OSError(ctypes.get_errno(), "capset failed")
    return True


def join_cgroup(procs: dict[str, str]) -> list[str]:
    """Move this process into the cgroup the grader made for it: "0" (the writer) into each
    controller's ``cgroup.procs``. Done first, so that every page and thread of what follows counts
    against the cgroup's limits. Returns the controllers joined."""
    joined = []
    for controller, path in sorted(procs.items()):
        try:
            with open(path, "w") as f:
                f.write("0")
        except OSError:
            continue
        joined.append(controller)
    return joined


RESERVED_BASE = 1 << 30  # malloc arenas, thread stacks and XLA's own mappings, beyond what is mapped now
RESERVED_PER_CPU = 160 << 20  # XLA's pools grow with the cores: an 8 MiB stack and a 64 MiB malloc arena a thread
_ACCELERATOR_PACKAGES = ("jax_plugins", "nvidia")


def fallback_address_space(memory_bytes: int, platforms: str) -> int | None:
    """The address-space limit that stands for --memory where no cgroup holds the memory, or None
    where none can: on a GPU, CUDA reserves address space for the device's memory and more.

    An address space counts what a process reserves, not what it uses. A sandbox reserves far more
    than it uses before any student code runs: what is mapped now (Python, JAX), the libraries JAX
    maps when it starts (the CUDA plugin maps NVIDIA's libraries, several GiB, even when only the
    CPU is used), and a stack and a malloc arena for each thread of XLA's pools. So the limit is
    --memory on top of those; a sandbox then holds at most that much more than it needs."""
    if any(name in platforms.split(",") for name in ("cuda", "gpu", "rocm")):
        return None
    return (memory_bytes + _mapped_now() + _accelerator_library_bytes() + RESERVED_BASE
            + RESERVED_PER_CPU * (os.cpu_count() or 1))


def fallback_tasks(threads: int) -> int | None:
    """Where no cgroup counts this process's threads: a limit on the tasks of this user (what
    RLIMIT_NPROC counts), the ones it has now and `threads` more. None for root, whom the kernel
    never holds to RLIMIT_NPROC, and where the count can't be read."""
    if sys.platform != "linux" or os.getuid() == 0:
        return None
    uid, count = str(os.getuid()), 0
    try:
        entries = [e for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return None
    for entry in entries:
        try:
            with open(f"/proc/{entry}/status") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
            if fields["Uid"].split()[0] == uid:
                count += int(fields["Threads"])
        except (OSError, KeyError, ValueError, IndexError):
            continue
    return count + threads


def _mapped_now() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _accelerator_library_bytes() -> int:
    """The size of the shared libraries of the installed accelerator plugins and their NVIDIA
    wheels, which JAX maps when it starts, whichever platform was asked for."""
    import importlib.util

    total = 0
    for package in _ACCELERATOR_PACKAGES:
        try:
            spec = importlib.util.find_spec(package)
        except (ImportError, ValueError):
            continue
        for root in (spec.submodule_search_locations or []) if spec else []:
            for folder, _, files in os.walk(root):
                for name in files:
                    if ".so" in name:
                        try:
                            total += os.stat(os.path.join(folder, name)).st_size
                        except OSError:
                            continue
    return total


def apply(*, read: list[str], write: list[str], devices: list[str], memory_bytes: int, file_bytes: int,
          cpu_seconds: int = 3600, private_dir: str | None = None, private_bytes: int = 0,
          cgroup: dict[str, str] | None = None, threads: int = 1024, read_by_name: list[str] = ()) -> dict:
    """Everything above, in order; returns what took effect."""
    joined = join_cgroup(cgroup or {})
    die_with_parent()
    tmpfs = private_tmpfs(private_dir, private_bytes) if private_dir else False
    dropped = drop_capabilities()
    held = "memory" in joined
    address_space = None if held else fallback_address_space(memory_bytes, os.environ.get("JAX_PLATFORMS", ""))
    tasks = None if "pids" in joined else fallback_tasks(threads)
    limits(address_space, file_bytes, cpu_seconds, tasks)
    abi = landlock(read, write, devices, read_by_name)
    return {"landlock": abi, "seccomp": seccomp(memfd=held or address_space is None), "rlimits": True,
            "private_tmpfs": tmpfs, "root_without_capabilities": dropped, "cgroup_joined": joined,
            "address_space": address_space, "user_tasks": tasks}

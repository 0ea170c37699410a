"""Confinement a sandboxed process puts on itself before any student code runs (Linux).

- Landlock (kernel 5.13+): the process may read only the folders it needs (Python, its packages,
  the staged kit without the solutions) and write only its own working folder; no TCP at all; and
  (ABI 6+) no signals to processes outside its sandbox.
- seccomp: no new processes (threads only), no exec, no ptrace, no raising its own limits, no
  signals to other processes.
- rlimits: address space (memory), size of any file written, CPU seconds, open files, core dumps;
  and death with the parent process.

Each piece is applied when the kernel offers it; ``apply`` returns which ones took effect, and the
grader records that with every result. Root is confined the same way: Landlock and seccomp do not
exempt it, and seccomp keeps it from raising the limits back.
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


def landlock(read: list[str], write: list[str], devices: list[str]) -> int:
    """Restrict this process (and what it starts) to the given paths; returns the ABI used, 0 if none."""
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
        for paths, access in ((read, READ & handled), (write, handled), (devices, _FILE_ONLY & handled)):
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
                   kill=62, tkill=200, tgkill=234, setrlimit=160, prlimit64=302),
    "aarch64": dict(clone=220, clone3=435, execve=221, execveat=281, ptrace=117,
                    kill=129, tkill=130, tgkill=131, setrlimit=164, prlimit64=261),
}
_LD_ABS, _JEQ, _JSET, _RET = 0x20, 0x15, 0x45, 0x06
_ALLOW, _KILL = 0x7FFF0000, 0x80000000
_EPERM, _ENOSYS = 0x00050000 | 1, 0x00050000 | 38
CLONE_THREAD = 0x00010000


def _op(code, k, jt=0, jf=0):
    return (code, jt, jf, k)


def _arg(i, high=False):
    return _op(_LD_ABS, 16 + 8 * i + (4 if high else 0))


def _filter(arch: str, pid: int) -> list[tuple]:
    calls = _SYSCALLS[arch]
    denied = [calls[n] for n in ("fork", "vfork", "execve", "execveat", "ptrace", "tkill", "setrlimit") if n in calls]
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


def seccomp() -> bool:
    """Forbid new processes, exec, ptrace, raising limits and signalling others; False if unsupported."""
    arch = platform.machine()
    if sys.platform != "linux" or arch not in _ARCH:
        return False
    prog = _filter(arch, os.getpid())
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


def limits(memory_bytes: int, file_bytes: int, cpu_seconds: int = 3600) -> None:
    for which, value in ((resource.RLIMIT_AS, memory_bytes), (resource.RLIMIT_FSIZE, file_bytes),
                         (resource.RLIMIT_CORE, 0), (resource.RLIMIT_NOFILE, 1024),
                         (resource.RLIMIT_CPU, cpu_seconds)):
        soft, hard = resource.getrlimit(which)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(which, (value, value))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a huge write fails instead of killing the process


def apply(*, read: list[str], write: list[str], devices: list[str], memory_bytes: int, file_bytes: int,
          cpu_seconds: int = 3600) -> dict:
    """Everything above, in order; returns {"landlock": abi, "seccomp": bool, "rlimits": True}."""
    die_with_parent()
    limits(memory_bytes, file_bytes, cpu_seconds)
    abi = landlock(read, write, devices)
    return {"landlock": abi, "seccomp": seccomp(), "rlimits": True}

"""The untouched stub, which at import tries every way out it knows and then fails its import with
the list of what worked, so the kit's tests can read it in the feedback: the grader's environment
and memory, other processes' /proc entries, the secret, the reference, shadow files, device nodes,
raw sockets, new processes, namespaces, its cgroup's limits. The list must read "escaped: nothing"."""
BASE = "stub"
EXPECTED = 0
import ctypes as _ctypes
import glob as _glob
import os as _os
import socket as _socket

_escaped = []


def _attempt(name, action):
    try:
        if action() is not False:
            _escaped.append(name)
    except Exception:
        pass


def _read(path):
    with open(path, "rb") as f:
        return f.read(1)


_parent = _os.getppid()
_attempt("parent environ", lambda: _read(f"/proc/{_parent}/environ"))
_attempt("pid 1 environ", lambda: _read("/proc/1/environ"))
_attempt("other processes", lambda: len(_glob.glob("/proc/[0-9]*/environ")) > 1 or False)
_attempt("shadow", lambda: _read("/etc/shadow"))
_attempt("secret", lambda: _read(_os.path.join(_os.getcwd(), "..", "..", "..", "secret.txt")))
_attempt("reference", lambda: bool(_glob.glob("/**/solutions/01/immutability.py", recursive=False)) or
         _read(_os.path.join(_os.path.dirname(_os.environ.get("PYTHONPATH", "/")), "..", "solutions", "01", "immutability.py")))
_attempt("device node", lambda: _os.mknod(_os.path.join(_os.environ.get("TMPDIR", "."), "mem"), 0o600 | 0o020000,
                                          _os.makedev(1, 1)))
_attempt("raw socket", lambda: _socket.socket(_socket.AF_INET, _socket.SOCK_RAW, _socket.IPPROTO_ICMP))
_attempt("tcp connect", lambda: _socket.create_connection(("127.0.0.1", 22), timeout=1))
_attempt("fork", lambda: _os.fork() and False)
_attempt("new namespace", lambda: _ctypes.CDLL(None, use_errno=True).unshare(0x00020000) == 0 or False)


def _read_parent_memory():
    libc = _ctypes.CDLL(None, use_errno=True)

    class _Iovec(_ctypes.Structure):
        _fields_ = [("base", _ctypes.c_void_p), ("len", _ctypes.c_size_t)]

    buffer = _ctypes.create_string_buffer(16)
    local, remote = _Iovec(_ctypes.addressof(buffer), 16), _Iovec(0x400000, 16)
    libc.process_vm_readv.restype = _ctypes.c_ssize_t
    return libc.process_vm_readv(_parent, _ctypes.byref(local), 1, _ctypes.byref(remote), 1, 0) > 0 or False


_attempt("parent memory", _read_parent_memory)


def _cgroup_writes(which):
    """Leave the cgroup that holds this process's memory and threads (for the one above it), or
    raise its limits: `which` is "leave" or "raise"."""
    done = False
    with open("/proc/self/cgroup") as f:
        lines = f.read().splitlines()
    for line in lines:
        _, names, path = line.split(":", 2)
        for name in names.split(",") if names else ["unified", ""]:
            base = _os.path.join("/sys/fs/cgroup", name) + path
            targets = ([(_os.path.join(_os.path.dirname(base), "cgroup.procs"), "0")] if which == "leave" else
                       [(_os.path.join(base, f), v) for f, v in (("memory.limit_in_bytes", "-1"), ("memory.max", "max"),
                                                                  ("memory.memsw.limit_in_bytes", "-1"), ("pids.max", "max"))])
            for target, value in targets:
                try:
                    with open(target, "w") as out:
                        out.write(value)
                    done = True
                except OSError:
                    pass
    return done or False


_attempt("leave its cgroup", lambda: _cgroup_writes("leave"))
_attempt("raise its cgroup's limits", lambda: _cgroup_writes("raise"))
raise RuntimeError("escaped: " + (", ".join(_escaped) or "nothing"))

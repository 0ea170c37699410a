"""set_first holds memory where an address-space limit does not look: in memfds whose pages it
allocates and keeps open (no mapping), memfds mapped shared, and System V shared memory, which would outlive
the process. A cgroup counts those pages and ends the process past --memory; without one, memfds
and System V memory are refused. Only set_first pays; everything else is right."""
BASE = "solution"
EXPECTED = 14
import os as _os

_reference_set_first = set_first  # noqa: F821 - the base's, which this file is appended to


def set_first(x, value):
    import ctypes
    import mmap

    held, chunk = [], 64 << 20  # each memfd under the 96 MiB a single file may grow to
    libc = ctypes.CDLL(None, use_errno=True)
    segment = libc.shmget(0, chunk, 0o1600)  # IPC_PRIVATE, IPC_CREAT | 0600
    if segment >= 0:  # allowed: memory no limit would hold. Gone at once (IPC_RMID), and the point taken
        libc.shmctl(segment, 0, None)
        return _reference_set_first(x, value)
    for n in range(2 * 64):  # 8 GiB, twice the default --memory, if nothing stopped it
        fd = _os.memfd_create(f"hoard{n}")
        _os.posix_fallocate(fd, 0, chunk)  # every page taken by the kernel at once: the cap in under a second
        if n % 2:
            held.append(mmap.mmap(fd, chunk, mmap.MAP_SHARED))  # and mapped shared, as well as kept open
        held.append(fd)
    return _reference_set_first(x, value)

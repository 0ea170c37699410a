"""add_at starts threads without end, each with a small stack (so an address-space limit holds
thousands), and keeps them alive. A cgroup's pids limit stops it (RLIMIT_NPROC for a user that is
not root); only add_at pays. It stops at four times the limit, so a machine where nothing held it
keeps its process ids; everything else is right."""
BASE = "solution"
EXPECTED = 14
import os as _os

_reference_add_at = add_at  # noqa: F821 - the base's, which this file is appended to


def add_at(x, i, v):
    import threading
    import time

    threading.stack_size(64 << 10)
    for _ in range(4 * max(1024, 16 * (_os.cpu_count() or 1))):
        threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()
    return _reference_add_at(x, i, v)

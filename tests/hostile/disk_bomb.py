"""swap fills its folder with files until writing fails; everything else is right. The folder's cap
(a private tmpfs as root, the grader's own measurement otherwise) must stop it at 512 MiB whatever
it does, and only swap pays."""
BASE = "solution"
EXPECTED = 13
import os as _os


def swap(x, i, j):
    folder = _os.environ.get("TMPDIR", ".")
    block = b"\1" * (32 << 20)
    for n in range(48):  # 1.5 GiB if nothing stopped it
        with open(_os.path.join(folder, f"fill{n}"), "wb") as f:
            f.write(block)
    return x

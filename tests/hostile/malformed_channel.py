"""Right answers, but at import it floods the grader's channel with a deeply nested message, a frame
declaring 4 GiB and garbage: the grader must refuse them without crashing, and not believe the rest."""
BASE = "solution"
EXPECTED = 0
import os as _os
import struct as _struct

_nested = b"[" * 200_000 + b"]" * 200_000
for _payload in (_nested + b"\n", b'{"ev": "done", "step": ' + _nested + b"}\n"):
    _os.write(3, _struct.pack("<I", len(_payload)) + _payload)
_os.write(3, _struct.pack("<I", 0xFFFFFFF0) + b"\0" * 1000)

"""Right answers, but every probe's output is replaced on its way out: an array declaring 8 TiB, a
zip bomb, a pickled object. The grader must read none of them into memory and give no point."""
BASE = "solution"
EXPECTED = 0
import io as _io
import itertools as _itertools
import zipfile as _zipfile

import numpy as _np
from numpy.lib import format as _npy

from grader.classroom import wire as _wire


def _huge_shape():
    header = _io.BytesIO()
    _npy.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (1 << 40,)})
    return header.getvalue()  # the magic string and a header, and no data


def _zip_bomb():
    buffer = _io.BytesIO()
    with _zipfile.ZipFile(buffer, "w", compression=_zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a0.npy", _npy.magic(1, 0) + b"\0" * (200 << 20))
        archive.writestr("__spec__.npy", b"")
    return buffer.getvalue()


def _bombs():
    buffer = _io.BytesIO()
    with _zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a0.npy", _huge_shape())
        archive.writestr("__spec__.npy", b"")
    yield buffer.getvalue()
    yield _ZIP
    buffer = _io.BytesIO()
    _np.savez(buffer, a0=_np.array([{"x": 1}], dtype=object), __spec__=_np.array('{"t": "array", "a": "a0"}'))
    yield buffer.getvalue()


_ZIP = _zip_bomb()
_next = _itertools.cycle(list(_bombs()))
_wire.dumps = lambda tree: next(_next)

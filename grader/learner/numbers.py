"""The kind of number an array holds, as the lessons' tests and the class grader compare it: an
integer count, a floating-point value and a boolean mask are different answers; float32 and
float64 (or int32 and int64) are the same kind."""
from __future__ import annotations

import numpy as np

_KINDS = {"b": "bool", "i": "integer", "u": "integer", "f": "floating-point", "c": "complex"}


def number_kind(arr: np.ndarray) -> str:
    return _KINDS.get(arr.dtype.kind, f"non-numeric ({arr.dtype})")

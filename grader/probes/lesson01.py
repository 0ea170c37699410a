"""Lesson 01 probes: each update on fresh random values, with the caller's array returned too, so a
function that writes into its input is caught by the grader's own comparison.

The arrays have the public tests' shapes and dtypes (new values, indexes and constants): an answer
hard-coded for the public inputs still fails, and the small programs JAX compiles for the public
tests serve the probes too, which keeps a sandboxed run close to a bare pytest run."""
import numpy as np

from grader.probes import Probes

PROBES = Probes("01")


def _vector(rng):
    return rng.normal(0, 3, size=6).astype(np.float32)


def _after(fn, x, *rest):
    """fn's answer and the caller's NumPy array after the call (it must be unchanged)."""
    given = np.array(x)
    return fn(given, *rest), given


@PROBES("set_first", make=lambda rng: {"x": _vector(rng), "value": float(rng.normal())})
def set_first(ex, x, value):
    return _after(ex.set_first, x, value)


@PROBES("add_at", make=lambda rng: {"x": _vector(rng), "i": int(rng.integers(0, 6)), "v": float(rng.normal())})
def add_at(ex, x, i, v):
    return _after(ex.add_at, x, i, v)


@PROBES("scale_row", make=lambda rng: {"m": rng.normal(size=(3, 4)).astype(np.float32),
                                      "row": int(rng.integers(0, 3)), "factor": float(rng.uniform(-3, 3))})
def scale_row(ex, m, row, factor):
    return _after(ex.scale_row, m, row, factor)


def _clamp_inputs(rng):
    x = _vector(rng)
    start = int(rng.integers(0, 2))
    return {"x": x, "start": start, "stop": start + int(rng.integers(2, 5)),
            "lo": float(rng.uniform(-2, -0.5)), "hi": float(rng.uniform(0.5, 2))}


@PROBES("clamp_slice", make=_clamp_inputs)
def clamp_slice(ex, x, start, stop, lo, hi):
    return _after(ex.clamp_slice, x, start, stop, lo, hi)


@PROBES("zero_negatives", make=lambda rng: {"x": _vector(rng), "ints": rng.integers(-5, 5, size=2).astype(np.int32)})
def zero_negatives(ex, x, ints):
    got_ints = ex.zero_negatives(np.array(ints))
    return _after(ex.zero_negatives, x), got_ints, str(np.asarray(got_ints).dtype)


@PROBES("swap", make=lambda rng: {"x": _vector(rng), "ij": tuple(int(i) for i in rng.choice(6, 2, replace=False))})
def swap(ex, x, ij):
    return _after(ex.swap, x, *ij)


def _labels(rng):
    """Seven labels for 4 classes with at least one repeat and one out of range, shuffled."""
    repeat, outside = int(rng.integers(0, 4)), int(rng.integers(4, 9))
    labels = np.concatenate([[repeat, repeat, outside], rng.integers(0, 9, size=4)])
    return {"labels": rng.permutation(labels).astype(np.int32), "n": 4}


@PROBES("count_labels", make=_labels)
def count_labels(ex, labels, n):
    return _after(ex.count_labels, labels, n)


def _lookup_inputs(rng):
    x = _vector(rng)
    idx = np.concatenate([rng.integers(0, 6, size=2), rng.integers(6, 12, size=2)])
    return {"x": x, "idx": rng.permutation(idx).astype(np.int32), "fill": float(rng.normal())}


@PROBES("lookup_or", make=_lookup_inputs)
def lookup_or(ex, x, idx, fill):
    return _after(ex.lookup_or, x, idx, fill)


@PROBES("mean_of_list", make=lambda rng: {"values": tuple(float(v) for v in rng.normal(size=4).round(2))})
def mean_of_list(ex, values):
    given = list(values)
    got = ex.mean_of_list(given)
    return got, str(getattr(got, "dtype", type(got).__name__)), tuple(given)

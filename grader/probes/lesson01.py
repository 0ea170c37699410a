"""Lesson 01 probes: each update on fresh random values, with the caller's array returned too, so a
function that writes into its input is caught by the grader's own comparison.

The arrays have the public tests' shapes and dtypes (new values, indexes and constants): an answer
hard-coded for the public inputs still fails, and the small programs JAX compiles for the public
tests serve the probes too, which keeps a sandboxed run close to a bare pytest run."""
import numpy as np

from grader.probes import Probes, compare, concerns, merge_findings

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
    """Seven values as in the public test; the elements at start - 1, start, stop - 1 and stop lie
    outside [lo, hi], so a slice off by one at either end shows."""
    x = rng.normal(0, 3, size=7).astype(np.float32)
    start = int(rng.integers(1, 3))
    stop = start + int(rng.integers(2, 5))
    for k in (start - 1, start, stop - 1, stop):
        x[k] = rng.choice([-1, 1]) * rng.uniform(3, 8)
    return {"x": x, "start": start, "stop": stop,
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
    """Seven labels for 4 classes, all in range with at least one repeat; and seven with labels
    outside 0..3 on both sides (negative and 4 or more) among in-range ones, shuffled."""
    repeat = int(rng.integers(0, 4))
    valid = rng.permutation(np.concatenate([[repeat, repeat], rng.integers(0, 4, size=5)]))
    outside = [int(rng.integers(-4, 0)), int(rng.integers(4, 9)), int(rng.integers(-6, 9))]  # -4..-1: wrapped, it lands in a class
    mixed = rng.permutation(np.concatenate([outside, rng.integers(0, 4, size=4)]))
    return {"valid": valid.astype(np.int32), "mixed": mixed.astype(np.int32), "n": 4}


def _check_counts(got, want, inputs):
    """The counts of in-range labels concern test_count_labels (with the int32 dtype its docstring
    asks for); labels out of range counted (the in-range ones being right) the test that drops them;
    a changed input, both."""
    if not isinstance(got, dict) or set(got) != {"valid", "mixed", "dtype"}:
        return "the output has the wrong structure"
    for name in ("valid", "mixed"):
        given = got[name][1] if isinstance(got[name], (list, tuple)) and len(got[name]) == 2 else None
        if given is None or not np.array_equal(np.asarray(given), want[name][1]):
            return "the caller's labels array was changed"
    found = []
    if got["dtype"] != "int32":
        found.append(concerns(f"counts of dtype {got['dtype']}, not int32", "test_count_labels"))
    counts = {name: compare(np.asarray(got[name][0]).astype(np.float64), np.asarray(want[name][0], np.float64))
              for name in ("valid", "mixed")}
    if counts["valid"]:
        found.append(concerns(f"the counts of in-range labels: {counts['valid']}", "test_count_labels"))
    elif counts["mixed"]:  # in-range labels counted right, so the labels out of range were counted
        found.append(concerns(f"labels out of range were counted: {counts['mixed']}",
                              "test_count_labels_drops_out_of_range"))
    return merge_findings(found)


@PROBES("count_labels", make=_labels, check=_check_counts)
def count_labels(ex, valid, mixed, n):
    on_valid = _after(ex.count_labels, valid, n)
    return {"valid": on_valid, "mixed": _after(ex.count_labels, mixed, n),
            "dtype": str(getattr(on_valid[0], "dtype", type(on_valid[0]).__name__))}


def _lookup_inputs(rng):
    """Two indexes inside x, the first one past the end (len(x)) and one further out, shuffled."""
    x = _vector(rng)
    idx = np.concatenate([rng.integers(0, 6, size=2), [6], rng.integers(7, 41, size=1)])
    return {"x": x, "idx": rng.permutation(idx).astype(np.int32), "fill": float(rng.normal())}


@PROBES("lookup_or", make=_lookup_inputs)
def lookup_or(ex, x, idx, fill):
    return _after(ex.lookup_or, x, idx, fill)


@PROBES("mean_of_list", make=lambda rng: {"values": tuple(float(v) for v in rng.normal(size=4).round(2))})
def mean_of_list(ex, values):
    given = list(values)
    got = ex.mean_of_list(given)
    return got, str(getattr(got, "dtype", type(got).__name__)), tuple(given)

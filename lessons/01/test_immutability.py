"""Lesson 01 tests: functional updates. Every test also checks the caller's array afterwards: a
function that writes into its input loses the points even when its answer is right."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from grader import expect

X = np.array([3.0, -1.0, 4.0, -1.5, 5.0, 9.0], dtype=np.float32)
M = np.arange(12, dtype=np.float32).reshape(3, 4)


def _untouched(given, original, call):
    """The input a function was given is the same as before the call."""
    __tracebackhide__ = True
    expect.that(np.array_equal(np.asarray(given), original), call=call,
                expected=f"the input left as it was: {expect.show(original)}",
                returned=f"the input changed to {expect.show(np.asarray(given))}",
                hint="JAX updates give a new array: x.at[i].set(v). Never assign into the input.")


def _check(fn, name, args, want, hint, **tols):
    """Call fn with copies of NumPy and JAX versions of the first argument; both must give `want`
    and leave their input unchanged."""
    __tracebackhide__ = True
    first, rest = args[0], args[1:]
    for given in (np.array(first), jnp.asarray(first)):
        call = expect.call(name, given, *rest)
        got = fn(given, *rest)
        expect.close(got, want, call=call, hint=hint, **tols)
        _untouched(given, first, call)


@pytest.mark.exercise("set_first", points=1)
def test_set_first(ex):
    _check(ex.set_first, "set_first", (X, 7.0), np.concatenate([[7.0], X[1:]]).astype(np.float32),
           hint="x.at[0].set(value) returns the new array; return that one.")


@pytest.mark.exercise("add_at", points=1)
def test_add_at(ex):
    want = X.copy()
    want[2] += 5.0
    _check(ex.add_at, "add_at", (X, 2, 5.0), want, hint="x.at[i].add(v) returns a new array with v added at i.")


@pytest.mark.exercise("scale_row", points=1)
def test_scale_row(ex):
    want = M.copy()
    want[1] *= 3.0
    _check(ex.scale_row, "scale_row", (M, 1, 3.0), want, hint="m.at[row] selects a whole row; .mul(factor) scales it.")


@pytest.mark.exercise("clamp_slice", points=2)
def test_clamp_slice(ex):
    want = X.copy()
    want[1:5] = np.clip(X[1:5], -1.2, 4.5)
    _check(ex.clamp_slice, "clamp_slice", (X, 1, 5, -1.2, 4.5), want,
           hint="x.at[start:stop].max(lo) raises the small ones to lo; chain .at[start:stop].min(hi) for the big ones.")


@pytest.mark.exercise("zero_negatives", points=1)
def test_zero_negatives(ex):
    _check(ex.zero_negatives, "zero_negatives", (X,), np.where(X < 0, 0, X).astype(np.float32),
           hint="jnp.where(x < 0, 0, x) builds the new array in one go; a boolean mask can't be assigned into.")
    got = ex.zero_negatives(np.array([-2, 3], dtype=np.int32))
    expect.dtype(got, np.int32, call="zero_negatives([-2 3] (int32))", hint="keep the input's dtype: jnp.zeros_like(x).")


@pytest.mark.exercise("swap", points=2)
def test_swap(ex):
    want = X.copy()
    want[[0, 4]] = X[[4, 0]]
    _check(ex.swap, "swap", (X, 0, 4), want,
           hint="read both values from the original x before setting: x.at[i].set(x[j]).at[j].set(x[i]).")


@pytest.mark.exercise("count_labels", points=2)
def test_count_labels(ex):
    labels = np.array([0, 2, 2, 1, 2, 0, 3], dtype=np.int32)
    _check(ex.count_labels, "count_labels", (labels, 4), np.array([2, 1, 3, 1], np.int32),
           hint="jnp.zeros(n, jnp.int32).at[labels].add(1) adds 1 once per label, repeats included "
                "(NumPy's counts[labels] += 1 would count a repeated label only once).")


@pytest.mark.exercise("count_labels", points=2)
def test_count_labels_drops_out_of_range(ex):
    labels = np.array([1, 5, 1, 9, 0], dtype=np.int32)
    _check(ex.count_labels, "count_labels", (labels, 3), np.array([1, 2, 0], np.int32),
           hint="JAX drops scatter updates whose index is out of bounds (mode='drop' says so explicitly); "
                "NumPy would raise IndexError instead.")


@pytest.mark.exercise("lookup_or", points=2)
def test_lookup_or_fills_past_the_end(ex):
    idx = np.array([0, 5, 6, 40], dtype=np.int32)
    want = np.array([X[0], X[5], -1.0, -1.0], dtype=np.float32)
    _check(ex.lookup_or, "lookup_or", (X, idx, -1.0), want,
           hint="plain x[idx] clamps an index past the end to the last element; "
                "x.at[idx].get(mode='fill', fill_value=fill) fills it instead.")


@pytest.mark.exercise("mean_of_list", points=1)
def test_mean_of_list(ex):
    values = [1, 2.5, 4, -3]
    try:
        got = ex.mean_of_list(values)
    except TypeError as err:
        raise expect.failure(f"mean_of_list({values})", f"{np.mean(values)} (float32)",
                             f"TypeError: {str(err).splitlines()[0]}",
                             "jnp functions refuse Python lists: convert first with "
                             "jnp.asarray(values, dtype=jnp.float32).") from None
    expect.close(got, np.float32(np.mean(values)), call=f"mean_of_list({values})",
                 hint="jnp functions refuse Python lists (it would be slow to trace one element at a time): "
                      "convert first with jnp.asarray(values, dtype=jnp.float32).")
    expect.that(isinstance(got, jax.Array) and got.dtype == jnp.float32, call=f"mean_of_list({values})",
                expected="a float32 JAX array", returned=expect.show(got),
                hint="return the jnp result, not a Python float.")
    expect.that(values == [1, 2.5, 4, -3], call=f"mean_of_list({values})", expected="the list left as it was",
                returned=str(values), hint="read the list; don't change it.")

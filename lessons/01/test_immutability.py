"""Lesson 01 tests: functional updates. Every test also checks the caller's array afterwards: a
function that writes into its input loses the points even when its answer is right. Every exercise
but mean_of_list runs under jax.jit too, as the README asks: the integer positions and sizes (and
lookup_or's fill) are static there, the arrays and the other values traced."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from grader.learner import expect, jax_errors

X = np.array([3.0, -1.0, 4.0, -1.5, 5.0, 9.0], dtype=np.float32)
M = np.arange(12, dtype=np.float32).reshape(3, 4)
# clamp_slice's input: the elements at start - 1, start, stop - 1 and stop all lie outside [LO, HI],
# so a slice one too long or one too short at either end changes the answer.
C = np.array([-5.0, 7.0, 0.5, -3.0, 8.0, -6.0, 2.0], dtype=np.float32)
LO, HI = -1.0, 2.0

# What a function can do under jit that it gets away with outside: NumPy on a traced array (returning
# a NumPy copy), a Python `if` on a traced value, a boolean mask as an index.
TRACER_ERRORS = (jax.errors.ConcretizationTypeError, jax.errors.TracerArrayConversionError,
                 jax.errors.TracerIntegerConversionError, jax.errors.NonConcreteBooleanIndexError)


def _untouched(given, original, call):
    """The input a function was given is the same as before the call."""
    __tracebackhide__ = True
    expect.that(np.array_equal(np.asarray(given), original), call=call,
                expected=f"the input left as it was: {expect.show(original)}",
                returned=f"the input changed to {expect.show(np.asarray(given))}",
                hint="the function wrote into the caller's array (a NumPy assignment such as x[...] = ..., on "
                     "the input or on np.asarray(x), which shares its memory). Leave the input alone and "
                     "return a new array, as the .at[] updates do.")


def _as_array(got):
    """got as a NumPy array, or None when it isn't one (None, a list of the wrong kind...)."""
    try:
        return None if got is None else np.asarray(got)
    except Exception:
        return None


def _hint(diagnose, got, first, rest, want):
    """The hint for a wrong answer: what is wrong with it, from what came back."""
    arr = _as_array(got)
    if got is None:
        return "the function returned None: an update gives a new array, and that new array is the answer."
    if arr is None or arr.shape != np.shape(want):
        return f"the answer must have the shape {np.shape(want)}."
    if np.array_equal(arr, first) and not np.array_equal(first, want):
        return ("the input came back unchanged. An .at[] update doesn't change x: it returns a new array, "
                "and that new array is the answer.")
    try:
        return diagnose(arr, first, *rest)
    except Exception:  # an answer odd enough to confuse the diagnosis gets the plain comparison
        return "compare your answer with the expected one, element by element."


def _close(got, want, call, diagnose, first, rest):
    """expect.close, with the diagnosis worked out only when the answer is wrong."""
    __tracebackhide__ = True
    try:
        expect.close(got, want, call=call)
    except AssertionError:
        expect.close(got, want, call=call, hint=_hint(diagnose, got, first, rest, want))


def _check(fn, name, args, want, diagnose, static=()):
    """Call fn with copies of NumPy and JAX versions of the first argument; both must give `want`
    and leave their input unchanged. Then once under jax.jit, `static` naming the static arguments."""
    __tracebackhide__ = True
    first, rest = args[0], args[1:]
    for given in (np.array(first), jax.device_put(np.array(first))):
        call = expect.call(name, given, *rest)
        got = fn(given, *rest)
        _close(got, want, call, diagnose, first, rest)
        _untouched(given, first, call)
    if static is not None:
        _check_jit(fn, name, args, want, diagnose, static)


def _check_jit(fn, name, args, want, diagnose, static):
    __tracebackhide__ = True
    shown = ", ".join(expect.show(a) if i not in static else repr(a) for i, a in enumerate(args))
    call = f"jax.jit({name}, static_argnums={static})({shown})"
    try:
        got = jax.jit(fn, static_argnums=static)(jax.device_put(np.array(args[0])), *args[1:])
    except TRACER_ERRORS as err:
        raise expect.failure(call, expect.show(want), f"{type(err).__name__}: {str(err).splitlines()[0]}",
                             "under jax.jit the array arguments are traced: while the function is traced they "
                             "have a shape and a dtype but no values yet. Here " + jax_errors.explain(err)) from None
    _close(got, want, call, diagnose, args[0], args[1:])


def _first_difference(got, want):
    return int(np.flatnonzero(~np.isclose(got, want, rtol=1e-5, atol=1e-6))[0])


# ---------------------------------------------------------------- the exercises

def _diagnose_set_first(got, x, value):
    if not np.isclose(got[0], value):
        return f"element 0 is {got[0]:g}; it must become value ({value:g})."
    k = _first_difference(got[1:], x[1:]) + 1
    return f"element {k} changed from {x[k]:g} to {got[k]:g}; only element 0 may change."


@pytest.mark.exercise("set_first", points=1)
def test_set_first(ex):
    _check(ex.set_first, "set_first", (X, 7.0), np.concatenate([[7.0], X[1:]]).astype(np.float32),
           _diagnose_set_first)


def _diagnose_add_at(got, x, i, v):
    if np.isclose(got[i], v) and not np.isclose(x[i], 0):
        return f"element {i} became v ({v:g}) instead of growing by v: add to the old value, don't replace it."
    if np.isclose(got[i], x[i]):
        k = _first_difference(got, x)
        return f"element {i} is unchanged and element {k} changed instead: the update goes at index i."
    return f"element {i} should be x[{i}] + v = {x[i] + v:g}, and every other element as it was."


@pytest.mark.exercise("add_at", points=1)
def test_add_at(ex):
    want = X.copy()
    want[2] += 5.0
    _check(ex.add_at, "add_at", (X, 2, 5.0), want, _diagnose_add_at, static=(1,))


def _diagnose_scale_row(got, m, row, factor):
    column = m.copy()
    column[:, row] *= factor
    if np.allclose(got, column):
        return (f"column {row} was scaled, not row {row}: the first index of a 2-D array picks a row, the "
                "second a column.")
    changed = sorted({int(r) for r in np.nonzero(~np.isclose(got, m))[0]})
    if changed and changed != [row]:
        return f"row(s) {changed} changed; only row {row} may change, every element of it by the factor."
    return f"every element of row {row} must be multiplied by the factor {factor:g}."


@pytest.mark.exercise("scale_row", points=1)
def test_scale_row(ex):
    want = M.copy()
    want[1] *= 3.0
    _check(ex.scale_row, "scale_row", (M, 1, 3.0), want, _diagnose_scale_row, static=(1,))


def _diagnose_clamp_slice(got, x, start, stop, lo, hi):
    outside = [k for k in range(len(x)) if not start <= k < stop and not np.isclose(got[k], x[k])]
    if outside:
        k = outside[0]
        return (f"element {k} lies outside x[{start}:{stop}] (start included, stop excluded) but changed "
                f"from {x[k]:g} to {got[k]:g}: only the slice is clamped.")
    part = got[start:stop]
    if np.all(np.isclose(part, hi)) or np.all(np.isclose(part, lo)):
        return (f"every element of the slice came out as {part[0]:g}, whatever its value: the lower bound "
                "and the upper bound are swapped (.max(v) keeps the larger of each element and v, .min(v) "
                "the smaller).")
    k = start + _first_difference(part, np.clip(x[start:stop], lo, hi))
    return (f"element {k} is inside the slice: {x[k]:g} should become {np.clip(x[k], lo, hi):g} "
            f"(clamped into [{lo:g}, {hi:g}]), got {got[k]:g}.")


@pytest.mark.exercise("clamp_slice", points=2)
def test_clamp_slice(ex):
    want = C.copy()
    want[1:5] = np.clip(C[1:5], LO, HI)
    _check(ex.clamp_slice, "clamp_slice", (C, 1, 5, LO, HI), want, _diagnose_clamp_slice, static=(1, 2))


def _diagnose_zero_negatives(got, x):
    k = _first_difference(got, np.where(x < 0, 0, x))
    if x[k] < 0:
        return f"element {k} was negative ({x[k]:g}) and came back as {got[k]:g}: every negative element becomes 0."
    return f"element {k} was {x[k]:g}, not negative, and changed to {got[k]:g}: keep the others as they were."


@pytest.mark.exercise("zero_negatives", points=1)
def test_zero_negatives(ex):
    _check(ex.zero_negatives, "zero_negatives", (X,), np.where(X < 0, 0, X).astype(np.float32),
           _diagnose_zero_negatives)
    ints = np.array([-2, 3], dtype=np.int32)
    got = ex.zero_negatives(ints)
    kind = getattr(got, "dtype", None)
    expect.dtype(got, np.int32, call=expect.call("zero_negatives", ints),
                 hint=f"an int32 input came back as {kind}: same shape and dtype as the input, so the zeros "
                      "must have the input's dtype too (a Python 0.0 next to ints makes floats)."
                 if kind is not None else "return an array with the input's dtype.")
    expect.close(got, np.array([0, 3], np.int32), call=expect.call("zero_negatives", ints),
                 hint="every negative element becomes 0, the others stay as they were.")


def _diagnose_swap(got, x, i, j):
    if np.isclose(got[i], x[j]) and np.isclose(got[j], x[j]):
        return (f"positions {i} and {j} both hold x[{j}]'s old value ({x[j]:g}); the old x[{i}] ({x[i]:g}) "
                f"is lost. The value written at {j} was read from the array after position {i} had "
                "already been overwritten: read both old values first.")
    if np.isclose(got[i], x[i]) and np.isclose(got[j], x[i]):
        return (f"positions {i} and {j} both hold x[{i}]'s old value ({x[i]:g}); the old x[{j}] is lost: "
                "read both old values before writing either.")
    return f"element {i} must become x[{j}] = {x[j]:g} and element {j} x[{i}] = {x[i]:g}; the rest stays."


@pytest.mark.exercise("swap", points=2)
def test_swap(ex):
    for i, j, static in ((0, 4, (1, 2)), (5, 2, None)):
        want = X.copy()
        want[[i, j]] = X[[j, i]]
        _check(ex.swap, "swap", (X, i, j), want, _diagnose_swap, static=static)


def _diagnose_counts(got, labels, n):
    """What went wrong in a histogram of `labels` (all in range)."""
    once = np.isin(np.arange(n), labels).astype(np.int32)
    if np.array_equal(got, once):
        return ("every class that occurs was counted once, however often it occurs: a label that appears "
                "k times must add k (NumPy's counts[labels] += 1 adds once per distinct index; JAX's "
                "scatter-add adds once per entry).")
    return "count every entry of labels in its class, repeats included."


@pytest.mark.exercise("count_labels", points=2)
def test_count_labels(ex):
    labels = np.array([0, 2, 2, 1, 2, 0, 3], dtype=np.int32)
    want = np.array([2, 1, 3, 1], np.int32)
    call = expect.call("count_labels", labels, 4)
    got = ex.count_labels(np.array(labels), 4)
    expect.that(getattr(got, "dtype", None) == np.int32, call=call, expected=f"{expect.show(want)}",
                returned=expect.show(got),
                hint=f"the counts came back as {getattr(got, 'dtype', type(got).__name__)}: counts are whole "
                     "numbers, an int32 array as the docstring says (start from int32 zeros and add ints).")
    _check(ex.count_labels, "count_labels", (labels, 4), want, _diagnose_counts, static=(1,))


def _out_of_range_variants(labels, n):
    """(description, counts) for the usual ways of getting out-of-range labels wrong."""
    def counts(kept):
        kept = kept[(kept >= 0) & (kept < n)]
        return np.bincount(kept, minlength=n).astype(np.int32)

    below, above = labels < 0, labels >= n
    return [
        ("labels outside 0..n-1 were counted in the nearest class (clamped into range, as jnp.clip or "
         "jnp.bincount would) instead of being left out", counts(np.clip(labels, 0, n - 1))),
        ("labels below 0 were counted in class 0 (clamped up to 0) instead of being left out",
         counts(np.where(below, 0, labels))),
        (f"labels of n or more were counted in class n - 1 = {n - 1} (clamped down) instead of being left out",
         counts(np.where(above, n - 1, labels))),
        ("negative labels were counted from the end (-1 in class n - 1): in JAX, as in NumPy, a negative "
         "index counts from the end, in a scatter too, and only what is still out of bounds after that "
         "is dropped", counts(np.where(below, labels + n, labels))),
    ]


@pytest.mark.exercise("count_labels", points=2)
def test_count_labels_drops_out_of_range(ex):
    labels = np.array([1, 3, -1, 1, 7, -3, 0], dtype=np.int32)
    n = 3
    want = np.array([1, 2, 0], np.int32)
    variants = _out_of_range_variants(labels, n)

    def diagnose(got, labels, n):
        for what, counts in variants:
            if np.array_equal(got, counts):
                return what + "."
        return "only labels 0..n-1 are counted; any other label, negative or n and above, is left out."

    _check(ex.count_labels, "count_labels", (labels, n), want, diagnose, static=None)


def _diagnose_lookup(got, x, idx, fill):
    past = [k for k, i in enumerate(idx) if i >= len(x)]
    seen = {float(got[k]) for k in past}
    if len(seen) == 1 and not np.isclose(seen.pop(), fill) and not np.isclose(got[past[0]], x[-1]):
        return (f"every index past the end gave {got[past[0]]:g}, but fill was {fill:g} in this call: the value "
                "for those indexes must come from the fill argument, whatever it is.")
    for k, i in enumerate(idx):
        if i >= len(x) and not np.isclose(got[k], fill):
            clamped = " (the last element: a plain read clamps an index past the end)" \
                if np.isclose(got[k], x[-1]) else ""
            return (f"index {i} is past the end of x (length {len(x)}, last index {len(x) - 1}) but gave "
                    f"{got[k]:g}{clamped}; it must give fill ({fill:g}).")
        if i < len(x) and not np.isclose(got[k], x[i]):
            return f"index {i} is inside x, so it must give x[{i}] = {x[i]:g}, not {got[k]:g}."
    return "each index inside x gives x[index]; each index past the end gives fill."


@pytest.mark.exercise("lookup_or", points=2)
def test_lookup_or_fills_past_the_end(ex):
    idx = np.array([0, 5, 6, 40], dtype=np.int32)
    for fill in (-1.0, 2.5):  # two fills: the value past the end must follow the argument
        want = np.array([X[0], X[5], fill, fill], dtype=np.float32)
        _check(ex.lookup_or, "lookup_or", (X, idx, fill), want, _diagnose_lookup, static=(2,))


@pytest.mark.exercise("mean_of_list", points=1)
def test_mean_of_list(ex):
    values = [1, 2.5, 4, -3]
    call = f"mean_of_list({values})"
    want = f"{np.mean(values)} (float32)"
    try:
        got = ex.mean_of_list(values)
    except TypeError as err:
        raise expect.failure(call, want, f"TypeError: {str(err).splitlines()[0]}",
                             "jnp functions refuse a Python list (tracing one element at a time would be slow "
                             "and error-prone): convert the list into a float32 array first.") from None
    expect.close(got, np.float32(np.mean(values)), call=call, hint="the mean of the list's numbers.")
    if not isinstance(got, jax.Array):
        kind = "a NumPy value" if isinstance(got, (np.ndarray, np.generic)) else f"a Python {type(got).__name__}"
        raise expect.failure(call, "a float32 JAX array", f"{expect.show(got)}, {kind}",
                             f"the mean came back as {kind}: the mean must be computed with jnp and the JAX "
                             "array it gives returned as it is.")
    expect.that(got.dtype == jnp.float32, call=call, expected="a float32 JAX array", returned=expect.show(got),
                hint=f"the mean came back as {got.dtype}: convert the list as float32.")
    expect.that(values == [1, 2.5, 4, -3], call=call, expected="the list left as it was",
                returned=str(values), hint="the function changed the caller's list: read it, don't change it.")

"""Assertions that teach: chex does the comparing, the message says what was called, what was
expected, what came back, and gives one hint.

    Called add_at(x=[1. 2. 3.], i=0, v=5.0).
      expected: [6. 2. 3.]
      returned: [1. 2. 3.]
      hint: .at[i].add(v) returns a new array; return that one.
"""
from __future__ import annotations

import contextlib
import functools
import inspect
import traceback
from pathlib import Path
from typing import Any

import chex
import jax
import numpy as np

from grader.learner.numbers import number_kind


def _as_arrays(tree):
    return jax.tree.map(np.asarray, tree)


def show(value: Any) -> str:
    """A short, readable rendering of an array, pytree or plain value."""
    if isinstance(value, jax.Array) and jax.dtypes.issubdtype(value.dtype, jax.dtypes.prng_key):
        return f"a PRNG key array of shape {value.shape}" if value.shape else "a PRNG key"
    if isinstance(value, (jax.Array, np.ndarray, np.generic)):
        arr = np.asarray(value)
        body = np.array2string(arr, precision=4, threshold=12, edgeitems=2, separator=" ")
        body = " ".join(body.split())
        return f"{body} (shape {arr.shape}, {arr.dtype})" if arr.ndim else f"{body} ({arr.dtype})"
    if isinstance(value, (list, tuple)) and len(value) <= 8:
        inner = ", ".join(show(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    if isinstance(value, dict) and len(value) <= 8:
        return "{" + ", ".join(f"{k!r}: {show(v)}" for k, v in value.items()) + "}"
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def call(name: str, *args, **kwargs) -> str:
    """``call("f", x, k=2)`` -> "f([1. 2.] (shape (2,), float32), k=2)", for the messages."""
    parts = [show(a) for a in args] + [f"{k}={show(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def failure(call: str, expected: str, returned: str, hint: str | None = None, *,
            detail: str | None = None) -> AssertionError:
    """The four-part message; `detail` (where two arrays differ, a dtype) goes between returned and hint."""
    __tracebackhide__ = True
    lines = [f"Called {call}.", f"  expected: {expected}", f"  returned: {returned}"]
    if detail:
        lines.append(f"  {detail}")
    if hint:
        lines.append(f"  hint: {hint}")
    return AssertionError("\n".join(lines))


def _leaf_pairs(got_arrays, want_arrays):
    """(path, got leaf, want leaf) for two trees of the same structure."""
    paths = [jax.tree_util.keystr(p) for p, _ in jax.tree_util.tree_flatten_with_path(want_arrays)[0]]
    return zip(paths, jax.tree.leaves(got_arrays), jax.tree.leaves(want_arrays))


def _dtype_difference(got_arrays, want_arrays) -> str | None:
    """A difference in the kind of number (integer vs floating-point vs bool), said as such: the
    widths may differ (float32 vs float64), the kind may not."""
    for path, g, w in _leaf_pairs(got_arrays, want_arrays):
        g, w = np.asarray(g), np.asarray(w)
        if number_kind(g) != number_kind(w):
            where = f" at {path}" if path else ""
            return f"dtype{where}: expected {w.dtype} ({number_kind(w)}), returned {g.dtype} ({number_kind(g)})"
    return None


def _exact(value) -> str:
    return np.array2string(np.asarray(value), precision=8, floatmode="maxprec")


def where_different(got_arrays, want_arrays, rtol: float = 0.0, atol: float = 0.0) -> str | None:
    """Where two trees of same-shaped arrays first differ and how many elements do, since the short
    display can print two different arrays alike ("[1. 1. ... 1. 1.]" twice)."""
    for path, g, w in _leaf_pairs(got_arrays, want_arrays):
        g, w = np.asarray(g), np.asarray(w)
        if g.shape != w.shape:
            continue
        try:
            same = np.isclose(g, w, rtol=rtol, atol=atol, equal_nan=True) if (rtol or atol) else (g == w)
        except TypeError:
            continue
        bad = np.argwhere(~np.asarray(same))
        if bad.size:
            index = tuple(int(i) for i in bad[0])
            leaf = f"{path}" if path else ""
            at = f"{leaf}[{', '.join(map(str, index))}]" if index else (leaf or "the value")
            return (f"differs at {at}: expected {_exact(w[index])}, returned {_exact(g[index])} "
                    f"({len(bad)} of {w.size} element{'s' if w.size != 1 else ''} differ)")
    return None


def that(condition: bool, *, call: str, expected: str, returned: str, hint: str | None = None) -> None:
    """The general form: fail with the four-part message unless ``condition`` holds."""
    __tracebackhide__ = True
    if not condition:
        raise failure(call, expected, returned, hint)


def close(got, want, *, call: str, hint: str | None = None, rtol: float = 1e-5, atol: float = 1e-6) -> None:
    """``got`` matches ``want`` (arrays or pytrees) in structure, shape, kind of number (integer,
    floating-point, bool) and value, within tolerances."""
    __tracebackhide__ = True
    try:
        chex.assert_trees_all_equal_structs(got, want)
        got_arrays, want_arrays = _as_arrays(got), _as_arrays(want)
        chex.assert_trees_all_equal_shapes(got_arrays, want_arrays)
    except Exception:
        raise failure(call, show(want), show(got), hint) from None
    try:
        chex.assert_trees_all_close(got_arrays, want_arrays, rtol=rtol, atol=atol)
    except Exception:
        raise failure(call, show(want), show(got), hint,
                      detail=where_different(got_arrays, want_arrays, rtol, atol)) from None
    dtype_note = _dtype_difference(got_arrays, want_arrays)
    if dtype_note:
        raise failure(call, show(want), show(got), "the values are right; the docstring says which dtype to "
                      "return (an integer count, a float, a boolean mask): give that one.", detail=dtype_note)


def equal(got, want, *, call: str, hint: str | None = None) -> None:
    """``got`` equals ``want`` exactly (arrays or pytrees), dtypes included."""
    __tracebackhide__ = True
    try:
        chex.assert_trees_all_equal_structs(got, want)
        got_arrays, want_arrays = _as_arrays(got), _as_arrays(want)
        chex.assert_trees_all_equal_shapes(got_arrays, want_arrays)
    except Exception:
        raise failure(call, show(want), show(got), hint) from None
    try:
        chex.assert_trees_all_equal(got_arrays, want_arrays)
    except Exception:
        raise failure(call, show(want), show(got), hint, detail=where_different(got_arrays, want_arrays)) from None
    try:
        chex.assert_trees_all_equal_dtypes(got_arrays, want_arrays)
    except Exception:
        note = _dtype_difference(got_arrays, want_arrays) or next(
            f"dtype: expected {np.asarray(w).dtype}, returned {np.asarray(g).dtype}"
            for _, g, w in _leaf_pairs(got_arrays, want_arrays) if np.asarray(g).dtype != np.asarray(w).dtype)
        raise failure(call, show(want), show(got), hint, detail=note) from None


def shape(got, want_shape: tuple, *, call: str, hint: str | None = None) -> None:
    __tracebackhide__ = True
    got_shape = getattr(got, "shape", None)
    that(got_shape == tuple(want_shape), call=call, expected=f"an array of shape {tuple(want_shape)}",
         returned=f"shape {got_shape}" if got_shape is not None else show(got), hint=hint)


def dtype(got, want_dtype, *, call: str, hint: str | None = None) -> None:
    __tracebackhide__ = True
    got_dtype = getattr(got, "dtype", None)
    that(got_dtype == np.dtype(want_dtype), call=call, expected=f"dtype {np.dtype(want_dtype)}",
         returned=f"dtype {got_dtype}" if got_dtype is not None else show(got), hint=hint)


def raises(exc_types, fn, *args, call: str, hint: str | None = None, **kwargs) -> BaseException:
    """``fn(*args, **kwargs)`` raises one of ``exc_types``; returns the exception."""
    __tracebackhide__ = True
    try:
        result = fn(*args, **kwargs)
    except exc_types as err:
        return err
    names = exc_types.__name__ if isinstance(exc_types, type) else " or ".join(e.__name__ for e in exc_types)
    raise failure(call, f"a {names}", show(result), hint)


# ---------------------------------------------------------------- judging one exercise at a time

def matches(got, want, rtol: float = 1e-5, atol: float = 1e-6) -> bool:
    """True when two pytrees have the same structure and shapes and close values (NaN matches NaN):
    for telling which mistake a wrong answer is, where a failed check must not raise."""
    try:
        if jax.tree.structure(got) != jax.tree.structure(want):
            return False
        return all(np.shape(g) == np.shape(w) and np.allclose(np.asarray(g, np.float64), np.asarray(w, np.float64),
                                                              rtol=rtol, atol=atol, equal_nan=True)
                   for g, w in zip(jax.tree.leaves(got), jax.tree.leaves(want)))
    except Exception:
        return False


def all_finite(tree) -> bool:
    """True when no leaf of the pytree holds a NaN or an infinity."""
    return all(bool(np.all(np.isfinite(np.asarray(leaf)))) for leaf in jax.tree.leaves(tree))


def or_none(compute):
    """compute(), or None if it raises: for values made with the learner's other exercises, which
    may not be written yet."""
    try:
        return compute()
    except Exception:
        return None


_ABSENT = object()


@contextlib.contextmanager
def documented(ex, **functions):
    """While the block runs, the learner's functions named in `functions` are the given ones (the
    docstrings' versions), so that an exercise that calls an earlier one is judged on its own work: a
    mistake in the earlier exercise costs that exercise alone. They are replaced in the module and in
    the globals its functions read (a notebook's namespace, which the module only copies), and put back
    afterwards. Trace the later exercise inside the block: jax.jit keeps what it traced."""
    module = getattr(ex, "_module", ex)
    own = dict(vars(module))
    spaces = {id(module.__dict__): module.__dict__}
    for value in own.values():
        try:
            space = getattr(inspect.unwrap(value), "__globals__", None) if callable(value) else None
        except Exception:  # a __wrapped__ chain that loops, or an object that refuses getattr
            continue
        if isinstance(space, dict):
            spaces.setdefault(id(space), space)
    # Another namespace's name is replaced only where it holds the learner's own function.
    saved = [(space, name, space.get(name, _ABSENT)) for space in spaces.values() for name in functions
             if space is module.__dict__ or (name in own and space.get(name, _ABSENT) is own[name])]
    try:
        for space, name, _ in saved:
            space[name] = functions[name]
        yield
    finally:
        for space, name, old in saved:
            if old is _ABSENT:
                space.pop(name, None)
            else:
                space[name] = old


def raised(err: BaseException) -> str:
    """What came back when the call raised, for a message's `returned:` line."""
    text = str(err).strip().splitlines()
    return f"it raised {type(err).__name__}: {text[0][:200] if text else ''}"


def transformed(name: str, compute, hint_for) -> Any:
    """compute(), where a JAX error that `hint_for(err)` knows (it returns a hint, else None) becomes a
    four-part message: the error's first line and that hint, in place of a traceback through JAX."""
    __tracebackhide__ = True
    try:
        return compute()
    except (TypeError, ValueError, NameError) as err:
        hint = hint_for(err)
        if hint is None:
            raise
        problem = err
    first = str(problem).strip().splitlines()[0] if str(problem).strip() else ""
    raise failure(f"{name} (under a JAX transformation)", "a result",
                  f"{type(problem).__name__}: {first[:300]}", hint) from None


def line_in(err: BaseException, path) -> str | None:
    """Where in the file at `path` the error went by last (file, line, function and code), or None."""
    from grader.learner import targets

    path = Path(path).resolve()
    frames = [f for f in traceback.extract_tb(err.__traceback__) if Path(f.filename).resolve() == path]
    if not frames:
        return None
    frame = frames[-1]
    return f"at {targets.display(path)}, line {frame.lineno}, in {frame.name}: {(frame.line or '').strip()}"


def concise_errors(test):
    """A test decorator: an error raised in the learner's file becomes a short message that says what
    and where, not a traceback through Flax's internals. (Assertions and "not written yet" pass
    through unchanged, and so does an error that never went through the learner's file.)"""
    import pytest

    @functools.wraps(test)
    def run(*args, **kwargs):
        try:
            return test(*args, **kwargs)
        except (AssertionError, NotImplementedError):
            raise
        except Exception as err:
            path = getattr(kwargs.get("ex"), "path", None)
            where = line_in(err, path) if path is not None else None
            if where is None:
                raise
            message = str(err).split("\n--------------------")[0].strip()
            failure = f"Your code raised {type(err).__name__}: {message}\n  {where}"
        pytest.fail(failure, pytrace=False)  # outside the except block, so no chained traceback

    return run

"""Assertions that teach: chex does the comparing, the message says what was called, what was
expected, what came back, and gives one hint.

    Called add_at(x=[1. 2. 3.], i=0, v=5.0).
      expected: [6. 2. 3.]
      returned: [1. 2. 3.]
      hint: .at[i].add(v) returns a new array; return that one.
"""
from __future__ import annotations

from typing import Any

import chex
import jax
import numpy as np


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


def failure(call: str, expected: str, returned: str, hint: str | None = None) -> AssertionError:
    __tracebackhide__ = True
    lines = [f"Called {call}.", f"  expected: {expected}", f"  returned: {returned}"]
    if hint:
        lines.append(f"  hint: {hint}")
    return AssertionError("\n".join(lines))


def that(condition: bool, *, call: str, expected: str, returned: str, hint: str | None = None) -> None:
    """The general form: fail with the four-part message unless ``condition`` holds."""
    __tracebackhide__ = True
    if not condition:
        raise failure(call, expected, returned, hint)


def close(got, want, *, call: str, hint: str | None = None, rtol: float = 1e-5, atol: float = 1e-6) -> None:
    """``got`` matches ``want`` (arrays or pytrees) in structure, shape and value, within tolerances."""
    __tracebackhide__ = True
    try:
        chex.assert_trees_all_equal_structs(got, want)
        got_arrays, want_arrays = _as_arrays(got), _as_arrays(want)
        chex.assert_trees_all_equal_shapes(got_arrays, want_arrays)
        chex.assert_trees_all_close(got_arrays, want_arrays, rtol=rtol, atol=atol)
    except Exception:
        raise failure(call, show(want), show(got), hint) from None


def equal(got, want, *, call: str, hint: str | None = None) -> None:
    """``got`` equals ``want`` exactly (arrays or pytrees), dtypes included."""
    __tracebackhide__ = True
    try:
        chex.assert_trees_all_equal_structs(got, want)
        got_arrays, want_arrays = _as_arrays(got), _as_arrays(want)
        chex.assert_trees_all_equal_dtypes(got_arrays, want_arrays)
        chex.assert_trees_all_equal(got_arrays, want_arrays)
    except Exception:
        raise failure(call, show(want), show(got), hint) from None


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

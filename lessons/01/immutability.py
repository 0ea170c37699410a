"""Lesson 01: immutable arrays and functional updates with `.at[]`.

JAX arrays can't be changed in place. Every function here returns a *new* array and leaves its inputs
exactly as they were, whether they are JAX arrays or NumPy arrays.

Every function but `mean_of_list` must also work under `jax.jit`: the tests call each one as
`jax.jit(f, static_argnums=...)` too, with the integer positions and sizes (`i`, `j`, `row`, `start`,
`stop`, `n`) and `lookup_or`'s `fill` static, and the arrays and the other values traced.
"""
import jax.numpy as jnp


def set_first(x, value):
    """A copy of the 1-D array `x` whose first element is `value`."""
    # YOUR CODE HERE
    raise NotImplementedError()


def add_at(x, i, v):
    """A copy of `x` with `v` added to element `i`."""
    # YOUR CODE HERE
    raise NotImplementedError()


def scale_row(m, row, factor):
    """A copy of the 2-D array `m` whose row number `row` is multiplied by `factor`."""
    # YOUR CODE HERE
    raise NotImplementedError()


def clamp_slice(x, start, stop, lo, hi):
    """A copy of the 1-D `x` where the elements `x[start:stop]` are clamped into [lo, hi];
    the elements outside the slice are unchanged."""
    # YOUR CODE HERE
    raise NotImplementedError()


def zero_negatives(x):
    """A copy of `x` with every negative element replaced by 0 (same shape and dtype)."""
    # YOUR CODE HERE
    raise NotImplementedError()


def swap(x, i, j):
    """A copy of the 1-D `x` with elements `i` and `j` exchanged."""
    # YOUR CODE HERE
    raise NotImplementedError()


def count_labels(labels, n):
    """How often each class 0..n-1 occurs in the int array `labels`: an int32 array of length n.
    Labels outside 0..n-1 (negative ones, and n or more) are not counted anywhere. Use a scatter
    (`.at[labels].add`)."""
    # YOUR CODE HERE
    raise NotImplementedError()


def lookup_or(x, idx, fill):
    """`x[idx]` for each index in the int array `idx`, but `fill` wherever the index is past the end
    of the 1-D `x` (indexes are >= 0). JAX's plain `x[idx]` would clamp such an index instead."""
    # YOUR CODE HERE
    raise NotImplementedError()


def mean_of_list(values):
    """The mean of a plain Python list of numbers, as a float32 JAX scalar."""
    # YOUR CODE HERE
    raise NotImplementedError()

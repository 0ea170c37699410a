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
    ### BEGIN SOLUTION
    return jnp.asarray(x).at[0].set(value)
    ### END SOLUTION


def add_at(x, i, v):
    """A copy of `x` with `v` added to element `i`."""
    ### BEGIN SOLUTION
    return jnp.asarray(x).at[i].add(v)
    ### END SOLUTION


def scale_row(m, row, factor):
    """A copy of the 2-D array `m` whose row number `row` is multiplied by `factor`."""
    ### BEGIN SOLUTION
    return jnp.asarray(m).at[row].mul(factor)
    ### END SOLUTION


def clamp_slice(x, start, stop, lo, hi):
    """A copy of the 1-D `x` where the elements `x[start:stop]` are clamped into [lo, hi];
    the elements outside the slice are unchanged."""
    ### BEGIN SOLUTION
    return jnp.asarray(x).at[start:stop].max(lo).at[start:stop].min(hi)
    ### END SOLUTION


def zero_negatives(x):
    """A copy of `x` with every negative element replaced by 0 (same shape and dtype)."""
    ### BEGIN SOLUTION
    x = jnp.asarray(x)
    return jnp.where(x < 0, jnp.zeros_like(x), x)
    ### END SOLUTION


def swap(x, i, j):
    """A copy of the 1-D `x` with elements `i` and `j` exchanged."""
    ### BEGIN SOLUTION
    x = jnp.asarray(x)
    return x.at[i].set(x[j]).at[j].set(x[i])
    ### END SOLUTION


def count_labels(labels, n):
    """How often each class 0..n-1 occurs in the int array `labels`: an int32 array of length n.
    Labels outside 0..n-1 (negative ones, and n or more) are not counted anywhere. Use a scatter
    (`.at[labels].add`)."""
    ### BEGIN SOLUTION
    labels = jnp.asarray(labels)
    valid = (labels >= 0) & (labels < n)  # a negative index would count from the end, so weigh it 0
    return jnp.zeros(n, jnp.int32).at[labels].add(valid.astype(jnp.int32), mode="drop")
    ### END SOLUTION


def lookup_or(x, idx, fill):
    """`x[idx]` for each index in the int array `idx`, but `fill` wherever the index is past the end
    of the 1-D `x` (indexes are >= 0). JAX's plain `x[idx]` would clamp such an index instead."""
    ### BEGIN SOLUTION
    return jnp.asarray(x).at[jnp.asarray(idx)].get(mode="fill", fill_value=fill)
    ### END SOLUTION


def mean_of_list(values):
    """The mean of a plain Python list of numbers, as a float32 JAX scalar."""
    ### BEGIN SOLUTION
    return jnp.mean(jnp.asarray(values, dtype=jnp.float32))
    ### END SOLUTION

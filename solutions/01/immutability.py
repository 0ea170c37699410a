"""Lesson 01: immutable arrays and functional updates with `.at[]`."""
import jax.numpy as jnp


def set_first(x, value):
    """Return a copy of the 1-D array `x` whose first element is `value`. Leave `x` as it is."""
    ### BEGIN SOLUTION
    return x.at[0].set(value)
    ### END SOLUTION


def add_at(x, i, v):
    """Return a copy of `x` with `v` added to element `i`."""
    ### BEGIN SOLUTION
    return x.at[i].add(v)
    ### END SOLUTION

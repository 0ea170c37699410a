"""Lesson 01: immutable arrays and functional updates with `.at[]`."""
import jax.numpy as jnp


def set_first(x, value):
    """Return a copy of the 1-D array `x` whose first element is `value`. Leave `x` as it is."""
    # YOUR CODE HERE
    raise NotImplementedError()


def add_at(x, i, v):
    """Return a copy of `x` with `v` added to element `i`."""
    # YOUR CODE HERE
    raise NotImplementedError()

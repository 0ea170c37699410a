"""Lesson 04: pytrees, the nested containers JAX works through.

A params pytree in this lesson is a dict of layers, each a dict with a weight "w" and a bias "b":

    {"hidden": {"w": (3, 4), "b": (4,)}, "out": {"w": (4, 2), "b": (2,)}}   # shapes shown

Write every function without loops over the dict's keys: `jax.tree.map` and friends do the walking.
"""
import math

import jax
import jax.numpy as jnp


def scale(params, factor):
    """Every leaf of `params` multiplied by `factor`; the same structure comes back. `params` may be any
    pytree (a dict of layers, lists, tuples, nested dicts), and its arrays are left as they were."""
    # YOUR CODE HERE
    raise NotImplementedError()


def count_params(params):
    """The number of scalars in `params` (a Python int): a (3, 4) weight counts 12, a (4,) bias 4."""
    # YOUR CODE HERE
    raise NotImplementedError()


def sizes_of_shapes(shapes):
    """`shapes` is a pytree whose leaves are shape tuples, e.g. {"w": (3, 4), "b": (4,)}.
    Return the same structure with each shape replaced by its number of elements: {"w": 12, "b": 4}.
    A shape is a tuple of ints (`()` included, size 1); shapes may sit in tuples and lists too:
    {"pair": ((2, 3), (5,))} gives {"pair": (6, 5)}.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def to_vector(params):
    """All leaves of `params`, flattened and joined into one 1-D float32 array, in
    `jax.tree.leaves` order (weights and biases row by row, as `.ravel()` lays them out)."""
    # YOUR CODE HERE
    raise NotImplementedError()


def from_vector(vector, like):
    """The inverse of `to_vector`: a pytree with the structure and leaf shapes of `like`, filled
    from the 1-D `vector` in the same order."""
    # YOUR CODE HERE
    raise NotImplementedError()


@jax.tree_util.register_pytree_node_class
class Dense:
    """A dense layer as a pytree: the arrays `w` and `b` are its children (JAX traces and maps them);
    `name` (a str) is aux data, kept as it is and never traced.

    Write `tree_flatten` (returning `(children, aux_data)`) and the classmethod `tree_unflatten`
    (building a Dense back from `aux_data` and `children`). The children may come in either order, as
    long as `tree_unflatten` reads them in the order `tree_flatten` gives them.
    """

    def __init__(self, w, b, name):
        self.w = w
        self.b = b
        self.name = name

    def __call__(self, x):
        return x @ self.w + self.b

    def tree_flatten(self):
        # YOUR CODE HERE
        raise NotImplementedError()

    @classmethod
    def tree_unflatten(cls, aux_data, children):
        # YOUR CODE HERE
        raise NotImplementedError()


def running_mean(state, x):
    """One step of a running mean, with the state threaded in and out (no globals).

    state: {"count": int32 scalar, "total": float32 scalar}; x: a float32 scalar.
    Returns (mean, new_state): the mean of every x seen so far including this one, and the state
    with x counted. Calling it twice with the same state and x gives the same answer both times, and
    the caller's `state` dict is left as it was (called with or without jit).
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def init_state():
    """The running mean's starting state: nothing seen yet."""
    # YOUR CODE HERE
    raise NotImplementedError()


def sgd_step(params, grads, lr):
    """One step of gradient descent: every leaf becomes `param - lr * grad`, biases included.
    `grads` has the same structure as `params`, which may be any pytree."""
    # YOUR CODE HERE
    raise NotImplementedError()

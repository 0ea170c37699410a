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
    ### BEGIN SOLUTION
    return jax.tree.map(lambda leaf: leaf * factor, params)
    ### END SOLUTION


def count_params(params):
    """The number of scalars in `params` (a Python int): a (3, 4) weight counts 12, a (4,) bias 4."""
    ### BEGIN SOLUTION
    return sum(int(leaf.size) for leaf in jax.tree.leaves(params))
    ### END SOLUTION


def sizes_of_shapes(shapes):
    """`shapes` is a pytree whose leaves are shape tuples, e.g. {"w": (3, 4), "b": (4,)}.
    Return the same structure with each shape replaced by its number of elements: {"w": 12, "b": 4}.
    A shape is a tuple of ints (`()` included, size 1); shapes may sit in tuples and lists too:
    {"pair": ((2, 3), (5,))} gives {"pair": (6, 5)}.
    """
    ### BEGIN SOLUTION
    def is_shape(node):
        return isinstance(node, tuple) and all(isinstance(d, int) for d in node)

    return jax.tree.map(math.prod, shapes, is_leaf=is_shape)
    ### END SOLUTION


def to_vector(params):
    """All leaves of `params`, flattened and joined into one 1-D float32 array, in
    `jax.tree.leaves` order (weights and biases row by row, as `.ravel()` lays them out)."""
    ### BEGIN SOLUTION
    return jnp.concatenate([jnp.ravel(leaf) for leaf in jax.tree.leaves(params)])
    ### END SOLUTION


def from_vector(vector, like):
    """The inverse of `to_vector`: a pytree with the structure and leaf shapes of `like`, filled
    from the 1-D `vector` in the same order."""
    ### BEGIN SOLUTION
    leaves, treedef = jax.tree.flatten(like)
    pieces, start = [], 0
    for leaf in leaves:
        pieces.append(jnp.reshape(vector[start:start + leaf.size], leaf.shape))
        start += leaf.size
    return jax.tree.unflatten(treedef, pieces)
    ### END SOLUTION


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
        ### BEGIN SOLUTION
        return (self.w, self.b), self.name
        ### END SOLUTION

    @classmethod
    def tree_unflatten(cls, aux_data, children):
        ### BEGIN SOLUTION
        w, b = children
        return cls(w, b, aux_data)
        ### END SOLUTION


def running_mean(state, x):
    """One step of a running mean, with the state threaded in and out (no globals).

    state: {"count": int32 scalar, "total": float32 scalar}; x: a float32 scalar.
    Returns (mean, new_state): the mean of every x seen so far including this one, and the state
    with x counted. Calling it twice with the same state and x gives the same answer both times, and
    the caller's `state` dict is left as it was (called with or without jit).
    """
    ### BEGIN SOLUTION
    new_state = {"count": state["count"] + 1, "total": state["total"] + x}
    return new_state["total"] / new_state["count"], new_state
    ### END SOLUTION


def init_state():
    """The running mean's starting state: nothing seen yet."""
    ### BEGIN SOLUTION
    return {"count": jnp.zeros((), jnp.int32), "total": jnp.zeros((), jnp.float32)}
    ### END SOLUTION


def sgd_step(params, grads, lr):
    """One step of gradient descent: every leaf becomes `param - lr * grad`, biases included.
    `grads` has the same structure as `params`, which may be any pytree."""
    ### BEGIN SOLUTION
    return jax.tree.map(lambda p, g: p - lr * g, params, grads)
    ### END SOLUTION

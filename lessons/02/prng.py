"""Lesson 02: PRNG keys. Make them with `jax.random.key`, split them, fold data into them, and use
each key exactly once."""
import jax
import jax.numpy as jnp


def make_keys(seed, n):
    """Return `n` independent PRNG keys made from the integer `seed`.

    Make one new-style (typed) key with `jax.random.key(seed)`, then split it into `n` keys with a
    single `jax.random.split` call. Returns a key array of shape `(n,)`: its dtype is a key type,
    not `uint32`. The tests jit it with only `n` static: `seed` arrives traced, so hand it to
    `jax.random.key` as it is (an `int(seed)` would need a concrete value).
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def init_layers(key, sizes):
    """Random weights for a stack of dense layers, each layer drawn with its own key.

    `sizes` is a tuple of ints such as `(3, 4, 4, 2)`; layer `i` maps `sizes[i]` inputs to
    `sizes[i + 1]` outputs. Split `key` once into `len(sizes) - 1` keys, then draw layer `i` as
    `jax.random.normal(keys[i], (sizes[i], sizes[i + 1]))`.
    Returns a list of float32 arrays, the `i`-th of shape `(sizes[i], sizes[i + 1])`.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def noise_for_ids(key, ids):
    """One standard normal per example id, the same for an id whichever batch it comes in.

    `ids` is an int32 array of shape `(b,)`. Entry `j` of the result is
    `jax.random.normal(jax.random.fold_in(key, ids[j]))`: the key for an example depends on its id,
    not on where it sits in the batch. Use `jax.vmap` over `ids`, no Python loop: the tests check
    that the traced program does not grow with the number of ids.
    Returns a float32 array of shape `(b,)`.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def one_normal_per_key(key, n):
    """Split `key` into `n` keys and draw one standard normal from each (vmap over the keys).

    Returns a float32 array of shape `(n,)`. These are not the same numbers as
    `jax.random.normal(key, (n,))`: the README says why.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def in_circle(key):
    """One Monte Carlo sample for estimating pi.

    Draw a point uniformly in the unit square with one call, `x, y = jax.random.uniform(key, (2,))`,
    and return 1.0 if `x**2 + y**2 <= 1`, else 0.0, as a float32 scalar (shape `()`).
    It gets vmapped, so use no Python `if` on the values.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def estimate_pi(key, n):
    """Estimate pi from `n` samples: split `key` into `n` keys, `jax.vmap` `in_circle` over them,
    and return 4 times the mean, a float32 scalar. `n` is a Python int. No Python loop over samples.
    (The tests run it on this docstring's `in_circle` in place of yours, so each is judged alone.)
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def dropout(key, x, p_keep):
    """Inverted dropout: keep each element of `x` with probability `p_keep`, zero the others, and
    divide the kept ones by `p_keep` so the expected value of every element stays the same.

    Draw the mask with `jax.random.bernoulli(key, p_keep, x.shape)` (True means keep).
    `p_keep` is a Python float in (0, 1]. Returns an array of the shape and dtype of `x`.
    """
    # YOUR CODE HERE
    raise NotImplementedError()

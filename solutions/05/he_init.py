"""Lesson 05: He initialization, and why a deep ReLU network needs it.

A network's parameters here are a list with one dict per dense layer:

    [{"w": (sizes[0], sizes[1]) float32, "b": (sizes[1],) float32},
     {"w": (sizes[1], sizes[2]) float32, "b": (sizes[2],) float32},
     ...]

and a layer computes ``relu(h @ w + b)`` for a batch ``h`` of shape (batch, fan_in).
"""
import math

import jax
import jax.numpy as jnp


def he_std(fan_in):
    """The He standard deviation for a layer with `fan_in` inputs: sqrt(2 / fan_in), as a Python float.

    Example: he_std(50) == 0.2.
    """
    ### BEGIN SOLUTION
    return math.sqrt(2.0 / fan_in)
    ### END SOLUTION


def init_layer(key, fan_in, fan_out, std=None):
    """One dense layer's parameters, drawn with the PRNG key `key`.

    Returns {"w": w, "b": b}:
      - w: float32, shape (fan_in, fan_out), every entry an independent draw from a normal distribution
        with mean 0 and standard deviation `std` (use jax.random.normal; not a uniform, not a truncated
        normal). When `std` is None, use the He standard deviation sqrt(2 / fan_in); any number, 0.0
        included, is used as given (std 0.0 makes all-zero weights).
      - b: float32 zeros of shape (fan_out,).
    The same key gives the same layer; different keys give different layers.
    """
    ### BEGIN SOLUTION
    if std is None:
        std = he_std(fan_in)
    w = std * jax.random.normal(key, (fan_in, fan_out), dtype=jnp.float32)
    b = jnp.zeros((fan_out,), dtype=jnp.float32)
    return {"w": w, "b": b}
    ### END SOLUTION


def init_network(key, sizes, std=None):
    """The parameters of a stack of dense layers with widths `sizes` (a list of ints, at least two).

    Returns a list of len(sizes) - 1 layer dicts; layer i is init_layer(k_i, sizes[i], sizes[i + 1], std)
    with its own key k_i derived from `key` (split it; never hand the same key to two layers, and don't
    use a key again after splitting it). `std` None means He initialization for every layer; a number
    (0.0 included) means that fixed standard deviation for every layer (the naive way, for comparison).
    The same `key` gives the same network.
    """
    ### BEGIN SOLUTION
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        key, layer_key = jax.random.split(key)  # a fresh key for this layer, and one to carry on
        params.append(init_layer(layer_key, fan_in, fan_out, std))
    return params
    ### END SOLUTION


def activation_scales(params, x):
    """How big the activations are after each layer of a ReLU stack.

    `params` is a list of layer dicts (as init_network returns) and `x` a float32 batch of shape
    (batch, sizes[0]). Starting from h = x, every layer computes h = relu(h @ w + b) (the last one too).
    Returns a float32 array of shape (len(params),): entry i is the mean square of h after layer i,
    mean(h ** 2) over the whole batch and all units. The input itself is not included.
    """
    ### BEGIN SOLUTION
    h = x
    scales = []
    for layer in params:
        h = jax.nn.relu(h @ layer["w"] + layer["b"])
        scales.append(jnp.mean(h ** 2))
    return jnp.stack(scales)
    ### END SOLUTION

"""init_layers draws the weights with NumPy's random: under jit they are drawn once, while tracing, so
every key gives the same weights."""
MUST_FAIL = ["test_init_layers", "test_init_layers_gives_each_layer_its_own_key"]
MUST_SAY = {"test_init_layers_gives_each_layer_its_own_key": ["NumPy", "traced"]}

import numpy as np


def init_layers(key, sizes):
    rng = np.random.default_rng()
    return [jnp.asarray(rng.normal(size=(m, n)), jnp.float32) for m, n in zip(sizes[:-1], sizes[1:])]

"""Draws the weights with NumPy's global random state instead of the key: right std and shape, but
the same key gives different weights on every call."""
import numpy as np

MUST_FAIL = ["test_init_layer_follows_its_key", "test_init_network_is_reproducible"]
MUST_SAY = {"test_init_layer_follows_its_key": ["same key gave different weights", "np.random"],
            "test_init_network_is_reproducible": ["same key gave two different networks"]}


def init_layer(key, fan_in, fan_out, std=None):
    if std is None:
        std = he_std(fan_in)
    w = np.random.normal(0.0, std, size=(fan_in, fan_out)).astype(np.float32)
    return {"w": jnp.asarray(w), "b": jnp.zeros((fan_out,), dtype=jnp.float32)}

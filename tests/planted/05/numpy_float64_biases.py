"""Makes the biases with NumPy's np.zeros: a float64 NumPy array, not float32."""
MUST_FAIL = ["test_init_layer_returns_w_and_b", "test_init_network_shapes"]

import numpy as np


def init_layer(key, fan_in, fan_out, std=None):
    if std is None:
        std = he_std(fan_in)
    return {"w": std * jax.random.normal(key, (fan_in, fan_out)), "b": np.zeros(fan_out)}

"""dropout draws its mask with NumPy's random: under jit the mask is drawn once, while tracing, and then
frozen into the program, so every key gives the same mask."""
MUST_FAIL = ["test_dropout_depends_on_the_key"]
MUST_SAY = {"test_dropout_depends_on_the_key": ["NumPy", "traced", "no random numbers"]}

import numpy as np


def dropout(key, x, p_keep):
    keep = np.random.default_rng().random(x.shape) < p_keep
    return jnp.where(keep, x / p_keep, 0.0).astype(x.dtype)

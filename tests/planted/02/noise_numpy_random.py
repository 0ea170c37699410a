"""noise_for_ids draws its noise with NumPy's random: under jit it runs once, while tracing, so the noise
is a constant that ignores both the key and the ids."""
MUST_FAIL = ["test_noise_for_ids", "test_noise_for_ids_follows_the_id"]
MUST_SAY = {"test_noise_for_ids": ["NumPy", "traced", "constant"],
            "test_noise_for_ids_follows_the_id": ["does not depend on the ids"]}

import numpy as np


def noise_for_ids(key, ids):
    return jnp.asarray(np.random.default_rng().normal(size=ids.shape), jnp.float32)

"""Calls tick through jax.pure_callback and drops its result: the compiled program removes the call."""
MUST_FAIL = ["test_double_and_tick_counts_every_run"]
MUST_SAY = {"test_double_and_tick_counts_every_run": ["never ran"]}

import numpy as np  # noqa: E402


def double_and_tick(x, tick):
    jax.pure_callback(lambda: tick() or np.float32(0), jax.ShapeDtypeStruct((), jnp.float32))
    return 2 * x

"""Uses a Python `if` on traced values, so in_circle cannot be vmapped."""
MUST_FAIL = ["test_in_circle"]
MUST_SAY = {"test_in_circle": ["Python `if`"]}


def in_circle(key):
    x, y = jax.random.uniform(key, (2,))
    if x**2 + y**2 <= 1.0:
        return jnp.float32(1.0)
    return jnp.float32(0.0)

"""Draws x and y with two calls on the same key: the key is reused (and x equals y)."""
MUST_FAIL = ["test_in_circle"]
MUST_SAY = {"test_in_circle": ["used the same key twice"]}


def in_circle(key):
    x = jax.random.uniform(key)
    y = jax.random.uniform(key)
    return (x**2 + y**2 <= 1.0).astype(jnp.float32)

"""in_circle returns the comparison itself, a bool, not a float32 0.0 or 1.0."""
MUST_FAIL = ["test_in_circle"]
MUST_SAY = {"test_in_circle": ["bool"]}


def in_circle(key):
    x, y = jax.random.uniform(key, (2,))
    return x**2 + y**2 <= 1.0

"""Draws the n normals with one vectorised call from the unsplit key: other numbers than one per split key."""
MUST_FAIL = ["test_one_normal_per_key"]
MUST_SAY = {"test_one_normal_per_key": ["one vectorised draw"]}


def one_normal_per_key(key, n):
    return jax.random.normal(key, (n,))

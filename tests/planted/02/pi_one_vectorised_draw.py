"""estimate_pi draws all n points in one call from the unsplit key instead of splitting it into n keys
for in_circle: a fine estimate, but not the docstring's scheme."""
MUST_FAIL = ["test_estimate_pi"]
MUST_SAY = {"test_estimate_pi": ["one draw"]}


def estimate_pi(key, n):
    xy = jax.random.uniform(key, (n, 2))
    return 4.0 * jnp.mean((xy[:, 0] ** 2 + xy[:, 1] ** 2 <= 1.0).astype(jnp.float32))

"""Missing split: every sample uses the same key, so every sample is the same point (estimate 0 or 4)."""
MUST_FAIL = ["test_estimate_pi", "test_estimate_pi_is_accurate"]
MUST_SAY = {"test_estimate_pi_is_accurate": ["one key served every sample"]}


def estimate_pi(key, n):
    hits = jax.vmap(lambda _: in_circle(key))(jnp.arange(n))
    return 4.0 * jnp.mean(hits)

"""A Python loop over the samples where vmap was asked for: same numbers, but the program grows with n."""
MUST_FAIL = ["test_estimate_pi_uses_vmap", "test_estimate_pi"]
# Told from the traced program, before XLA spends seconds to minutes compiling the unrolled loop.
MUST_SAY = {"test_estimate_pi": ["stopped before XLA compiled it", "Python loop"]}


def estimate_pi(key, n):
    hits = [in_circle(k) for k in jax.random.split(key, n)]
    return 4.0 * jnp.mean(jnp.stack(hits))

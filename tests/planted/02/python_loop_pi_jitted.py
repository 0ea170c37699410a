"""A Python loop over the samples, hidden inside jax.jit: the program still grows with n."""
MUST_FAIL = ["test_estimate_pi_uses_vmap"]

import functools


@functools.partial(jax.jit, static_argnums=1)
def estimate_pi(key, n):
    hits = [in_circle(k) for k in jax.random.split(key, n)]
    return 4.0 * jnp.mean(jnp.stack(hits))

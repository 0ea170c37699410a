"""Adam's bias correction computed with the count before it is incremented: on the first step 1 - b1 ** 0
is 0, and the update divides by it."""
MUST_FAIL = ["test_adam_first_step"]
MUST_SAY = {"test_adam_first_step": ["count = 0", "before you correct"]}


def adam(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    def init(params):
        zeros = jax.tree.map(jnp.zeros_like, params)
        return {"count": jnp.zeros((), jnp.int32), "mu": zeros, "nu": zeros}

    def update(grads, state, params=None):
        count = state["count"]
        mu = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, state["mu"], grads)
        nu = jax.tree.map(lambda v, g: b2 * v + (1 - b2) * g ** 2, state["nu"], grads)
        mu_fix = 1 - b1 ** count.astype(jnp.float32)
        nu_fix = 1 - b2 ** count.astype(jnp.float32)
        updates = jax.tree.map(lambda m, v: -learning_rate * (m / mu_fix) / (jnp.sqrt(v / nu_fix) + eps), mu, nu)
        return updates, {"count": count + 1, "mu": mu, "nu": nu}

    return init, update

"""Adam's step count kept as a float32 array: the right updates for these few steps, but the docstring asks
for an int32 count (a float32 one stops going up at 2 ** 24)."""
MUST_FAIL = ["test_adam_counts_steps_with_an_integer"]
MUST_SAY = {"test_adam_counts_steps_with_an_integer": ["float32", "int32"]}


def adam(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    def init(params):
        zeros = jax.tree.map(jnp.zeros_like, params)
        return {"count": jnp.zeros((), jnp.float32), "mu": zeros, "nu": zeros}

    def update(grads, state, params=None):
        count = state["count"] + 1
        mu = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, state["mu"], grads)
        nu = jax.tree.map(lambda v, g: b2 * v + (1 - b2) * g ** 2, state["nu"], grads)
        updates = jax.tree.map(lambda m, v: -learning_rate * (m / (1 - b1 ** count)) / (jnp.sqrt(v / (1 - b2 ** count)) + eps),
                               mu, nu)
        return updates, {"count": count, "mu": mu, "nu": nu}

    return init, update

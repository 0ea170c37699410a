"""Adam without the bias correction: the first steps are about 3x too large."""
MUST_FAIL = ["test_adam_first_step", "test_adam_steps"]
MUST_SAY = {"test_adam_first_step": ["bias correction"], "test_adam_steps": ["bias correction"]}


def adam(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    def init(params):
        zeros = jax.tree.map(jnp.zeros_like, params)
        return {"mu": zeros, "nu": zeros}

    def update(grads, state, params=None):
        mu = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, state["mu"], grads)
        nu = jax.tree.map(lambda v, g: b2 * v + (1 - b2) * g ** 2, state["nu"], grads)
        updates = jax.tree.map(lambda m, v: -learning_rate * m / (jnp.sqrt(v) + eps), mu, nu)
        return updates, {"mu": mu, "nu": nu}

    return init, update

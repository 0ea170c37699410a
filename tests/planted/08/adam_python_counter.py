"""The step count kept in a Python variable beside update: right eagerly, frozen at 1 under jax.jit."""
MUST_FAIL = ["test_adam_steps"]
MUST_SAY = {"test_adam_steps": ["under jax.jit", "in the state"]}


def adam(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    count = [0]

    def init(params):
        zeros = jax.tree.map(jnp.zeros_like, params)
        count[0] = 0
        return {"mu": zeros, "nu": zeros}

    def update(grads, state, params=None):
        count[0] += 1
        t = count[0]
        mu = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, state["mu"], grads)
        nu = jax.tree.map(lambda v, g: b2 * v + (1 - b2) * g ** 2, state["nu"], grads)
        updates = jax.tree.map(
            lambda m, v: -learning_rate * (m / (1 - b1 ** t)) / (jnp.sqrt(v / (1 - b2 ** t)) + eps), mu, nu)
        return updates, {"mu": mu, "nu": nu}

    return init, update

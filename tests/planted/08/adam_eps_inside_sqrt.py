"""eps added under the square root, sqrt(nu_hat + eps), instead of after it."""
MUST_FAIL = ["test_adam_steps"]
MUST_SAY = {"test_adam_steps": ["inside the square root"]}


def adam(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    def init(params):
        zeros = jax.tree.map(jnp.zeros_like, params)
        return {"count": jnp.zeros((), jnp.int32), "mu": zeros, "nu": zeros}

    def update(grads, state, params=None):
        count = state["count"] + 1
        mu = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, state["mu"], grads)
        nu = jax.tree.map(lambda v, g: b2 * v + (1 - b2) * g ** 2, state["nu"], grads)
        c1, c2 = 1 - b1 ** count.astype(jnp.float32), 1 - b2 ** count.astype(jnp.float32)
        updates = jax.tree.map(lambda m, v: -learning_rate * (m / c1) / jnp.sqrt(v / c2 + eps), mu, nu)
        return updates, {"count": count, "mu": mu, "nu": nu}

    return init, update

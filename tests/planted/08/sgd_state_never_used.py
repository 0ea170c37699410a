"""The velocity is computed but the update uses the raw gradient: plain SGD, momentum lost."""
MUST_FAIL = ["test_sgd_momentum_steps"]
MUST_SAY = {"test_sgd_momentum_steps": ["as if momentum were 0"]}


def sgd_momentum(learning_rate, momentum):
    def init(params):
        return jax.tree.map(jnp.zeros_like, params)

    def update(grads, state, params=None):
        velocity = jax.tree.map(lambda g, v: g + momentum * v, grads, state)
        return jax.tree.map(lambda g: -learning_rate * g, grads), velocity

    return init, update

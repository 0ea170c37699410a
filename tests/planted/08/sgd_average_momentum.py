"""Momentum as an average, velocity = (1 - m) * g + m * velocity: a tenth of optax's step at m = 0.9."""
MUST_FAIL = ["test_sgd_momentum_first_step", "test_sgd_momentum_steps"]
MUST_SAY = {"test_sgd_momentum_steps": ["average"]}


def sgd_momentum(learning_rate, momentum):
    def init(params):
        return jax.tree.map(jnp.zeros_like, params)

    def update(grads, state, params=None):
        velocity = jax.tree.map(lambda g, v: (1 - momentum) * g + momentum * v, grads, state)
        return jax.tree.map(lambda v: -learning_rate * v, velocity), velocity

    return init, update

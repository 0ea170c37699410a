"""Adam's moments and bias correction from optax.scale_by_adam: right updates, no optimizer of one's own."""
MUST_FAIL = ["test_adam_is_written_by_hand"]
MUST_SAY = {"test_adam_is_written_by_hand": ["optax.scale_by_adam"]}


def adam(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    inner = optax.scale_by_adam(b1=b1, b2=b2, eps=eps)

    def update(grads, state, params=None):
        updates, state = inner.update(grads, state, params)
        return jax.tree.map(lambda u: -learning_rate * u, updates), state

    return inner.init, update

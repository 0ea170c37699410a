"""The step returns the optimizer state it was given, so Adam's moments and count never advance."""
MUST_FAIL = ["test_train_step"]
MUST_SAY = {"test_train_step": ["the optimizer state you were given"]}


def make_train_step(optimizer, loss_fn):
    def step(params, opt_state, x, y):
        loss, grads = jax.value_and_grad(lambda p: loss_fn(forward(p, x), y))(params)
        updates, _ = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    return jax.jit(step)

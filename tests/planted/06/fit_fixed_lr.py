"""fit that trains with a learning rate of its own instead of the lr it was given."""
MUST_FAIL = ["test_fit_follows_sgd"]


def fit(params, x, y, steps, lr, loss_fn):
    step = make_train_step(loss_fn)

    @jax.jit
    def run(params, x, y):
        return jax.lax.scan(lambda p, _: step(p, (x, y), 0.1), params, length=steps)

    return run(params, x, y)

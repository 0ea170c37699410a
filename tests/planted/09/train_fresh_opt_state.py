"""train starting Adam's state afresh at every step: the moments are never carried."""
MUST_FAIL = ["test_train_follows_adam", "test_train_echo"]
MUST_SAY = {"test_train_follows_adam": ["opt_state"]}


def train(loss_fn, params, xs, ys, steps, lr):
    optimizer = optax.adam(lr)

    @jax.jit
    def run(params, xs, ys):
        def step(p, _):
            loss, grads = jax.value_and_grad(loss_fn)(p, xs, ys)
            updates, _ = optimizer.update(grads, optimizer.init(p), p)
            return optax.apply_updates(p, updates), loss

        return lax.scan(step, params, length=steps)

    return run(params, xs, ys)

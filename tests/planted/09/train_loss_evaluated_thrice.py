"""train compiled as one scan whose step evaluates the loss for its value, again inside jax.grad, and a
third time after the update, recording that last one: the run is stopped at the third trace although
the steps are compiled, and the losses are those after each update. Each test must say what it saw."""
MUST_FAIL = ["test_train_follows_adam", "test_train_echo", "test_train_echo_losses"]
MUST_SAY = {"test_train_follows_adam": ["AFTER each update"],
            "test_train_echo_losses": ["compiled once", "more than twice"]}
MUST_NOT_SAY = {"test_train_echo_losses": ["not compiled"], "test_train_follows_adam": ["traced"]}


def train(loss_fn, params, xs, ys, steps, lr):
    optimizer = optax.adam(lr)

    @jax.jit
    def run(params, xs, ys):
        def step(carry, _):
            p, opt_state = carry
            before = loss_fn(p, xs, ys)  # noqa: F841
            grads = jax.grad(loss_fn)(p, xs, ys)
            updates, opt_state = optimizer.update(grads, opt_state, p)
            p = optax.apply_updates(p, updates)
            return (p, opt_state), loss_fn(p, xs, ys)

        (params, _), losses = lax.scan(step, (params, optimizer.init(params)), length=steps)
        return params, losses

    return run(params, xs, ys)

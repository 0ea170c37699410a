"""train recording each step's loss after its update instead of before."""
MUST_FAIL = ["test_train_follows_adam", "test_train_echo_losses"]
MUST_SAY = {"test_train_follows_adam": ["before its update"]}


def train(loss_fn, params, xs, ys, steps, lr):
    optimizer = optax.adam(lr)

    @jax.jit
    def run(params, xs, ys):
        def step(carry, _):
            p, opt_state = carry
            grads = jax.grad(loss_fn)(p, xs, ys)
            updates, opt_state = optimizer.update(grads, opt_state, p)
            p = optax.apply_updates(p, updates)
            return (p, opt_state), loss_fn(p, xs, ys)

        (params, _), losses = lax.scan(step, (params, optimizer.init(params)), length=steps)
        return params, losses

    return run(params, xs, ys)

"""train with a Python loop over un-jitted steps: right numbers, the loss traced at every step."""
MUST_FAIL = ["test_train_echo", "test_train_echo_losses"]
MUST_SAY = {"test_train_echo": ["third time"]}


def train(loss_fn, params, xs, ys, steps, lr):
    optimizer = optax.adam(lr)
    opt_state, losses = optimizer.init(params), []
    for _ in range(steps):
        loss, grads = jax.value_and_grad(loss_fn)(params, xs, ys)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        losses.append(loss)
    return params, jnp.stack(losses)

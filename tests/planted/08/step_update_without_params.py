"""optimizer.update(grads, opt_state) without the params: AdamW's weight decay can't run."""
MUST_FAIL = ["test_train_step"]
MUST_SAY = {"test_train_step": ["weight decay", "third argument"]}


def make_train_step(optimizer, loss_fn):
    def step(params, opt_state, x, y):
        loss, grads = jax.value_and_grad(lambda p: loss_fn(forward(p, x), y))(params)
        updates, opt_state = optimizer.update(grads, opt_state)
        return optax.apply_updates(params, updates), opt_state, loss

    return jax.jit(step)

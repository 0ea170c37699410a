"""params - updates, as in hand-written SGD: Optax's updates already carry the minus sign."""
MUST_FAIL = ["test_train_step"]
MUST_SAY = {"test_train_step": ["params + updates"]}


def make_train_step(optimizer, loss_fn):
    def step(params, opt_state, x, y):
        loss, grads = jax.value_and_grad(lambda p: loss_fn(forward(p, x), y))(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return jax.tree.map(lambda p, u: p - u, params, updates), opt_state, loss

    return jax.jit(step)

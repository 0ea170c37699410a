"""haiku_train_step returns the loss at the updated params, not the one its gradient came from."""
MUST_FAIL = ["test_haiku_train_step"]
MUST_SAY = {"test_haiku_train_step": ["the loss before the update"]}
MUST_NOT_SAY = {"test_haiku_train_step": ["training mode"]}


def haiku_train_step(tx, params, state, opt_state, rng, x, y):
    model = hk.transform_with_state(haiku_mlp)

    def loss_fn(params):
        logits, new_state = model.apply(params, state, rng, x, True)
        return cross_entropy(logits, y), new_state

    (_, new_state), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
    updates, opt_state = tx.update(grads, opt_state, params)
    params = optax.apply_updates(params, updates)
    return params, new_state, opt_state, loss_fn(params)[0]

"""haiku_train_step returns the state it was given, not the one apply gave back: BatchNorm's moving
averages never move."""
MUST_FAIL = ["test_haiku_train_step"]
MUST_SAY = {"test_haiku_train_step": ["the state that apply gave back"]}


def haiku_train_step(tx, params, state, opt_state, rng, x, y):
    model = hk.transform_with_state(haiku_mlp)

    def loss_fn(params):
        logits, new_state = model.apply(params, state, rng, x, True)
        return cross_entropy(logits, y), new_state

    (loss, _), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
    updates, opt_state = tx.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), state, opt_state, loss

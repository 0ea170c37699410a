"""haiku_mlp uses Haiku's default decay (0.99), and haiku_train_step applies a transform of it made once
at module level: the step can't be run on the docstring's haiku_mlp, so its test must say so rather than
blame the state it returns."""
MUST_FAIL = ["test_haiku_training_updates_state_and_draws_keys", "test_haiku_train_step"]
MUST_SAY = {"test_haiku_train_step": ["inside haiku_train_step"]}
MUST_NOT_SAY = {"test_haiku_train_step": ["the state that apply gave back"]}


def haiku_mlp(x, is_training):
    x = hk.Linear(HIDDEN, name="dense1")(x)
    x = hk.BatchNorm(True, True, 0.99, eps=EPSILON, name="bn")(x, is_training)
    x = jax.nn.relu(x)
    if is_training:
        x = hk.dropout(hk.next_rng_key(), RATE, x)
    return hk.Linear(CLASSES, name="dense2")(x)


_model = hk.transform_with_state(haiku_mlp)


def haiku_train_step(tx, params, state, opt_state, rng, x, y):
    def loss_fn(params):
        logits, new_state = _model.apply(params, state, rng, x, True)
        return cross_entropy(logits, y), new_state

    (loss, new_state), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
    updates, opt_state = tx.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), new_state, opt_state, loss

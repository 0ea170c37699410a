"""haiku_mlp applies dropout in evaluation too: it draws hk.next_rng_key() where apply was given no key.
haiku_train_step runs on the docstring's model, so its test still passes."""
MUST_FAIL = ["test_haiku_eval_fixed_weights"]
MUST_SAY = {"test_haiku_eval_fixed_weights": ["only when is_training"]}
MUST_PASS = ["test_haiku_params_and_state", "test_haiku_train_step"]


def haiku_mlp(x, is_training):
    x = hk.Linear(HIDDEN, name="dense1")(x)
    x = hk.BatchNorm(create_scale=True, create_offset=True, decay_rate=MOMENTUM, eps=EPSILON, name="bn")(
        x, is_training)
    x = hk.dropout(hk.next_rng_key(), RATE, jax.nn.relu(x))
    return hk.Linear(CLASSES, name="dense2")(x)

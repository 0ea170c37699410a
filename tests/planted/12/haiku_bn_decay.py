"""haiku_mlp builds its BatchNorm with decay_rate 0.99, not 0.9: training mode is right, but the moving
averages move too slowly. haiku_train_step builds its transform inside, so its test runs on the
docstring's model and still passes."""
MUST_FAIL = ["test_haiku_training_updates_state_and_draws_keys"]
MUST_SAY = {"test_haiku_training_updates_state_and_draws_keys": ["decay_rate 0.99"]}
MUST_NOT_SAY = {"test_haiku_training_updates_state_and_draws_keys": ["is_training=True here"]}
MUST_PASS = ["test_haiku_train_step", "test_haiku_eval_fixed_weights"]


def haiku_mlp(x, is_training):
    x = hk.Linear(HIDDEN, name="dense1")(x)
    x = hk.BatchNorm(True, True, 0.99, eps=EPSILON, name="bn")(x, is_training)
    x = jax.nn.relu(x)
    if is_training:
        x = hk.dropout(hk.next_rng_key(), RATE, x)
    return hk.Linear(CLASSES, name="dense2")(x)

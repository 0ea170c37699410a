"""haiku_mlp calls its BatchNorm as bn(x, False) whatever the mode: init never creates the moving
averages, and training never updates them. Both tests are haiku_mlp's own; haiku_train_step runs on the
docstring's model, so its test still passes."""
MUST_FAIL = ["test_haiku_params_and_state", "test_haiku_training_updates_state_and_draws_keys"]
MUST_SAY = {"test_haiku_params_and_state": ["only when it is called in training mode"]}
MUST_PASS = ["test_haiku_eval_fixed_weights", "test_haiku_train_step"]


def haiku_mlp(x, is_training):
    x = hk.Linear(HIDDEN, name="dense1")(x)
    x = hk.BatchNorm(create_scale=True, create_offset=True, decay_rate=MOMENTUM, eps=EPSILON, name="bn")(x, False)
    x = jax.nn.relu(x)
    if is_training:
        x = hk.dropout(hk.next_rng_key(), RATE, x)
    return hk.Linear(CLASSES, name="dense2")(x)

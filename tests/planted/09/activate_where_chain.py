"""activate computing all three activations and picking one with jnp.where: right values, no choice in the program."""
MUST_FAIL = ["test_activate_chooses_in_the_program"]
MUST_SAY = {"test_activate_chooses_in_the_program": ["every activation is computed"]}


def activate(x, kind):
    return jnp.where(kind == 0, jax.nn.relu(x), jnp.where(kind == 1, jnp.tanh(x), jax.nn.sigmoid(x)))

"""lstm_cell splits the gates in the textbook order i, f, g, o, where hk.LSTM's weights are laid out as
i, g, f, o."""
MUST_FAIL = ["test_lstm_cell"]
MUST_SAY = {"test_lstm_cell": ["i, g, f, o"]}
MUST_PASS = ["test_lstm_unroll"]


def lstm_cell(params, carry, x):
    h, c = carry
    i, f, g, o = jnp.split(jnp.concatenate([x, h], axis=-1) @ params["w"] + params["b"], 4, axis=-1)
    c = jax.nn.sigmoid(f + 1.0) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
    h = jax.nn.sigmoid(o) * jnp.tanh(c)
    return (h, c), h

"""lstm_cell leaves out Haiku's forget bias: sigmoid(f) where hk.LSTM has sigmoid(f + 1). lstm_unroll
runs on the docstring's cell, so its tests still pass."""
MUST_FAIL = ["test_lstm_cell"]
MUST_SAY = {"test_lstm_cell": ["forget bias"]}
MUST_PASS = ["test_lstm_unroll", "test_lstm_unroll_scans"]


def lstm_cell(params, carry, x):
    h, c = carry
    i, g, f, o = jnp.split(jnp.concatenate([x, h], axis=-1) @ params["w"] + params["b"], 4, axis=-1)
    c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
    h = jax.nn.sigmoid(o) * jnp.tanh(c)
    return (h, c), h

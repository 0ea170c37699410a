"""gru_cell mixing with z * n + (1 - z) * h: the update gate the wrong way round."""
MUST_FAIL = ["test_gru_cell", "test_gru_cell_over_a_sequence"]
MUST_SAY = {"test_gru_cell": ["swapped"]}


def gru_cell(params, h, x):
    def gate(name, hidden):
        return x @ params[name]["wx"] + hidden + params[name]["b"]

    z = jax.nn.sigmoid(gate("z", h @ params["z"]["wh"]))
    r = jax.nn.sigmoid(gate("r", h @ params["r"]["wh"]))
    n = jnp.tanh(gate("n", r * (h @ params["n"]["wh"])))
    return z * n + (1 - z) * h

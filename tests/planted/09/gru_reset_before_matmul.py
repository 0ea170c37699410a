"""gru_cell applying the reset gate to h before the matmul, (r * h) @ wh, not to the product."""
MUST_FAIL = ["test_gru_cell", "test_gru_cell_over_a_sequence"]
MUST_SAY = {"test_gru_cell": ["before the matmul"]}


def gru_cell(params, h, x):
    def gate(name, hidden):
        return x @ params[name]["wx"] + hidden + params[name]["b"]

    z = jax.nn.sigmoid(gate("z", h @ params["z"]["wh"]))
    r = jax.nn.sigmoid(gate("r", h @ params["r"]["wh"]))
    n = jnp.tanh(gate("n", (r * h) @ params["n"]["wh"]))
    return (1 - z) * n + z * h

"""elman_cell multiplying by wh transposed."""
MUST_FAIL = ["test_elman_cell"]
MUST_SAY = {"test_elman_cell": ["transposed"]}


def elman_cell(params, h, x):
    return jnp.tanh(x @ params["wx"] + h @ params["wh"].T + params["b"])

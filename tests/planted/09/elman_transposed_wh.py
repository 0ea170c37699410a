"""elman_cell multiplying by wh transposed."""
MUST_FAIL = ["test_elman_cell"]
MUST_SAY = {"test_elman_cell": ["transposed"]}
# The exercises built on this one are judged on its docstring's version: they pass.
MUST_PASS = ["test_echo_loss"]


def elman_cell(params, h, x):
    return jnp.tanh(x @ params["wx"] + h @ params["wh"].T + params["b"])

"""Mean squared error that sums the squared differences instead of averaging them."""
MUST_FAIL = ["test_mse"]
MUST_SAY = {"test_mse": ["sum"]}
# The exercises built on this one are judged on its docstring's version: they pass.
MUST_PASS = ["test_fit_sine", "test_fit_traces_the_loss_at_most_twice"]


def mse(pred, target):
    return jnp.sum((pred - target) ** 2)

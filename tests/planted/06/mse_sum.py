"""Mean squared error that sums the squared differences instead of averaging them."""
MUST_FAIL = ["test_mse"]
MUST_SAY = {"test_mse": ["sum"]}


def mse(pred, target):
    return jnp.sum((pred - target) ** 2)

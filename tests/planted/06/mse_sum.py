"""Mean squared error that sums the squared differences instead of averaging them."""
MUST_FAIL = ["test_mse"]


def mse(pred, target):
    return jnp.sum((pred - target) ** 2)

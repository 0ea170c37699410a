"""Mean squared error averaged over the last axis only: one number per row, not a scalar."""
MUST_FAIL = ["test_mse"]


def mse(pred, target):
    return jnp.mean((pred - target) ** 2, axis=-1)

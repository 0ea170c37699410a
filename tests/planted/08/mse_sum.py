"""The sum of the squared errors instead of their mean: the loss grows with the batch."""
MUST_FAIL = ["test_mse"]
MUST_SAY = {"test_mse": ["sum"]}


def mse(pred, target):
    return jnp.sum((pred - target) ** 2)

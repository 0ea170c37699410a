"""The squared errors summed over each row, then averaged over the rows: 3 times the loss on (4, 3) inputs."""
MUST_FAIL = ["test_mse"]
MUST_SAY = {"test_mse": ["each row", "mean over every element"]}


def mse(pred, target):
    return jnp.mean(jnp.sum((pred - target) ** 2, axis=-1))

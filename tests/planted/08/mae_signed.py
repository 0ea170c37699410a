"""The mean of the signed errors, without the absolute value: positive and negative errors cancel."""
MUST_FAIL = ["test_mae"]
MUST_SAY = {"test_mae": ["absolute value"]}


def mae(pred, target):
    return jnp.mean(pred - target)

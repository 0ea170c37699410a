"""Optax's own Huber loss, which the exercise is to write: right values, no loss of one's own."""
MUST_FAIL = ["test_huber_is_written_by_hand"]
MUST_SAY = {"test_huber_is_written_by_hand": ["optax.huber_loss"]}


def huber(pred, target, delta=1.0):
    return optax.huber_loss(pred, target, delta=delta).mean()

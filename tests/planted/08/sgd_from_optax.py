"""Optax's own SGD with momentum returned as the answer: right updates, no optimizer of one's own."""
MUST_FAIL = ["test_sgd_momentum_is_written_by_hand"]
MUST_SAY = {"test_sgd_momentum_is_written_by_hand": ["optax.sgd"]}


def sgd_momentum(learning_rate, momentum):
    return optax.sgd(learning_rate, momentum=momentum)

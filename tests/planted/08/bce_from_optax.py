"""Optax's own sigmoid_binary_cross_entropy: right values, no loss of one's own."""
MUST_FAIL = ["test_binary_cross_entropy_is_written_by_hand"]
MUST_SAY = {"test_binary_cross_entropy_is_written_by_hand": ["optax.sigmoid_binary_cross_entropy"]}


def binary_cross_entropy(logits, labels):
    return optax.sigmoid_binary_cross_entropy(logits, labels).mean()

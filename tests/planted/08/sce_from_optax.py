"""Optax's own softmax_cross_entropy_with_integer_labels: right values, no loss of one's own."""
MUST_FAIL = ["test_softmax_cross_entropy_is_written_by_hand"]
MUST_SAY = {"test_softmax_cross_entropy_is_written_by_hand": ["optax.softmax_cross_entropy_with_integer_labels"]}


def softmax_cross_entropy(logits, labels):
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()

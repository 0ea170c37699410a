"""Accuracy with the argmax over axis 0 (across the batch, one entry per class) instead of per row."""
MUST_FAIL = ["test_accuracy"]
MUST_SAY = {"test_accuracy": ["axis 0"]}


def accuracy(logits, labels):
    return jnp.mean(jnp.argmax(logits, axis=0) == labels)

"""Accuracy that counts the right rows instead of taking their fraction."""
MUST_FAIL = ["test_accuracy"]
MUST_SAY = {"test_accuracy": ["fraction"]}


def accuracy(logits, labels):
    return jnp.sum(jnp.argmax(logits, axis=-1) == labels).astype(jnp.float32)

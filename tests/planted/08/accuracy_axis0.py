"""argmax over axis 0, across the batch, instead of each row's own."""
MUST_FAIL = ["test_accuracy"]
MUST_SAY = {"test_accuracy": ["axis 0"]}


def accuracy(logits, labels):
    return jnp.mean(jnp.argmax(logits, axis=0) == labels).astype(jnp.float32)

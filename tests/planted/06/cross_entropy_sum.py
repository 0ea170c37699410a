"""Cross-entropy summed over the batch instead of averaged."""
MUST_FAIL = ["test_cross_entropy"]
MUST_SAY = {"test_cross_entropy": ["sum"]}


def cross_entropy(logits, labels):
    log_probs = log_softmax(logits)
    return -jnp.sum(jnp.take_along_axis(log_probs, labels[:, None], axis=-1))

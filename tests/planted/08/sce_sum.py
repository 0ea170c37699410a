"""The softmax cross-entropy summed over the batch instead of averaged."""
MUST_FAIL = ["test_softmax_cross_entropy"]
MUST_SAY = {"test_softmax_cross_entropy": ["sum"]}


def softmax_cross_entropy(logits, labels):
    log_probs = jax.nn.log_softmax(logits)
    return -jnp.sum(log_probs[jnp.arange(labels.shape[0]), labels])

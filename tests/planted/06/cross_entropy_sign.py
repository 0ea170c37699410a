"""Cross-entropy without the minus sign: the mean log probability, which is <= 0."""
MUST_FAIL = ["test_cross_entropy", "test_cross_entropy_large_logits"]
MUST_SAY = {"test_cross_entropy": ["sign"]}


def cross_entropy(logits, labels):
    return jnp.mean(jnp.take_along_axis(log_softmax(logits), labels[:, None], axis=-1))

"""Cross-entropy that indexes log_probs[:, labels]: a (batch, batch) grid, every row with every label."""
MUST_FAIL = ["test_cross_entropy"]
MUST_SAY = {"test_cross_entropy": ["grid"]}


def cross_entropy(logits, labels):
    return -jnp.mean(log_softmax(logits)[:, labels])

"""log_probs[:, labels] pairs every row with every label: a (batch, batch) grid averaged."""
MUST_FAIL = ["test_softmax_cross_entropy"]
MUST_SAY = {"test_softmax_cross_entropy": ["grid"]}


def softmax_cross_entropy(logits, labels):
    return -jnp.mean(jax.nn.log_softmax(logits)[:, labels])

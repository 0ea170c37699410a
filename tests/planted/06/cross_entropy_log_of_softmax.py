"""Cross-entropy as the log of softmax probabilities (computed stably): a probability that underflows to 0
gives log(0) = -inf, although the log_softmax exercise is right."""
MUST_FAIL = ["test_cross_entropy_large_logits"]
MUST_SAY = {"test_cross_entropy_large_logits": ["underflows"]}
MUST_NOT_SAY = {"test_cross_entropy_large_logits": ["overflow"]}


def cross_entropy(logits, labels):
    probs = jnp.exp(log_softmax(logits))
    return -jnp.mean(jnp.log(probs[jnp.arange(len(labels)), labels]))

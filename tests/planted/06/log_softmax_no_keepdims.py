"""log_softmax whose reductions drop the class axis, so the row max does not broadcast over a batch."""
MUST_FAIL = ["test_log_softmax"]
MUST_SAY = {"test_log_softmax": ["keepdims"]}


def log_softmax(logits):
    shifted = logits - jnp.max(logits, axis=-1)
    return shifted - jnp.log(jnp.sum(jnp.exp(shifted), axis=-1))

"""log_softmax reducing over axis 1 (the classes of a 2-D batch) instead of the last axis: right for a
(batch, n_classes) batch, wrong for one row or for more axes before the classes."""
MUST_FAIL = ["test_log_softmax"]
MUST_SAY = {"test_log_softmax": ["LAST axis"]}
MUST_NOT_SAY = {"test_log_softmax": ["keepdims"]}


def log_softmax(logits):
    shifted = logits - jnp.max(logits, axis=1, keepdims=True)
    return shifted - jnp.log(jnp.sum(jnp.exp(shifted), axis=1, keepdims=True))

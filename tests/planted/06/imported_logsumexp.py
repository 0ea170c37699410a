"""log_softmax built on an imported logsumexp instead of the max trick written by hand."""
MUST_FAIL = ["test_log_softmax_is_written_by_hand"]

from jax.scipy.special import logsumexp


def log_softmax(logits):
    return logits - logsumexp(logits, axis=-1, keepdims=True)

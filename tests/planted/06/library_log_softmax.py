"""log_softmax handed to the library instead of written by hand."""
MUST_FAIL = ["test_log_softmax_is_written_by_hand"]


def log_softmax(logits):
    return jax.nn.log_softmax(logits, axis=-1)

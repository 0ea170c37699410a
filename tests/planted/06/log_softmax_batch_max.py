"""log_softmax that subtracts one max over the whole batch (x - x.max()) instead of each row's max:
rows far below the batch's largest logit underflow to log(0)."""
MUST_FAIL = ["test_log_softmax_large_logits"]
MUST_SAY = {"test_log_softmax_large_logits": ["whole batch", "each row"]}


def log_softmax(logits):
    shifted = logits - jnp.max(logits)
    return shifted - jnp.log(jnp.sum(jnp.exp(shifted), axis=-1, keepdims=True))

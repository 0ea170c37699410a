"""log_softmax that subtracts one max over the whole batch (x - x.max()) instead of each row's max:
rows far below the batch's largest logit underflow to log(0)."""
MUST_FAIL = ["test_log_softmax_large_logits"]
MUST_SAY = {"test_log_softmax_large_logits": ["whole batch", "each row"]}
# The exercises built on this one are judged on its docstring's version: they pass.
MUST_PASS = ["test_cross_entropy_large_logits", "test_fit_digits"]


def log_softmax(logits):
    shifted = logits - jnp.max(logits)
    return shifted - jnp.log(jnp.sum(jnp.exp(shifted), axis=-1, keepdims=True))

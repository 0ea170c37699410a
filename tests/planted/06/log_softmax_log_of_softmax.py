"""log_softmax as the log of softmax probabilities, each row's max subtracted: no exp overflows, but a
probability that underflows to 0 gives log(0) = -inf. The max trick is there, so the hint must not ask
for it; cross_entropy, judged on the docstring's log_softmax, is not charged for this mistake."""
MUST_FAIL = ["test_log_softmax_large_logits"]
MUST_SAY = {"test_log_softmax_large_logits": ["log(0)", "probabilities"]}
MUST_NOT_SAY = {"test_log_softmax_large_logits": ["overflows", "subtract each row's max before"]}
MUST_PASS = ["test_log_softmax", "test_cross_entropy", "test_cross_entropy_large_logits"]


def log_softmax(logits):
    exps = jnp.exp(logits - jnp.max(logits, axis=-1, keepdims=True))
    return jnp.log(exps / jnp.sum(exps, axis=-1, keepdims=True))

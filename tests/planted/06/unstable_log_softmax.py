"""log_softmax without the max trick: exp(1000.) overflows to inf and the results turn into nan."""
MUST_FAIL = ["test_log_softmax_large_logits", "test_cross_entropy_large_logits"]


def log_softmax(logits):
    return jnp.log(jnp.exp(logits) / jnp.sum(jnp.exp(logits), axis=-1, keepdims=True))

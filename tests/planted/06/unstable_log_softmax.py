"""log_softmax without the max trick: exp(1000.) overflows to inf and the results turn into nan."""
MUST_FAIL = ["test_log_softmax_large_logits"]
MUST_SAY = {"test_log_softmax_large_logits": ["overflows"]}


def log_softmax(logits):
    return jnp.log(jnp.exp(logits) / jnp.sum(jnp.exp(logits), axis=-1, keepdims=True))

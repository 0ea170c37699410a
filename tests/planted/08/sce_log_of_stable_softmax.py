"""The log of a softmax whose max was subtracted: no exp overflows, but the true class's probability
underflows to 0 and log(0) = -inf. The max trick is there, so the hint must not ask for it."""
MUST_FAIL = ["test_softmax_cross_entropy_large_logits"]
MUST_SAY = {"test_softmax_cross_entropy_large_logits": ["underflows", "log(0)"]}
MUST_NOT_SAY = {"test_softmax_cross_entropy_large_logits": ["overflow", "subtract each row's max"]}


def softmax_cross_entropy(logits, labels):
    probs = jax.nn.softmax(logits, axis=-1)
    return -jnp.mean(jnp.log(probs[jnp.arange(labels.shape[0]), labels]))

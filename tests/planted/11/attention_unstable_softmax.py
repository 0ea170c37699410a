"""attention with a softmax written without the max trick: exp of large scores overflows."""
MUST_FAIL = ["test_attention_large_scores"]
MUST_SAY = {"test_attention_large_scores": ["overflows"]}


def attention(q, k, v, mask=None):
    scores = q @ jnp.swapaxes(k, -1, -2) / jnp.sqrt(q.shape[-1])
    weights = jnp.exp(scores)
    if mask is not None:
        weights = jnp.where(mask, weights, 0.0)
    return weights / jnp.sum(weights, axis=-1, keepdims=True) @ v

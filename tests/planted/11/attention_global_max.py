"""attention subtracts one max for the whole array, not one per query: a query whose scores lie far
below it gets exp() = 0 for every key, and 0 / 0 = NaN."""
MUST_FAIL = ["test_attention_large_scores"]
MUST_SAY = {"test_attention_large_scores": ["for the whole array"]}


def attention(q, k, v, mask=None):
    scores = q @ jnp.swapaxes(k, -1, -2) / jnp.sqrt(q.shape[-1])
    if mask is not None:
        scores = jnp.where(mask, scores, -jnp.inf)
    weights = jnp.exp(scores - jnp.max(scores))
    return weights / jnp.sum(weights, axis=-1, keepdims=True) @ v

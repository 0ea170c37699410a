"""multi_head_attention writes its own attention and scales every head's scores by sqrt(d) of the whole
model instead of sqrt(d // num_heads)."""
MUST_FAIL = ["test_multi_head_attention"]
MUST_SAY = {"test_multi_head_attention": ["the model's whole feature size"]}


def multi_head_attention(params, x, num_heads, mask=None):
    def project(name, inputs):
        return inputs @ params[name]["kernel"] + params[name]["bias"]
    q, k, v = (split_heads(project(n, x), num_heads) for n in ("query", "key", "value"))
    scores = q @ jnp.swapaxes(k, -1, -2) / jnp.sqrt(x.shape[-1])
    if mask is not None:
        scores = jnp.where(mask, scores, -jnp.inf)
    return project("out", merge_heads(jax.nn.softmax(scores, axis=-1) @ v))

"""multi_head_attention runs attention head by head in a Python loop: right values, a program that
grows with the number of heads."""
MUST_FAIL = ["test_multi_head_attention_all_heads_at_once"]
MUST_SAY = {"test_multi_head_attention_all_heads_at_once": ["grows with the heads"]}


def multi_head_attention(params, x, num_heads, mask=None):
    def project(name, inputs):
        return inputs @ params[name]["kernel"] + params[name]["bias"]
    q, k, v = (project(n, x) for n in ("query", "key", "value"))
    size = x.shape[-1] // num_heads
    heads = [attention(q[..., h * size:(h + 1) * size], k[..., h * size:(h + 1) * size],
                       v[..., h * size:(h + 1) * size], mask) for h in range(num_heads)]
    return project("out", jnp.concatenate(heads, axis=-1))

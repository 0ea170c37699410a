"""multi_head_attention returns the merged heads without the out projection."""
MUST_FAIL = ["test_multi_head_attention"]
MUST_SAY = {"test_multi_head_attention": ["without the last projection"]}


def multi_head_attention(params, x, num_heads, mask=None):
    def project(name, inputs):
        return inputs @ params[name]["kernel"] + params[name]["bias"]
    q, k, v = (split_heads(project(n, x), num_heads) for n in ("query", "key", "value"))
    return merge_heads(attention(q, k, v, mask))

"""multi_head_attention adds the heads' axis to the mask, mask[None, None], without asking whether there
is one: with the default mask=None it raises. Only a test that leaves the mask out sees it."""
MUST_FAIL = ["test_multi_head_attention"]
MUST_SAY = {"test_multi_head_attention": ["with a mask it runs, without one it raises"]}


def multi_head_attention(params, x, num_heads, mask=None):
    def project(name, inputs):
        return inputs @ params[name]["kernel"] + params[name]["bias"]
    q, k, v = (split_heads(project(n, x), num_heads) for n in ("query", "key", "value"))
    return project("out", merge_heads(attention(q, k, v, mask[None, None])))

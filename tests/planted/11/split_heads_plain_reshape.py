"""split_heads reshapes straight to (batch, heads, length, head_dim), mixing positions into heads."""
MUST_FAIL = ["test_split_heads"]
MUST_SAY = {"test_split_heads": ["reshaped straight"]}
MUST_PASS = ["test_multi_head_attention"]


def split_heads(x, num_heads):
    batch, length, d = x.shape
    return x.reshape(batch, num_heads, length, d // num_heads)

"""merge_heads reshapes straight to (batch, length, d) without moving the heads axis back."""
MUST_FAIL = ["test_merge_heads"]
MUST_SAY = {"test_merge_heads": ["reshaped straight"]}
MUST_PASS = ["test_multi_head_attention"]


def merge_heads(x):
    batch, heads, length, head_dim = x.shape
    return x.reshape(batch, length, heads * head_dim)

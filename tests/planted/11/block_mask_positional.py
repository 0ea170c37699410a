"""TransformerBlock hands the mask to nnx.MultiHeadAttention positionally, self.attention(h, mask): there
the second argument is inputs_k, the keys' input, so with a mask the block raises; without one it is
right. A forward-pass mistake with a mask: the block's layers and its unmasked output still pass, and so
do the Transformer's tests (they run on the docstring's block)."""
MUST_FAIL = ["test_block_passes_the_mask"]
MUST_SAY = {"test_block_passes_the_mask": ["runs without a mask and raises with one"]}
MUST_PASS = ["test_block_layers", "test_block_forward_fixed_weights", "test_transformer_causal",
             "test_transformer_forward_fixed_weights", "test_transformer_layers"]


class TransformerBlock(TransformerBlock):
    def __call__(self, x, mask=None):
        x = x + self.attention(self.norm1(x), mask)
        return x + self.mlp_out(nnx.relu(self.mlp_in(self.norm2(x))))

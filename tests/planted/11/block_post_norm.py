"""TransformerBlock normalizes each residual sum (post-norm) instead of each sublayer's input."""
MUST_FAIL = ["test_block_forward_fixed_weights"]
MUST_SAY = {"test_block_forward_fixed_weights": ["post-norm"]}
MUST_PASS = ["test_block_layers", "test_transformer_forward_fixed_weights"]


class TransformerBlock(TransformerBlock):
    def __call__(self, x, mask=None):
        x = self.norm1(x + self.attention(x, mask=mask))
        return self.norm2(x + self.mlp_out(nnx.relu(self.mlp_in(x))))

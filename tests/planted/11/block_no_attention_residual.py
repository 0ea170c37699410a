"""TransformerBlock replaces x with the attention's output instead of adding it."""
MUST_FAIL = ["test_block_forward_fixed_weights"]
MUST_SAY = {"test_block_forward_fixed_weights": ["no residual around the attention"]}


class TransformerBlock(TransformerBlock):
    def __call__(self, x, mask=None):
        x = self.attention(self.norm1(x), mask=mask)
        return x + self.mlp_out(nnx.relu(self.mlp_in(self.norm2(x))))

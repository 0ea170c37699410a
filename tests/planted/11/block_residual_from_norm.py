"""TransformerBlock starts the attention's residual sum from the normalized x: h = norm1(x); x = h + attention(h)."""
MUST_FAIL = ["test_block_forward_fixed_weights"]
MUST_SAY = {"test_block_forward_fixed_weights": ["residual sum starting from the NORMALIZED x"]}


class TransformerBlock(TransformerBlock):
    def __call__(self, x, mask=None):
        h = self.norm1(x)
        x = h + self.attention(h, mask=mask)
        return x + self.mlp_out(nnx.relu(self.mlp_in(self.norm2(x))))

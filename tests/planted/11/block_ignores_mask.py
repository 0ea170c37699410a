"""TransformerBlock never hands its mask to the attention."""
MUST_FAIL = ["test_block_passes_the_mask", "test_transformer_causal"]
MUST_SAY = {"test_block_passes_the_mask": ["changed nothing"]}


class TransformerBlock(TransformerBlock):
    def __call__(self, x, mask=None):
        x = x + self.attention(self.norm1(x))
        return x + self.mlp_out(nnx.relu(self.mlp_in(self.norm2(x))))

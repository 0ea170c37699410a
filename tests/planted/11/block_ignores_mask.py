"""TransformerBlock never hands its mask to the attention. It costs the block's test alone: the
Transformer's tests run on the docstring's block."""
MUST_FAIL = ["test_block_passes_the_mask"]
MUST_SAY = {"test_block_passes_the_mask": ["changed nothing"]}
MUST_PASS = ["test_transformer_causal"]


class TransformerBlock(TransformerBlock):
    def __call__(self, x, mask=None):
        x = x + self.attention(self.norm1(x))
        return x + self.mlp_out(nnx.relu(self.mlp_in(self.norm2(x))))

"""Transformer feeds the block's output straight to the head, without the final LayerNorm."""
MUST_FAIL = ["test_transformer_forward_fixed_weights"]
MUST_SAY = {"test_transformer_forward_fixed_weights": ["no final LayerNorm"]}


class Transformer(Transformer):
    def __call__(self, tokens):
        length = tokens.shape[-1]
        x = self.token_embed(tokens) + self.position_embed(jnp.arange(length))
        return self.head(self.block(x, causal_mask(length) if self.causal else None))

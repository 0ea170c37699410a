"""Transformer ignores causal=True and never builds the mask."""
MUST_FAIL = ["test_transformer_causal"]
MUST_SAY = {"test_transformer_causal": ["causal_mask(length)"]}


class Transformer(Transformer):
    def __call__(self, tokens):
        x = self.token_embed(tokens) + self.position_embed(jnp.arange(tokens.shape[-1]))
        return self.head(self.norm(self.block(x)))

"""Transformer applies the causal mask whatever `causal` says."""
MUST_FAIL = ["test_transformer_causal"]
MUST_SAY = {"test_transformer_causal": ["mask=None"]}


class Transformer(Transformer):
    def __call__(self, tokens):
        length = tokens.shape[-1]
        x = self.token_embed(tokens) + self.position_embed(jnp.arange(length))
        return self.head(self.norm(self.block(x, causal_mask(length))))

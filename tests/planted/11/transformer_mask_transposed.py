"""Transformer hands the block the causal mask transposed, causal_mask(length).T: each position attends
to itself and the positions AFTER it. The hint says what the test saw the block get."""
MUST_FAIL = ["test_transformer_causal"]
MUST_SAY = {"test_transformer_causal": ["transposed"]}
MUST_NOT_SAY = {"test_transformer_causal": ["no mask reached the block"]}


class Transformer(Transformer):
    def __call__(self, tokens):
        length = tokens.shape[-1]
        x = self.token_embed(tokens) + self.position_embed(jnp.arange(length))
        mask = causal_mask(length).T if self.causal else None
        return self.head(self.norm(self.block(x, mask)))

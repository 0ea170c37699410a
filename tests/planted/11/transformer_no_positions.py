"""Transformer builds its position table but never adds it: the model can't tell positions apart, so
it can't learn to reverse."""
MUST_FAIL = ["test_transformer_forward_fixed_weights", "test_transformer_learns_to_reverse"]
MUST_SAY = {"test_transformer_forward_fixed_weights": ["no position embedding"],
            "test_transformer_learns_to_reverse": ["position embedding"]}


class Transformer(Transformer):
    def __call__(self, tokens):
        mask = causal_mask(tokens.shape[-1]) if self.causal else None
        return self.head(self.norm(self.block(self.token_embed(tokens), mask)))

"""Lesson 11: the docstrings' versions of the exercises that `multi_head_attention`, `TransformerBlock`
and `Transformer` build on. The tests and the probe run those exercises on these in place of the
learner's (`on_documented`): a mistake in an earlier exercise costs that exercise's tests alone."""
import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from grader.learner import expect


def causal_mask(n):
    return jnp.arange(n)[None, :] <= jnp.arange(n)[:, None]


def attention(q, k, v, mask=None):
    scores = jnp.einsum("...qd,...kd->...qk", q, k) / np.sqrt(q.shape[-1]).astype(np.float32)
    if mask is not None:
        scores = jnp.where(mask, scores, -jnp.inf)
    return jax.nn.softmax(scores, axis=-1) @ v


def split_heads(x, num_heads):
    batch, length, d = x.shape
    return jnp.swapaxes(x.reshape(batch, length, num_heads, d // num_heads), 1, 2)


def merge_heads(x):
    batch, heads, length, head_dim = x.shape
    return jnp.swapaxes(x, 1, 2).reshape(batch, length, heads * head_dim)


class TransformerBlock(nnx.Module):
    def __init__(self, dim, num_heads, mlp_dim, *, rngs: nnx.Rngs):
        self.norm1 = nnx.LayerNorm(dim, rngs=rngs)
        self.attention = nnx.MultiHeadAttention(num_heads=num_heads, in_features=dim, decode=False, rngs=rngs)
        self.norm2 = nnx.LayerNorm(dim, rngs=rngs)
        self.mlp_in = nnx.Linear(dim, mlp_dim, rngs=rngs)
        self.mlp_out = nnx.Linear(mlp_dim, dim, rngs=rngs)

    def __call__(self, x, mask=None):
        x = x + self.attention(self.norm1(x), mask=mask)
        return x + self.mlp_out(nnx.relu(self.mlp_in(self.norm2(x))))


DOCUMENTED = {"causal_mask": causal_mask, "attention": attention, "split_heads": split_heads,
              "merge_heads": merge_heads, "TransformerBlock": TransformerBlock}
BUILDS_ON = {"multi_head_attention": ("split_heads", "attention", "merge_heads"),
             "Transformer": ("causal_mask", "TransformerBlock")}


def on_documented(ex, exercise):
    """The exercises that `exercise` builds on, the docstrings' versions in place of the learner's."""
    return expect.documented(ex, **{name: DOCUMENTED[name] for name in BUILDS_ON[exercise]})

"""Lesson 11: normalization layers and attention, from scratch, then a small transformer in Flax NNX.

The first exercises are pure functions on arrays. Each one computes what a Flax layer computes, so
you can check yours against `flax.nnx` with the same parameters. The defaults match the installed
Flax: `epsilon=1e-6` for LayerNorm, RMSNorm, GroupNorm and InstanceNorm, and `epsilon=1e-5`,
`momentum=0.99` for BatchNorm. Every function must also work under `jax.jit` (the tests call them
through it; arguments the docstring calls "a Python int" or "a Python bool" are static there).

The last two exercises are `nnx.Module`s: a pre-norm transformer block and a model around it with
token and position embeddings. `train_reverse` (given in full) trains that model to reverse short
sequences of digits.
"""
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx


# ---------------------------------------------------------------- normalization

def layer_norm(x, scale, bias, eps=1e-6):
    """Layer normalization over the last axis, as `nnx.LayerNorm(d)` computes it.

    x: float32, shape (..., d). scale, bias: float32, shape (d,). Each row `x[..., :]` is normalized
    with its own mean and variance (the plain variance, dividing by d, as `jnp.var` does), then
    scaled and shifted, feature by feature:

        y = (x - mean) / sqrt(var + eps) * scale + bias

    eps goes inside the square root. Returns float32 of the shape of x.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def rms_norm(x, scale, eps=1e-6):
    """RMS normalization over the last axis, as `nnx.RMSNorm(d)` computes it.

    x: float32, shape (..., d). scale: float32, shape (d,). Like layer_norm, but nothing is
    subtracted and there is no bias: each row is divided by its root mean square,

        y = x / sqrt(mean(x ** 2) + eps) * scale

    Returns float32 of the shape of x.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def group_norm(x, scale, bias, num_groups, eps=1e-6):
    """Group normalization, as `nnx.GroupNorm(c, num_groups=num_groups)` computes it.

    x: float32, shape (batch, ..., c): a batch axis first, channels last, and any number of axes
    between (none for (batch, c); height and width for images). scale, bias: float32, shape (c,).
    num_groups: a Python int that divides c.

    The channels split into num_groups groups of c // num_groups CONSECUTIVE channels: group 0 is
    channels 0 .. c/G - 1, group 1 the next c/G, and so on. Each example is normalized with one mean
    and one variance per group, taken over every axis but the batch (the axes between and that
    group's channels). Then each channel is scaled and shifted: `... * scale + bias`, eps inside the
    square root as in layer_norm. Returns float32 of the shape of x.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def instance_norm(x, scale, bias, eps=1e-6):
    """Instance normalization, as `nnx.InstanceNorm(c)` computes it.

    x: float32, shape (batch, ..., c) with at least one axis between batch and channels (an image's
    height and width, say). scale, bias: float32, shape (c,). Each example's each channel is
    normalized on its own, over the axes between: one mean and variance per (example, channel).
    Then `... * scale + bias`, eps inside the square root. Returns float32 of the shape of x.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def batch_norm(x, scale, bias, running_mean, running_var, training, momentum=0.99, eps=1e-5):
    """Batch normalization with running averages, as `nnx.BatchNorm(c)` computes it.

    x: float32, shape (batch, ..., c). scale, bias, running_mean, running_var: float32, shape (c,).
    training: a Python bool. Returns a triple `(y, new_mean, new_var)`.

    - training=True: normalize with this batch's statistics, per channel, over every axis but the
      last: `mean` and `var` (the plain variance, dividing by the number of values). The running
      averages move towards them: `new_mean = momentum * running_mean + (1 - momentum) * mean`,
      and the same for `new_var` with `var`.
    - training=False: normalize with `running_mean` and `running_var`, and return them unchanged
      as `new_mean` and `new_var`.

    Either way `y = (x - m) / sqrt(v + eps) * scale + bias` with the statistics (m, v) of that mode.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


# ---------------------------------------------------------------- attention

def causal_mask(n):
    """The causal mask for n positions: a bool array of shape (n, n), True where position i may
    attend to position j, which is where j <= i (itself and the positions before it, never after).

    n: a Python int.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def attention(q, k, v, mask=None):
    """Scaled dot-product attention.

    q: float32, shape (..., lq, d): one query per row. k: (..., lk, d), v: (..., lk, dv): one key and
    one value per row. The leading axes (batch, heads) are the same for all three.
    mask: None, or a bool array that broadcasts to (..., lq, lk); True where query i may attend to
    key j. Every query may attend to at least one key.

    The scores are `q @ k^T / sqrt(d)`, shape (..., lq, lk). Each query's weights are the softmax of
    its row of scores over the keys (the last axis), with masked keys getting weight exactly 0. Write
    the softmax stably: scores in the thousands must give finite, right weights. The output is the
    weights times v: float32, shape (..., lq, dv).
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def split_heads(x, num_heads):
    """Split the features into heads: shape (batch, length, d) -> (batch, num_heads, length, d // num_heads).

    num_heads: a Python int that divides d. Head h gets the h-th block of d // num_heads consecutive
    features: `out[b, h, t, j] == x[b, t, h * (d // num_heads) + j]` (the layout of
    `nnx.MultiHeadAttention`'s kernels, (d, num_heads, d // num_heads)).
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def merge_heads(x):
    """The inverse of split_heads: shape (batch, num_heads, length, head_dim) -> (batch, length,
    num_heads * head_dim), with head h's features at h * head_dim .. (h + 1) * head_dim - 1."""
    # YOUR CODE HERE
    raise NotImplementedError()


def multi_head_attention(params, x, num_heads, mask=None):
    """Multi-head self-attention, as `nnx.MultiHeadAttention` computes it with the same weights.

    params: a dict with four projections, each {"kernel": (d, d), "bias": (d,)}, float32:
    params["query"], params["key"], params["value"] and params["out"].
    x: float32, shape (batch, length, d). num_heads: a Python int that divides d.
    mask: None or a bool array that broadcasts to (batch, num_heads, length, length), as in
    attention (a (length, length) causal mask works).

    1. Project: `q = x @ query["kernel"] + query["bias"]`, and k, v the same way with their own
       weights.
    2. split_heads q, k and v; run attention on every head at once (with the mask); merge_heads.
    3. Project the merged result with params["out"] the same way. Returns float32, shape (batch,
       length, d).

    In `nnx.MultiHeadAttention(num_heads, d)` the same numbers sit in other shapes: the query kernel
    is (d, num_heads, d // num_heads), our kernel reshaped; its out kernel is (num_heads, d //
    num_heads, d).
    """
    # YOUR CODE HERE
    raise NotImplementedError()


# ---------------------------------------------------------------- a transformer in Flax NNX

class TransformerBlock(nnx.Module):
    """A pre-norm transformer block: `TransformerBlock(dim, num_heads, mlp_dim, rngs=nnx.Rngs(0))`.

    Create these layers in `__init__`, in this order, with these names (leave every other argument
    at its default):

        self.norm1     = nnx.LayerNorm(dim, rngs=rngs)
        self.attention = nnx.MultiHeadAttention(num_heads=num_heads, in_features=dim, decode=False, rngs=rngs)
        self.norm2     = nnx.LayerNorm(dim, rngs=rngs)
        self.mlp_in    = nnx.Linear(dim, mlp_dim, rngs=rngs)
        self.mlp_out   = nnx.Linear(mlp_dim, dim, rngs=rngs)

    `block(x, mask=None)` maps x of shape (batch, length, dim) to the same shape. Pre-norm means each
    sublayer reads a normalized copy of x and adds its result to x itself (the residual):

        x = x + attention(norm1(x))        self-attention, with `mask` passed on as attention's mask
        x = x + mlp_out(relu(mlp_in(norm2(x))))

    Return the last x. Nothing normalizes the sum itself (that would be post-norm).
    """

    def __init__(self, dim, num_heads, mlp_dim, *, rngs: nnx.Rngs):
        # YOUR CODE HERE
        raise NotImplementedError()

    def __call__(self, x, mask=None):
        # YOUR CODE HERE
        raise NotImplementedError()


class Transformer(nnx.Module):
    """A one-block transformer over tokens: `Transformer(vocab_size, max_len, dim=..., num_heads=...,
    mlp_dim=..., causal=..., rngs=nnx.Rngs(0))`.

    Create these layers in `__init__`, in this order, with these names, and keep `causal` (a Python
    bool) as an attribute:

        self.token_embed    = nnx.Embed(vocab_size, dim, rngs=rngs)
        self.position_embed = nnx.Embed(max_len, dim, rngs=rngs)
        self.block          = TransformerBlock(dim, num_heads, mlp_dim, rngs=rngs)
        self.norm           = nnx.LayerNorm(dim, rngs=rngs)
        self.head           = nnx.Linear(dim, vocab_size, rngs=rngs)
        self.causal         = causal

    `model(tokens)` maps int32 tokens of shape (batch, length), length <= max_len, to float32 logits
    of shape (batch, length, vocab_size):

        x = token_embed(tokens) + position_embed(positions 0, 1, ..., length - 1)
        x = block(x, mask)          mask = causal_mask(length) if causal, else None (attend everywhere)
        logits = head(norm(x))

    With causal=True the logits at position i depend only on tokens 0..i.
    """

    def __init__(self, vocab_size, max_len, *, dim, num_heads, mlp_dim, causal, rngs: nnx.Rngs):
        # YOUR CODE HERE
        raise NotImplementedError()

    def __call__(self, tokens):
        # YOUR CODE HERE
        raise NotImplementedError()


# ---------------------------------------------------------------- training, given in full

def reverse_batch(rng, batch, length, vocab_size=10):
    """Given in full. A batch of the reversing task: (tokens, targets), int32 of shape (batch,
    length), where targets[b] is tokens[b] reversed. rng: a NumPy Generator."""
    tokens = rng.integers(0, vocab_size, size=(batch, length)).astype(np.int32)
    return tokens, tokens[:, ::-1].copy()


@nnx.jit
def train_step(model, optimizer, tokens, targets):
    """Given in full. One Adam step on the mean cross-entropy over every position; returns the loss."""
    def loss_fn(model):
        logits = model(tokens)
        return optax.softmax_cross_entropy_with_integer_labels(logits, targets).mean()

    loss, grads = nnx.value_and_grad(loss_fn)(model)
    optimizer.update(model, grads)
    return loss


def train_reverse(steps=300, length=8, batch=64, seed=0, learning_rate=3e-3):
    """Given in full. Train `Transformer(10, length, dim=32, num_heads=4, mlp_dim=64, causal=False)`
    to reverse sequences of `length` digits. Returns `(model, losses, accuracy)`: the accuracy is the
    fraction of digits right on 1,000 new sequences. With the defaults it reaches 100% in a few
    seconds on a laptop CPU (most of them compiling)."""
    model = Transformer(10, length, dim=32, num_heads=4, mlp_dim=64, causal=False, rngs=nnx.Rngs(seed))
    optimizer = nnx.Optimizer(model, optax.adam(learning_rate), wrt=nnx.Param)
    rng = np.random.default_rng(seed)
    losses = [train_step(model, optimizer, *reverse_batch(rng, batch, length)) for _ in range(steps)]
    tokens, targets = reverse_batch(rng, 1000, length)
    predicted = jnp.argmax(nnx.jit(lambda m, t: m(t))(model, tokens), axis=-1)
    return model, np.asarray(jax.device_get(losses)), float(jnp.mean(predicted == targets))

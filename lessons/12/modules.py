"""Lesson 12: one model, three module systems.

The same small network, written three times: in Flax linen, in Haiku and in Flax NNX.

    x (batch, 4) -> dense1 (4 -> 8) -> BatchNorm -> relu -> Dropout(0.5) -> dense2 (8 -> 3) -> logits

BatchNorm uses momentum 0.9 (Haiku calls it `decay_rate`) and epsilon 1e-5 in all three. In training
it normalizes with the batch's statistics and updates its running ones; in evaluation it normalizes with
the running statistics and leaves them alone. Dropout drops half the hidden units in training (and
doubles the others); in evaluation it does nothing.

Each system keeps the weights in a different pytree. The converters below move them from one layout to
another, so the three models give the same logits in evaluation mode from the same weights.

Then two pieces written by hand, with no module system at all: an LSTM run over a sequence with
`jax.lax.scan`, and weight normalization.

The tests call the models, the training steps and the functions through `jax.jit` (`haiku_train_step`
with its optimizer `tx` static), so compute with `jnp` and keep Python `if`s to Python values such as
`train` and `is_training`.
"""
from typing import Any

import haiku as hk
import jax
import jax.numpy as jnp
import optax
from flax import linen as nn
from flax import nnx
from flax.training import train_state

HIDDEN, CLASSES, RATE, MOMENTUM, EPSILON = 8, 3, 0.5, 0.9, 1e-5


# ---------------------------------------------------------------- Flax linen

class LinenMLP(nn.Module):
    """The model in Flax linen: `LinenMLP()`, then `model.init(...)` and `model.apply(...)`.

    Write `__call__(self, x, train)` with `@nn.compact`, creating the layers inline with these names
    (the names are the keys of the parameter dict):

        nn.Dense(HIDDEN, name="dense1")
        nn.BatchNorm(use_running_average=not train, momentum=MOMENTUM, epsilon=EPSILON, name="bn")
        nn.relu
        nn.Dropout(RATE, deterministic=not train)
        nn.Dense(CLASSES, name="dense2")

    x: float32, shape (batch, 4); train: a Python bool. Returns the logits, float32, (batch, 3).

    `model.init({"params": key}, x, train=False)` gives {"params": ..., "batch_stats": ...}. In training
    (`train=True`) apply needs the batch statistics marked mutable and a key for dropout:

        logits, updates = model.apply(variables, x, train=True, rngs={"dropout": key},
                                      mutable=["batch_stats"])

    and in evaluation neither: `logits = model.apply(variables, x, train=False)`.
    """

    @nn.compact
    def __call__(self, x, train: bool):
        # YOUR CODE HERE
        raise NotImplementedError()


class TrainState(train_state.TrainState):
    """Given in full. Flax's TrainState (step, apply_fn, params, tx, opt_state) with one more field: the
    BatchNorm statistics, which are not trained by the optimizer but change in every training step."""
    batch_stats: Any = None


def create_train_state(key, tx, model=None):
    """Given in full. A TrainState for `model` (a `LinenMLP()` by default), initialized on a batch of
    zeros: `apply_fn` is `model.apply`, and `batch_stats` holds the running statistics."""
    model = LinenMLP() if model is None else model
    variables = model.init({"params": key}, jnp.zeros((1, 4), jnp.float32), train=False)
    return TrainState.create(apply_fn=model.apply, params=variables["params"], tx=tx,
                             batch_stats=variables["batch_stats"])


def cross_entropy(logits, labels):
    """Given in full. The mean softmax cross-entropy of logits (batch, classes) against int labels (batch,)."""
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()


def linen_train_step(state, x, y, dropout_key):
    """One training step of a linen model. Returns `(new_state, loss)`.

    state: a `TrainState` (above). Call the model only through `state.apply_fn`, in training mode:

        state.apply_fn({"params": params, "batch_stats": state.batch_stats}, x, train=True,
                       rngs={"dropout": dropout_key}, mutable=["batch_stats"])

    It returns `(logits, updates)`; `updates["batch_stats"]` holds the new running statistics.

    1. Write `loss_fn(params)`: the call above, and `cross_entropy(logits, y)`. Return the loss with the
       updates as auxiliary data, and take `jax.value_and_grad(loss_fn, has_aux=True)(state.params)`.
    2. `state.apply_gradients(grads=grads)` runs the optimizer and counts the step; then
       `.replace(batch_stats=updates["batch_stats"])` keeps the new statistics.

    Return the loss computed before the update (a float32 scalar).
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def linen_predict(state, x):
    """The logits of the model in `state` (a `TrainState`) in evaluation mode, float32, (batch, 3).

    Call `state.apply_fn({"params": ..., "batch_stats": ...}, x, train=False)`: nothing is mutable and no
    dropout key is given, so nothing can change and nothing random can run.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


# ---------------------------------------------------------------- Haiku

def haiku_mlp(x, is_training):
    """The model in Haiku, as a function to hand to `hk.transform_with_state`.

    Create the modules inside the function, with these names (Haiku names the parameters after them):

        hk.Linear(HIDDEN, name="dense1")
        hk.BatchNorm(create_scale=True, create_offset=True, decay_rate=MOMENTUM, eps=EPSILON, name="bn")
            called as bn(x, is_training)
        jax.nn.relu
        dropout, only when is_training: hk.dropout(hk.next_rng_key(), RATE, x)
        hk.Linear(CLASSES, name="dense2")

    x: float32, (batch, 4); is_training: a Python bool. Returns the logits, float32, (batch, 3).

    Transformed, `model = hk.transform_with_state(haiku_mlp)` gives `params, state = model.init(key, x,
    True)` (Haiku's BatchNorm creates its moving averages only in training mode, so initialize in it) and
    `logits, new_state = model.apply(params, state, rng, x, is_training)`. The state holds BatchNorm's
    moving averages. In evaluation no random key is needed (`rng=None` must work), and the state comes
    back unchanged.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def haiku_train_step(tx, params, state, opt_state, rng, x, y):
    """One training step of the Haiku model. Returns `(params, state, opt_state, loss)`, all new.

    tx: an optax optimizer; opt_state: `tx.init(params)`; rng: a PRNG key for dropout.

    1. `model = hk.transform_with_state(haiku_mlp)`, here inside the function, not once at module level:
       the tests run the step on the docstring's haiku_mlp, which a transform made earlier can't see.
    2. `loss_fn(params)` runs `model.apply(params, state, rng, x, True)`, which gives `(logits,
       new_state)`, and returns `cross_entropy(logits, y)` with `new_state` as auxiliary data.
    3. `jax.value_and_grad(loss_fn, has_aux=True)`, then `updates, opt_state = tx.update(grads,
       opt_state, params)` and `params = optax.apply_updates(params, updates)`.

    Return the new params, the new state (the one apply gave back), the new optimizer state and the loss
    computed before the update.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


# ---------------------------------------------------------------- Flax NNX

class NNXMLP(nnx.Module):
    """The model in Flax NNX: `NNXMLP(rngs=nnx.Rngs(0))`; `model(x)` gives the logits, float32, (batch, 3).

    Create these layers in `__init__`, with these names:

        self.dense1  = nnx.Linear(4, HIDDEN, rngs=rngs)
        self.bn      = nnx.BatchNorm(HIDDEN, momentum=MOMENTUM, epsilon=EPSILON, rngs=rngs)
        self.dropout = nnx.Dropout(RATE, rngs=rngs)
        self.dense2  = nnx.Linear(HIDDEN, CLASSES, rngs=rngs)

    and apply them in the order of the other two: dense1, bn, relu, dropout, dense2. Pass no mode
    arguments: `model.train()` and `model.eval()` switch BatchNorm and Dropout.
    """

    def __init__(self, *, rngs: nnx.Rngs):
        # YOUR CODE HERE
        raise NotImplementedError()

    def __call__(self, x):
        # YOUR CODE HERE
        raise NotImplementedError()


# ---------------------------------------------------------------- converters

def linen_to_haiku(variables):
    """Linen's variables -> Haiku's `(params, state)`, for the models above.

    variables: {"params": {"dense1": {"kernel": (4, 8), "bias": (8,)}, "bn": {"scale": (8,), "bias": (8,)},
                           "dense2": {"kernel": (8, 3), "bias": (3,)}},
                "batch_stats": {"bn": {"mean": (8,), "var": (8,)}}}

    Haiku's params: {"dense1": {"w": kernel, "b": bias}, "bn": {"scale": (1, 8), "offset": (1, 8)},
    "dense2": {"w": ..., "b": ...}}. hk.Linear's `w` is laid out as linen's kernel, (in, out); BatchNorm's
    scale and offset have shape (1, 8), and its offset is linen's bias.

    Haiku's state: {"bn/~/mean_ema": ema(mean), "bn/~/var_ema": ema(var)}, where each moving average is
    {"average": the statistic, shape (1, 8), "hidden": zeros (1, 8), "counter": int32 0}. Evaluation
    reads `average`. `hidden` and `counter` start as a new Haiku model starts them, so a training step
    after the conversion begins a new average (Haiku divides `hidden` by 1 - decay**counter).

    Returns new dicts; `variables` is left as it was. Keep float32.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def haiku_to_linen(params, state):
    """Haiku's `(params, state)` -> linen's variables: the inverse of `linen_to_haiku` (the running mean
    and variance are the moving averages' `average`, reshaped to (8,)). Returns new dicts."""
    # YOUR CODE HERE
    raise NotImplementedError()


def linen_to_nnx(variables, model):
    """Copy linen's variables into `model`, an NNX model laid out as `NNXMLP` (attributes dense1, bn,
    dense2), in place, and return the model.

    nnx.Linear keeps `kernel` and `bias` as linen's Dense does; nnx.BatchNorm keeps `scale`, `bias` and
    the running `mean` and `var`. Set each with `.set_value(...)` (or `variable[...] = value`).
    """
    # YOUR CODE HERE
    raise NotImplementedError()


# ---------------------------------------------------------------- an LSTM, by hand

def lstm_cell(params, carry, x):
    """One step of an LSTM, laid out as Haiku's `hk.LSTM`. Returns `(new_carry, h)`.

    params: {"w": (d_in + hidden, 4 * hidden), "b": (4 * hidden,)}; carry: `(h, c)`, each (batch, hidden);
    x: (batch, d_in). One matrix product gives all four gates, split in this order:

        i, g, f, o = split(concat([x, h], axis=-1) @ w + b, 4, axis=-1)
        c_new = sigmoid(f + 1) * c + sigmoid(i) * tanh(g)       (the + 1 is Haiku's forget bias)
        h_new = sigmoid(o) * tanh(c_new)

    The output of the step is h_new.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def lstm_unroll(params, xs, carry):
    """Run `lstm_cell` over a sequence with `jax.lax.scan`. Returns `(hs, final_carry)`.

    xs: (time, batch, d_in), time first, as `hk.dynamic_unroll` takes it; carry: `(h0, c0)`.
    hs: (time, batch, hidden), the h of every step; final_carry: `(h, c)` after the last step.
    No Python loop over time: the program must not grow with the length of the sequence.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


# ---------------------------------------------------------------- weight normalization

def weight_norm(v, g):
    """Weight normalization: the kernel `w = g * v / ||v||`, one norm per output unit.

    v: float32, (d_in, d_out), the direction; g: float32, (d_out,), the length. Column j of w is column j
    of v divided by its Euclidean norm (over axis 0), times g[j], so that ||w[:, j]|| == |g[j]|.
    Let the gradient flow through the norm too (no stop_gradient): then the gradient with respect to v
    is orthogonal to v, column by column, and scaling v changes nothing.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def weight_norm_dense(params, x):
    """A dense layer with a weight-normalized kernel: `x @ weight_norm(params["v"], params["g"]) +
    params["b"]`. params: {"v": (d_in, d_out), "g": (d_out,), "b": (d_out,)}; x: (batch, d_in)."""
    # YOUR CODE HERE
    raise NotImplementedError()

"""Lesson 12: the docstrings' versions of the models and functions that later exercises build on, and a
float64 NumPy version of the model. The tests run `linen_train_step`, `linen_predict`, `haiku_train_step`,
the converters and `lstm_unroll` / `weight_norm_dense` on these in place of the learner's, so a mistake in
one exercise costs that exercise's tests alone."""
from typing import Any

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn
from flax import nnx
from flax.training import train_state

from grader.learner import expect

D_IN, HIDDEN, CLASSES, RATE, MOMENTUM, EPSILON = 4, 8, 3, 0.5, 0.9, 1e-5


class LinenMLP(nn.Module):
    @nn.compact
    def __call__(self, x, train: bool):
        x = nn.Dense(HIDDEN, name="dense1")(x)
        x = nn.BatchNorm(use_running_average=not train, momentum=MOMENTUM, epsilon=EPSILON, name="bn")(x)
        x = nn.Dropout(RATE, deterministic=not train)(nn.relu(x))
        return nn.Dense(CLASSES, name="dense2")(x)


class TrainState(train_state.TrainState):
    batch_stats: Any = None


def haiku_mlp(x, is_training):
    x = hk.Linear(HIDDEN, name="dense1")(x)
    x = hk.BatchNorm(True, True, MOMENTUM, eps=EPSILON, name="bn")(x, is_training)
    x = jax.nn.relu(x)
    if is_training:
        x = hk.dropout(hk.next_rng_key(), RATE, x)
    return hk.Linear(CLASSES, name="dense2")(x)


class NNXMLP(nnx.Module):
    def __init__(self, *, rngs: nnx.Rngs):
        self.dense1 = nnx.Linear(D_IN, HIDDEN, rngs=rngs)
        self.bn = nnx.BatchNorm(HIDDEN, momentum=MOMENTUM, epsilon=EPSILON, rngs=rngs)
        self.dropout = nnx.Dropout(RATE, rngs=rngs)
        self.dense2 = nnx.Linear(HIDDEN, CLASSES, rngs=rngs)

    def __call__(self, x):
        return self.dense2(self.dropout(nnx.relu(self.bn(self.dense1(x)))))


def lstm_cell(params, carry, x):
    h, c = carry
    i, g, f, o = jnp.split(jnp.concatenate([x, h], axis=-1) @ params["w"] + params["b"], 4, axis=-1)
    c = jax.nn.sigmoid(f + 1.0) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
    h = jax.nn.sigmoid(o) * jnp.tanh(c)
    return (h, c), h


def weight_norm(v, g):
    return g * v / jnp.linalg.norm(v, axis=0, keepdims=True)


DOCUMENTED = {"LinenMLP": LinenMLP, "haiku_mlp": haiku_mlp, "NNXMLP": NNXMLP, "lstm_cell": lstm_cell,
              "weight_norm": weight_norm}
BUILDS_ON = {"haiku_train_step": ("haiku_mlp",), "lstm_unroll": ("lstm_cell",),
             "weight_norm_dense": ("weight_norm",)}


def on_documented(ex, exercise):
    """The exercises that `exercise` builds on, the docstrings' versions in place of the learner's."""
    return expect.documented(ex, **{name: DOCUMENTED[name] for name in BUILDS_ON[exercise]})


# ---------------------------------------------------------------- the model in float64 NumPy

def weights(seed):
    """Fixed weights in linen's layout, float32: {"params": ..., "batch_stats": ...}, with running
    statistics away from their start (0 and 1), so evaluation mode and training mode differ."""
    rng = np.random.default_rng(seed)

    def f32(a):
        return np.asarray(a, np.float32)

    return {"params": {"dense1": {"kernel": f32(rng.normal(0, 0.7, (D_IN, HIDDEN))), "bias": f32(rng.normal(0, 0.3, HIDDEN))},
                       "bn": {"scale": f32(rng.uniform(0.5, 1.5, HIDDEN)), "bias": f32(rng.normal(0, 0.5, HIDDEN))},
                       "dense2": {"kernel": f32(rng.normal(0, 0.7, (HIDDEN, CLASSES))), "bias": f32(rng.normal(0, 0.3, CLASSES))}},
            "batch_stats": {"bn": {"mean": f32(rng.normal(0, 0.5, HIDDEN)), "var": f32(rng.uniform(0.3, 2.0, HIDDEN))}}}


def np_hidden(w, x):
    """dense1's output, float64."""
    p = w["params"]["dense1"]
    return np.asarray(x, np.float64) @ np.asarray(p["kernel"], np.float64) + np.asarray(p["bias"], np.float64)


def np_forward(w, x, *, train=False, mask=None, batch_norm=True, relu=True):
    """The model's logits in float64. train: BatchNorm on the batch's statistics; mask: dropout's keep mask
    (hidden units kept, times 1 / (1 - RATE)), None for none."""
    p = {k: {n: np.asarray(a, np.float64) for n, a in v.items()} for k, v in w["params"].items()}
    h = np_hidden(w, x)
    if batch_norm:
        if train:
            mean, var = h.mean(axis=0), h.var(axis=0)
        else:
            mean, var = (np.asarray(w["batch_stats"]["bn"][k], np.float64) for k in ("mean", "var"))
        h = (h - mean) / np.sqrt(var + EPSILON) * p["bn"]["scale"] + p["bn"]["bias"]
    if relu:
        h = np.maximum(h, 0)
    if mask is not None:
        h = h * mask / (1 - RATE)
    return h @ p["dense2"]["kernel"] + p["dense2"]["bias"]


def np_new_stats(w, x, momentum=MOMENTUM):
    """linen's and nnx's running statistics after one training step on x, float64."""
    h = np_hidden(w, x)
    old = w["batch_stats"]["bn"]
    return {"mean": momentum * np.asarray(old["mean"], np.float64) + (1 - momentum) * h.mean(axis=0),
            "var": momentum * np.asarray(old["var"], np.float64) + (1 - momentum) * h.var(axis=0)}


def to_haiku(w):
    """The same weights in Haiku's layout: (params, state), NumPy."""
    p, stats = w["params"], w["batch_stats"]["bn"]

    def ema(value):
        value = np.asarray(value, np.float32).reshape(1, -1)
        return {"average": value, "counter": np.zeros((), np.int32), "hidden": np.zeros_like(value)}

    params = {"dense1": {"w": p["dense1"]["kernel"], "b": p["dense1"]["bias"]},
              "bn": {"scale": p["bn"]["scale"].reshape(1, -1), "offset": p["bn"]["bias"].reshape(1, -1)},
              "dense2": {"w": p["dense2"]["kernel"], "b": p["dense2"]["bias"]}}
    return params, {"bn/~/mean_ema": ema(stats["mean"]), "bn/~/var_ema": ema(stats["var"])}


@nnx.jit(static_argnums=0)
def build_nnx(cls, key):
    """cls(rngs=nnx.Rngs(key)), built in one compiled program (the tests and the probes build alike)."""
    return cls(rngs=nnx.Rngs(key))


@nnx.jit
def nnx_forward(model, x):
    """The model's logits in whatever mode it is in; BatchNorm's statistics and dropout's key state come back."""
    return model(x)


def set_nnx(model, w):
    """Set an NNXMLP-shaped model's weights to `w` (linen's layout)."""
    p, stats = w["params"], w["batch_stats"]["bn"]
    for name in ("dense1", "dense2"):
        getattr(model, name).kernel.set_value(jnp.asarray(p[name]["kernel"]))
        getattr(model, name).bias.set_value(jnp.asarray(p[name]["bias"]))
    model.bn.scale.set_value(jnp.asarray(p["bn"]["scale"]))
    model.bn.bias.set_value(jnp.asarray(p["bn"]["bias"]))
    model.bn.mean.set_value(jnp.asarray(stats["mean"]))
    model.bn.var.set_value(jnp.asarray(stats["var"]))
    return model


def np_lstm_cell(params, carry, x, forget_bias=1.0, order="igfo"):
    """One LSTM step in float64, hk.LSTM's layout; `forget_bias` and `order` give the usual slips."""
    w, b = (np.asarray(params[k], np.float64) for k in ("w", "b"))
    h, c = (np.asarray(a, np.float64) for a in carry)
    gates = dict(zip(order, np.split(np.concatenate([np.asarray(x, np.float64), h], axis=-1) @ w + b, 4, axis=-1)))
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    c = sigmoid(gates["f"] + forget_bias) * c + sigmoid(gates["i"]) * np.tanh(gates["g"])
    h = sigmoid(gates["o"]) * np.tanh(c)
    return (h, c), h

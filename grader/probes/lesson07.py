"""Lesson 07 probes.

`CNN`: the student's model on a hidden seed and a small hidden batch, checked for what the tests ask of
it (a model whose init differs from the reference's by construction order or attribute names passes):
the 13,802 parameters and 96 batch statistics, logits of shape (batch, 10) in float32, the same logits
twice in eval mode and different ones in training mode, and BatchNorm's running averages that move in
training mode, by momentum 0.9 (two forward passes on one batch must move them by d, then by 0.9 d), and
stay put in eval mode.

`train_step` and `eval_step` are driven on this module's own small network (conv, BatchNorm, dropout,
two dense layers, on the same 8x8x1 images), so they are judged apart from the student's `CNN`: one
Adam step with a hidden learning rate (the loss and the updated parameters, compared with the
reference), and evaluation of a model left in training mode with hidden running averages, twice (the
loss, the accuracy within one image, the same pair both times, the running averages untouched).
"""
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from grader.probes import Probes, compare, concerns, merge_findings

PROBES = Probes("07")
MOMENTUM = 0.9


class _Net(nnx.Module):
    """The probes' model: (b, 8, 8, 1) images to (b, 10) logits, with every kind of state a CNN holds.

    The conv has no bias: before BatchNorm its gradient is zero but for rounding noise, which Adam's
    first step would blow up to a full step of +-lr that differs between right implementations."""

    def __init__(self, *, rngs: nnx.Rngs):
        self.conv = nnx.Conv(1, 4, kernel_size=(3, 3), padding="SAME", use_bias=False, rngs=rngs)
        self.bn = nnx.BatchNorm(4, momentum=MOMENTUM, rngs=rngs)
        self.dense1 = nnx.Linear(64, 16, rngs=rngs)
        self.dropout = nnx.Dropout(0.3, rngs=rngs)
        self.dense2 = nnx.Linear(16, 10, rngs=rngs)

    def __call__(self, x):
        x = nnx.max_pool(nnx.relu(self.bn(self.conv(x))), window_shape=(2, 2), strides=(2, 2))
        x = self.dropout(nnx.relu(self.dense1(x.reshape(x.shape[0], -1))))
        return self.dense2(x)


@nnx.jit(static_argnums=0)
def _build(model_class, key):
    return model_class(rngs=nnx.Rngs(key))


@nnx.jit(static_argnums=1)
def _adam(model, lr):
    return nnx.Optimizer(model, optax.adam(lr), wrt=nnx.Param)


@nnx.jit
def _forward(model, x):
    return model(x)


def _new(model_class, seed):
    """model_class(rngs=nnx.Rngs(key)), built in one compiled program (an "rbg" key, as the tests use)."""
    return _build(model_class, jax.random.key(seed, impl="rbg"))


def _leaves(model, kind):
    return [np.array(leaf) for leaf in jax.tree.leaves(nnx.state(model, kind))]


def _images(rng, n):
    return rng.uniform(0, 1, size=(n, 8, 8, 1)).astype(np.float32)


def _labels(rng, n):
    return rng.integers(0, 10, size=n).astype(np.int32)


def _seed(rng):
    return int(rng.integers(1, 2**31))


# -- CNN ----------------------------------------------------------------------------------------

def _cnn_inputs(rng):
    return {"seed": _seed(rng), "x": _images(rng, int(rng.integers(4, 9))), "n_shape": int(rng.integers(9, 41))}


SHAPE, LAYERS, COUNT = "test_cnn_output_shape", "test_cnn_layers", "test_cnn_parameter_count"
DROPOUT, BATCHNORM = "test_dropout_only_in_training", "test_batchnorm_updates_only_in_training"


def _check_cnn(got, want, inputs):
    """Every property the tests check, each finding naming the tests that check it."""
    if not isinstance(got, dict) or set(got) != set(want):
        return "the output has the wrong structure"
    found = []
    params, stats = got["counts"]
    if [params, stats] != list(want["counts"]):
        found.append(concerns(f"CNN(rngs=...) has {params:,} trainable parameters and {stats} batch statistics; "
                              f"the layers of the docstring have {want['counts'][0]:,} and {want['counts'][1]}",
                              COUNT, LAYERS))
    n, n_shape = len(inputs["x"]), inputs["n_shape"]
    if list(got["shape"][0]) != [n_shape, 10] or got["shape"][1] != "float32":
        found.append(concerns(f"model(x) for {n_shape} images gives {got['shape'][1]} logits of shape "
                              f"{tuple(got['shape'][0])}", SHAPE))
    outs = [np.asarray(o) for o in list(got["train"]) + list(got["eval"])]
    if any(o.shape != (n, 10) or o.dtype != np.float32 for o in outs):
        return merge_findings(found + [f"model(x) for {n} images does not give float32 logits of shape ({n}, 10)"])
    if not all(np.all(np.isfinite(o)) for o in outs):
        return merge_findings(found + ["the logits hold NaN or infinity"])
    if not np.array_equal(outs[2], outs[3]):
        found.append(concerns("in eval mode, two calls on the same images gave different logits", DROPOUT))
    if np.array_equal(outs[0], outs[1]):
        found.append(concerns("in training mode, two calls on the same images gave the same logits (no dropout)",
                              DROPOUT))
    stats_finding = _check_stats([[np.asarray(leaf, np.float64) for leaf in snap] for snap in got["stats"]],
                                 [np.shape(leaf) for leaf in want["stats"][0]])
    return merge_findings(found + ([stats_finding] if stats_finding else []))


def _check_stats(snaps, want_shapes):
    """snaps: the batch statistics before, after one and two training-mode calls, then after two eval calls."""
    if len(snaps) != 4 or any(len(s) != len(snaps[0]) for s in snaps):
        return "the output has the wrong structure"
    if not snaps[0]:
        return concerns("the model has no batch statistics", BATCHNORM, COUNT, LAYERS)
    if sorted(np.shape(a) for a in snaps[0]) != sorted(want_shapes):
        # a missing or extra BatchNorm: the layer tests' mistake; the ones there are checked below
        finding = _check_stats_moves(*snaps)
        shapes = concerns("the model's batch statistics are not a running mean and variance for each BatchNorm "
                          "of the docstring", COUNT, LAYERS)
        return merge_findings([shapes] + ([finding] if finding else []))
    return _check_stats_moves(*snaps)


def _check_stats_moves(start, once, twice, after_eval):
    if all(np.array_equal(a, b) for a, b in zip(start, once)):
        return concerns("a training-mode call left BatchNorm's running averages as they were", BATCHNORM)
    for a, b, c in zip(start, once, twice):
        moved, again = b - a, c - b
        if not np.all(np.abs(again - MOMENTUM * moved) <= 1e-5 + 1e-3 * np.abs(moved)):
            return concerns(f"BatchNorm's running averages do not move with momentum {MOMENTUM}: a second "
                            "training-mode call on the same images should move them by momentum times the first "
                            "call's step", LAYERS)
    if not all(np.array_equal(a, b) for a, b in zip(twice, after_eval)):
        return concerns("an eval-mode call changed BatchNorm's running averages", BATCHNORM)
    return None


@PROBES("CNN", make=_cnn_inputs, check=_check_cnn)
def cnn(ex, seed, x, n_shape):
    model = _new(ex.CNN, seed)
    counts = [int(sum(leaf.size for leaf in _leaves(model, kind))) for kind in (nnx.Param, nnx.BatchStat)]
    graphdef, state = nnx.split(model)
    shape = jax.eval_shape(lambda s, x: nnx.merge(graphdef, s)(x), state,
                           jax.ShapeDtypeStruct((n_shape, 8, 8, 1), jnp.float32))
    model.train()
    stats = [_leaves(model, nnx.BatchStat)]
    train = []
    for _ in range(2):
        train.append(_forward(model, x))
        stats.append(_leaves(model, nnx.BatchStat))
    model.eval()
    evals = [_forward(model, x), _forward(model, x)]
    stats.append(_leaves(model, nnx.BatchStat))
    return {"counts": counts, "shape": [list(shape.shape), str(shape.dtype)], "train": train, "eval": evals,
            "stats": stats}


# -- train_step ---------------------------------------------------------------------------------

def _batch_inputs(rng, low, high):
    n = int(rng.integers(low, high))
    return {"seed": _seed(rng), "x": _images(rng, n), "y": _labels(rng, n)}


def _step_inputs(rng):
    return {**_batch_inputs(rng, 8, 17), "lr": float(rng.uniform(1e-3, 3e-2))}


@PROBES("train_step", make=_step_inputs, rtol=1e-4, atol=1e-5, value_tests=("test_train_step_updates_model",))
def train_step(ex, seed, x, y, lr):
    model = _new(_Net, seed)
    optimizer = _adam(model, lr)
    model.train()
    loss = ex.train_step(model, optimizer, x, y)
    return {"loss": loss, "params": _leaves(model, nnx.Param)}


# -- eval_step ----------------------------------------------------------------------------------

def _eval_inputs(rng):
    return {**_batch_inputs(rng, 48, 81), "mean": (0.3 * rng.normal(size=4)).astype(np.float32),
            "var": rng.uniform(0.3, 2.0, size=4).astype(np.float32)}


def _check_eval(got, want, inputs):
    if not isinstance(got, dict) or set(got) != set(want):
        return "the output has the wrong structure"
    first, second = got["first"], got["second"]
    if not all(isinstance(r, (list, tuple)) and len(r) == 2 for r in (first, second)):
        return "eval_step should return a pair (loss, accuracy)"
    found = []
    for what, i, tol in (("loss", 0, {"rtol": 1e-4, "atol": 1e-5}), ("accuracy", 1, {"rtol": 0, "atol": 1.5 / len(inputs["y"])})):
        reason = compare(first[i], want["first"][i], **tol)
        if reason:
            found.append(concerns(f"the {what}: {reason.removeprefix('out: ')}", "test_eval_step_metrics"))
    if not all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(first, second)):
        found.append(concerns("two calls on a model left in training mode gave different results",
                              "test_eval_step_is_deterministic"))
    stats = [np.asarray(s) for s in got["stats"]]
    if len(stats) != 2 or not all(np.array_equal(s, inputs[k]) for s, k in zip(stats, ("mean", "var"))):
        found.append(concerns("eval_step changed BatchNorm's running averages", "test_eval_step_is_deterministic"))
    return merge_findings(found)


@PROBES("eval_step", make=_eval_inputs, check=_check_eval)
def eval_step(ex, seed, x, y, mean, var):
    model = _new(_Net, seed)
    model.bn.mean.set_value(jnp.asarray(mean))
    model.bn.var.set_value(jnp.asarray(var))
    results = []
    for _ in range(2):
        model.train()
        results.append(ex.eval_step(model, x, y))
    return {"first": results[0], "second": results[1], "stats": [model.bn.mean.get_value(), model.bn.var.get_value()]}

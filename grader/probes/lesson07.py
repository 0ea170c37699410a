"""Lesson 07 probes.

`CNN`: the student's model on a hidden seed and a small hidden batch, checked for what the tests ask of
it (a model whose init differs from the reference's by construction order or attribute names passes).
Its construction alone, never calling it: the 13,802 parameters and 96 batch statistics, a running mean
and variance for each BatchNorm (so a mistake in `__call__` costs none of the construction tests). Then
what its forward pass does: logits of shape (batch, 10) in float32, the same logits twice in eval mode
and different ones in training mode, and BatchNorm's running averages that move in training mode, by
momentum 0.9 (two forward passes on one batch must move them by d, then by 0.9 d), and stay put in eval
mode. A second probe sets every layer (found by type and size, as the test does) to hidden weights, with
running averages equal to the hidden batch's statistics and dropout's rate 0, so that only the order of
the layers counts, and compares the eval-mode logits with the reference's up to a constant per row (as
the test does).

`train_step` and `eval_step` are driven on this module's own small network (conv, BatchNorm, dropout,
two dense layers, on the same 8x8x1 images), so they are judged apart from the student's `CNN`: one
Adam step with a hidden learning rate (the loss and the updated parameters, compared with the
reference), and the same step on a copy handed in eval mode (the same loss and running averages as the
student's own step in training mode); evaluation of a model in eval mode with hidden running averages
(the loss, the accuracy within one image), then of the same model switched to training mode, twice (the
same pair each time, the running averages untouched).
"""
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from grader.learner import jaxprs
from grader.learner.shared.lesson07 import SmallNet, build as _build, forward as _forward, leaves as _leaves
from grader.learner.shared.lesson07 import modules as _modules
from grader.probes import Probes, compare, concerns, merge_findings

PROBES = Probes("07")
MOMENTUM = 0.9  # the docstring's BatchNorm momentum in the CNN


@nnx.jit(static_argnums=1)
def _adam(model, lr):
    return nnx.Optimizer(model, optax.adam(lr), wrt=nnx.Param)


def _new(model_class, seed):
    """model_class(rngs=nnx.Rngs(key)), built in one compiled program (an "rbg" key, as the tests use)."""
    return _build(model_class, jax.random.key(seed, impl="rbg"))


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


def _check_construction(got, want, inputs):
    """The model as built: its parameter and batch-statistic counts, and a running mean and variance for
    each BatchNorm of the docstring."""
    if not isinstance(got, dict) or set(got) != set(want):
        return "the output has the wrong structure"
    found = []
    params, stats = got["counts"]
    if [params, stats] != list(want["counts"]):
        found.append(concerns(f"CNN(rngs=...) has {params:,} trainable parameters and {stats} batch statistics; "
                              f"the layers of the docstring have {want['counts'][0]:,} and {want['counts'][1]}",
                              COUNT, LAYERS))
    if sorted(tuple(s) for s in got["stat_shapes"]) != sorted(tuple(s) for s in want["stat_shapes"]):
        found.append(concerns("the model's batch statistics are not a running mean and variance for each BatchNorm "
                              "of the docstring", COUNT, LAYERS))
    return merge_findings(found)


@PROBES("CNN", make=lambda rng: {"seed": _seed(rng)}, check=_check_construction, guards=(COUNT, LAYERS))
def cnn_construction(ex, seed):
    """Built, never called: a mistake in the forward pass can't reach the construction tests."""
    model = _new(ex.CNN, seed)
    return {"counts": [int(sum(leaf.size for leaf in _leaves(model, kind))) for kind in (nnx.Param, nnx.BatchStat)],
            "stat_shapes": [list(np.shape(leaf)) for leaf in _leaves(model, nnx.BatchStat)]}


def _check_cnn(got, want, inputs):
    """Every property of the forward pass the tests check, each finding naming the tests that check it."""
    if not isinstance(got, dict) or set(got) != set(want):
        return "the output has the wrong structure"
    found = []
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
    n_shape = inputs["n_shape"]
    if got["dropout"] is not None and [list(c) for c in got["dropout"]] != [[n_shape, 64]]:
        found.append(concerns(f"in training mode, dropout is called on arrays of shapes "
                              f"{[tuple(c) for c in got['dropout']]} in one forward pass of {n_shape} images, not "
                              f"once on dense1's output ({n_shape}, 64)", DROPOUT))
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


@PROBES("CNN", make=_cnn_inputs, check=_check_cnn, guards=(SHAPE, DROPOUT, BATCHNORM, LAYERS))
def cnn(ex, seed, x, n_shape):
    model = _new(ex.CNN, seed)
    graphdef, state = nnx.split(model)
    shape = jax.eval_shape(lambda s, x: nnx.merge(graphdef, s)(x), state,
                           jax.ShapeDtypeStruct((n_shape, 8, 8, 1), jnp.float32))
    model.train()
    dense = [m for m in _modules(model) if isinstance(m, nnx.Linear)]
    has_dense = all(sum((m.in_features, m.out_features) == io for m in dense) == 1 for io in ((128, 64), (64, 10)))
    dropout = [list(c) for c in jaxprs.layer_inputs(model, nnx.Dropout, (n_shape, 8, 8, 1))] if has_dense else None
    stats = [_leaves(model, nnx.BatchStat)]
    train = []
    for _ in range(2):
        train.append(_forward(model, x))
        stats.append(_leaves(model, nnx.BatchStat))
    model.eval()
    evals = [_forward(model, x), _forward(model, x)]
    stats.append(_leaves(model, nnx.BatchStat))
    return {"shape": [list(shape.shape), str(shape.dtype)], "train": train, "eval": evals,
            "stats": stats, "dropout": dropout}


FORWARD = "test_cnn_forward_fixed_weights"
_ROLES = {  # role: (layer type, shape test), as the test finds them
    "conv1": (nnx.Conv, lambda m: (m.in_features, m.out_features) == (1, 16)),
    "bn1": (nnx.BatchNorm, lambda m: m.num_features == 16),
    "conv2": (nnx.Conv, lambda m: (m.in_features, m.out_features) == (16, 32)),
    "bn2": (nnx.BatchNorm, lambda m: m.num_features == 32),
    "dense1": (nnx.Linear, lambda m: (m.in_features, m.out_features) == (128, 64)),
    "dense2": (nnx.Linear, lambda m: (m.in_features, m.out_features) == (64, 10)),
}


def _np_conv(x, kernel):
    h, w = x.shape[1:3]
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    return sum(padded[:, i:i + h, j:j + w, :] @ kernel[i, j] for i in range(3) for j in range(3))


def _forward_inputs(rng):
    """Hidden images and weights; each BatchNorm's running averages are its input's batch statistics,
    so normalizing with either gives the same output."""
    x = _images(rng, int(rng.integers(3, 9))).astype(np.float64)

    def dense(shape, fan_in):
        return {"kernel": rng.normal(0, 1.5 / np.sqrt(fan_in), shape), "bias": rng.normal(0, 0.2, shape[-1])}

    def batchnorm(h):
        c = h.shape[-1]
        return {"scale": rng.uniform(0.5, 1.5, c) * rng.choice([-1.0, 1.0], c), "bias": rng.normal(0, 0.5, c),
                "mean": h.mean(axis=(0, 1, 2)), "var": h.var(axis=(0, 1, 2))}

    def block(h, bn):
        h = np.maximum((h - bn["mean"]) / np.sqrt(bn["var"] + 1e-5) * bn["scale"] + bn["bias"], 0)
        n, height, width, c = h.shape
        return h.reshape(n, height // 2, 2, width // 2, 2, c).max(axis=(2, 4))

    w = {"conv1": dense((3, 3, 1, 16), 9), "conv2": dense((3, 3, 16, 32), 144)}
    h = _np_conv(x, w["conv1"]["kernel"]) + w["conv1"]["bias"]
    w["bn1"] = batchnorm(h)
    h = _np_conv(block(h, w["bn1"]), w["conv2"]["kernel"]) + w["conv2"]["bias"]
    w["bn2"] = batchnorm(h)
    w["dense1"], w["dense2"] = dense((128, 64), 128), dense((64, 10), 64)
    weights = {f"{role}.{name}": v.astype(np.float32) for role, arrays in w.items() for name, v in arrays.items()}
    return {"x": x.astype(np.float32), "weights": weights}


def _log_softmax(z):
    z = np.asarray(z, np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def _check_forward(got, want, inputs):
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        return concerns(f"with hidden weights, model(x) gives shape {got.shape}, not {want.shape}", FORWARD)
    if not np.allclose(_log_softmax(got), _log_softmax(want), rtol=1e-4, atol=2e-4):
        return concerns("with hidden weights in every layer, the eval-mode logits differ from the docstring's "
                        "forward pass (beyond a constant per row)", FORWARD)
    return None


@PROBES("CNN", make=_forward_inputs, check=_check_forward, guards=(FORWARD,))
def cnn_forward(ex, x, weights):
    model = _new(ex.CNN, 0)
    found = {role: [m for m in _modules(model) if isinstance(m, kind) and fits(m)]
             for role, (kind, fits) in _ROLES.items()}
    missing = [role for role, modules in found.items() if len(modules) != 1]
    if missing:
        raise ValueError(f"no single layer for {', '.join(missing)}")
    for key, value in weights.items():
        role, name = key.split(".")
        getattr(found[role][0], name).set_value(jnp.asarray(value))
    for module in _modules(model):
        if isinstance(module, nnx.Dropout):
            module.rate = 0.0
    model.eval()
    return _forward(model, x)


# -- train_step ---------------------------------------------------------------------------------

def _batch_inputs(rng, low, high):
    n = int(rng.integers(low, high))
    return {"seed": _seed(rng), "x": _images(rng, n), "y": _labels(rng, n)}


def _step_inputs(rng):
    return {**_batch_inputs(rng, 8, 17), "lr": float(rng.uniform(1e-3, 3e-2))}


MODE = "test_train_step_sets_training_mode"


def _close(a, b, rtol=1e-5, atol=1e-6) -> bool:
    try:
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    except (TypeError, ValueError):
        return False
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _check_step(got, want, inputs):
    """The step in training mode against the reference's; the step on an eval-mode copy against the
    student's own step in training mode (so a wrong loss isn't charged twice)."""
    if not isinstance(got, dict) or set(got) != set(want):
        return "the output has the wrong structure"
    found = []
    reason = compare([got["loss"], got["params"]], [want["loss"], want["params"]], rtol=1e-4, atol=1e-5)
    if reason:
        found.append(concerns(f"one step in training mode: {reason.removeprefix('out')}",
                              "test_train_step_updates_model"))
    start, stats, eval_stats = got["start"], got["stats"], got["eval_stats"]
    if not (len(start) == len(stats) == len(eval_stats)):
        return merge_findings(found + ["the output has the wrong structure"])
    if all(_close(a, b, 0, 0) for a, b in zip(start, stats)):
        found.append(concerns("a step on a model in training mode left BatchNorm's running averages as they were",
                              MODE))
    elif not (_close(got["eval_loss"], got["loss"]) and all(_close(a, b) for a, b in zip(eval_stats, stats))):
        found.append(concerns("a step on a model handed in eval mode gave another loss or other running averages "
                              "than the same step on the model in training mode", MODE))
    return merge_findings(found)


@PROBES("train_step", make=_step_inputs, check=_check_step)
def train_step(ex, seed, x, y, lr):
    model = _new(SmallNet, seed)
    optimizer = _adam(model, lr)
    twin = nnx.clone(model)
    twin_optimizer = _adam(twin, lr)
    start = _leaves(model, nnx.BatchStat)
    model.train()
    loss = ex.train_step(model, optimizer, x, y)
    twin.eval()
    eval_loss = ex.train_step(twin, twin_optimizer, x, y)
    return {"loss": loss, "params": _leaves(model, nnx.Param), "start": start,
            "stats": _leaves(model, nnx.BatchStat), "eval_loss": eval_loss, "eval_stats": _leaves(twin, nnx.BatchStat)}


# -- eval_step ----------------------------------------------------------------------------------

def _eval_inputs(rng):
    return {**_batch_inputs(rng, 48, 81), "mean": (0.3 * rng.normal(size=4)).astype(np.float32),
            "var": rng.uniform(0.3, 2.0, size=4).astype(np.float32)}


def _flat(tree) -> list:
    """The leaves of a decoded output, in order (dict values by sorted key, as jax.tree.leaves)."""
    if isinstance(tree, dict):
        return [leaf for k in sorted(tree) for leaf in _flat(tree[k])]
    if isinstance(tree, (list, tuple)):
        return [leaf for v in tree for leaf in _flat(v)]
    return [] if tree is None else [tree]


def _check_eval(got, want, inputs):
    if not isinstance(got, dict) or set(got) != set(want):
        return "the output has the wrong structure"
    results = got["results"]
    if not (isinstance(results, (list, tuple)) and len(results) == 3):
        return "the output has the wrong structure"
    found = []
    if not all(isinstance(r, (list, tuple)) and len(r) == 2 for r in results):
        found.append(concerns("eval_step should return a pair (loss, accuracy)", "test_eval_step_metrics"))
    else:
        for what, i, tol in (("loss", 0, {"rtol": 1e-4, "atol": 1e-5}),
                             ("accuracy", 1, {"rtol": 0, "atol": 1.5 / len(inputs["y"])})):
            reason = compare(results[0][i], want["results"][0][i], **tol)
            if reason:
                found.append(concerns(f"the {what}: {reason.removeprefix('out: ')}", "test_eval_step_metrics"))
    leaves = [_flat(r) for r in results]
    if not all(len(r) == len(leaves[0]) and all(_close(a, b, 1e-6, 1e-7) for a, b in zip(r, leaves[0]))
               for r in leaves[1:]):
        found.append(concerns("on the model switched to training mode, eval_step gave other results than in eval mode",
                              "test_eval_step_is_deterministic"))
    stats = [np.asarray(s) for s in got["stats"]]
    if len(stats) != 2 or not all(np.array_equal(s, inputs[k]) for s, k in zip(stats, ("mean", "var"))):
        found.append(concerns("eval_step changed BatchNorm's running averages", "test_eval_step_is_deterministic"))
    return merge_findings(found)


@PROBES("eval_step", make=_eval_inputs, check=_check_eval)
def eval_step(ex, seed, x, y, mean, var):
    model = _new(SmallNet, seed)
    model.bn.mean.set_value(jnp.asarray(mean))
    model.bn.var.set_value(jnp.asarray(var))
    model.eval()
    results = [ex.eval_step(model, x, y)]
    for _ in range(2):
        model.train()
        results.append(ex.eval_step(model, x, y))
    return {"results": results, "stats": [model.bn.mean.get_value(), model.bn.var.get_value()]}

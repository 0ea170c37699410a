"""Lesson 12 probes.

The three models on hidden weights and a hidden batch: LinenMLP's variable shapes from init, its evaluation
logits, and the running statistics a training-mode apply gives back; haiku_mlp's params and state shapes
from init, its evaluation logits and the state it returns there (unchanged), and the state after a training
apply from a moving average some steps in (counter, hidden, average); NNXMLP's evaluation logits and its
running statistics after two training calls. Each part is charged to the test that checks it, and a part
that raises costs that part's test alone. Dropout's mask is not compared: a correct model may draw it
another way. The training steps with hidden weights, batch, labels, learning rate and dropout key (the
loss, params, step and statistics that come back); linen_predict's logits. The converters on hidden weights,
with the dtypes Haiku's init gives (an int32 counter); haiku_to_linen from moving averages whose `hidden`
and `counter` are not a new model's; linen_to_nnx read back out of the model it was given, and whether it
returned that model. lstm_cell and lstm_unroll on hidden sizes and lengths; weight_norm's values and its
gradient against a hidden upstream gradient on hidden shapes; weight_norm_dense on hidden shapes.

As in the public tests, linen_train_step and linen_predict run on the docstring's LinenMLP (the state's
apply_fn), haiku_train_step on the docstring's haiku_mlp, linen_to_nnx on the docstring's NNXMLP,
lstm_unroll on the docstring's lstm_cell and weight_norm_dense on the docstring's weight_norm: a mistake in
an earlier exercise is charged to that exercise alone. A training step that ignores its key is caught by
its loss, which depends on the hidden key. What only the way the code is written shows (which collections
are mutable, model.train() reaching Dropout, one scan over time) is not mirrored: a Python value the sandbox
reported would be a claim, not evidence.
"""
from collections.abc import Mapping

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import optax

from grader.learner.shared import lesson12 as doc
from grader.probes import Probes, by_part, compare, raised_here

PROBES = Probes("12")

CLOSE = {"rtol": 1e-4, "atol": 1e-4}
STATS = {"rtol": 1e-4, "atol": 1e-5}


def _normal(rng, *shape, scale=1.0, shift=0.0):
    return (shift + scale * rng.normal(size=shape)).astype(np.float32)


def _batch(rng):
    """A batch size kept apart from the model's sizes (4 inputs, 8 hidden units, 3 classes)."""
    return int(rng.choice([2, 5, 6, 7, 9, 10]))


def _x(rng, n):
    return (_normal(rng, n, doc.D_IN) * rng.uniform(0.8, 2.0) + rng.normal(0, 0.7)).astype(np.float32)


def _weights(rng):
    """Hidden weights in linen's layout, running statistics away from their start (0 and 1)."""
    return {"params": {"dense1": {"kernel": _normal(rng, doc.D_IN, doc.HIDDEN, scale=0.7),
                                  "bias": _normal(rng, doc.HIDDEN, scale=0.3)},
                       "bn": {"scale": rng.uniform(0.5, 1.5, doc.HIDDEN).astype(np.float32),
                              "bias": _normal(rng, doc.HIDDEN, scale=0.5)},
                       "dense2": {"kernel": _normal(rng, doc.HIDDEN, doc.CLASSES, scale=0.7),
                                  "bias": _normal(rng, doc.CLASSES, scale=0.3)}},
            "batch_stats": {"bn": {"mean": _normal(rng, doc.HIDDEN, scale=0.5),
                                   "var": rng.uniform(0.3, 2.0, doc.HIDDEN).astype(np.float32)}}}


def _key(seed):
    return jax.random.key(seed, impl="rbg")


def _tree(w):
    """As the public tests hand weights over: JAX arrays."""
    return jax.tree.map(jnp.asarray, w)


def _plain(tree):
    """Mappings as dicts and sequences as lists, all the way down: what the wire carries."""
    if isinstance(tree, Mapping):
        return {str(k): _plain(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return [_plain(v) for v in tree]
    return tree


def _shapes(tree):
    """Every leaf's shape, as an int array."""
    return jax.tree.map(lambda a: np.asarray(np.shape(a), np.int64), _plain(tree))


# -- LinenMLP --------------------------------------------------------------------------------------

def _model_inputs(rng):
    n = _batch(rng)
    return {"weights": _weights(rng), "x": _x(rng, n), "seed": int(rng.integers(1, 2**31))}


_check_linen = by_part({
    "shapes": ("the variables init makes, by name and shape", "test_linen_variables", {"rtol": 0, "atol": 0}),
    "eval": ("the evaluation logits on hidden weights", "test_linen_eval_fixed_weights", CLOSE),
    "stats": ("the running statistics a training-mode apply gives back, on hidden weights",
              "test_linen_training_mutates_batch_stats_and_uses_dropout_rng", STATS),
})


@PROBES("LinenMLP", make=_model_inputs, check=_check_linen)
def linen_mlp(ex, weights, x, seed):
    model = ex.LinenMLP()

    def stats():
        _, updates = jax.jit(lambda v, x, key: model.apply(v, x, train=True, rngs={"dropout": key},
                                                           mutable=["batch_stats"]))(weights, x, _key(seed))
        return _plain(updates)["batch_stats"]

    return {"shapes": raised_here(lambda: _shapes(jax.jit(lambda key, x: model.init({"params": key}, x, train=False))(
                _key(seed), x))),
            "eval": raised_here(lambda: jax.jit(lambda v, x: model.apply(v, x, train=False))(weights, x)),
            "stats": raised_here(stats)}


# -- linen_train_step, linen_predict ---------------------------------------------------------------

def _step_inputs(rng):
    n = _batch(rng)
    return {"weights": _weights(rng), "x": _x(rng, n), "y": rng.integers(0, doc.CLASSES, n).astype(np.int32),
            "seed": int(rng.integers(1, 2**31)), "lr": float(rng.uniform(0.05, 0.3))}


def _linen_state(weights, lr):
    """A TrainState of the docstring's LinenMLP, as the public tests build it."""
    return doc.TrainState.create(apply_fn=doc.LinenMLP().apply, params=weights["params"], tx=optax.sgd(lr),
                                 batch_stats=weights["batch_stats"])


@PROBES("linen_train_step", make=_step_inputs, value_tests=("test_linen_train_step_values",), **STATS)
def linen_train_step(ex, weights, x, y, seed, lr):
    """One SGD step with a hidden learning rate and dropout key: the loss depends on the key given."""
    new, loss = jax.jit(ex.linen_train_step)(_linen_state(weights, lr), x, y, _key(seed))
    return {"loss": loss, "params": _plain(new.params), "step": new.step, "batch_stats": _plain(new.batch_stats)}


@PROBES("linen_predict", make=_model_inputs, **CLOSE)
def linen_predict(ex, weights, x, seed):
    return jax.jit(ex.linen_predict)(_linen_state(weights, 0.1), x)


# -- haiku_mlp, haiku_train_step -------------------------------------------------------------------

def _haiku_inputs(rng):
    inputs = _model_inputs(rng)
    params, state = doc.to_haiku(inputs["weights"])
    steps = int(rng.integers(2, 7))  # a moving average some steps in, so the update is seen in full
    running = {}
    for name, ema in state.items():
        running[name] = {"average": ema["average"], "counter": np.int32(steps),
                         "hidden": (ema["average"] * np.float32(1 - doc.MOMENTUM ** steps)).astype(np.float32)}
    return {"params": params, "state": state, "running": running, "x": inputs["x"], "seed": inputs["seed"]}


_check_haiku = by_part({
    "shapes": ("the params and state init makes in training mode, by name and shape", "test_haiku_params_and_state",
               {"rtol": 0, "atol": 0}),
    "eval": ("the evaluation logits and the state returned, on hidden weights", "test_haiku_eval_fixed_weights", CLOSE),
    "train_state": ("the state a training apply returns, from moving averages some steps in",
                    "test_haiku_training_updates_state_and_draws_keys", STATS),
})


@PROBES("haiku_mlp", make=_haiku_inputs, check=_check_haiku)
def haiku_mlp(ex, params, state, running, x, seed):
    model = hk.transform_with_state(ex.haiku_mlp)
    apply = jax.jit(model.apply, static_argnums=4)
    return {"shapes": raised_here(lambda: _shapes(jax.jit(model.init, static_argnums=2)(_key(seed), x, True))),
            "eval": raised_here(lambda: _plain(apply(params, state, None, x, False))),
            "train_state": raised_here(lambda: _plain(apply(params, running, _key(seed), x, True)[1]))}


def _haiku_step_inputs(rng):
    inputs = _step_inputs(rng)
    params, state = doc.to_haiku(inputs.pop("weights"))
    return {**inputs, "params": params, "state": state}


@PROBES("haiku_train_step", make=_haiku_step_inputs, **STATS)
def haiku_train_step(ex, params, state, x, y, seed, lr):
    """On the docstring's haiku_mlp, with SGD with momentum at a hidden learning rate, as the public test
    runs it; the optimizer state is read as its leaves."""
    tx = optax.sgd(lr, momentum=0.9)
    params, state = _tree((params, state))
    opt_state = tx.init(params)
    with doc.on_documented(ex, "haiku_train_step"):
        result = jax.jit(ex.haiku_train_step, static_argnums=0)(tx, params, state, opt_state, _key(seed), x, y)
    new_params, new_state, new_opt, loss = result
    return {"params": _plain(new_params), "state": _plain(new_state), "opt_state": jax.tree.leaves(new_opt),
            "loss": loss}


# -- NNXMLP ----------------------------------------------------------------------------------------

def _nnx_stats(model):
    return {"mean": np.asarray(model.bn.mean[...]), "var": np.asarray(model.bn.var[...])}


_check_nnx = by_part({
    "eval": ("the logits after model.eval(), on hidden weights", "test_nnx_eval_fixed_weights", CLOSE),
    "stats": ("the running statistics after two calls in training mode", "test_nnx_train_and_eval_modes", STATS),
})


@PROBES("NNXMLP", make=_model_inputs, check=_check_nnx)
def nnx_mlp(ex, weights, x, seed):
    def evaluated():
        model = doc.set_nnx(doc.build_nnx(ex.NNXMLP, _key(seed)), weights)
        model.eval()
        return doc.nnx_forward(model, x)

    def trained():
        model = doc.set_nnx(doc.build_nnx(ex.NNXMLP, _key(seed)), weights)
        model.train()
        doc.nnx_forward(model, x)
        doc.nnx_forward(model, x)
        return _nnx_stats(model)

    return {"eval": raised_here(evaluated), "stats": raised_here(trained)}


# -- the converters --------------------------------------------------------------------------------

def _weights_inputs(rng):
    return {"weights": _weights(rng)}


def _check_to_haiku(got, want, inputs):
    """Exact values, and the moving averages' counters int32 arrays, as Haiku's init makes them."""
    reason = compare(got, want, rtol=0, atol=0)
    if reason:
        return reason
    for name, ema in got[1].items():
        counter = ema["counter"]
        if not isinstance(counter, np.ndarray) or counter.dtype != np.int32:
            kind = f"{type(counter).__name__} {getattr(counter, 'dtype', '')}".strip()
            return f"the state's {name} counter is {kind}, not an int32 array"
    return None


@PROBES("linen_to_haiku", make=_weights_inputs, check=_check_to_haiku)
def linen_to_haiku(ex, weights):
    """The params and state, then the input as the call left it (a converter must not change it)."""
    variables = _tree(weights)
    params, state = ex.linen_to_haiku(variables)
    return [_plain(params), _plain(state), _plain(variables)]


def _haiku_layout_inputs(rng):
    params, state = doc.to_haiku(_weights(rng))
    for ema in state.values():  # only `average` is the statistic
        ema["hidden"] = (ema["average"] * rng.uniform(0.2, 0.8)).astype(np.float32)
        ema["counter"] = np.int32(rng.integers(1, 20))
    return {"params": params, "state": state}


@PROBES("haiku_to_linen", make=_haiku_layout_inputs, rtol=0, atol=0)
def haiku_to_linen(ex, params, state):
    return _plain(ex.haiku_to_linen(_tree(params), _tree(state)))


@PROBES("linen_to_nnx", make=_model_inputs, rtol=0, atol=0)
def linen_to_nnx(ex, weights, x, seed):
    """Into the docstring's NNXMLP; the eight variables read back out of the model it was given."""
    model = doc.build_nnx(doc.NNXMLP, _key(seed))
    returned = ex.linen_to_nnx(_tree(weights), model)
    held = {"params": {name: {"kernel": np.asarray(getattr(model, name).kernel[...]),
                              "bias": np.asarray(getattr(model, name).bias[...])} for name in ("dense1", "dense2")},
            "batch_stats": {"bn": _nnx_stats(model)}}
    held["params"]["bn"] = {"scale": np.asarray(model.bn.scale[...]), "bias": np.asarray(model.bn.bias[...])}
    return {"returned_the_model": returned is model, "variables": held}


# -- lstm_cell, lstm_unroll ------------------------------------------------------------------------

def _lstm_inputs(rng):
    time = int(rng.integers(3, 9))
    batch, d_in, hidden = (int(s) for s in rng.choice([s for s in range(2, 8) if s != time], 3, replace=False))
    return {"params": {"w": _normal(rng, d_in + hidden, 4 * hidden, scale=0.5),
                       "b": _normal(rng, 4 * hidden, scale=0.3)},
            "xs": _normal(rng, time, batch, d_in), "carry": [_normal(rng, batch, hidden, scale=0.5) for _ in range(2)]}


@PROBES("lstm_cell", make=_lstm_inputs, rtol=1e-4, atol=1e-5)
def lstm_cell(ex, params, xs, carry):
    return _plain(jax.jit(ex.lstm_cell)(params, tuple(carry), xs[0]))


@PROBES("lstm_unroll", make=_lstm_inputs, value_tests=("test_lstm_unroll",), rtol=1e-4, atol=1e-5)
def lstm_unroll(ex, params, xs, carry):
    """On the docstring's lstm_cell, as the public tests run it."""
    with doc.on_documented(ex, "lstm_unroll"):
        return _plain(jax.jit(ex.lstm_unroll)(params, xs, tuple(carry)))


# -- weight_norm, weight_norm_dense ----------------------------------------------------------------

def _wn_inputs(rng):
    d_in, d_out = (int(s) for s in rng.choice(list(range(2, 8)), 2, replace=False))
    v = (_normal(rng, d_in, d_out) * rng.uniform(0.5, 3, d_out)).astype(np.float32)
    return {"v": v, "g": rng.uniform(-2, 2, d_out).astype(np.float32), "upstream": _normal(rng, d_in, d_out),
            "b": _normal(rng, d_out), "x": _normal(rng, int(rng.integers(1, 6)), d_in)}


_check_wn = by_part({
    "w": ("the kernel on hidden v and g", "test_weight_norm", {"rtol": 1e-5, "atol": 1e-5}),
    "grads": ("the gradients of sum(weight_norm(v, g) * u) for a hidden u", "test_weight_norm_gradient",
              {"rtol": 1e-4, "atol": 1e-5}),
})


@PROBES("weight_norm", make=_wn_inputs, check=_check_wn)
def weight_norm(ex, v, g, upstream, b, x):
    def grads():
        return list(jax.jit(jax.grad(lambda v, g: (ex.weight_norm(v, g) * upstream).sum(), argnums=(0, 1)))(v, g))

    return {"w": raised_here(lambda: jax.jit(ex.weight_norm)(v, g)), "grads": raised_here(grads)}


@PROBES("weight_norm_dense", make=_wn_inputs, rtol=1e-4, atol=1e-5)
def weight_norm_dense(ex, v, g, upstream, b, x):
    """On the docstring's weight_norm, as the public test runs it."""
    with doc.on_documented(ex, "weight_norm_dense"):
        return jax.jit(ex.weight_norm_dense)({"v": v, "g": g, "b": b}, x)

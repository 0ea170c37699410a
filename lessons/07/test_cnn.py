"""Tests for lesson 07: a CNN with Flax NNX.

The training run (10 epochs of the digits, batches of 64) happens once per test session; several tests
check its result. Every forward pass the tests make goes through one small jitted function, on batches
of 64 images, so the whole file compiles only a handful of programs.
"""
import functools
import traceback
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from grader import expect, targets
from grader.datasets import digits

SEED = 0
BATCH = 64
EPOCHS = 10
LEARNING_RATE = 1e-2
MIN_ACCURACY = 0.98
N_PARAMS = 13_802
N_BATCH_STATS = 96
PARAM_BREAKDOWN = ("conv1 160, bn1 32, conv2 4,640, bn2 64, dense1 8,256, dense2 650")

N_TRAIN = len(digits()["y_train"])
STEPS_PER_EPOCH = N_TRAIN // BATCH
# One optimizer transformation for every test: nnx.jit compiles once per distinct `tx`, so a second
# optax.adam(...) object would cost a second compilation of your train_step.
TX = optax.adam(optax.cosine_decay_schedule(LEARNING_RATE, EPOCHS * STEPS_PER_EPOCH, alpha=0.05))
MODEL_CALL = "CNN(rngs=rngs)"
TRAIN_CALL = (f"train_step(model, optimizer, x, y) in the tests' training run ({EPOCHS} epochs of shuffled "
              f"batches of {BATCH} digits, Adam with a cosine schedule from {LEARNING_RATE})")


# ---------------------------------------------------------------- helpers

def _data():
    d = digits()
    return d["x_train"][..., None], d["y_train"], d["x_test"][..., None], d["y_test"]


@nnx.jit(static_argnums=0)
def _build(cnn_class, key):
    return cnn_class(rngs=nnx.Rngs(key))


def _new_model(ex):
    """``ex.CNN(rngs=nnx.Rngs(key))``, built inside one jitted function.

    Built op by op, a fresh model compiles a dozen small programs (one truncated normal per kernel
    shape); built under nnx.jit it is one. The key uses the "rbg" algorithm, whose random bits cost
    far less to compile than the default threefry's; your code treats it like any other key."""
    return _build(ex.CNN, jax.random.key(SEED, impl="rbg"))


@nnx.jit
def _new_optimizer(model):
    return nnx.Optimizer(model, TX, wrt=nnx.Param)


@nnx.jit
def _forward(model, x):
    """The model's logits, in whatever mode the model is in (the tests set it first)."""
    return model(x)


def _predict(model, x):
    """Logits for any number of images, in batches of BATCH (the last one padded with zeros)."""
    n = len(x)
    padded = np.concatenate([x, np.zeros((-n % BATCH,) + x.shape[1:], x.dtype)])
    return np.concatenate([np.asarray(_forward(model, padded[i:i + BATCH]))
                           for i in range(0, len(padded), BATCH)])[:n]


def _np_cross_entropy(logits, labels):
    z = np.asarray(logits, np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    log_probs = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return float(-np.mean(log_probs[np.arange(len(labels)), labels]))


def _leaves(model, kind):
    """Copies of the model's arrays of one variable type (nnx.Param or nnx.BatchStat), in a fixed order."""
    return [np.array(leaf) for leaf in jax.tree.leaves(nnx.state(model, kind))]


def _same(a, b) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


def _modules(model):
    iter_modules = getattr(nnx, "iter_modules", None)
    found = iter_modules(model) if iter_modules is not None else model.iter_modules()
    return [module for _, module in found]


def _describe(module) -> str | None:
    if isinstance(module, nnx.Conv):
        padding = module.padding.upper() if isinstance(module.padding, str) else module.padding
        return (f"Conv({module.in_features} -> {module.out_features}, kernel_size={tuple(module.kernel_size)}, "
                f"padding={padding!r})")
    if isinstance(module, nnx.BatchNorm):
        return f"BatchNorm({module.num_features}, momentum={module.momentum})"
    if isinstance(module, nnx.Linear):
        return f"Linear({module.in_features} -> {module.out_features})"
    if isinstance(module, nnx.Dropout):
        return f"Dropout({module.rate})"
    return None


def _concise(test):
    """An error raised in your file becomes a short message that says what and where, not a traceback
    through Flax's internals. (Assertions and "not written yet" pass through unchanged.)"""
    @functools.wraps(test)
    def run(*args, **kwargs):
        try:
            return test(*args, **kwargs)
        except (AssertionError, NotImplementedError):
            raise
        except Exception as err:
            path = getattr(kwargs.get("ex"), "path", None)
            where = _line_in(err, path) if path is not None else None
            if where is None:
                raise
            message = str(err).split("\n--------------------")[0].strip()
            failure = f"Your code raised {type(err).__name__}: {message}\n  {where}"
        pytest.fail(failure, pytrace=False)  # outside the except block, so no chained traceback

    return run


def _line_in(err: BaseException, path) -> str | None:
    """Where in ``path`` the error went by last (file, line, function and code), or None."""
    path = Path(path).resolve()
    frames = [f for f in traceback.extract_tb(err.__traceback__) if Path(f.filename).resolve() == path]
    if not frames:
        return None
    frame = frames[-1]
    return f"at {targets.display(path)}, line {frame.lineno}, in {frame.name}: {(frame.line or '').strip()}"


EXPECTED_LAYERS = [
    "Conv(1 -> 16, kernel_size=(3, 3), padding='SAME')", "BatchNorm(16, momentum=0.9)",
    "Conv(16 -> 32, kernel_size=(3, 3), padding='SAME')", "BatchNorm(32, momentum=0.9)",
    "Linear(128 -> 64)", "Dropout(0.1)", "Linear(64 -> 10)",
]


# ---------------------------------------------------------------- the training run, once per session

class Trained:
    def __init__(self, model, losses, test_logits):
        self.model = model  # left in eval mode
        self.losses = losses  # (EPOCHS, STEPS_PER_EPOCH)
        self.test_logits = test_logits  # eval-mode logits of the test images, computed by the tests


def _check_loss(loss):
    __tracebackhide__ = True
    ok = isinstance(loss, jax.Array) and loss.shape == () and loss.dtype == jnp.float32
    expect.that(ok, call=TRAIN_CALL + ", the first step", expected="the loss, a float32 scalar",
                returned=expect.show(loss), hint="return the loss that nnx.value_and_grad gave you.")


def _train(ex) -> Trained:
    x, y, x_test, _ = _data()
    model = _new_model(ex)
    optimizer = _new_optimizer(model)
    order = np.random.default_rng(SEED)
    losses = []
    for _ in range(EPOCHS):
        perm = order.permutation(N_TRAIN)
        for i in range(STEPS_PER_EPOCH):
            batch = perm[i * BATCH:(i + 1) * BATCH]
            loss = ex.train_step(model, optimizer, x[batch], y[batch])
            if not losses:
                _check_loss(loss)
            losses.append(loss)
    losses = np.array(jax.device_get(losses), np.float32).reshape(EPOCHS, STEPS_PER_EPOCH)
    model.eval()
    return Trained(model, losses, _predict(model, x_test))


@pytest.fixture(scope="session")
def trained():
    """``trained(ex)``: the training run for the module under test, done on the first request.

    A run that raised raises the same error again for every test that asks for it (it is not tried twice)."""
    done = []

    def get(ex) -> Trained:
        __tracebackhide__ = True
        for module, result in done:
            if module is ex:
                break
        else:
            try:
                result = _train(ex)
            except Exception as err:  # noqa: BLE001  (kept, and raised again for each test that asks)
                result = (err, err.__traceback__)
            done.append((ex, result))
        if isinstance(result, tuple):
            err, tb = result
            raise err.with_traceback(tb)
        return result

    return get


# ---------------------------------------------------------------- the module

@pytest.mark.exercise("CNN", points=1)
@_concise
def test_cnn_output_shape(ex):
    model = _new_model(ex)
    graphdef, state = nnx.split(model)

    def apply(state, x):
        return nnx.merge(graphdef, state)(x)

    for n in (1, 7):
        images = jax.ShapeDtypeStruct((n, 8, 8, 1), jnp.float32)
        out = jax.eval_shape(apply, state, images)
        call = f"{MODEL_CALL}(x) with x of shape {images.shape}, float32"
        expect.shape(out, (n, 10), call=call,
                     hint="two conv blocks take 8x8 to 2x2x32; flatten to (batch, 128), then 64, then 10.")
        expect.dtype(out, jnp.float32, call=call, hint="keep the default float32 layers.")


@pytest.mark.exercise("CNN", points=1)
@_concise
def test_cnn_layers(ex):
    model = _new_model(ex)
    got = [d for d in map(_describe, _modules(model)) if d is not None]
    missing, unexpected = list(EXPECTED_LAYERS), []
    for layer in got:
        if layer in missing:
            missing.remove(layer)
        else:
            unexpected.append(layer)
    differences = ([f"no {layer}" for layer in missing] + [f"a {layer}, not in the docstring" for layer in unexpected])
    expect.that(not differences, call=MODEL_CALL,
                expected="the 7 layers of the docstring: " + ", ".join(EXPECTED_LAYERS),
                returned="a model with " + "; ".join(differences),
                hint="build each layer with the arguments the docstring gives; BatchNorm needs momentum=0.9 for "
                     "so short a run, and Dropout's rate is the fraction dropped (0.1).")


@pytest.mark.exercise("CNN", points=2)
@_concise
def test_cnn_parameter_count(ex):
    model = _new_model(ex)
    n_params = sum(leaf.size for leaf in _leaves(model, nnx.Param))
    n_stats = sum(leaf.size for leaf in _leaves(model, nnx.BatchStat))
    call = f"{MODEL_CALL}, counting the sizes of its nnx.Param arrays"
    expect.that(n_params == N_PARAMS, call=call, expected=f"{N_PARAMS:,} trainable parameters",
                returned=f"{n_params:,}",
                hint=f"by layer: {PARAM_BREAKDOWN}. A 3x3 conv from c_in to c_out has 9*c_in*c_out + c_out.")
    expect.that(n_stats == N_BATCH_STATS, call=f"{MODEL_CALL}, counting its nnx.BatchStat arrays",
                expected=f"{N_BATCH_STATS} batch statistics (a running mean and variance per channel)",
                returned=f"{n_stats}", hint="nnx.BatchNorm(16) after conv1 and nnx.BatchNorm(32) after conv2.")


@pytest.mark.exercise("CNN", points=2)
@_concise
def test_dropout_only_in_training(ex):
    x = _data()[2][:BATCH]
    model = _new_model(ex)
    model.eval()
    first, second = np.asarray(_forward(model, x)), np.asarray(_forward(model, x))
    expect.that(np.array_equal(first, second), call=f"model(x) with model = CNN(rngs=...), twice after model.eval(), x of shape {x.shape}",
                expected="the same logits both times", returned="different logits",
                hint="in eval mode nothing is random: let model.eval() switch Dropout off (no deterministic= "
                     "argument in __call__).")
    model.train()
    first, second = np.asarray(_forward(model, x)), np.asarray(_forward(model, x))
    expect.that(not np.array_equal(first, second), call=f"model(x) with model = CNN(rngs=...), twice after model.train(), x of shape {x.shape}",
                expected="different logits: dropout draws a new mask on each call",
                returned="the same logits both times",
                hint="apply self.dropout (nnx.Dropout(0.1, rngs=rngs)) after dense1's ReLU; model.train() "
                     "turns it on.")


@pytest.mark.exercise("CNN", points=2)
@_concise
def test_batchnorm_updates_only_in_training(ex):
    x = _data()[2][:BATCH]
    model = _new_model(ex)
    model.train()
    start = _leaves(model, nnx.BatchStat)
    _forward(model, x)
    trained_stats = _leaves(model, nnx.BatchStat)
    expect.that(bool(start) and not _same(start, trained_stats),
                call=f"model(x) with model = CNN(rngs=...), after model.train(), x of shape {x.shape}",
                expected="BatchNorm's running mean and variance to move towards the batch's",
                returned="the same batch statistics as before" if start else "a model with no batch statistics",
                hint="put nnx.BatchNorm right after each conv, and call it as self.bn1(x), no mode argument.")
    model.eval()
    _forward(model, x)
    expect.that(_same(trained_stats, _leaves(model, nnx.BatchStat)),
                call=f"model(x) with model = CNN(rngs=...), after model.eval(), x of shape {x.shape}",
                expected="the running mean and variance left as they were",
                returned="changed batch statistics: BatchNorm normalized with this batch's statistics",
                hint="don't pass use_running_average=False (or build BatchNorm with it): model.eval() must be "
                     "able to switch BatchNorm to its running averages.")


# ---------------------------------------------------------------- the training step

@pytest.mark.exercise("train_step", points=2)
@_concise
def test_train_step_updates_model(ex):
    x, y = _data()[0][:BATCH], _data()[1][:BATCH]
    model = _new_model(ex)
    optimizer = _new_optimizer(model)
    model.train()
    twin = nnx.clone(model)  # same weights and the same dropout randomness
    want = _np_cross_entropy(_forward(twin, x), y)
    params = _leaves(model, nnx.Param)
    call = f"train_step(model, optimizer, x, y) with a new model and a batch of {BATCH} digits"
    loss = ex.train_step(model, optimizer, x, y)
    _check_loss(loss)
    expect.close(loss, np.float32(want), call=call, rtol=1e-4, atol=1e-5,
                 hint="return the mean softmax cross-entropy of the batch, computed before the update, with the "
                      "model called once, in training mode.")
    expect.that(not _same(params, _leaves(model, nnx.Param)), call=call,
                expected="the model's parameters to change", returned="the same parameters",
                hint="after nnx.value_and_grad, call optimizer.update(model, grads): it updates the model in place.")


@pytest.mark.exercise("train_step", points=1)
@_concise
def test_loss_falls(ex, trained):
    losses = trained(ex).losses
    first, last = float(losses[0].mean()), float(losses[-1].mean())
    expect.that(np.isfinite(last) and last < 0.25 * first, call=TRAIN_CALL,
                expected="the mean loss of the last epoch under a quarter of the first epoch's",
                returned=f"first epoch {first:.4g}, last epoch {last:.4g}",
                hint="each step must call optimizer.update(model, grads), with grads from nnx.value_and_grad.")


@pytest.mark.exercise("train_step", points=3)
@_concise
def test_test_accuracy(ex, trained):
    run = trained(ex)
    y_test = _data()[3]
    predicted = np.argmax(run.test_logits, axis=-1)
    accuracy = float(np.mean(predicted == y_test))
    expect.that(accuracy >= MIN_ACCURACY, call=TRAIN_CALL + ", then model.eval() on the test images",
                expected=f"test accuracy >= {MIN_ACCURACY:.0%}",
                returned=f"test accuracy {accuracy:.2%} ({int(np.sum(predicted != y_test))} of {len(y_test)} wrong)",
                hint="if the other tests pass, compare your forward pass with the docstring once more: the order "
                     "conv -> BatchNorm -> relu -> pool in each block, and relu before dropout.")


# ---------------------------------------------------------------- the evaluation step

@pytest.mark.exercise("eval_step", points=2)
@_concise
def test_eval_step_metrics(ex, trained):
    run = trained(ex)
    _, _, x_test, y_test = _data()
    model = nnx.clone(run.model)
    model.train()
    call = "eval_step(model, x_test, y_test) with the trained model, left in training mode"
    result = ex.eval_step(model, x_test, y_test)
    expect.that(isinstance(result, (tuple, list)) and len(result) == 2, call=call,
                expected="a pair (loss, accuracy)", returned=expect.show(result),
                hint="return loss, accuracy: two float32 scalars.")
    loss, accuracy = result
    want_loss = _np_cross_entropy(run.test_logits, y_test)
    want_accuracy = float(np.mean(np.argmax(run.test_logits, axis=-1) == y_test))
    expect.close(loss, np.float32(want_loss), call=call + ": the loss", rtol=1e-4, atol=1e-5,
                 hint="call model.eval() first, then the mean of optax.softmax_cross_entropy_with_integer_labels.")
    expect.close(accuracy, np.float32(want_accuracy), call=call + ": the accuracy", rtol=0, atol=1.5 / len(y_test),
                 hint="jnp.mean(jnp.argmax(logits, axis=-1) == y): the fraction right, between 0 and 1.")


@pytest.mark.exercise("eval_step", points=2)
@_concise
def test_eval_step_is_deterministic(ex, trained):
    run = trained(ex)
    _, _, x_test, y_test = _data()
    model = nnx.clone(run.model)
    model.train()
    stats = _leaves(model, nnx.BatchStat)
    first = ex.eval_step(model, x_test, y_test)
    after_first = _leaves(model, nnx.BatchStat)
    model.train()
    second = ex.eval_step(model, x_test, y_test)
    call = "eval_step(model, x_test, y_test) twice, each time on a model left in training mode"
    first, second = jax.tree.map(np.asarray, (first, second))
    expect.that(_same(jax.tree.leaves(first), jax.tree.leaves(second)), call=call,
                expected="the same (loss, accuracy) both times",
                returned=f"{expect.show(first)}, then {expect.show(second)}",
                hint="start eval_step with model.eval(): dropout off, BatchNorm on its running averages.")
    expect.that(_same(stats, after_first), call=call,
                expected="BatchNorm's running averages left as they were",
                returned="changed batch statistics",
                hint="start eval_step with model.eval(): evaluation must not change the model.")

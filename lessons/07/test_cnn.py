"""Tests for lesson 07: a CNN with Flax NNX.

The training run (10 epochs of the digits, batches of 64) happens once per test session; two tests
check its result. The other tests judge each exercise on its own: CNN's forward pass on fixed weights,
computed again here in NumPy; train_step and eval_step on a small model of the tests' own. Every forward
pass the tests make goes through one small jitted function, so the whole file compiles only a handful
of programs.
"""
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from grader.learner import expect, jaxprs
from grader.learner.datasets import digits
from grader.learner.shared.lesson07 import SmallNet, build as _build, forward as _forward, leaves as _leaves
from grader.learner.shared.lesson07 import modules as _modules

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


def _new_model(ex):
    """``ex.CNN(rngs=nnx.Rngs(key))``, built inside one jitted function.

    Built op by op, a fresh model compiles a dozen small programs (one truncated normal per kernel
    shape); built under nnx.jit it is one. The key uses the "rbg" algorithm, whose random bits cost
    far less to compile than the default threefry's; your code treats it like any other key."""
    return _build(ex.CNN, jax.random.key(SEED, impl="rbg"))


@nnx.jit
def _new_optimizer(model):
    return nnx.Optimizer(model, TX, wrt=nnx.Param)


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


def _same(a, b) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


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


def _dropout_places(calls, n) -> list[str]:
    names = {(n, 128): "the flattened conv features, before dense1", (n, 64): "dense1's output",
             (n, 10): "the logits, after dense2"}
    return [names.get(shape, f"an array of shape {shape}") for shape in calls]


EXPECTED_LAYERS = [
    "Conv(1 -> 16, kernel_size=(3, 3), padding='SAME')", "BatchNorm(16, momentum=0.9)",
    "Conv(16 -> 32, kernel_size=(3, 3), padding='SAME')", "BatchNorm(32, momentum=0.9)",
    "Linear(128 -> 64)", "Dropout(0.1)", "Linear(64 -> 10)",
]


# ---------------------------------------------------------------- a forward pass on fixed weights

# The seven layers, found by type and size (so any attribute names work): role -> (type, test).
LAYER_ROLES = {
    "conv1": (nnx.Conv, lambda m: (m.in_features, m.out_features) == (1, 16)),
    "bn1": (nnx.BatchNorm, lambda m: m.num_features == 16),
    "conv2": (nnx.Conv, lambda m: (m.in_features, m.out_features) == (16, 32)),
    "bn2": (nnx.BatchNorm, lambda m: m.num_features == 32),
    "dense1": (nnx.Linear, lambda m: (m.in_features, m.out_features) == (128, 64)),
    "dense2": (nnx.Linear, lambda m: (m.in_features, m.out_features) == (64, 10)),
}
N_FIXED = 6  # images in the fixed-weights forward pass


def _find_layers(model) -> tuple[dict, list[str]]:
    """({role: module}, [roles not found exactly once]) for the layers of LAYER_ROLES."""
    found: dict[str, list] = {role: [] for role in LAYER_ROLES}
    for module in _modules(model):
        for role, (kind, fits) in LAYER_ROLES.items():
            if isinstance(module, kind) and fits(module):
                found[role].append(module)
    return {r: m[0] for r, m in found.items() if len(m) == 1}, [r for r, m in found.items() if len(m) != 1]


def _np_conv(x, kernel, bias):
    """A 3x3 convolution with SAME padding (no kernel flip, as nnx.Conv), channels last, in NumPy."""
    h, w = x.shape[1:3]
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    return sum(padded[:, i:i + h, j:j + w, :] @ kernel[i, j] for i in range(3) for j in range(3)) + bias


def _np_pool(x, how="max"):
    n, h, w, c = x.shape
    patches = x.reshape(n, h // 2, 2, w // 2, 2, c)
    return patches.max(axis=(2, 4)) if how == "max" else patches.mean(axis=(2, 4))


def _np_batchnorm(x, bn):
    return (x - bn["mean"]) / np.sqrt(bn["var"] + 1e-5) * bn["scale"] + bn["bias"]


def _relu(x):
    return np.maximum(x, 0)


def _np_block(x, conv, bn, order=("conv", "bn", "relu", "pool"), pool="max"):
    steps = {"conv": lambda z: _np_conv(z, conv["kernel"], conv["bias"]), "bn": lambda z: _np_batchnorm(z, bn),
             "relu": _relu, "pool": lambda z: _np_pool(z, pool)}
    for step in order:
        x = steps[step](x)
    return x


def _fixed_weights(x):
    """Fixed weights for every layer. The running averages are the statistics of these very images,
    so BatchNorm gives the same output whether it normalizes with its running averages or the batch's:
    the check judges the order of the layers, not their mode."""
    rng = np.random.default_rng(7)

    def layer(kernel_shape, fan_in):
        return {"kernel": rng.normal(0, 1.5 / np.sqrt(fan_in), kernel_shape), "bias": rng.normal(0, 0.2, kernel_shape[-1])}

    def batchnorm(h):
        c = h.shape[-1]
        return {"scale": rng.uniform(0.5, 1.5, c) * rng.choice([-1.0, 1.0], c), "bias": rng.normal(0, 0.5, c),
                "mean": h.mean(axis=(0, 1, 2)), "var": h.var(axis=(0, 1, 2))}

    w = {"conv1": layer((3, 3, 1, 16), 9)}
    h = _np_conv(x, **w["conv1"])
    w["bn1"] = batchnorm(h)
    w["conv2"] = layer((3, 3, 16, 32), 144)
    h = _np_conv(_np_pool(_relu(_np_batchnorm(h, w["bn1"]))), **w["conv2"])
    w["bn2"] = batchnorm(h)
    w["dense1"], w["dense2"] = layer((128, 64), 128), layer((64, 10), 64)
    return {role: {k: v.astype(np.float32) for k, v in arrays.items()} for role, arrays in w.items()}


def _np_cnn(x, w, order=("conv", "bn", "relu", "pool"), pool="max", channels_first=False, hidden_relu=True,
            last=None):
    """The docstring's forward pass in float64 NumPy; the keywords give the usual slips instead."""
    w = {role: {k: np.asarray(v, np.float64) for k, v in arrays.items()} for role, arrays in w.items()}
    h = np.asarray(x, np.float64)
    for i in (1, 2):
        h = _np_block(h, w[f"conv{i}"], w[f"bn{i}"], order, pool)
    if channels_first:
        h = h.transpose(0, 3, 1, 2)
    h = h.reshape(h.shape[0], -1) @ w["dense1"]["kernel"] + w["dense1"]["bias"]
    h = _relu(h) if hidden_relu else h
    out = h @ w["dense2"]["kernel"] + w["dense2"]["bias"]
    if last == "relu":
        out = _relu(out)
    return out


def _log_softmax(z):
    z = np.asarray(z, np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def _same_logits(got, want) -> bool:
    """Logits are fixed only up to a constant per row (softmax ignores it): compare log-softmaxes."""
    got = np.asarray(got, np.float64)
    return got.shape == want.shape and np.allclose(_log_softmax(got), _log_softmax(want), rtol=1e-4, atol=2e-4)


# (what the model computed, how _np_cnn computes it): the usual slips, each said as observed.
FORWARD_SLIPS = [
    ("a ReLU after dense2, so no logit is ever negative", {"last": "relu"}),
    ("the (2, 2, 32) features flattened channels first; flatten them in the order they are stored, (height, "
     "width, channel), to (batch, 128)", {"channels_first": True}),
    ("no ReLU between dense1 and dense2", {"hidden_relu": False}),
    ("each BatchNorm after its ReLU (conv -> relu -> BatchNorm -> pool)", {"order": ("conv", "relu", "bn", "pool")}),
    ("max pooling before BatchNorm (conv -> pool -> BatchNorm -> relu)", {"order": ("conv", "pool", "bn", "relu")}),
    ("BatchNorm built but never applied in the conv blocks", {"order": ("conv", "relu", "pool")}),
    ("no ReLU in the conv blocks", {"order": ("conv", "bn", "pool")}),
    ("average pooling where the docstring asks for max pooling", {"pool": "avg"}),
]


def _probabilities(logits) -> bool:
    """True when every row is positive and sums to 1: the model returned probabilities, not logits."""
    z = np.asarray(logits, np.float64)
    return z.ndim == 2 and np.all(z >= -1e-6) and np.allclose(z.sum(axis=-1), 1, atol=1e-3)


def _forward_slip(out, x, w) -> str:
    """What the model's output shows about its forward pass, for the hint."""
    out = np.asarray(out, np.float64)
    if _probabilities(out):
        return ("every row of the output is positive and sums to 1: the model returns probabilities, a softmax at "
                "the end. Return dense2's logits; the cross-entropy applies the softmax itself.")
    for what, slip in FORWARD_SLIPS:
        if _same_logits(out, _np_cnn(x, w, **slip)):
            return f"the output is the docstring's forward pass with {what}."
    return ("none of the usual slips (a softmax at the end, another flatten order, BatchNorm or ReLU moved) explains "
            "the difference: compare your __call__ with the docstring's forward pass, layer by layer.")


# ---------------------------------------------------------------- a small model for train_step and eval_step
# train_step's one-step tests and eval_step's tests run on the tests' own SmallNet
# (grader/learner/shared/lesson07.py), so a mistake in your CNN doesn't cost their points; the training run
# uses your CNN.

SMALL_BATCH = 16
SMALL_CALL = "a small model of the tests' own (conv -> BatchNorm -> relu -> pool, dense -> relu -> dropout -> dense)"


def _small_model(running_averages: bool = False):
    """A new SmallNet; with `running_averages`, BatchNorm's running mean and variance are set away from
    their start (0 and 1), so evaluation mode and training mode give clearly different logits."""
    model = _build(SmallNet, jax.random.key(SEED, impl="rbg"))
    if running_averages:
        rng = np.random.default_rng(3)
        model.bn.mean.set_value(jnp.asarray(rng.normal(0, 0.3, 4), jnp.float32))
        model.bn.var.set_value(jnp.asarray(rng.uniform(0.3, 2.0, 4), jnp.float32))
    return model


def _small_batch():
    x, y = _data()[:2]
    return x[:SMALL_BATCH], y[:SMALL_BATCH]


# ---------------------------------------------------------------- the training run, once per session

class Trained:
    def __init__(self, model, losses, test_logits, params_moved, stats_moved, optimizer):
        self.model = model  # left in eval mode
        self.losses = losses  # (EPOCHS, STEPS_PER_EPOCH)
        self.test_logits = test_logits  # eval-mode logits of the test images, computed by the tests
        self.params_moved = params_moved  # did training change the parameters at all?
        self.stats_moved = stats_moved  # did training change BatchNorm's running averages?
        self.optimizer = optimizer


def _check_loss(loss, call=TRAIN_CALL + ", the first step"):
    __tracebackhide__ = True
    ok = isinstance(loss, jax.Array) and loss.shape == () and loss.dtype == jnp.float32
    expect.that(ok, call=call, expected="the loss, a float32 scalar",
                returned=expect.show(loss), hint="return the loss that nnx.value_and_grad gave you.")


def _train(ex) -> Trained:
    x, y, x_test, _ = _data()
    model = _new_model(ex)
    optimizer = _new_optimizer(model)
    params, stats = _leaves(model, nnx.Param), _leaves(model, nnx.BatchStat)
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
    params_moved = not _same(params, _leaves(model, nnx.Param))
    stats_moved = bool(stats) and not _same(stats, _leaves(model, nnx.BatchStat))
    model.eval()
    return Trained(model, losses, _predict(model, x_test), params_moved, stats_moved, optimizer)


def _training_diagnosis(run: Trained, model_layers: list[str]) -> str | None:
    """What the training run showed went wrong, if it shows something specific."""
    if not np.all(np.isfinite(run.losses)):
        step = int(np.argmax(~np.isfinite(run.losses.ravel())))
        return f"the loss became NaN or infinite at step {step}; the loss must be the mean cross-entropy of logits."
    if not run.params_moved:
        return "the parameters never changed in the whole run, so nothing was learned: " + _no_update_cause(run.optimizer)
    if _probabilities(run.test_logits):
        return ("the trained model returns probabilities (each row positive, summing to 1), not logits: with a "
                "softmax inside CNN the cross-entropy applies a second softmax to numbers between 0 and 1, which "
                "can never be confident, so the loss can't fall below about 1.46. Return dense2's output "
                "(test_cnn_forward_fixed_weights checks the forward pass).")
    if not run.stats_moved:
        return ("BatchNorm's running averages never moved during training: the steps ran BatchNorm in evaluation "
                "mode, so evaluation normalizes with the starting statistics (mean 0, variance 1).")
    differences = [layer for layer in model_layers if layer not in EXPECTED_LAYERS]
    if differences:
        return ("the model's layers differ from the docstring's (test_cnn_layers says how): " + ", ".join(differences)
                + " - fix that first.")
    return None


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
@expect.concise_errors
def test_cnn_output_shape(ex):
    model = _new_model(ex)
    graphdef, state = nnx.split(model)

    def apply(state, x):
        return nnx.merge(graphdef, state)(x)

    for n in (1, 7):
        images = jax.ShapeDtypeStruct((n, 8, 8, 1), jnp.float32)
        call = f"{MODEL_CALL}(x) with x of shape {images.shape}, float32"
        try:
            out = jax.eval_shape(apply, state, images)
        except (TypeError, ValueError) as err:  # shapes that don't line up, as the layers see them
            where = expect.line_in(err, ex.path) if getattr(ex, "path", None) else None
            returned = expect.raised(err) + (f" ({where})" if where else "")
            raise expect.failure(call, f"logits of shape ({n}, 10)", returned,
                                 "the forward pass raised on these images. The docstring's shapes, layer by layer: "
                                 "(b, 8, 8, 1) -> (b, 4, 4, 16) -> (b, 2, 2, 32) -> (b, 128) -> (b, 64) -> (b, 10)."
                                 ) from None
        expect.shape(out, (n, 10), call=call,
                     hint="two conv blocks take 8x8 to 2x2x32; flatten to (batch, 128), then 64, then 10.")
        expect.dtype(out, jnp.float32, call=call, hint="keep the default float32 layers.")


@pytest.mark.exercise("CNN", points=1, concept=True)
@expect.concise_errors
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
@expect.concise_errors
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
@expect.concise_errors
def test_dropout_only_in_training(ex):
    x = _data()[2][:BATCH]
    model = _new_model(ex)
    model.eval()
    first, second = np.asarray(_forward(model, x)), np.asarray(_forward(model, x))
    expect.that(np.array_equal(first, second), call=f"model(x) with model = CNN(rngs=...), twice after model.eval(), x of shape {x.shape}",
                expected="the same logits both times", returned="different logits",
                hint="in eval mode something random still ran. model.eval() switches Dropout off, as long as "
                     "__call__ hands it no mode argument (deterministic=...) that overrides the model's mode.")
    model.train()
    first, second = np.asarray(_forward(model, x)), np.asarray(_forward(model, x))
    expect.that(not np.array_equal(first, second), call=f"model(x) with model = CNN(rngs=...), twice after model.train(), x of shape {x.shape}",
                expected="different logits: dropout draws a new mask on each call",
                returned="the same logits both times",
                hint="apply the dropout layer (rate 0.1) after dense1's ReLU; model.train() "
                     "turns it on.")
    layers, missing = _find_layers(model)
    if "dense1" in missing or "dense2" in missing:
        return  # without the two dense layers, the layer tests already tell; nothing to place dropout between
    n = 3
    calls = jaxprs.layer_inputs(model, nnx.Dropout, (n, 8, 8, 1))
    expect.that(calls == [(n, 64)],
                call=f"model(x) with model = CNN(rngs=...) after model.train(), x of shape ({n}, 8, 8, 1), "
                     "recording what every nnx.Dropout call is given",
                expected=f"one dropout call per forward pass, on dense1's ReLU output, of shape ({n}, 64)",
                returned=f"{len(calls)} dropout call(s), on shapes {calls}" if calls else "no dropout call",
                hint=(f"dropout ran {len(calls)} times in one forward pass, on " if len(calls) > 1 else "dropout ran on ")
                     + " and on ".join(_dropout_places(calls, n)) + ": the docstring's forward pass applies it "
                     "once, between dense1's ReLU and dense2.")


@pytest.mark.exercise("CNN", points=2)
@expect.concise_errors
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


@pytest.mark.exercise("CNN", points=2)
@expect.concise_errors
def test_cnn_forward_fixed_weights(ex):
    x = _data()[2][:N_FIXED]
    model = _new_model(ex)
    layers, missing = _find_layers(model)
    expect.that(not missing, call=f"{MODEL_CALL}, looking for its layers by type and size",
                expected="exactly one each of Conv(1 -> 16), BatchNorm(16), Conv(16 -> 32), BatchNorm(32), "
                         "Linear(128 -> 64) and Linear(64 -> 10)",
                returned="no single layer for " + ", ".join(missing),
                hint="build the layers the docstring lists (test_cnn_layers compares them one by one); this test "
                     "sets their weights to fixed values and checks the forward pass.")
    weights = _fixed_weights(np.asarray(x, np.float64))
    for role, module in layers.items():
        for name, value in weights[role].items():
            variable = getattr(module, name, None)
            expect.that(variable is not None, call=f"{MODEL_CALL}, setting the {role} layer's {name}",
                        expected=f"the {role} layer to have its {name}", returned="none",
                        hint="leave every other argument at its default (the conv and dense layers keep their biases).")
            variable.set_value(jnp.asarray(value))
    for module in _modules(model):
        if isinstance(module, nnx.Dropout):
            module.rate = 0.0  # so the check doesn't depend on dropout's mode either
    model.eval()
    out = np.asarray(_forward(model, x))
    want = _np_cnn(x, weights)
    call = (f"model(x), model = CNN(rngs=...), on {N_FIXED} test digits, with every weight, bias, BatchNorm scale and running average set to "
            "fixed values by the test, in eval mode, dropout's rate set to 0")
    if _same_logits(out, want):
        return
    expect.close(out, want.astype(np.float32), call=call, rtol=1e-4, atol=2e-4, hint=_forward_slip(out, x, weights))


# ---------------------------------------------------------------- the training step

@pytest.mark.exercise("train_step", points=2)
@expect.concise_errors
def test_train_step_updates_model(ex):
    x, y = _small_batch()
    model = _small_model()
    optimizer = _new_optimizer(model)
    model.train()
    twin = nnx.clone(model)  # same weights and the same dropout randomness
    want = _np_cross_entropy(_forward(twin, x), y)
    params = _leaves(model, nnx.Param)
    call = f"train_step(model, optimizer, x, y) with model = {SMALL_CALL}, new, and {SMALL_BATCH} digits"
    loss = ex.train_step(model, optimizer, x, y)
    _check_loss(loss, call)
    expect.close(loss, np.float32(want), call=call, rtol=1e-4, atol=1e-5, hint=_loss_slip(float(loss), want, x, y))
    expect.that(not _same(params, _leaves(model, nnx.Param)), call=call,
                expected="the model's parameters to change", returned="the same parameters",
                hint="the loss was right, but the parameters stayed as they were: " + _no_update_cause(optimizer))


def _no_update_cause(optimizer) -> str:
    """Why the parameters didn't move, from the optimizer's step counter."""
    if int(np.asarray(optimizer.step[...])) > 0:
        return ("the optimizer did take its steps, so the gradients it got were all zero. The loss function must "
                "compute the logits from the parameters it is differentiated with respect to (its argument), not "
                "from parameters or a model taken from outside it.")
    return ("the optimizer's step counter is still 0, so no step applied the gradients to the model. The optimizer "
            "updates the model it is given, in place.")


def _loss_slip(loss, want, x, y) -> str:
    """What a wrong training loss shows, for the hint."""
    if np.isclose(loss, want * len(y), rtol=1e-4):
        return f"the loss is {len(y)} times the right one: the sum over the batch, not the mean."
    return ("the loss must be the mean softmax cross-entropy of the batch's logits, computed before the update, "
            "with the model called once, in training mode.")


@pytest.mark.exercise("train_step", points=2)
@expect.concise_errors
def test_train_step_sets_training_mode(ex):
    x, y = _small_batch()
    model = _small_model(running_averages=True)
    optimizer = _new_optimizer(model)
    twin = nnx.clone(model)
    twin_optimizer = _new_optimizer(twin)
    start = _leaves(model, nnx.BatchStat)
    call = f"train_step(model, optimizer, x, y) with model = {SMALL_CALL}"
    model.train()
    loss = ex.train_step(model, optimizer, x, y)
    _check_loss(loss, call + ", handed in training mode")
    stats = _leaves(model, nnx.BatchStat)
    expect.that(not _same(start, stats), call=call + ", handed in training mode",
                expected="BatchNorm's running averages to move towards the batch's statistics",
                returned="the same running averages as before",
                hint="the step ran BatchNorm in evaluation mode: training runs the model in training mode.")
    twin.eval()
    eval_loss = _np_cross_entropy(_forward(nnx.clone(twin), x), y)
    twin_loss = ex.train_step(twin, twin_optimizer, x, y)
    twin_stats = _leaves(twin, nnx.BatchStat)
    same = (np.allclose(twin_loss, loss, rtol=1e-5, atol=1e-6)
            and all(np.allclose(a, b, rtol=1e-5, atol=1e-6) for a, b in zip(twin_stats, stats)))
    if _same(start, twin_stats) and np.isclose(twin_loss, eval_loss, rtol=1e-4, atol=1e-5):
        observed = ("BatchNorm's running averages did not move and the loss is the evaluation-mode loss (dropout "
                    "off, BatchNorm on its running averages): the step ran in the mode it was handed. Switch the "
                    "model to training mode inside train_step, whatever mode it comes in.")
    else:
        observed = ("a model handed in evaluation mode must be trained exactly as one handed in training mode: "
                    "switch it to training mode at the start of train_step.")
    expect.that(same, call=call + ", handed once in training mode and once, the same model, in evaluation mode",
                expected="the same loss and the same new running averages both times",
                returned=f"loss {float(loss):.6g} in training mode, {float(twin_loss):.6g} in evaluation mode; "
                         f"running averages {'the same' if _same(stats, twin_stats) else 'different'}",
                hint=observed)


@pytest.mark.exercise("train_step", points=1)
@expect.concise_errors
def test_loss_falls(ex, trained):
    run = trained(ex)
    first, last = float(run.losses[0].mean()), float(run.losses[-1].mean())
    model_layers = [d for d in map(_describe, _modules(run.model)) if d is not None]
    expect.that(np.isfinite(last) and last < 0.25 * first, call=TRAIN_CALL,
                expected="the mean loss of the last epoch under a quarter of the first epoch's",
                returned=f"first epoch {first:.4g}, last epoch {last:.4g}",
                hint=_training_diagnosis(run, model_layers) or
                "the loss fell, but not enough: each step must apply the gradients of the mean cross-entropy "
                "(one optimizer update per step, learning rate from the optimizer, no extra scaling).")


@pytest.mark.exercise("train_step", points=3)
@expect.concise_errors
def test_test_accuracy(ex, trained):
    run = trained(ex)
    y_test = _data()[3]
    predicted = np.argmax(run.test_logits, axis=-1)
    accuracy = float(np.mean(predicted == y_test))
    model_layers = [d for d in map(_describe, _modules(run.model)) if d is not None]
    expect.that(accuracy >= MIN_ACCURACY, call=TRAIN_CALL + ", then model.eval() on the test images",
                expected=f"test accuracy >= {MIN_ACCURACY:.0%}",
                returned=f"test accuracy {accuracy:.2%} ({int(np.sum(predicted != y_test))} of {len(y_test)} wrong)",
                hint=_training_diagnosis(run, model_layers) or
                "if the other tests pass, compare your forward pass with the docstring once more: the order "
                "conv -> BatchNorm -> relu -> pool in each block, and relu before dropout.")


# ---------------------------------------------------------------- the evaluation step

def _eval_case():
    """The small model in eval mode with running averages away from their start, a batch, and labels that
    match the model's own predictions for the first 9 images and miss them for the other 7."""
    x, _ = _small_batch()
    model = _small_model(running_averages=True)
    model.eval()
    logits = np.asarray(_forward(model, x))
    predicted = np.argmax(logits, axis=-1)
    y = np.where(np.arange(len(x)) < 9, predicted, (predicted + 1 + np.arange(len(x)) % 9) % 10).astype(np.int32)
    return model, x, y, logits


EVAL_CALL = f"eval_step(model, x, y) with model = {SMALL_CALL}, in evaluation mode, and {SMALL_BATCH} digits"


def _metric_slip(what, got, want, n) -> str:
    got = np.asarray(got, np.float64)
    if got.shape == () and want and np.isclose(got, want * n, rtol=1e-4):
        return (f"the {what} is {n} times the right one: " +
                ("the sum over the batch, not the mean." if what == "loss" else "the number right, not the fraction."))
    if what == "accuracy" and got.shape == () and np.isclose(got, 100 * want, rtol=1e-4):
        return "the accuracy is in percent: return the fraction right, between 0 and 1."
    if what == "accuracy":
        return ("the fraction of images whose largest logit (over the class axis, the last) is at the true label, "
                "a float32 scalar.")
    return ("the loss is the softmax cross-entropy of each image's logits against its integer label, averaged over "
            "the batch, a float32 scalar; the logits come from the model in evaluation mode.")


@pytest.mark.exercise("eval_step", points=2)
@expect.concise_errors
def test_eval_step_metrics(ex):
    model, x, y, logits = _eval_case()
    result = ex.eval_step(model, x, y)
    expect.that(isinstance(result, (tuple, list)) and len(result) == 2, call=EVAL_CALL,
                expected="a pair (loss, accuracy)", returned=expect.show(result),
                hint="return loss, accuracy: two float32 scalars.")
    loss, accuracy = result
    want_loss = _np_cross_entropy(logits, y)
    want_accuracy = float(np.mean(np.argmax(logits, axis=-1) == y))
    expect.close(loss, np.float32(want_loss), call=EVAL_CALL + ": the loss", rtol=1e-4, atol=1e-5,
                 hint=_metric_slip("loss", loss, want_loss, len(y)))
    expect.close(accuracy, np.float32(want_accuracy), call=EVAL_CALL + ": the accuracy", rtol=0, atol=1.5 / len(y),
                 hint=_metric_slip("accuracy", accuracy, want_accuracy, len(y)))


@pytest.mark.exercise("eval_step", points=2)
@expect.concise_errors
def test_eval_step_is_deterministic(ex):
    model, x, y, _ = _eval_case()
    stats = _leaves(model, nnx.BatchStat)
    in_eval = jax.tree.map(np.asarray, ex.eval_step(model, x, y))
    results = []
    for _ in range(2):
        model.train()
        results.append(jax.tree.map(np.asarray, ex.eval_step(model, x, y)))
    after = _leaves(model, nnx.BatchStat)
    call = (f"eval_step(model, x, y) with model = {SMALL_CALL}: once in evaluation mode, then twice more, "
            "each time on the model switched to training mode")
    leaves = [jax.tree.leaves(r) for r in [in_eval] + results]
    same = all(len(r) == len(leaves[0]) and all(np.allclose(a, b, rtol=1e-6, atol=1e-7) for a, b in zip(r, leaves[0]))
               for r in leaves[1:])
    changed = not _same(stats, after)
    expect.that(same and not changed, call=call,
                expected="the same (loss, accuracy) every time, and BatchNorm's running averages left as they were",
                returned=f"{expect.show(in_eval)}, then {expect.show(results[0])}, then {expect.show(results[1])}; "
                         f"running averages {'changed' if changed else 'unchanged'}",
                hint=("BatchNorm's running averages changed: evaluation ran in training mode. " if changed else
                      "the answers changed with the mode the model was handed: evaluation ran in it. ")
                + "eval_step must switch the model to evaluation mode itself, whatever mode it comes in.")

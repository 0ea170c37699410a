"""Tests for lesson 12: one model, three module systems.

The expected values come from a float64 NumPy version of the model (grader/learner/shared/lesson12.py),
from the LSTM and weight-normalization equations written below, and from the tests' own copies of the
documented models, never from the reference module. Where an exercise builds on another (the training
steps and converters on the models, lstm_unroll on lstm_cell, weight_norm_dense on weight_norm), its tests
run it on the docstrings' versions: a mistake in one exercise costs that exercise's tests alone.
"""
import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from grader.learner import expect, jaxprs
from grader.learner.shared import lesson12 as doc

BATCH = 6
LR = 0.1


def _x(seed=0, n=BATCH):
    return (np.random.default_rng(seed).standard_normal((n, doc.D_IN)) * 1.5 + 0.5).astype(np.float32)


def _y(seed=0, n=BATCH):
    return np.random.default_rng(seed).integers(0, doc.CLASSES, n).astype(np.int32)


def _tree(w):
    return jax.tree.map(jnp.asarray, w)


def _shapes(tree):
    return jax.tree.map(lambda a: tuple(np.shape(a)), tree)


def _same(a, b, rtol=1e-5, atol=1e-6) -> bool:
    return expect.matches(a, b, rtol, atol)


def _shape_difference(got, want) -> str | None:
    """Where two trees of the same structure first differ in shape, as expect's dtype lines say it."""
    try:
        if jax.tree.structure(got) != jax.tree.structure(want):
            return None
        pairs = [(jax.tree_util.keystr(path), np.shape(w), np.shape(g)) for (path, w), g
                 in zip(jax.tree_util.tree_flatten_with_path(want)[0], jax.tree.leaves(got))]
    except Exception:
        return None
    wrong = [pair for pair in pairs if pair[1] != pair[2]]
    if not wrong:
        return None
    path, w, g = wrong[0]
    more = f" ({len(wrong)} of {len(pairs)} leaves differ in shape)" if len(wrong) > 1 else ""
    return f"shape at {path}: expected {w}, returned {g}{more}"


def _close(got, want, *, call, hint, rtol, atol):
    """expect.close, with a line naming the first leaf of the wrong shape where the structure is right."""
    note = _shape_difference(got, want)
    if note:
        raise expect.failure(call, expect.show(want), expect.show(got), hint, detail=note)
    expect.close(got, want, call=call, rtol=rtol, atol=atol, hint=hint)


LINEN_VARIABLES = {"params": {"dense1": {"kernel": (4, 8), "bias": (8,)}, "bn": {"scale": (8,), "bias": (8,)},
                              "dense2": {"kernel": (8, 3), "bias": (3,)}},
                   "batch_stats": {"bn": {"mean": (8,), "var": (8,)}}}
HAIKU_PARAMS = {"dense1": {"w": (4, 8), "b": (8,)}, "bn": {"scale": (1, 8), "offset": (1, 8)},
                "dense2": {"w": (8, 3), "b": (3,)}}
HAIKU_STATE = {f"bn/~/{name}": {"average": (1, 8), "counter": (), "hidden": (1, 8)} for name in ("mean_ema", "var_ema")}


# ---------------------------------------------------------------- LinenMLP

# Every model call of the tests goes through jax.jit: one compile per program instead of one per operation.

def _key(seed):
    return jax.random.key(seed, impl="rbg")  # cheaper to compile than threefry; any key works the same


def _linen_eval(model, w, x):
    return jax.jit(lambda v, x: model.apply(v, x, train=False))(_tree(w), x)


def _linen_train(model, w, x, key=None):
    """model.apply in training mode with batch_stats mutable, and rngs={"dropout": key} unless key is None."""
    rngs = None if key is None else {"dropout": key}
    return jax.jit(lambda v, x, rngs: model.apply(v, x, train=True, rngs=rngs, mutable=["batch_stats"]))(_tree(w), x, rngs)


@pytest.mark.exercise("LinenMLP", points=1)
@expect.concise_errors
def test_linen_variables(ex):
    variables = jax.jit(lambda key, x: ex.LinenMLP().init({"params": key}, x, train=False))(_key(0), _x())
    expect.that(_shapes(variables) == LINEN_VARIABLES, call="LinenMLP().init({'params': key}, x, train=False)",
                expected=f"variables shaped {LINEN_VARIABLES}", returned=f"{_shapes(variables)}",
                hint="name the layers dense1, bn and dense2 (name=...): the names are the keys of the parameter dict, "
                     "and BatchNorm keeps its running mean and var in the 'batch_stats' collection.")


@pytest.mark.exercise("LinenMLP", points=2)
@expect.concise_errors
def test_linen_eval_fixed_weights(ex):
    w, x = doc.weights(1), _x(2)
    call = "LinenMLP().apply(variables, x, train=False), every weight and running statistic set by the test"
    try:
        got = _linen_eval(ex.LinenMLP(), w, x)
    except Exception as err:  # flax.errors.InvalidRngError and friends: dropout or a mutable collection asked for
        said = str(err)
        if "immutable" in said:
            hint = ("BatchNorm tried to update its running statistics in evaluation, where no collection is mutable: "
                    "build it with use_running_average=not train.")
        elif "rng" in said.lower():
            hint = "dropout asked for a random key in evaluation: build it with deterministic=not train."
        else:
            hint = ("in evaluation nothing random runs and nothing changes: Dropout(deterministic=not train) and "
                    "BatchNorm(use_running_average=not train).")
        raise expect.failure(call, f"logits of shape {(BATCH, 3)}", expect.raised(err), hint) from None
    want = doc.np_forward(w, x)
    slips = [("BatchNorm normalized with the batch's statistics in evaluation: use_running_average=not train.",
              doc.np_forward(w, x, train=True)),
             ("no BatchNorm ran between dense1 and relu.", doc.np_forward(w, x, batch_norm=False)),
             ("no relu after BatchNorm.", doc.np_forward(w, x, relu=False))]
    hint = next((what for what, value in slips if _same(got, value, 1e-4, 1e-4)),
                "dense1 -> BatchNorm (running statistics) -> relu -> dropout (off) -> dense2.")
    expect.close(got, want.astype(np.float32), call=call, rtol=1e-4, atol=1e-4, hint=hint)


@pytest.mark.exercise("LinenMLP", points=2, concept=True)
@expect.concise_errors
def test_linen_training_mutates_batch_stats_and_uses_dropout_rng(ex):
    model, w, x = ex.LinenMLP(), doc.weights(3), _x(4)
    call = ("LinenMLP().apply(variables, x, train=True, rngs={'dropout': key}, mutable=['batch_stats'])")
    logits, updates = _linen_train(model, w, x, _key(0))
    want = doc.np_new_stats(w, x)
    expect.that(set(updates) == {"batch_stats"}, call=call, expected="updates of the 'batch_stats' collection",
                returned=f"updates of {sorted(updates)}",
                hint="only BatchNorm's running statistics change in a forward pass.")
    expect.close(updates["batch_stats"]["bn"], jax.tree.map(np.float32, want), call=call + ": the new running statistics",
                 rtol=1e-4, atol=1e-5,
                 hint="in training BatchNorm normalizes with the batch's statistics and moves the running ones: "
                      "new = 0.9 * old + 0.1 * batch (momentum=0.9).")
    again = _linen_train(model, w, x, _key(1))[0]
    expect.that(not np.allclose(logits, again), call=call + ", with two different dropout keys",
                expected="different logits: dropout draws its mask from the key", returned="the same logits",
                hint="Dropout(RATE, deterministic=not train) after the relu: in training it drops units.")
    try:
        _linen_train(model, w, x)
        drew = False
    except Exception:  # flax.errors.InvalidRngError: the dropout rng was asked for
        drew = True
    expect.that(drew, call="LinenMLP().apply(variables, x, train=True, mutable=['batch_stats']) with no rngs",
                expected="an error: training-mode dropout needs the 'dropout' rng", returned="logits",
                hint="dropout's mask must come from the rng named 'dropout' (nn.Dropout draws it itself).")


# ---------------------------------------------------------------- linen_train_step and linen_predict

class _Recorder:
    """An apply_fn that calls the documented model and remembers how it was called."""

    def __init__(self):
        self.calls = []
        self.model = doc.LinenMLP()

    def __call__(self, variables, *args, **kwargs):
        train = kwargs.get("train", args[1] if len(args) > 1 else None)
        mutable = kwargs.get("mutable", False)
        self.calls.append({"collections": sorted(variables), "train": train,
                           "mutable": [mutable] if isinstance(mutable, str) else
                           list(mutable) if isinstance(mutable, (list, tuple)) else mutable,
                           "rngs": sorted(kwargs.get("rngs") or {})})
        return self.model.apply(variables, *args, **kwargs)


def _state(w, tx=None):
    recorder = _Recorder()
    w = _tree(w)
    state = doc.TrainState.create(apply_fn=recorder, params=w["params"], tx=tx or optax.sgd(LR),
                                  batch_stats=w["batch_stats"])
    return state, recorder


@jax.jit
def _expected_linen_step(w, x, y, key):
    """The loss, new params and new statistics of one SGD step, computed on the documented model."""
    model = doc.LinenMLP()

    def loss_fn(params):
        logits, updates = model.apply({"params": params, "batch_stats": w["batch_stats"]}, x, train=True,
                                      rngs={"dropout": key}, mutable=["batch_stats"])
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean(), updates

    (loss, updates), grads = jax.value_and_grad(loss_fn, has_aux=True)(w["params"])
    return loss, jax.tree.map(lambda p, g: p - LR * g, w["params"], grads), updates["batch_stats"]


LINEN_STEP_CALL = ("linen_train_step(state, x, y, key), state = a TrainState of the documented LinenMLP with "
                   f"fixed weights and optax.sgd({LR})")


@pytest.mark.exercise("linen_train_step", points=3)
@expect.concise_errors
def test_linen_train_step_values(ex):
    w, x, y, key = doc.weights(5), _x(6), _y(6), _key(7)
    state, _ = _state(w)
    result = jax.jit(ex.linen_train_step)(state, x, y, key)
    expect.that(isinstance(result, (tuple, list)) and len(result) == 2, call=LINEN_STEP_CALL,
                expected="a pair (new_state, loss)", returned=expect.show(result), hint="return state, loss.")
    new, loss = result
    want_loss, want_params, want_stats = _expected_linen_step(_tree(w), x, y, key)
    expect.close(loss, want_loss, call=LINEN_STEP_CALL + ": the loss", rtol=1e-4, atol=1e-5,
                 hint="the mean cross-entropy of the training-mode logits, with the dropout key you were given, "
                      "computed before the update.")
    expect.close(new.params, want_params, call=LINEN_STEP_CALL + ": the new params", rtol=1e-4, atol=1e-5,
                 hint="state.apply_gradients(grads=grads) with the gradient of the loss with respect to the params.")
    expect.that(int(new.step) == 1, call=LINEN_STEP_CALL + ": the new state's step", expected="1",
                returned=str(int(new.step)), hint="apply_gradients counts the step; build the new state with it.")
    expect.close(new.batch_stats, want_stats, call=LINEN_STEP_CALL + ": the new batch_stats", rtol=1e-4, atol=1e-5,
                 hint="keep the statistics apply gave back: .replace(batch_stats=updates['batch_stats']).")


@pytest.mark.exercise("linen_train_step", points=2, concept=True)
@expect.concise_errors
def test_linen_train_step_mutates_only_batch_stats_and_uses_the_key(ex):
    w, x, y = doc.weights(5), _x(6), _y(6)
    state, recorder = _state(w)
    step = jax.jit(ex.linen_train_step)
    _, first = step(state, x, y, _key(1))
    calls = list(recorder.calls)
    expect.that(len(calls) >= 1 and all(c["train"] is True for c in calls), call=LINEN_STEP_CALL + ", recording how "
                "state.apply_fn was called", expected="calls with train=True", returned=f"{calls}",
                hint="call the model through state.apply_fn, in training mode (train=True).")
    expect.that(all(c["mutable"] == ["batch_stats"] for c in calls), call=LINEN_STEP_CALL + ", recording the mutable "
                "collections", expected="mutable=['batch_stats'] in every call", returned=f"{[c['mutable'] for c in calls]}",
                hint="in training BatchNorm writes its running statistics: mark exactly that collection mutable.")
    expect.that(all(c["rngs"] == ["dropout"] for c in calls), call=LINEN_STEP_CALL + ", recording the rngs",
                expected="rngs={'dropout': key}", returned=f"{[c['rngs'] for c in calls]}",
                hint="hand dropout its key as rngs={'dropout': dropout_key}.")
    _, second = step(state, x, y, _key(2))
    _, again = step(state, x, y, _key(1))
    expect.that(not np.isclose(first, second) and np.isclose(first, again, rtol=1e-6),
                call=LINEN_STEP_CALL + ", with keys 1, 2, then 1 again", expected="two different losses, then the first again",
                returned=f"{float(first):.6g}, {float(second):.6g}, {float(again):.6g}",
                hint="the dropout mask must come from the key argument, and only from it.")


@pytest.mark.exercise("linen_predict", points=2)
@expect.concise_errors
def test_linen_predict(ex):
    w, x = doc.weights(8), _x(9)
    state, recorder = _state(w)
    call = "linen_predict(state, x), state = a TrainState of the documented LinenMLP with fixed weights"
    got = jax.jit(ex.linen_predict)(state, x)
    expect.close(got, doc.np_forward(w, x).astype(np.float32), call=call, rtol=1e-4, atol=1e-4,
                 hint="evaluation mode: train=False, with the params and the batch_stats of the state.")
    calls = list(recorder.calls)
    expect.that(bool(calls) and all(c["train"] is False and not c["mutable"] and not c["rngs"] for c in calls),
                call=call + ", recording how state.apply_fn was called",
                expected="train=False, nothing mutable, no rngs", returned=f"{calls}",
                hint="in evaluation nothing may change and nothing random runs: no mutable=, no rngs=.")


# ---------------------------------------------------------------- haiku_mlp

def _haiku(fn):
    return hk.transform_with_state(fn)


@pytest.mark.exercise("haiku_mlp", points=1)
@expect.concise_errors
def test_haiku_params_and_state(ex):
    call = "hk.transform_with_state(haiku_mlp).init(key, x, True)"
    try:
        params, state = jax.jit(_haiku(ex.haiku_mlp).init, static_argnums=2)(_key(0), _x(), True)
    except ValueError as err:
        if "No value for 'average'" not in str(err):
            raise
        raise expect.failure(call, "params and state", expect.raised(err),
                             "Haiku's BatchNorm creates its moving averages only when it is called in training mode: "
                             "hand it the function's is_training, bn(x, is_training).") from None
    got = (_shapes(params), _shapes(state))
    expect.that(got == (HAIKU_PARAMS, HAIKU_STATE), call=call,
                expected=f"params {HAIKU_PARAMS} and state {HAIKU_STATE}", returned=f"params {got[0]} and state {got[1]}",
                hint="create the modules inside the function with name='dense1', 'bn', 'dense2'; "
                     "hk.BatchNorm(True, True, 0.9, eps=1e-5) keeps its moving averages in the state.")


@pytest.mark.exercise("haiku_mlp", points=2)
@expect.concise_errors
def test_haiku_eval_fixed_weights(ex):
    w, x = doc.weights(10), _x(11)
    params, state = doc.to_haiku(w)
    call = "model.apply(params, state, None, x, False), model = hk.transform_with_state(haiku_mlp), fixed weights"
    try:
        got, new_state = jax.jit(_haiku(ex.haiku_mlp).apply, static_argnums=4)(_tree(params), _tree(state), None, x, False)
    except Exception as err:
        raise expect.failure(call, "logits and the state", expect.raised(err),
                             "in evaluation no rng is given: draw hk.next_rng_key() only when is_training.") from None
    expect.close(got, doc.np_forward(w, x).astype(np.float32), call=call, rtol=1e-4, atol=1e-4,
                 hint="dense1 -> bn(x, is_training) -> relu -> dense2; in evaluation BatchNorm reads its averages.")
    expect.close(new_state, state, call=call + ": the state it returns", rtol=0, atol=0,
                 hint="in evaluation (is_training=False) BatchNorm must leave its moving averages alone.")


def _fitted_decay(new_state, state, batch):
    """The decay_rate that moved the mean's `hidden` from state to new_state: hidden = d * old + (1 - d) * batch."""
    new = np.asarray(new_state["bn/~/mean_ema"]["hidden"], np.float64).ravel()
    old = np.asarray(state["bn/~/mean_ema"]["hidden"], np.float64).ravel()
    stat = np.asarray(batch["mean_ema"], np.float64).ravel()
    return float(np.median((stat - new) / (stat - old)))


@pytest.mark.exercise("haiku_mlp", points=2, concept=True)
@expect.concise_errors
def test_haiku_training_updates_state_and_draws_keys(ex):
    w, x = doc.weights(12), _x(13)
    params, state = doc.to_haiku(w)
    for ema in state.values():  # a moving average some steps in, so the update is seen in full
        ema["counter"], ema["hidden"] = np.int32(3), ema["average"] * np.float32(1 - doc.MOMENTUM ** 3)
    apply = jax.jit(_haiku(ex.haiku_mlp).apply, static_argnums=4)
    call = "model.apply(params, state, key, x, True), model = hk.transform_with_state(haiku_mlp), fixed weights"
    first, new_state = apply(_tree(params), _tree(state), _key(0), x, True)
    h = doc.np_hidden(w, x)
    batch = {"mean_ema": h.mean(axis=0), "var_ema": h.var(axis=0)}

    def moved(decay):
        """The state after one training call of a BatchNorm with this decay_rate."""
        want = {}
        for name, stat in batch.items():
            old = state[f"bn/~/{name}"]
            hidden = decay * old["hidden"].astype(np.float64) + (1 - decay) * stat
            want[f"bn/~/{name}"] = {"average": (hidden / (1 - decay ** 4)).astype(np.float32),
                                    "counter": np.int32(4), "hidden": hidden.astype(np.float32)}
        return want

    want = moved(doc.MOMENTUM)
    hint = ("call bn(x, is_training) with is_training=True here: Haiku's BatchNorm then updates its "
            "moving averages, and apply returns them as the new state.")
    if not _same(new_state, want, 1e-4, 1e-5):
        decay = expect.or_none(lambda: _fitted_decay(new_state, state, batch))
        if (decay is not None and not np.isclose(decay, doc.MOMENTUM, atol=1e-3)
                and _same(new_state, moved(decay), 1e-4, 1e-5)):
            hint = (f"the moving averages moved as with decay_rate {decay:.3g}, so training mode is right: build "
                    f"hk.BatchNorm(True, True, {doc.MOMENTUM}, eps=1e-5), decay_rate {doc.MOMENTUM} (linen's momentum).")
    expect.close(new_state, want, call=call + ": the new state", rtol=1e-4, atol=1e-5, hint=hint)
    second = apply(_tree(params), _tree(state), _key(1), x, True)[0]
    expect.that(not np.allclose(first, second), call=call + ", with two different keys",
                expected="different logits: dropout's mask comes from the key", returned="the same logits",
                hint="in training, dropout after the relu, its key drawn with hk.next_rng_key() from the key given to apply.")


# ---------------------------------------------------------------- haiku_train_step

@pytest.mark.exercise("haiku_train_step", points=3)
@expect.concise_errors
def test_haiku_train_step(ex):
    w, x, y, rng = doc.weights(14), _x(15), _y(15), _key(16)
    params, state = jax.tree.map(jnp.asarray, doc.to_haiku(w))
    tx = optax.sgd(LR, momentum=0.9)
    opt_state = tx.init(params)
    call = f"haiku_train_step(tx, params, state, opt_state, key, x, y), tx = optax.sgd({LR}, momentum=0.9), fixed weights"
    with doc.on_documented(ex, "haiku_train_step"):
        result = jax.jit(ex.haiku_train_step, static_argnums=0)(tx, params, state, opt_state, rng, x, y)
    expect.that(isinstance(result, (tuple, list)) and len(result) == 4, call=call,
                expected="(params, state, opt_state, loss)", returned=expect.show(result),
                hint="return the new params, the new state, the new optimizer state and the loss.")
    def expected(mlp):
        model = _haiku(mlp)

        @jax.jit
        def step(params, state, opt_state, rng):
            def loss_fn(p):
                logits, s = model.apply(p, state, rng, x, True)
                return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean(), s

            (loss, new_state), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
            updates, new_opt = tx.update(grads, opt_state, params)
            return optax.apply_updates(params, updates), new_state, new_opt, loss

        return step(params, state, opt_state, rng)

    want_params, want_state, want_opt, want_loss = want = expected(doc.haiku_mlp)
    if not _same(result, want, 1e-4, 1e-5):
        own = expect.or_none(lambda: expected(ex.haiku_mlp))  # the learner's haiku_mlp, outside on_documented
        if own is not None and not _same(own, want, 1e-4, 1e-5) and _same(result, own, 1e-4, 1e-5):
            raise expect.failure(
                call + ", on the docstring's haiku_mlp", "the docstring's model trained one step",
                "what one step of your own haiku_mlp gives",
                "haiku_train_step uses a transform of your haiku_mlp made outside it (at module level), so this "
                "test can't judge it on its own: build hk.transform_with_state(haiku_mlp) inside haiku_train_step, "
                "and see the test_haiku_* tests first.")
    new_params, new_state, new_opt, loss = result
    call += ", on the docstring's haiku_mlp"
    model = _haiku(doc.haiku_mlp)
    after = [jax.jit(lambda p, s: optax.softmax_cross_entropy_with_integer_labels(
        model.apply(p, s, rng, x, True)[0], y).mean())(want_params, s) for s in (state, want_state)]
    hint = ("the loss returned is the loss at the updated params: return the loss before the update, the value "
            "of value_and_grad." if any(_same(loss, a, 1e-4, 1e-5) for a in after) else
            "model.apply(params, state, rng, x, True): training mode, with the key you were given.")
    expect.close(loss, want_loss, call=call + ": the loss", rtol=1e-4, atol=1e-5, hint=hint)
    expect.close(new_params, want_params, call=call + ": the new params", rtol=1e-4, atol=1e-5,
                 hint="tx.update(grads, opt_state, params), then optax.apply_updates(params, updates).")
    expect.close(new_state, want_state, call=call + ": the new state", rtol=1e-4, atol=1e-5,
                 hint="return the state that apply gave back (the auxiliary output of the loss), not the old one.")
    expect.close(new_opt, want_opt, call=call + ": the new opt_state", rtol=1e-4, atol=1e-5,
                 hint="return the optimizer state that tx.update gave back.")


# ---------------------------------------------------------------- NNXMLP

def _nnx(cls):
    return doc.build_nnx(cls, _key(0))


@pytest.mark.exercise("NNXMLP", points=2)
@expect.concise_errors
def test_nnx_eval_fixed_weights(ex):
    w, x = doc.weights(17), _x(18)
    model = doc.set_nnx(_nnx(ex.NNXMLP), w)
    model.eval()
    got = doc.nnx_forward(model, x)
    expect.close(got, doc.np_forward(w, x).astype(np.float32), call="NNXMLP(rngs=...)(x) after model.eval(), fixed "
                 "weights set on dense1, bn and dense2", rtol=1e-4, atol=1e-4,
                 hint="dense1 -> bn -> relu -> dropout -> dense2, with no mode arguments, so model.eval() reaches "
                      "BatchNorm and Dropout.")


@pytest.mark.exercise("NNXMLP", points=2, concept=True)
@expect.concise_errors
def test_nnx_train_and_eval_modes(ex):
    w, x = doc.weights(19), _x(20)
    model = doc.set_nnx(_nnx(ex.NNXMLP), w)
    model.train()
    first, second = np.asarray(doc.nnx_forward(model, x)), np.asarray(doc.nnx_forward(model, x))
    call = "NNXMLP(rngs=...)(x) after model.train(), fixed weights"
    once = {"params": w["params"], "batch_stats": {"bn": doc.np_new_stats(w, x)}}
    expect.close({"mean": model.bn.mean[...], "var": model.bn.var[...]},
                 jax.tree.map(np.float32, doc.np_new_stats(once, x)),
                 call=call + ", twice: the running statistics", rtol=1e-4, atol=1e-5,
                 hint="nnx.BatchNorm(8, momentum=0.9) between dense1 and relu, called with no mode argument.")
    expect.that(not np.allclose(first, second), call=call + ", twice", expected="different logits (dropout)",
                returned="the same logits", hint="apply self.dropout after the relu; model.train() turns it on.")
    model.eval()
    stats = (np.asarray(model.bn.mean[...]), np.asarray(model.bn.var[...]))
    a, b = np.asarray(doc.nnx_forward(model, x)), np.asarray(doc.nnx_forward(model, x))
    expect.that(np.array_equal(a, b) and np.array_equal(stats[0], model.bn.mean[...]),
                call="the same model after model.eval(), twice", expected="the same logits, statistics unchanged",
                returned="different logits or changed statistics",
                hint="pass no deterministic= or use_running_average= in __call__: model.eval() switches them.")


# ---------------------------------------------------------------- converters

CONVERT_CALL = "linen_to_haiku(variables), variables = fixed weights in linen's layout"


@pytest.mark.exercise("linen_to_haiku", points=2)
@expect.concise_errors
def test_linen_to_haiku(ex):
    w = doc.weights(21)
    variables = _tree(w)  # new dicts and arrays: w stays as the input was
    params, state = ex.linen_to_haiku(variables)
    _close(variables, w, call=CONVERT_CALL + ", then variables again", rtol=0, atol=0,
           hint="linen_to_haiku changed the dict it was given: build new dicts (jnp.reshape gives a new array) "
                "and leave the input as it was.")
    want_params, want_state = doc.to_haiku(w)
    got_shapes = (_shapes(params), _shapes(state))
    expect.that(got_shapes == (HAIKU_PARAMS, HAIKU_STATE), call=CONVERT_CALL + ": the shapes of what it returned",
                expected=f"params {HAIKU_PARAMS} and state {HAIKU_STATE}, as Haiku's init makes them",
                returned=f"params {got_shapes[0]} and state {got_shapes[1]}",
                hint="hk.BatchNorm keeps scale, offset and its averages with shape (1, 8) (a batch axis of 1): "
                     "reshape linen's (8,) arrays; the counter is a scalar.")
    expect.close(params, want_params, call=CONVERT_CALL + ": the params", rtol=0, atol=0,
                 hint="w and b for each Linear (the same (in, out) layout as linen's kernel); BatchNorm's scale and "
                      "offset (linen's bias) reshaped to (1, 8).")
    expect.equal(state, want_state, call=CONVERT_CALL + ": the state",
                 hint="{'bn/~/mean_ema': {'average': mean.reshape(1, 8), 'hidden': zeros (1, 8), 'counter': int32 0}, "
                      "and the same for var_ema.")
    x = _x(22)
    got, _ = jax.jit(_haiku(doc.haiku_mlp).apply, static_argnums=4)(params, state, None, x, False)
    expect.close(got, _linen_eval(doc.LinenMLP(), variables, x), call="the docstring's Haiku model on the "
                 "converted weights, and the linen model on the originals, both in evaluation mode", rtol=1e-5, atol=1e-5,
                 hint="the two models must give the same logits from the same weights.")


@pytest.mark.exercise("haiku_to_linen", points=1)
@expect.concise_errors
def test_haiku_to_linen(ex):
    w = doc.weights(23)
    params, state = doc.to_haiku(w)
    state["bn/~/mean_ema"]["hidden"] = state["bn/~/mean_ema"]["average"] * 0.5  # only `average` is the statistic
    state["bn/~/mean_ema"]["counter"] = np.int32(7)
    got = ex.haiku_to_linen(_tree(params), _tree(state))
    _close(got, w, call="haiku_to_linen(params, state), fixed weights in Haiku's layout", rtol=0, atol=0,
           hint="kernel = w, bias = b; BatchNorm's scale and bias = scale and offset reshaped to (8,); the "
                "running mean and var are the moving averages' `average` (not `hidden`), reshaped to (8,).")


@pytest.mark.exercise("linen_to_nnx", points=2)
@expect.concise_errors
def test_linen_to_nnx(ex):
    w, x = doc.weights(24), _x(25)
    model = _nnx(doc.NNXMLP)
    call = "linen_to_nnx(variables, model), model = the docstring's NNXMLP, then model.eval() and model(x)"
    returned = ex.linen_to_nnx(_tree(w), model)
    expect.that(returned is model, call=call, expected="the model it was given, its weights set in place",
                returned=expect.show(returned), hint="set the variables with .set_value(...), then return model.")
    held = {"params": {name: {"kernel": getattr(model, name).kernel[...], "bias": getattr(model, name).bias[...]}
                       for name in ("dense1", "dense2")},
            "batch_stats": {"bn": {"mean": model.bn.mean[...], "var": model.bn.var[...]}}}
    held["params"]["bn"] = {"scale": model.bn.scale[...], "bias": model.bn.bias[...]}
    expect.close(held, w, call=call.split(", then")[0] + ", then reading the model's variables", rtol=0, atol=0,
                 hint="kernel and bias of dense1 and dense2; scale, bias, mean and var of bn, all from linen's dicts: "
                      "the place where they differ is named above.")
    model.eval()
    expect.close(doc.nnx_forward(model, x), doc.np_forward(w, x).astype(np.float32), call=call, rtol=1e-4, atol=1e-4,
                 hint="with every variable set as linen's, the docstring's model gives linen's logits.")


# ---------------------------------------------------------------- LSTM

def _lstm_case(seed, time=5, batch=3, d_in=4, hidden=5):
    rng = np.random.default_rng(seed)
    params = {"w": (rng.standard_normal((d_in + hidden, 4 * hidden)) * 0.5).astype(np.float32),
              "b": (rng.standard_normal(4 * hidden) * 0.3).astype(np.float32)}
    xs = rng.standard_normal((time, batch, d_in)).astype(np.float32)
    carry = tuple(rng.standard_normal((batch, hidden)).astype(np.float32) * 0.5 for _ in range(2))
    return params, xs, carry


@pytest.mark.exercise("lstm_cell", points=2)
@expect.concise_errors
def test_lstm_cell(ex):
    params, xs, carry = _lstm_case(26)
    call = "lstm_cell(params, (h, c), x), batch 3, d_in 4, hidden 5"
    got = jax.jit(ex.lstm_cell)(params, carry, xs[0])
    (h, c), out = jax.tree.map(np.float32, doc.np_lstm_cell(params, carry, xs[0]))
    slips = [("the forget gate has no + 1 (Haiku's forget bias).", doc.np_lstm_cell(params, carry, xs[0], 0.0)),
             ("the gates were split in the order i, f, g, o; hk.LSTM's is i, g, f, o.",
              doc.np_lstm_cell(params, carry, xs[0], 1.0, "ifgo"))]
    hint = next((what for what, value in slips if _same(got, value, 1e-4, 1e-5)),
                "c = sigmoid(f + 1) * c + sigmoid(i) * tanh(g); h = sigmoid(o) * tanh(c); return ((h, c), h).")
    expect.close(got, ((h, c), out), call=call, rtol=1e-4, atol=1e-5, hint=hint)


def _np_unroll(params, xs, carry):
    """hs, the c of every step and the final carry, in float64."""
    state, hs, cs = carry, [], []
    for x in xs:
        state, h = doc.np_lstm_cell(params, state, x)
        hs.append(h)
        cs.append(state[1])
    return np.stack(hs), np.stack(cs), state


def _unroll_hint(got, params, xs, carry):
    """The hint for a wrong lstm_unroll: a cause only where the returned values show it."""
    hs, cs, final = _np_unroll(params, xs, carry)
    same = lambda a, b: _same(a, b, 1e-4, 1e-5)  # noqa: E731
    if same(got, (final, hs)):
        return ("lax.scan returns (final carry, stacked outputs); lstm_unroll returns them the other way round, "
                "(hs, carry), with hs time first.")
    try:
        got_hs, got_carry = got
        got_hs = np.asarray(got_hs)
    except Exception:
        return "return a pair (hs, (h, c)): hs of shape (time, batch, hidden), then the final carry."
    general = "hs = the h of every step, time first; the carry = (h, c) after the last step."
    if same(got_hs, hs):
        if same(got_carry, carry):
            return "hs are right, but the carry returned is the one given: return the carry after the last step."
        return "hs are right, the carry is not: return the (h, c) after the last step (its h is hs[-1])."
    if same(got_hs, cs):
        return "hs holds the cell state c of every step; stack the output h (lstm_cell's second result) instead."
    backwards = _np_unroll(params, xs[::-1], carry)[0]
    if same(got_hs, backwards[::-1]) or same(got_hs, backwards):
        return ("hs equal the expected ones computed with time reversed: run the steps in order, xs[0] first "
                "(lax.scan's reverse=False).")
    if got_hs.shape == hs.shape and same(got_hs[:-1], hs[:-1]):
        return (f"the first {len(xs) - 1} steps of hs are right, the last is not: the loop stops one step short; "
                f"run all {len(xs)} (lax.scan over xs does).")
    if got_hs.shape == hs.shape and (same(got_hs[1:], hs[:-1]) or same(got_hs[:-1], hs[1:])):
        return ("hs equal the expected ones shifted by one time step: hs[t] is the h after the step on xs[t].")
    return general


@pytest.mark.exercise("lstm_unroll", points=2)
@expect.concise_errors
def test_lstm_unroll(ex):
    params, xs, carry = _lstm_case(27)
    call = "lstm_unroll(params, xs, (h0, c0)), xs of shape (5, 3, 4), on the docstring's lstm_cell"
    with doc.on_documented(ex, "lstm_unroll"):
        got = jax.jit(ex.lstm_unroll)(params, xs, carry)
    hs, _, state = _np_unroll(params, xs, carry)
    want = jax.tree.map(np.float32, (hs, state))
    hint = None if _same(got, want, 1e-4, 1e-5) else _unroll_hint(got, params, xs, carry)
    expect.close(got, want, call=call, rtol=1e-4, atol=1e-5, hint=hint)


@pytest.mark.exercise("lstm_unroll", points=1, concept=True)
@expect.concise_errors
def test_lstm_unroll_scans(ex):
    params, xs, carry = _lstm_case(28, time=12)
    with doc.on_documented(ex, "lstm_unroll"):
        short = jaxprs.program_size(ex.lstm_unroll, (params, xs[:2], carry))
        long = jaxprs.program_size(ex.lstm_unroll, (params, xs, carry))
        ops = jaxprs.op_names(jax.make_jaxpr(ex.lstm_unroll)(params, xs, carry))
    expect.that(short == long and "scan" in ops, call="lstm_unroll traced on 2 and on 12 time steps",
                expected="one lax.scan, and programs of the same size", returned=f"{short} and {long} operations, "
                f"{'with' if 'scan' in ops else 'without'} a scan",
                hint="a Python loop over time is unrolled when traced; jax.lax.scan traces the step once.")


# ---------------------------------------------------------------- weight normalization

def _wn_case(seed):
    rng = np.random.default_rng(seed)
    v = (rng.standard_normal((4, 3)) * rng.uniform(0.5, 3, 3)).astype(np.float32)
    return v, rng.uniform(-2, 2, 3).astype(np.float32)


def _np_weight_norm(v, g, axis=0):
    v = np.asarray(v, np.float64)
    return np.asarray(g, np.float64) * v / np.linalg.norm(v, axis=axis, keepdims=True)


@pytest.mark.exercise("weight_norm", points=2)
@expect.concise_errors
def test_weight_norm(ex):
    v, g = _wn_case(29)
    call = "weight_norm(v, g), v of shape (4, 3), g of shape (3,)"
    got = jax.jit(ex.weight_norm)(v, g)
    want = _np_weight_norm(v, g)
    slips = [("v was divided by the whole matrix's norm, not each column's.",
              np.asarray(g, np.float64) * v / np.linalg.norm(v.astype(np.float64))),
             ("v was divided by the squared norm of each column; divide by the norm itself.",
              np.asarray(g, np.float64) * v / np.sum(v.astype(np.float64) ** 2, axis=0))]
    hint = next((what for what, value in slips if _same(got, value, 1e-4, 1e-5)),
                "w = g * v / ||v||, the norm of each column over axis 0 (keepdims), so ||w[:, j]|| = |g[j]|.")
    expect.close(got, want.astype(np.float32), call=call, rtol=1e-5, atol=1e-5, hint=hint)


@pytest.mark.exercise("weight_norm", points=2, concept=True)
@expect.concise_errors
def test_weight_norm_gradient(ex):
    v, g = _wn_case(30)
    upstream = np.random.default_rng(31).standard_normal((4, 3)).astype(np.float32)
    call = "jax.grad(lambda v, g: sum(weight_norm(v, g) * u), argnums=(0, 1))(v, g), u fixed"
    grad_v, grad_g = jax.jit(jax.grad(lambda v, g: jnp.sum(ex.weight_norm(v, g) * upstream), argnums=(0, 1)))(v, g)
    v64, u = v.astype(np.float64), upstream.astype(np.float64)
    norm = np.linalg.norm(v64, axis=0, keepdims=True)
    direction = v64 / norm
    want_g = np.sum(u * direction, axis=0)
    want_v = g / norm * (u - np.sum(u * direction, axis=0, keepdims=True) * direction)
    stopped = g / norm * u
    values_right = _same(jax.jit(ex.weight_norm)(v, g), _np_weight_norm(v, g), 1e-4, 1e-5)
    hint = ("weight_norm's values are wrong (test_weight_norm says how); the gradient follows once they are right."
            if not values_right else "the gradient with respect to v is g / ||v|| * u: it does not flow through the norm (a stop_gradient, or "
            "a norm taken from outside). Then it is not orthogonal to v, and training changes ||v|| for nothing."
            if _same(grad_v, stopped, 1e-4, 1e-5) else
            "let jax.grad see the whole expression g * v / ||v||; the gradient along v is then 0, column by column.")
    expect.close(grad_v, want_v.astype(np.float32), call=call + ": the gradient with respect to v", rtol=1e-4,
                 atol=1e-5, hint=hint)
    expect.close(grad_g, want_g.astype(np.float32), call=call + ": the gradient with respect to g", rtol=1e-4,
                 atol=1e-5, hint="d/dg of g * v / ||v|| is the unit direction v / ||v||.")
    along = np.abs(np.sum(np.asarray(grad_v, np.float64) * v64, axis=0)).max()
    expect.that(along < 1e-4, call=call, expected="a gradient orthogonal to each column of v",
                returned=f"a component of {along:.3g} along v", hint=hint)


@pytest.mark.exercise("weight_norm_dense", points=1)
@expect.concise_errors
def test_weight_norm_dense(ex):
    v, g = _wn_case(32)
    b = np.random.default_rng(33).standard_normal(3).astype(np.float32)
    x = _x(34)
    with doc.on_documented(ex, "weight_norm_dense"):
        got = jax.jit(ex.weight_norm_dense)({"v": v, "g": g, "b": b}, x)
    want = x.astype(np.float64) @ _np_weight_norm(v, g) + b
    expect.close(got, want.astype(np.float32), call="weight_norm_dense({'v': v, 'g': g, 'b': b}, x), on the "
                 "docstring's weight_norm", rtol=1e-4, atol=1e-5, hint="x @ weight_norm(v, g) + b.")

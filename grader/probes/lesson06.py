"""Lesson 06 probes: every function on fresh random MLPs (random depth and widths, non-zero biases) and
random data, under `jax.jit` as the public tests run it, compared with the reference at the tests'
tolerances. `log_softmax` and `cross_entropy` also get logits in the thousands (the loss's gradient
too); `sgd_update` also gets a pytree that is not an MLP. `make_train_step` is driven with this
module's own loss (a hidden multiple of the mean squared error) over two steps with new batches and
learning rates. `fit` runs the tests' kind of training on a hidden wave with that loss; its check asks
what the tests ask of a run (the layout, float32 losses starting at the given params' loss and falling,
a close fit of the wave), so any way of training that the tests accept passes. Like the tests' runs,
the run stops if fit traces the loss a third time. Where a public test judges an exercise on top of the
student's own earlier exercises (cross_entropy on their log_softmax, the train step on their forward and
sgd_update, predict_one on their forward, predict on their predict_one), the probe also returns what that
composition gives. The sandbox computed it, so it is only a claim: a value equal to it is still wrong on
the grader's inputs and costs its tests, and the message says to fix the exercise below first.
"""
import jax
import jax.numpy as jnp
import numpy as np

import grader.probes as probes_mod
from grader.probes import Probes, compare, concerns, mlp_forward

PROBES = Probes("06")
CLOSE = {"rtol": 1e-4, "atol": 1e-5}
FIT_MAX_MSE = 0.01


def _normal(rng, *shape, scale=1.0):
    return (scale * rng.normal(size=shape)).astype(np.float32)


def _mlp(rng, sizes, bias_scale=0.5):
    return [{"w": _normal(rng, m, n, scale=np.sqrt(2.0 / m)), "b": _normal(rng, n, scale=bias_scale)}
            for m, n in zip(sizes[:-1], sizes[1:])]


def _sizes(rng, n_in=None, n_out=None):
    depth = int(rng.integers(2, 5))
    sizes = [int(s) for s in rng.integers(2, 10, size=depth + 1)]
    if n_in is not None:
        sizes[0] = n_in
    if n_out is not None:
        sizes[-1] = n_out
    return sizes


def _or_none(compute):
    """compute(), or None if it raises: a value built on the student's earlier exercises, which may be unwritten."""
    try:
        return compute()
    except Exception:
        return None


def _consistent(got, own, rtol, atol) -> bool:
    """True when `got` matches `own` (both from the student's process; NaN matches NaN)."""
    if own is None:
        return False
    got_leaves, own_leaves = jax.tree.leaves(got), jax.tree.leaves(own)
    if len(got_leaves) != len(own_leaves):
        return False
    try:
        return all(np.shape(g) == np.shape(o) and np.allclose(np.asarray(g, np.float64), np.asarray(o, np.float64),
                                                              rtol=rtol, atol=atol, equal_nan=True)
                   for g, o in zip(got_leaves, own_leaves))
    except (TypeError, ValueError):
        return False


def _said(reason, consistent: bool, *tests):
    """The finding for a wrong value; `built_on` when it equals what the student's own earlier exercises
    give (a claim from the sandbox: it words the message, it never spares a point)."""
    if consistent:
        return probes_mod.built_on(reason, *tests)
    return concerns(reason, *tests) if tests else reason


def _right_or_own(rtol, atol, *tests):
    """A check for runs returning {"out": ..., "own": ...}, where "own" is what the exercise gives when built
    faithfully on the student's own earlier exercises: right only when "out" is the reference's."""
    def check(got, want, inputs):
        reason = compare(got["out"], want["out"], rtol=rtol, atol=atol)
        if reason is None:
            return None
        return _said(reason, _consistent(got["out"], got["own"], rtol, atol), *tests)
    return check


def _scaled_sq(scale):
    """The probes' loss: `scale` times the mean squared error (scale is hidden)."""
    def loss_fn(pred, target):
        return scale * jnp.mean((pred - target) ** 2)
    return loss_fn


# -- forward, losses, accuracy ------------------------------------------------------------------

def _forward_inputs(rng):
    sizes = _sizes(rng)
    width = int(rng.integers(2, 6))
    tail = [{"w": np.diag(rng.uniform(0.5, 2.0, width)).astype(np.float32), "b": np.zeros(width, np.float32)},
            {"w": _normal(rng, width, 1), "b": np.array([-4.0], np.float32)}]
    return {"params": _mlp(rng, sizes), "x": _normal(rng, int(rng.integers(3, 9)), sizes[0]),
            "tail": tail, "x_tail": _normal(rng, 6, width)}


def _check_forward(got, want, inputs):
    """The random MLP's outputs concern the value test; the tail network (a positive diagonal hidden layer,
    then a last layer whose outputs are mostly negative) tells whether the last layer is left linear."""
    if not isinstance(got, dict) or set(got) != {"out", "tail"}:
        return "the output has the wrong structure"
    found = []
    reason = compare(got["out"], want["out"], **CLOSE)
    if reason:
        found.append(concerns(reason, "test_forward"))
    tail = compare(got["tail"], want["tail"], **CLOSE)
    if tail:
        found.append(concerns(f"a network whose outputs are mostly negative: {tail}", "test_forward",
                              "test_forward_last_layer_is_linear"))
    return probes_mod.merge_findings(found)


@PROBES("forward", make=_forward_inputs, check=_check_forward)
def forward(ex, params, x, tail, x_tail):
    step = jax.jit(lambda p, x: (ex.forward(p, x), ex.forward(p, x[0])))
    return {"out": step(params, x), "tail": jax.jit(ex.forward)(tail, x_tail)}


def _pair(rng):
    shape = (int(rng.integers(3, 10)), int(rng.integers(1, 5)))
    return {"pred": _normal(rng, *shape, scale=2.0), "target": _normal(rng, *shape)}


@PROBES("mse", make=_pair, rtol=1e-5, atol=1e-6)
def mse(ex, pred, target):
    return jax.jit(ex.mse)(pred, target)


def _logits(rng, scale=3.0):
    return _normal(rng, int(rng.integers(3, 8)), int(rng.integers(3, 9)), scale=scale)


def _huge_logits(rng):
    """Rows around +-1000 or more, spread by hundreds, so that exp() overflows without the max trick."""
    z = _logits(rng, scale=300.0)
    offsets = rng.choice([-1, 1], size=(len(z), 1)) * rng.uniform(800, 2000, size=(len(z), 1))
    return (z + offsets).astype(np.float32)


@PROBES("log_softmax", make=lambda rng: {"logits": _logits(rng)}, rtol=1e-5, atol=1e-5,
        guards=("test_log_softmax", "test_log_softmax_is_written_by_hand"))
def log_softmax(ex, logits):
    return jax.jit(lambda z: (ex.log_softmax(z), ex.log_softmax(z[0])))(logits)


@PROBES("log_softmax", make=lambda rng: {"logits": _huge_logits(rng)}, rtol=1e-5, atol=1e-3,
        guards=("test_log_softmax_large_logits",))
def log_softmax_huge_logits(ex, logits):
    return jax.jit(ex.log_softmax)(logits)


def _labelled(logits, rng):
    return {"logits": logits, "labels": rng.integers(0, logits.shape[1], size=len(logits)).astype(np.int32)}


def _own_cross_entropy(ex, labels, grad=False):
    """cross_entropy built on the student's own log_softmax, as the public tests accept it."""
    def ce(z):
        return -jnp.mean(ex.log_softmax(z)[jnp.arange(len(labels)), labels])
    return jax.jit(jax.value_and_grad(ce) if grad else ce)


@PROBES("cross_entropy", make=lambda rng: _labelled(_logits(rng, scale=2.0), rng),
        check=_right_or_own(1e-5, 1e-6), guards=("test_cross_entropy",))
def cross_entropy(ex, logits, labels):
    return {"out": jax.jit(ex.cross_entropy)(logits, labels),
            "own": _or_none(lambda: _own_cross_entropy(ex, labels)(logits))}


@PROBES("cross_entropy", make=lambda rng: _labelled(_huge_logits(rng), rng),
        check=_right_or_own(1e-5, 1e-5), guards=("test_cross_entropy_large_logits",))
def cross_entropy_huge_logits(ex, logits, labels):
    return {"out": jax.jit(jax.value_and_grad(ex.cross_entropy))(logits, labels),
            "own": _or_none(lambda: _own_cross_entropy(ex, labels, grad=True)(logits))}


def _accuracy_inputs(rng):
    logits = _logits(rng, scale=2.0)
    labels = rng.integers(0, logits.shape[1], size=len(logits))
    right = rng.random(len(logits)) < 0.5
    labels[right] = np.argmax(logits[right], axis=-1)
    return {"logits": logits, "labels": labels.astype(np.int32)}


@PROBES("accuracy", make=_accuracy_inputs, rtol=1e-5, atol=1e-6)
def accuracy(ex, logits, labels):
    return jax.jit(ex.accuracy)(logits, labels)


# -- the update and the train step --------------------------------------------------------------

def _tree(rng):
    """A pytree that is not an MLP: a dict holding a tuple, a nested dict and a 0-d leaf."""
    a, b = int(rng.integers(1, 5)), int(rng.integers(1, 5))
    return {"pair": (_normal(rng, a, b), _normal(rng, b)), "inner": {"v": _normal(rng, a)},
            "scale": np.float32(rng.normal())}


def _sgd_inputs(rng):
    sizes = _sizes(rng)
    tree = _tree(rng)
    return {"params": _mlp(rng, sizes), "grads": _mlp(rng, sizes), "lr": float(rng.uniform(0.01, 0.9)),
            "tree": tree, "tree_grads": jax.tree.map(lambda leaf: _normal(rng, *np.shape(leaf)), tree)}


@PROBES("sgd_update", make=_sgd_inputs, rtol=1e-5, atol=1e-6)
def sgd_update(ex, params, grads, lr, tree, tree_grads):
    update = jax.jit(ex.sgd_update)
    return update(params, grads, lr), update(tree, tree_grads, lr)


def _step_inputs(rng):
    sizes = _sizes(rng)
    n = int(rng.integers(5, 13))
    batches = [(_normal(rng, n, sizes[0]), _normal(rng, n, sizes[-1])) for _ in range(2)]
    return {"params": _mlp(rng, sizes), "batches": batches, "lrs": [float(v) for v in rng.uniform(0.01, 0.2, 2)],
            "scale": float(rng.uniform(0.3, 3.0))}


def _own_step(ex, loss_fn):
    """One step built on the student's own forward and sgd_update, as the public tests accept it."""
    def step(p, x, y, lr):
        loss, grads = jax.value_and_grad(lambda q: loss_fn(ex.forward(q, x), y))(p)
        return ex.sgd_update(p, grads, lr), loss
    return jax.jit(step)


def _check_steps(got, want, inputs):
    """Each step right, or the step the student's own forward and sgd_update give from the same params."""
    for i, (g, w) in enumerate(zip(got, want)):
        reason = compare(g["out"], w["out"], rtol=1e-4, atol=1e-6)
        if reason:
            return _said(f"step {i + 1}: {reason}", _consistent(g["out"], g["own"], 1e-4, 1e-6), "test_train_step")
    return None if len(got) == len(want) else concerns("the steps are missing", "test_train_step")


@PROBES("make_train_step", make=_step_inputs, check=_check_steps)
def make_train_step(ex, params, batches, lrs, scale):
    loss_fn = _scaled_sq(scale)
    step = ex.make_train_step(loss_fn)
    own = _or_none(lambda: _own_step(ex, loss_fn))
    out = []
    for (x, y), lr in zip(batches, lrs):
        start = params
        params, loss = step(params, (x, y), lr)
        out.append({"out": {"loss": loss, "params": params},
                    "own": _or_none(lambda: dict(zip(("params", "loss"), own(start, x, y, lr))))})
    return out


# -- fit ----------------------------------------------------------------------------------------

def _fit_inputs(rng):
    """A hidden wave a * sin(k x + phi) on random points of [-1, 1], the tests' kind of run (a 1 -> h -> 1
    network, He init with zero biases, about a thousand steps), with the loss scaled by a hidden factor."""
    x = np.sort(rng.uniform(-1, 1, size=int(rng.integers(64, 129))))[:, None]
    k, a, phi = rng.uniform(2, 3), rng.uniform(0.6, 1.0), rng.uniform(0, 2 * np.pi)
    scale = float(rng.uniform(0.5, 2.0))
    return {"params": _mlp(rng, [1, int(rng.integers(24, 41)), 1], bias_scale=0.0), "x": x.astype(np.float32),
            "y": (a * np.sin(k * x + phi)).astype(np.float32), "steps": int(rng.integers(800, 1201)),
            "lr": float(rng.uniform(0.08, 0.12)) / scale, "scale": scale}


def _mse_of(params, inputs):
    return float(np.mean((mlp_forward(params, inputs["x"]) - inputs["y"]) ** 2))


def _same_layout(params, like):
    return (isinstance(params, (list, tuple)) and len(params) == len(like)
            and all(isinstance(p, dict) and set(p) == set(q) and all(np.shape(p[k]) == np.shape(q[k]) for k in q)
                    for p, q in zip(params, like)))


def _check_fit(got, want, inputs):
    """The tests' demands of a run: (params, losses) of the right layout, float32 losses that start at the
    loss of the params given and fall, and final params that fit the wave (mean squared error at most
    FIT_MAX_MSE, or twice the reference's where the reference's own fit is looser)."""
    if not isinstance(got, (list, tuple)) or len(got) != 2:
        return "fit should return a pair (params, losses)"
    (params, losses), (want_params, want_losses) = got, want
    if not _same_layout(params, want_params):
        return "the returned params are not shaped like the params given"
    losses, want_losses = np.asarray(losses), np.asarray(want_losses)
    if losses.shape != want_losses.shape or losses.dtype != np.float32:
        return f"losses should be float32 of shape (steps,), not {losses.dtype} of shape {losses.shape}"
    if not np.all(np.isfinite(losses)):
        return "the losses hold NaN or infinity"
    reason = compare(losses[0], want_losses[0], rtol=1e-4, atol=1e-6)
    if reason:
        return f"losses[0] is not the loss of the params given: {reason}"
    if losses[-1] > want_losses[-1] + 0.5 * (want_losses[0] - want_losses[-1]):
        return (f"the losses fall by only {100 * (1 - losses[-1] / losses[0]):.3g}% over {inputs['steps']} steps, "
                "far less than gradient descent's (does each step start from the params the last one returned?)")
    error = _mse_of(params, inputs)
    if not np.isfinite(error) or error > max(FIT_MAX_MSE, 2 * _mse_of(want_params, inputs)):
        return (f"after {inputs['steps']} steps the returned params fit the data with mean squared error "
                f"{error:.3g}; gradient descent gets it under {FIT_MAX_MSE}")
    return None


def _at_most_twice(loss_fn):
    """loss_fn, stopping the run when it is traced a third time, as the tests' runs stop."""
    calls = []

    def counted(pred, target):
        calls.append(1)
        if len(calls) > 2:
            raise RuntimeError("loss_fn was traced a third time, so the run was stopped: fit's steps are not "
                               "compiled into one program")
        return loss_fn(pred, target)
    return counted


@PROBES("fit", make=_fit_inputs, check=_check_fit,
        guards=("test_fit_sine", "test_fit_traces_the_loss_at_most_twice", "test_fit_digits",
                "test_fit_returns_params_and_losses"))
def fit(ex, params, x, y, steps, lr, scale):
    return ex.fit(params, x, y, steps, lr, _at_most_twice(_scaled_sq(scale)))


# -- prediction ---------------------------------------------------------------------------------

def _image_inputs(rng):
    h, w = (int(v) for v in rng.integers(2, 6, size=2))
    return {"params": _mlp(rng, _sizes(rng, n_in=h * w)), "images": _normal(rng, int(rng.integers(3, 8)), h, w)}


@PROBES("predict_one", make=_image_inputs, check=_right_or_own(CLOSE["rtol"], CLOSE["atol"]))
def predict_one(ex, params, images):
    return {"out": jax.jit(ex.predict_one)(params, images[0]),
            "own": _or_none(lambda: jax.jit(lambda p, im: ex.forward(p, jnp.ravel(im)))(params, images[0]))}


@PROBES("predict", make=_image_inputs, check=_right_or_own(CLOSE["rtol"], CLOSE["atol"], "test_predict"))
def predict(ex, params, images):
    n = len(images)
    return {"out": jax.jit(ex.predict)(params, images),
            "own": _or_none(lambda: jax.jit(lambda p, ims: jnp.stack([ex.predict_one(p, ims[i]) for i in range(n)]))(
                params, images))}


# -- fit, a few steps on small data sets ------------------------------------------------------------

def _short_fit_inputs(rng):
    """Two small data sets of the same shapes with their own learning rates, and a few steps: fit must
    train on what each call gives it (no data or program kept from an earlier call)."""
    sizes = _sizes(rng)
    n = int(rng.integers(4, 9))
    return {"params": _mlp(rng, sizes), "steps": int(rng.integers(2, 5)), "scale": float(rng.uniform(0.3, 3.0)),
            "data": [(_normal(rng, n, sizes[0]), _normal(rng, n, sizes[-1]), float(rng.uniform(0.01, 0.2)))
                     for _ in range(2)]}


def _own_fit(ex, params, x, y, steps, lr, loss_fn):
    """The same run stepped with the student's own make_train_step, as the public test accepts it."""
    step, losses = ex.make_train_step(loss_fn), []
    for _ in range(steps):
        params, loss = step(params, (x, y), lr)
        losses.append(loss)
    return params, jnp.stack(losses)


def _check_short_fits(got, want, inputs):
    """Each call's (params, losses) right, or what the student's own train step gives on that call's data."""
    if not isinstance(got, (list, tuple)) or len(got) != len(want):
        return "fit should return a pair (params, losses) for each call"
    for i, (g, w) in enumerate(zip(got, want)):
        reason = compare(g["out"], w["out"], rtol=1e-4, atol=1e-5)
        if reason:
            return _said(f"call {i + 1} of 2 (other data of the same shapes, another lr): {reason}",
                         _consistent(g["out"], g["own"], 1e-4, 1e-5))
    return None


@PROBES("fit", make=_short_fit_inputs, check=_check_short_fits, guards=("test_fit_follows_sgd",))
def fit_follows_sgd(ex, params, steps, scale, data):
    loss_fn = _scaled_sq(scale)
    return [{"out": ex.fit(params, x, y, steps, lr, loss_fn),
             "own": _or_none(lambda x=x, y=y, lr=lr: _own_fit(ex, params, x, y, steps, lr, loss_fn))}
            for x, y, lr in data]

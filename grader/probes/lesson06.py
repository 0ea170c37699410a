"""Lesson 06 probes: every function on fresh random MLPs (random depth and widths, non-zero biases) and
random data, under `jax.jit` as the public tests run it, compared with the reference at the tests'
tolerances. `log_softmax` and `cross_entropy` also get logits in the thousands (the loss's gradient
too); `sgd_update` also gets a pytree that is not an MLP. `make_train_step` is driven with this
module's own loss (a hidden multiple of the mean squared error) over two steps with new batches and
learning rates. `fit` runs the tests' kind of training on a hidden wave with that loss; its check asks
what the tests ask of a run (the layout, float32 losses starting at the given params' loss and falling,
a close fit of the wave), so any way of training that the tests accept passes. Like the tests' runs,
the run stops if fit traces the loss a third time. Where an exercise builds on earlier ones
(cross_entropy on log_softmax, the train step on forward and sgd_update, fit on those and
make_train_step, predict_one on forward, predict on predict_one), it runs with the docstrings' versions of
the earlier ones in place of the student's, as in the public tests: a mistake in an earlier exercise is
charged to that exercise alone.
"""
import jax
import jax.numpy as jnp
import numpy as np

import grader.probes as probes_mod
from grader.learner.shared.lesson06 import on_documented as _on_documented
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


def _log_softmax_inputs(rng):
    logits = _logits(rng)
    return {"logits": logits, "stack": _normal(rng, int(rng.integers(2, 4)), *logits.shape, scale=3.0)}


@PROBES("log_softmax", make=_log_softmax_inputs, rtol=1e-5, atol=1e-5,
        guards=("test_log_softmax", "test_log_softmax_is_written_by_hand"))
def log_softmax(ex, logits, stack):
    """A batch, one row, and logits with two axes before the classes."""
    return jax.jit(lambda z, s: (ex.log_softmax(z), ex.log_softmax(z[0]), ex.log_softmax(s)))(logits, stack)


@PROBES("log_softmax", make=lambda rng: {"logits": _huge_logits(rng)}, rtol=1e-5, atol=1e-3,
        guards=("test_log_softmax_large_logits",))
def log_softmax_huge_logits(ex, logits):
    return jax.jit(ex.log_softmax)(logits)


def _labelled(logits, rng):
    return {"logits": logits, "labels": rng.integers(0, logits.shape[1], size=len(logits)).astype(np.int32)}


@PROBES("cross_entropy", make=lambda rng: _labelled(_logits(rng, scale=2.0), rng), rtol=1e-5, atol=1e-6,
        guards=("test_cross_entropy",))
def cross_entropy(ex, logits, labels):
    with _on_documented(ex, "cross_entropy"):
        return jax.jit(ex.cross_entropy)(logits, labels)


@PROBES("cross_entropy", make=lambda rng: _labelled(_huge_logits(rng), rng), rtol=1e-5, atol=1e-5,
        guards=("test_cross_entropy_large_logits",))
def cross_entropy_huge_logits(ex, logits, labels):
    with _on_documented(ex, "cross_entropy"):
        return jax.jit(jax.value_and_grad(ex.cross_entropy))(logits, labels)


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


@PROBES("make_train_step", make=_step_inputs, rtol=1e-4, atol=1e-6)
def make_train_step(ex, params, batches, lrs, scale):
    """Two steps with new batches and learning rates, each from the params the last one returned."""
    out = []
    with _on_documented(ex, "make_train_step"):
        step = ex.make_train_step(_scaled_sq(scale))
        for (x, y), lr in zip(batches, lrs):
            params, loss = step(params, (x, y), lr)
            out.append({"loss": loss, "params": params})
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
    with _on_documented(ex, "fit"):
        return ex.fit(params, x, y, steps, lr, _at_most_twice(_scaled_sq(scale)))


# -- prediction ---------------------------------------------------------------------------------

def _image_inputs(rng):
    h, w = (int(v) for v in rng.integers(2, 6, size=2))
    c = int(rng.integers(2, 4))
    return {"params": _mlp(rng, _sizes(rng, n_in=h * w)), "images": _normal(rng, int(rng.integers(3, 8)), h, w),
            "cube_params": _mlp(rng, _sizes(rng, n_in=h * w * c)), "cube": _normal(rng, c, h, w)}


@PROBES("predict_one", make=_image_inputs, **CLOSE)
def predict_one(ex, params, images, cube_params, cube):
    """One image, and one example with three axes (an example of any shape)."""
    with _on_documented(ex, "predict_one"):
        one = jax.jit(ex.predict_one)
        return one(params, images[0]), one(cube_params, cube)


@PROBES("predict", make=_image_inputs, guards=("test_predict",), **CLOSE)
def predict(ex, params, images, cube_params, cube):
    with _on_documented(ex, "predict"):
        return jax.jit(ex.predict)(params, images)


# -- fit, a few steps on small data sets ------------------------------------------------------------

def _short_fit_inputs(rng):
    """Two small data sets of the same shapes with their own learning rates, then the first again with
    another number of steps: fit must train on what each call gives it (no data, learning rate or program
    kept from an earlier call)."""
    sizes = _sizes(rng)
    n = int(rng.integers(4, 9))
    steps = int(rng.integers(2, 5))
    data = [(_normal(rng, n, sizes[0]), _normal(rng, n, sizes[-1]), float(rng.uniform(0.01, 0.2)), steps)
            for _ in range(2)]
    first = data[0]
    return {"params": _mlp(rng, sizes), "scale": float(rng.uniform(0.3, 3.0)),
            "data": data + [(first[0], first[1], first[2], steps + int(rng.integers(1, 3)))]}


@PROBES("fit", make=_short_fit_inputs, rtol=1e-4, atol=1e-5, guards=("test_fit_follows_sgd",))
def fit_follows_sgd(ex, params, scale, data):
    loss_fn = _scaled_sq(scale)
    with _on_documented(ex, "fit"):
        return [ex.fit(params, x, y, steps, lr, loss_fn) for x, y, lr, steps in data]

"""Lesson 08 probes: every loss and metric on fresh random inputs of random shapes, under `jax.jit` as the
public tests run them, compared with the reference at the tests' tolerances. The stable losses also get
logits in the hundreds and thousands, with their gradients; `macro_scores` gets confusion matrices where
every class is predicted and present, and others with empty classes and a class never right. The
hand-made optimizers run a few jitted steps on a pytree that is not an MLP with hidden hyperparameters
and gradients (their first step with the defaults, as the first-step tests do). `make_optimizer` runs with hidden settings: its schedule
on gradients the clipping never touches, and its clipping as the public test judges it, by feeding the
same optimizer the gradients already clipped (a different schedule is the schedule test's mistake).
`make_train_step` takes one step with AdamW (hidden weight decay) on the probe's own loss; `fit` runs the
probe's own step for a few steps, and a whole run like the public one on a hidden blobs-and-ring (hidden
centres, spreads, radius, turn, width, steps and schedule): the grader computes the accuracy on hidden test
points from the params that come back, and the first loss from the params given. The concept checks
(written by hand, one scatter-add, one trace) have no hidden-input form: the public tests are their judges.
"""
import jax
import jax.numpy as jnp
import numpy as np
import optax

from grader.probes import Probes, compare, concerns, merge_findings, mlp_forward

PROBES = Probes("08")


def _normal(rng, *shape, scale=1.0):
    return (scale * rng.normal(size=shape)).astype(np.float32)


def _shape(rng):
    return (int(rng.integers(2, 7)), int(rng.integers(2, 6)))  # two columns at least: a per-row sum is not the mean


# -- regression losses ----------------------------------------------------------------------------

def _pair(rng):
    shape = _shape(rng)
    return {"pred": _normal(rng, *shape, scale=2.0), "target": _normal(rng, *shape)}


@PROBES("mse", make=_pair)
def mse(ex, pred, target):
    return jax.jit(ex.mse)(pred, target)


@PROBES("mae", make=_pair)
def mae(ex, pred, target):
    return jax.jit(ex.mae)(pred, target)


def _huber_inputs(rng):
    """Errors from 0 to three deltas: both pieces of the loss are used."""
    shape, delta = _shape(rng), float(rng.uniform(0.3, 2.5))
    target = _normal(rng, *shape)
    errors = rng.uniform(-3.0, 3.0, size=shape) * delta
    errors.flat[0], errors.flat[-1] = 0.5 * delta, -2.5 * delta
    return {"pred": (target + errors).astype(np.float32), "target": target, "delta": delta}


@PROBES("huber", make=_huber_inputs, guards=("test_huber",))
def huber(ex, pred, target, delta):
    return jax.jit(lambda p, t: ex.huber(p, t, delta=delta))(pred, target)


# -- classification losses ------------------------------------------------------------------------

def _bce_inputs(rng):
    shape = _shape(rng)
    labels = rng.uniform(0, 1, size=shape)
    hard = rng.random(shape) < 0.5
    labels[hard] = np.round(labels[hard])
    return {"logits": _normal(rng, *shape, scale=2.0), "labels": labels.astype(np.float32)}


@PROBES("binary_cross_entropy", make=_bce_inputs, guards=("test_binary_cross_entropy",))
def binary_cross_entropy(ex, logits, labels):
    return jax.jit(ex.binary_cross_entropy)(logits, labels)


def _bce_huge_inputs(rng):
    """Logits in the hundreds and thousands, of both signs (one huge positive one labelled 0 and one huge
    negative one labelled 1 at least: the losses about |z|), and some moderate ones."""
    n = int(rng.integers(6, 12))
    magnitude = rng.uniform(100, 2000, size=n) * rng.choice([-1, 1], size=n)
    magnitude[: n // 3] = rng.uniform(0.5, 5, size=n // 3) * rng.choice([-1, 1], size=n // 3)  # some moderate ones
    labels = rng.integers(0, 2, size=n)
    magnitude[n // 3], labels[n // 3] = abs(magnitude[n // 3]), 0
    magnitude[n // 3 + 1], labels[n // 3 + 1] = -abs(magnitude[n // 3 + 1]), 1
    order = rng.permutation(n)
    return {"logits": magnitude[order].astype(np.float32), "labels": labels[order].astype(np.float32)}


@PROBES("binary_cross_entropy", make=_bce_huge_inputs, rtol=1e-4, atol=1e-6,
        guards=("test_binary_cross_entropy_large_logits",))
def binary_cross_entropy_huge_logits(ex, logits, labels):
    return jax.jit(jax.value_and_grad(ex.binary_cross_entropy))(logits, labels)


def _labelled(rng, scale):
    batch, classes = int(rng.integers(3, 8)), int(rng.integers(2, 7))
    logits = _normal(rng, batch, classes, scale=scale)
    return {"logits": logits, "labels": rng.integers(0, classes, size=batch).astype(np.int32)}


def _huge_labelled(rng):
    inputs = _labelled(rng, 300.0)
    offsets = rng.choice([-1, 1], size=(len(inputs["logits"]), 1)) * rng.uniform(800, 2000, size=(len(inputs["logits"]), 1))
    inputs["logits"] = (inputs["logits"] + offsets).astype(np.float32)
    return inputs


@PROBES("softmax_cross_entropy", make=lambda rng: _labelled(rng, 2.0), guards=("test_softmax_cross_entropy",))
def softmax_cross_entropy(ex, logits, labels):
    return jax.jit(ex.softmax_cross_entropy)(logits, labels)


@PROBES("softmax_cross_entropy", make=_huge_labelled, rtol=1e-5, atol=1e-5,
        guards=("test_softmax_cross_entropy_large_logits",))
def softmax_cross_entropy_huge_logits(ex, logits, labels):
    return jax.jit(jax.value_and_grad(ex.softmax_cross_entropy))(logits, labels)


# -- metrics --------------------------------------------------------------------------------------

def _accuracy_inputs(rng):
    inputs = _labelled(rng, 2.0)
    right = rng.random(len(inputs["labels"])) < 0.5
    inputs["labels"][right] = np.argmax(inputs["logits"][right], axis=-1)
    return inputs


@PROBES("accuracy", make=_accuracy_inputs)
def accuracy(ex, logits, labels):
    return jax.jit(ex.accuracy)(logits, labels)


def _confusion_inputs(rng):
    n = int(rng.integers(3, 7))
    batch = int(rng.integers(10, 40))
    labels = rng.integers(0, n, size=batch)
    predictions = np.where(rng.random(batch) < 0.6, labels, rng.integers(0, n, size=batch))
    return {"labels": labels.astype(np.int32), "predictions": predictions.astype(np.int32), "num_classes": n}


@PROBES("confusion_matrix", make=_confusion_inputs, guards=("test_confusion_matrix",))
def confusion_matrix(ex, labels, predictions, num_classes):
    return jax.jit(ex.confusion_matrix, static_argnums=2)(labels, predictions, num_classes)


def _full_confusion(rng):
    """Every class predicted at least once and present at least once: no score divides by zero."""
    n = int(rng.integers(3, 7))
    return {"confusion": (rng.integers(0, 6, size=(n, n)) + np.eye(n, dtype=np.int64)).astype(np.int32)}


def _sparse_confusion(rng):
    """Some classes never predicted (a zero column), some never present (a zero row), one neither, and one
    predicted and present but never right (precision and recall 0 with nonzero denominators: F1's
    precision + recall = 0 case)."""
    n = int(rng.integers(4, 7))
    confusion = rng.integers(0, 6, size=(n, n)) + np.eye(n, dtype=np.int64)
    confusion[:, 0] = 0
    confusion[1, :] = 0
    confusion[2, :] = 0
    confusion[:, 2] = 0
    confusion[3, 3] = 0
    confusion[3, 1] = max(confusion[3, 1], 1)
    confusion[0, 3] = max(confusion[0, 3], 1)
    return {"confusion": confusion.astype(np.int32)}


@PROBES("macro_scores", make=_full_confusion, guards=("test_macro_scores",))
def macro_scores(ex, confusion):
    return tuple(jax.jit(ex.macro_scores)(confusion))


@PROBES("macro_scores", make=_sparse_confusion, guards=("test_macro_scores_zero_division",))
def macro_scores_empty_classes(ex, confusion):
    return tuple(jax.jit(ex.macro_scores)(confusion))


# -- optimizers by hand ---------------------------------------------------------------------------

def _tree(rng):
    a, b = int(rng.integers(1, 5)), int(rng.integers(1, 5))
    return {"pair": (_normal(rng, a, b), _normal(rng, b)), "inner": {"v": _normal(rng, a)},
            "scale": np.float32(rng.normal())}


def _grads_for(rng, tree, count):
    return [jax.tree.map(lambda leaf: _normal(rng, *np.shape(leaf), scale=float(10 ** rng.uniform(-2, 0.5))), tree)
            for _ in range(count)]


def _run_pair(pair, params, grads):
    init, update = pair
    state, out = init(params), []
    update = jax.jit(update)
    for g in grads:
        updates, state = update(g, state, params)
        out.append(updates)
    return out


def _momentum_inputs(rng, steps):
    tree = _tree(rng)
    return {"params": tree, "grads": _grads_for(rng, tree, steps), "lr": float(rng.uniform(0.01, 0.3)),
            "momentum": float(rng.uniform(0.5, 0.95))}


@PROBES("sgd_momentum", make=lambda rng: _momentum_inputs(rng, 1), rtol=1e-5, atol=1e-7,
        guards=("test_sgd_momentum_first_step",))
def sgd_momentum_first_step(ex, params, grads, lr, momentum):
    return _run_pair(ex.sgd_momentum(lr, momentum), params, grads)


@PROBES("sgd_momentum", make=lambda rng: _momentum_inputs(rng, int(rng.integers(3, 6))), rtol=1e-4, atol=1e-7,
        guards=("test_sgd_momentum_steps",))
def sgd_momentum_steps(ex, params, grads, lr, momentum):
    return _run_pair(ex.sgd_momentum(lr, momentum), params, grads)


def _adam_first_inputs(rng):
    tree = _tree(rng)
    return {"params": tree, "grads": _grads_for(rng, tree, 1), "lr": float(rng.uniform(0.001, 0.1))}


@PROBES("adam", make=_adam_first_inputs, rtol=1e-4, atol=1e-7, guards=("test_adam_first_step",))
def adam_first_step(ex, params, grads, lr):
    return _run_pair(ex.adam(lr), params, grads)


def _adam_inputs(rng):
    tree = _tree(rng)
    return {"params": tree, "grads": _grads_for(rng, tree, int(rng.integers(4, 8))),
            "lr": float(rng.uniform(0.001, 0.1)), "b1": float(rng.uniform(0.7, 0.95)),
            "b2": float(rng.uniform(0.9, 0.99)), "eps": float(10 ** rng.uniform(-3.5, -2.5))}


@PROBES("adam", make=_adam_inputs, rtol=1e-4, atol=1e-7, guards=("test_adam_steps",))
def adam_steps(ex, params, grads, lr, b1, b2, eps):
    return _run_pair(ex.adam(lr, b1=b1, b2=b2, eps=eps), params, grads)


def _adam_count_inputs(rng):
    tree = _tree(rng)
    return {"params": tree, "grads": _grads_for(rng, tree, int(rng.integers(3, 6))),
            "lr": float(rng.uniform(0.001, 0.1))}


def _step_counters(states):
    """The positions of the one-element leaves that go up by exactly 1 from each state to the next."""
    if not states or len({len(s) for s in states}) != 1:
        return []
    found = []
    for i in range(len(states[0])):
        values = [np.asarray(s[i]) for s in states]
        if all(v.size == 1 and v.dtype.kind in "iuf" for v in values) and all(
                float(b.reshape(())) - float(a.reshape(())) == 1.0 for a, b in zip(values, values[1:])):
            found.append(i)
    return found


def _check_adam_count(got, want, inputs):
    """The state keeps the step count, as an integer, wherever and under whatever name it keeps it."""
    states = got.get("states") if isinstance(got, dict) else None
    if not isinstance(states, list) or not all(isinstance(s, list) for s in states):
        return "no states came back"
    counters = _step_counters(states)
    shown = states if counters else states[1:]
    counters = counters or _step_counters(states[1:])
    if not counters:
        return None  # no count in the state: the updates (adam_steps) show what that costs
    kinds = sorted({str(np.asarray(s[counters[0]]).dtype) for s in shown
                    if np.asarray(s[counters[0]]).dtype.kind not in "iu"})
    return f"the step count in the state is {' and '.join(kinds)}, not an integer" if kinds else None


@PROBES("adam", make=_adam_count_inputs, check=_check_adam_count,
        guards=("test_adam_counts_steps_with_an_integer",))
def adam_count(ex, params, grads, lr):
    init, update = ex.adam(lr)
    states = [init(params)]
    update = jax.jit(update)
    for g in grads:
        states.append(update(g, states[-1], params)[1])
    return {"states": [list(jax.tree.leaves(s)) for s in states]}


# -- Optax ----------------------------------------------------------------------------------------

def _optax_run(tx, params, grads):
    state, out = tx.init(params), []
    update = jax.jit(tx.update)
    for g in grads:
        updates, state = update(g, state, params)
        out.append(updates)
    return out


def _schedule_inputs(rng):
    tree = _tree(rng)
    warmup = int(rng.integers(2, 5))
    total = warmup + int(rng.integers(4, 8))
    grads = _grads_for(rng, tree, total)
    return {"params": tree, "grads": grads, "peak_lr": float(rng.uniform(0.01, 0.3)), "warmup_steps": warmup,
            "total_steps": total, "max_norm": 1000.0}


@PROBES("make_optimizer", make=_schedule_inputs, rtol=1e-4, atol=1e-7, guards=("test_make_optimizer_schedule",))
def make_optimizer_schedule(ex, params, grads, peak_lr, warmup_steps, total_steps, max_norm):
    return _optax_run(ex.make_optimizer(peak_lr, warmup_steps, total_steps, max_norm), params, grads)


def _clip(grads, max_norm):
    norm = np.sqrt(sum(np.sum(np.asarray(leaf, np.float64) ** 2) for leaf in jax.tree.leaves(grads)))
    factor = min(1.0, max_norm / norm)
    return jax.tree.map(lambda leaf: (np.asarray(leaf, np.float64) * factor).astype(np.float32), grads)


def _clip_inputs(rng):
    tree = _tree(rng)
    warmup = int(rng.integers(1, 4))
    total = warmup + int(rng.integers(4, 7))
    max_norm = float(rng.uniform(0.5, 2.0))
    scales = [max_norm * float(10 ** rng.uniform(-1.5, 2)) for _ in range(total)]
    grads = []
    for s in scales:
        g = jax.tree.map(lambda leaf: _normal(rng, *np.shape(leaf)), tree)
        norm = np.sqrt(sum(np.sum(np.asarray(leaf, np.float64) ** 2) for leaf in jax.tree.leaves(g)))
        grads.append(jax.tree.map(lambda leaf: (leaf * (s / max(norm, 1e-12))).astype(np.float32), g))
    return {"params": tree, "grads": grads, "clipped": [_clip(g, max_norm) for g in grads],
            "peak_lr": float(rng.uniform(0.01, 0.3)), "warmup_steps": warmup, "total_steps": total,
            "max_norm": max_norm}


def _check_clipping(got, want, inputs):
    """Right like the reference's, or (as the public test judges it) the same optimizer gives the same
    updates for raw gradients as for gradients already clipped to the global norm."""
    if compare(got["raw"], want["raw"], rtol=1e-4, atol=1e-7) is None:
        return None
    reason = compare(got["raw"], got["clipped"], rtol=1e-4, atol=1e-7)
    return None if reason is None else (
        "gradients above max_norm did not act like the same gradients clipped to the global norm: " + reason)


@PROBES("make_optimizer", make=_clip_inputs, check=_check_clipping,
        guards=("test_make_optimizer_clips_the_global_norm",))
def make_optimizer_clipping(ex, params, grads, clipped, peak_lr, warmup_steps, total_steps, max_norm):
    raw = _optax_run(ex.make_optimizer(peak_lr, warmup_steps, total_steps, max_norm), params, grads)
    fed = _optax_run(ex.make_optimizer(peak_lr, warmup_steps, total_steps, max_norm), params, clipped)
    return {"raw": raw, "clipped": fed}


# -- training -------------------------------------------------------------------------------------

def _mlp(rng, sizes):
    return [{"w": _normal(rng, m, n, scale=np.sqrt(2.0 / m)), "b": _normal(rng, n, scale=0.1)}
            for m, n in zip(sizes[:-1], sizes[1:])]


def _forward(params, x):
    *hidden, last = params
    for layer in hidden:
        x = jax.nn.relu(x @ layer["w"] + layer["b"])
    return x @ last["w"] + last["b"]


def _loss(scale):
    """The probes' loss: a hidden multiple of the softmax cross-entropy."""
    def loss_fn(logits, labels):
        return scale * optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()
    return loss_fn


def _train_inputs(rng):
    classes, width, n = int(rng.integers(2, 5)), int(rng.integers(3, 7)), int(rng.integers(6, 14))
    return {"params": _mlp(rng, (2, width, classes)), "x": _normal(rng, n, 2),
            "y": rng.integers(0, classes, size=n).astype(np.int32), "lr": float(rng.uniform(0.01, 0.1)),
            "weight_decay": float(rng.uniform(0.1, 1.0)), "scale": float(rng.uniform(0.5, 2.0))}


@PROBES("make_train_step", make=_train_inputs, rtol=1e-4, atol=1e-6, guards=("test_train_step",))
def make_train_step(ex, params, x, y, lr, weight_decay, scale):
    tx = optax.adamw(lr, weight_decay=weight_decay)
    new_params, state, loss = ex.make_train_step(tx, _loss(scale))(params, tx.init(params), x, y)
    return {"params": new_params, "opt_state": jax.tree.leaves(state), "loss": loss}


def _fit_inputs(rng):
    inputs = _train_inputs(rng)
    inputs["steps"] = int(rng.integers(2, 6))
    return inputs


def _probe_step(tx, loss_fn):
    """The probe's own jitted training step, as the tests hand one to fit: fit is judged on its own."""
    def step(params, opt_state, x, y):
        loss, grads = jax.value_and_grad(lambda p: loss_fn(_forward(p, x), y))(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss
    return jax.jit(step)


@PROBES("fit", make=_fit_inputs, rtol=1e-4, atol=1e-6, guards=("test_fit_follows_the_step",))
def fit(ex, params, x, y, lr, weight_decay, scale, steps):
    tx = optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(lr, weight_decay=weight_decay))
    out = ex.fit(_probe_step(tx, _loss(scale)), params, tx.init(params), x, y, steps)
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        return {"params": None, "opt_state": None, "losses": None}
    return {"params": out[0], "opt_state": jax.tree.leaves(out[1]), "losses": out[2]}


# -- fit, a whole run on a hidden blobs-and-ring --------------------------------------------------

TOY_MIN_ACCURACY = 0.99  # the public run's bound
TOY_PER_CLASS = 100  # points of each class, in the training set and again in the test set
BLOBS_RING = "test_fit_blobs_ring"
TOY_LOSSES = "test_fit_returns_the_losses"


def _blobs_ring(rng, n):
    """(x, y) for `n` points of each class, in random order: two Gaussian blobs side by side (classes 0 and
    1) inside a noisy ring (class 2), as the public data set, with hidden centres, spreads and radius, turned
    by a hidden angle."""
    c, spread = rng.uniform(1.1, 1.3), rng.uniform(0.3, 0.35)
    blobs = [rng.normal((side * c, 0.0), spread, size=(n, 2)) for side in (-1, 1)]
    angle, radius = rng.uniform(0, 2 * np.pi, n), rng.normal(rng.uniform(3.0, 3.4), rng.uniform(0.2, 0.25), n)
    ring = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    turn = rng.uniform(0, 2 * np.pi)
    rotation = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    x = np.concatenate(blobs + [ring]) @ rotation.T
    order = rng.permutation(3 * n)
    return x[order].astype(np.float32), np.repeat(np.arange(3), n)[order].astype(np.int32)


def _toy_inputs(rng):
    """The public run's kind on hidden data: a 2 -> w -> w -> 3 network of hidden width (He init, zero
    biases), clipping then Adam on a warm-up cosine schedule, with hidden steps, warm-up and peak."""
    width = int(rng.integers(24, 41))
    sizes = (2, width, width, 3)
    params = [{"w": _normal(rng, m, n, scale=np.sqrt(2.0 / m)), "b": np.zeros(n, np.float32)}
              for m, n in zip(sizes[:-1], sizes[1:])]
    x, y = _blobs_ring(rng, 2 * TOY_PER_CLASS)
    train, test = slice(0, 3 * TOY_PER_CLASS), slice(3 * TOY_PER_CLASS, None)
    return {"params": params, "x": x[train], "y": y[train], "x_test": x[test], "y_test": y[test],
            "steps": int(rng.integers(130, 171)), "warmup": int(rng.integers(10, 21)),
            "peak_lr": float(rng.uniform(0.04, 0.06))}


def _np_cross_entropy(logits, labels):
    z = logits - logits.max(axis=-1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return float(-np.mean(log_p[np.arange(len(labels)), labels]))


def _same_layout(params, like) -> bool:
    return (isinstance(params, (list, tuple)) and len(params) == len(like)
            and all(isinstance(p, dict) and set(p) == set(q) and all(np.shape(p[k]) == np.shape(q[k]) for k in q)
                    for p, q in zip(params, like)))


def _accuracy_of(params, inputs) -> float:
    predicted = np.argmax(mlp_forward(params, inputs["x_test"]), axis=-1)
    return float(np.mean(predicted == inputs["y_test"]))


def _check_toy_losses(losses, inputs):
    """The public test's demands of the losses: float32 of shape (steps,), the first the loss of the params
    given (computed here), and a fall of more than tenfold."""
    losses = np.asarray(losses)
    steps = inputs["steps"]
    if losses.shape != (steps,) or losses.dtype != np.float32:
        return concerns(f"after fit(..., steps={steps}) the losses are {losses.dtype} of shape {losses.shape}, not "
                        f"float32 of shape ({steps},): one loss per step", TOY_LOSSES)
    if not np.all(np.isfinite(losses)):
        return concerns("the losses hold NaN or infinity", TOY_LOSSES)
    first = _np_cross_entropy(mlp_forward(inputs["params"], inputs["x"]), inputs["y"])
    if not np.isclose(losses[0], first, rtol=1e-4, atol=1e-6):
        return concerns("losses[0] is not the loss of the params given, before the first update", TOY_LOSSES)
    if not losses[-1] < 0.1 * losses[0]:
        return concerns(f"over {steps} steps the loss fell from {losses[0]:.4g} to {losses[-1]:.4g}, not tenfold",
                        TOY_LOSSES)
    return None


def _check_toy_params(params, want_params, inputs):
    """Accuracy on the hidden test points, computed here from the returned params: at least the public
    bound, or the reference's own (less one point) where the hidden data keeps the reference under it."""
    if not _same_layout(params, inputs["params"]):
        return concerns("the returned params are not shaped like the params given", BLOBS_RING)
    accuracy = _accuracy_of(params, inputs)
    needed = min(TOY_MIN_ACCURACY, _accuracy_of(want_params, inputs) - 1.0 / len(inputs["y_test"]))
    if accuracy >= needed:
        return None
    return concerns(f"after fit(..., steps={inputs['steps']}) with the grader's own step on a hidden blobs-and-ring, "
                    f"the returned params classify {accuracy:.1%} of new points right, not at least {needed:.1%}: "
                    "each step must start from the params and opt_state the last one returned, for all the steps "
                    "asked", BLOBS_RING)


def _check_toy(got, want, inputs):
    if not isinstance(got, dict) or got.get("params") is None:
        return "fit should return a triple (params, opt_state, losses)"
    found = [_check_toy_params(got["params"], want["params"], inputs), _check_toy_losses(got["losses"], inputs)]
    return merge_findings([f for f in found if f])


@PROBES("fit", make=_toy_inputs, check=_check_toy, guards=(BLOBS_RING, TOY_LOSSES))
def fit_blobs_ring(ex, params, x, y, x_test, y_test, steps, warmup, peak_lr):
    schedule = optax.warmup_cosine_decay_schedule(0.0, peak_lr, warmup, steps, 0.0)
    tx = optax.chain(optax.clip_by_global_norm(1.0), optax.adam(schedule))
    out = ex.fit(_probe_step(tx, _loss(1.0)), params, tx.init(params), x, y, steps)
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        return {"params": None, "losses": None}
    return {"params": out[0], "losses": out[2]}

"""Tests for lesson 08: losses, metrics and optimizers.

Expected values come from Optax (the losses, the optimizers), from small NumPy versions written here
in float64 (the metrics, SGD and Adam), and from the kit's own training step. Every function is called
under jax.jit, as training calls it. The training run on the blobs-and-ring data happens once per test
session and two tests read its result.
"""
import inspect
import sys
import types

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from grader.learner import expect, jaxprs
from grader.learner.datasets import blobs_ring
from grader.learner.numbers import number_kind

TOY_SIZES = (2, 32, 32, 3)
TOY_SEED = 0  # of the initial weights
TOY_STEPS = 150
TOY_PEAK_LR, TOY_WARMUP, TOY_MAX_NORM = 0.05, 15, 1.0
TOY_MIN_ACCURACY = 0.99
TOY_CALL = (f"fit(step, params, opt_state, x_train, y_train, steps={TOY_STEPS}) on the blobs and the ring, with "
            f"the tests' own step: clip at global norm {TOY_MAX_NORM}, then Adam with a warm-up to {TOY_PEAK_LR} "
            f"over {TOY_WARMUP} steps and a cosine decay")


# ---------------------------------------------------------------- helpers

def _floats(seed, shape, scale=1.0):
    return (scale * np.random.default_rng(seed).standard_normal(shape)).astype(np.float32)


def _matches(got, want, rtol=1e-5, atol=1e-6) -> bool:
    return expect.matches(got, want, rtol, atol)


_or_none, _raised = expect.or_none, expect.raised


def _softplus64(z):
    z = np.asarray(z, np.float64)
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def _np_log_softmax(logits):
    z = np.asarray(logits, np.float64)
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _code_objects(code):
    """A code object and every code object defined inside it (its inner functions and lambdas)."""
    found = [code]
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            found.extend(_code_objects(const))
    return found


def _optax_used(ex, name, optax_names, *args, run=None):
    """The Optax functions among `optax_names` that ex.<name> runs: traced with `args`, or called through
    `run(fn)`. What counts is a call, however it is reached (`optax.x`, `optax.losses.x`, an alias imported
    with `from optax import x as y`, a helper of the module, a transformation built beforehand whose inner
    update runs): a profiler watches for the code of those functions, and of the functions they define, while
    the learner's function runs. Importing one without calling it is fine."""
    modules = [m for m in (optax, getattr(optax, "losses", None)) if m is not None]
    owners = {}
    for n in optax_names:
        for m in modules:
            code = getattr(inspect.unwrap(getattr(m, n)), "__code__", None) if hasattr(m, n) else None
            for inner in _code_objects(code) if code is not None else ():
                owners.setdefault(inner, f"optax.{n}")
    used = set()
    previous = sys.getprofile()

    def watch(frame, event, arg):
        if event == "call":
            label = owners.get(frame.f_code)
            if label is not None:
                used.add(label)
        if previous is not None:
            previous(frame, event, arg)

    sys.setprofile(watch)
    try:
        if run is None:
            jax.make_jaxpr(getattr(ex, name))(*args)
        else:
            run(getattr(ex, name))
    finally:
        sys.setprofile(previous)
    return sorted(used)


def _by_hand(ex, name, optax_names, call, *args):
    __tracebackhide__ = True
    try:
        used = _optax_used(ex, name, optax_names, *args)
    except Exception as err:
        raise expect.failure(call, "a loss written with jax.numpy", _raised(err),
                             "it must run on inputs of any shape, under jax.jit.") from None
    expect.that(not used, call=call, expected="a loss written with jax.numpy",
                returned=f"one that uses {', '.join(used)}",
                hint="the tests compare your loss with Optax's, so Optax's own loss can't be the answer: write "
                     "the formula with jnp (jax.nn's building blocks are fine).")


# ---------------------------------------------------------------- regression losses

@pytest.mark.exercise("mse", points=1)
def test_mse(ex):
    pred, target = _floats(1, (4, 3)), _floats(2, (4, 3))
    want = np.float32(optax.squared_error(pred, target).mean())
    call = expect.call("mse", pred, target)
    got = jax.jit(ex.mse)(pred, target)
    expect.shape(got, (), call=call, hint="one number for all the elements: reduce over every axis.")
    squares = (pred.astype(np.float64) - target) ** 2
    if _matches(got, squares.sum()):
        hint = "this is the SUM of the squared errors; the loss is their mean, which does not grow with the batch."
    elif _matches(got, squares.sum(axis=-1).mean()) or _matches(got, squares.sum(axis=0).mean()):
        summed, averaged = ("each row", "rows") if _matches(got, squares.sum(axis=-1).mean()) else ("each column", "columns")
        hint = (f"this sums the squared errors of {summed}, then takes the mean over the {averaged}: "
                f"{squares.size // squares.shape[0 if averaged == 'rows' else 1]} times the loss here. The loss is the "
                "mean over EVERY element: the total divided by the number of elements.")
    else:
        hint = "the mean over every element of (pred - target) ** 2."
    expect.close(got, want, call=call, rtol=1e-5, hint=hint)


@pytest.mark.exercise("mae", points=1)
def test_mae(ex):
    pred, target = _floats(3, (5, 2)), _floats(4, (5, 2))
    diff = pred.astype(np.float64) - target
    call = expect.call("mae", pred, target)
    got = jax.jit(ex.mae)(pred, target)
    expect.shape(got, (), call=call, hint="one number for all the elements: reduce over every axis.")
    if _matches(got, diff.mean()):
        hint = ("this is the mean of the signed errors, where positive and negative ones cancel: take the "
                "absolute value of each error first.")
    elif _matches(got, np.abs(diff).sum()):
        hint = "this is the SUM of the absolute errors; the loss is their mean."
    elif _matches(got, (diff ** 2).mean()):
        hint = "this is the mean SQUARED error; the mean ABSOLUTE error takes |pred - target|."
    else:
        hint = "the mean over every element of |pred - target|."
    expect.close(got, np.float32(np.abs(diff).mean()), call=call, rtol=1e-5, hint=hint)


HUBER_ERRORS = np.array([[-3.0, -1.2, -0.6, -0.1], [0.0, 0.3, 0.9, 2.5]], np.float32)


def _np_huber(errors, delta, mistake=None):
    e = np.abs(np.asarray(errors, np.float64))
    if mistake == "no_half":
        small, large = e ** 2, delta * (e - 0.5 * delta)
    elif mistake == "no_offset":
        small, large = 0.5 * e ** 2, delta * e
    elif mistake == "delta_squared":
        small, large = 0.5 * e ** 2, delta * (e - 0.5 * delta) * delta
    else:
        small, large = 0.5 * e ** 2, delta * (e - 0.5 * delta)
    if mistake == "delta_one":
        return _np_huber(errors, 1.0)
    return np.mean(np.where(e <= delta, small, large))


HUBER_MISTAKES = {
    "no_half": "the quadratic part is e ** 2, without its 0.5: near 0 the Huber loss is 0.5 * e ** 2.",
    "no_offset": "the linear part is delta * |e|, which jumps at |e| = delta: it is delta * (|e| - 0.5 * delta), "
                 "so the two pieces meet.",
    "delta_one": "these are the losses for delta = 1 whatever delta was passed: use the delta argument.",
}


@pytest.mark.exercise("huber", points=2)
def test_huber(ex):
    target = _floats(5, HUBER_ERRORS.shape)
    pred = target + HUBER_ERRORS
    for delta in (None, 0.5, 2.0):
        kwargs = {} if delta is None else {"delta": delta}
        d = 1.0 if delta is None else delta
        call = expect.call("huber", pred, target, **kwargs)
        try:
            got = jax.jit(lambda p, t: ex.huber(p, t, **kwargs))(pred, target)
        except TypeError as err:
            found = _or_none(lambda: inspect.signature(ex.huber).parameters.get("delta", "missing"))
            if found == "missing":
                hint = ("huber(pred, target, delta=1.0): the third parameter is named delta, and it may be passed "
                        "by name.")
            elif found is not None and found.default is inspect.Parameter.empty:
                hint = "huber(pred, target, delta=1.0): delta has a default of 1.0, so a call may leave it out."
            else:
                hint = "huber(pred, target, delta=1.0) must run under jax.jit, with delta a Python float."
            raise expect.failure(call, "a float32 scalar", _raised(err), hint) from None
        want = np.float32(optax.huber_loss(pred, target, delta=d).mean())
        expect.shape(got, (), call=call, hint="average the per-element losses into one number.")
        hint = next((text for mistake, text in HUBER_MISTAKES.items()
                     if _matches(got, _np_huber(HUBER_ERRORS, d, mistake), 1e-5, 1e-6)),
                    "per element: 0.5 * e ** 2 where |e| <= delta, delta * (|e| - 0.5 * delta) beyond; then the mean.")
        expect.close(got, want, call=call, rtol=1e-5, hint=hint)


@pytest.mark.exercise("huber", points=1, concept=True)
def test_huber_is_written_by_hand(ex):
    x = np.zeros((3, 7), np.float32)
    _by_hand(ex, "huber", ("huber_loss",), "huber(pred, target) on inputs of shape (3, 7)", x, x)


# ---------------------------------------------------------------- binary cross-entropy

def _np_bce(logits, labels):
    z, y = np.asarray(logits, np.float64), np.asarray(labels, np.float64)
    return np.mean(_softplus64(z) - z * y)


@pytest.mark.exercise("binary_cross_entropy", points=2)
def test_binary_cross_entropy(ex):
    logits = _floats(6, (4, 3), scale=2.0)
    labels = np.array([[1, 0, 1], [0, 0, 1], [0.3, 1, 0.8], [1, 0.5, 0]], np.float32)  # soft labels too
    call = expect.call("binary_cross_entropy", logits, labels)
    got = jax.jit(ex.binary_cross_entropy)(logits, labels)
    expect.shape(got, (), call=call, hint="one number: the mean over every element.")
    want = np.float32(optax.sigmoid_binary_cross_entropy(logits, labels).mean())
    hard = labels.copy()
    hard[(labels > 0) & (labels < 1)] = 0.0
    hint = "per element -(y * log(sigmoid(z)) + (1 - y) * log(1 - sigmoid(z))), then the mean over every element."
    per_element = np.asarray(_softplus64(logits) - logits.astype(np.float64) * labels)
    if _matches(got, per_element.sum()):
        hint = "this is the SUM over the elements; the loss is their mean."
    elif _matches(got, per_element.mean(axis=-1).sum()) or _matches(got, per_element.sum(axis=-1).mean()):
        hint = "this averages over one axis only; the loss is the mean over every element."
    elif _matches(jax.jit(ex.binary_cross_entropy)(logits[:2], labels[:2]), _np_bce(logits[:2], labels[:2])):
        hint = ("right on the rows whose labels are all 0 or 1, wrong on the soft labels (0.3, 0.5, 0.8): the loss "
                "weighs log(p) by y and log(1 - p) by 1 - y, for any y in [0, 1], not a choice between them.")
    elif _matches(got, _np_bce(-logits, labels)):
        hint = "these are the losses of the opposite logits: sigmoid(z) is the probability of label 1."
    expect.close(got, want, call=call, rtol=1e-5, hint=hint)


def _np_bce_as(logits, labels, mistake):
    """Each element's loss in float32 as a common mistake computes it (inf and nan where it gives them):
    "log_sigmoid" (-(y log p + (1 - y) log(1 - p)) with p = sigmoid(z)) or "plain_softplus"
    (log(1 + exp(z)) - z y)."""
    z, y = np.asarray(logits, np.float32), np.asarray(labels, np.float32)
    one = np.float32(1.0)
    with np.errstate(all="ignore"):
        if mistake == "log_sigmoid":
            p = one / (one + np.exp(-z))
            return -(y * np.log(p) + (one - y) * np.log(one - p))
        return np.log(one + np.exp(z)) - z * y


def _selects_of_its_own(fn, *args):
    """True when the traced fn picks values with a select (jnp.where) of its own, outside the library
    functions that carry their own safe gradient rules (jax.nn.softplus and the like)."""
    def walk(jaxpr):
        for eqn in getattr(jaxpr, "jaxpr", jaxpr).eqns:
            if eqn.primitive.name.startswith("custom_"):
                continue
            if eqn.primitive.name == "select_n":
                return True
            for value in eqn.params.values():
                for sub in value if isinstance(value, (tuple, list)) else (value,):
                    inner = getattr(sub, "jaxpr", sub)
                    if hasattr(inner, "eqns") and walk(inner):
                        return True
        return False
    return bool(_or_none(lambda: walk(jax.make_jaxpr(fn)(*args))))


@pytest.mark.exercise("binary_cross_entropy", points=2)
def test_binary_cross_entropy_large_logits(ex):
    logits = np.array([-1000.0, -200.0, -40.0, -3.0, 0.5, 40.0, 200.0, 1000.0], np.float32)
    labels = np.array([1, 0, 1, 0, 1, 0, 1, 0], np.float32)
    call = expect.call("binary_cross_entropy", logits, labels)
    loss, grad = jax.jit(jax.value_and_grad(ex.binary_cross_entropy))(logits, labels)
    want = np.float32(_np_bce(logits, labels))
    sig = 0.5 * (1.0 + np.tanh(0.5 * logits.astype(np.float64)))  # sigmoid, with no overflow
    want_grad = ((sig - labels) / len(logits)).astype(np.float32)
    if not expect.all_finite(loss):
        per = _or_none(lambda: np.asarray(jax.jit(jax.vmap(lambda z, y: ex.binary_cross_entropy(z[None], y[None])))(
            logits, labels)))  # each element's loss on its own
        bad = [] if per is None else [f"{z:g}" for z, v in zip(logits, per) if not np.isfinite(v)]
        fix = "Rewrite it as max(z, 0) - z * y + log1p(exp(-|z|)), where no exp sees a large number."
        if per is not None and _matches(per, _np_bce_as(logits, labels, "log_sigmoid"), 1e-4, 1e-6):
            hint = (f"the loss came out {float(loss)}, from the elements with logits {', '.join(bad)}, just where "
                    "log(sigmoid(z)) and log(1 - sigmoid(z)) fail: sigmoid(200.) is exactly 1.0 in float32 and "
                    "sigmoid(-200.) is 0, so a log meets 0: log(0) = -inf, and 0 * log(0) is nan, and the loss "
                    "overflows. " + fix)
        elif per is not None and _matches(per, _np_bce_as(logits, labels, "plain_softplus"), 1e-4, 1e-6):
            hint = (f"the loss came out {float(loss)}, from the elements with logits {', '.join(bad)}, just where "
                    "log(1 + exp(z)) fails: exp(200.) overflows float32 to inf. " + fix)
        else:
            where = f", from the elements with logits {', '.join(bad)}" if bad else ""
            hint = f"the loss came out {float(loss)}{where}, where the right one, {want:g}, is finite. " + fix
    else:
        hint = "the loss of logit 1000 with label 0 is 1000, of -1000 with label 1 is 1000: about |z| when wrong."
    expect.close(loss, want, call=call, rtol=1e-5, hint=hint)
    if expect.all_finite(grad):
        grad_hint = "the gradient of the mean loss is (sigmoid(z) - y) / n."
    elif _selects_of_its_own(ex.binary_cross_entropy, logits, labels):
        grad_hint = ("the loss is finite but its gradient is not, and the loss picks between branches with jnp.where: "
                     "a branch that jnp.where did not pick still computed an overflow, and its nan reached the "
                     "gradient. Use a form with no overflow anywhere.")
    else:
        grad_hint = ("the loss is finite but its gradient holds nan or inf, where the right one, (sigmoid(z) - y) / n, "
                     "is finite for any logits: use a form with no overflow anywhere.")
    expect.close(grad, want_grad, call=f"jax.grad(binary_cross_entropy)({expect.show(logits)}, {expect.show(labels)})",
                 rtol=1e-4, atol=1e-7, hint=grad_hint)


@pytest.mark.exercise("binary_cross_entropy", points=1, concept=True)
def test_binary_cross_entropy_is_written_by_hand(ex):
    x = np.zeros((3, 7), np.float32)
    _by_hand(ex, "binary_cross_entropy", ("sigmoid_binary_cross_entropy",),
             "binary_cross_entropy(logits, labels) on inputs of shape (3, 7)", x, x)


# ---------------------------------------------------------------- softmax cross-entropy

def _np_sce(logits, labels):
    return -np.mean(_np_log_softmax(logits)[np.arange(len(labels)), np.asarray(labels)])


def _sce_hint(got, logits, labels):
    log_probs = _np_log_softmax(logits)
    picked = log_probs[np.arange(len(labels)), labels]
    if _matches(got, -picked.sum()):
        return "this is the SUM over the batch; the loss is the mean over the batch."
    if _matches(got, picked.mean()):
        return "the sign is flipped: the loss is MINUS the mean log-probability of the true class (it is >= 0)."
    if _matches(got, -log_probs[:, labels].mean()):
        return ("this averages a (batch, batch) grid: every row with every label. Pair row i with its own label "
                "labels[i] only.")
    if _matches(got, -log_probs.mean()):
        return "this averages the log-probabilities of every class; take only each row's true class."
    return "the mean over the batch of logsumexp(logits[i]) - logits[i, labels[i]]."


@pytest.mark.exercise("softmax_cross_entropy", points=2)
def test_softmax_cross_entropy(ex):
    logits = _floats(7, (4, 3), scale=2.0)
    labels = np.array([2, 0, 1, 1], np.int32)
    call = expect.call("softmax_cross_entropy", logits, labels)
    got = jax.jit(ex.softmax_cross_entropy)(logits, labels)
    expect.shape(got, (), call=call, hint="one number for the whole batch.")
    want = np.float32(optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean())
    expect.close(got, want, call=call, rtol=1e-5, hint=_sce_hint(got, logits, labels))


def _np_sce_of_probabilities(logits, labels):
    """The loss as -mean(log(p)) with p the softmax probabilities (each row's max subtracted), in float32:
    inf where a true class's probability underflows to 0."""
    z = np.asarray(logits, np.float32)
    with np.errstate(all="ignore"):
        exps = np.exp(z - z.max(axis=-1, keepdims=True))
        probs = exps / exps.sum(axis=-1, keepdims=True)
        return -np.mean(np.log(probs[np.arange(len(labels)), labels]))


# A row whose exp overflows float32 unless the max is subtracted, and whose probabilities don't underflow:
# it tells a loss with no max trick from one that takes the log of (stable) probabilities.
OVERFLOW_ONLY = (np.array([[100.0, 0.0, 0.0]], np.float32), np.array([0], np.int32))


@pytest.mark.exercise("softmax_cross_entropy", points=1)
def test_softmax_cross_entropy_large_logits(ex):
    logits = np.array([[1000.0, 0.0, -1000.0], [-1000.0, 1000.0, 0.0]], np.float32)
    labels = np.array([1, 0], np.int32)
    call = expect.call("softmax_cross_entropy", logits, labels)
    loss, grad = jax.jit(jax.value_and_grad(ex.softmax_cross_entropy))(logits, labels)
    want_grad = np.array([[0.5, -0.5, 0.0], [-0.5, 0.5, 0.0]], np.float32)  # (softmax - one_hot) / batch
    if expect.all_finite(loss):
        hint = "row 0 costs 1000 and row 1 costs 2000: the mean is 1500."
    else:
        # Logits of 100 overflow exp() without the max trick, and none of their probabilities underflows: a
        # finite loss there means the max was subtracted, and the trouble here is a log of a probability.
        small = _or_none(lambda: float(jax.jit(ex.softmax_cross_entropy)(*OVERFLOW_ONLY)))
        if small is not None and abs(small) < 1e-6 and _matches(loss, _np_sce_of_probabilities(logits, labels)):
            hint = (f"the loss came out {float(loss)}: it takes the log of softmax probabilities (the max trick is "
                    "there: logits [[100. 0. 0.]] give a finite loss, about 0), and the true classes here are 1000 and "
                    "2000 below their rows' max: each of their probabilities underflows to 0 in float32, and log(0) "
                    "= -inf. Stay in log space: logsumexp(logits[i]) - logits[i, labels[i]] never takes the log of a "
                    "probability.")
        elif small is not None and not np.isfinite(small):
            hint = (f"the loss came out {float(loss)}, and even softmax_cross_entropy([[100. 0. 0.]], [0]) gives "
                    f"{small}, where the right loss is about 0: exp(100.) already overflows float32 to inf. Use "
                    "logsumexp, or subtract each row's max before exp.")
        else:
            hint = (f"the loss came out {float(loss)}, where the right one, 1500, is finite: logsumexp(logits[i]) - "
                    "logits[i, labels[i]] stays finite for logits like these.")
    expect.close(loss, np.float32(1500.0), call=call, rtol=1e-5, hint=hint)
    expect.close(grad, want_grad, call=f"jax.grad(softmax_cross_entropy)({expect.show(logits)}, {expect.show(labels)})",
                 atol=1e-5, hint="the loss is right, but its gradient holds nan or inf, where the right one, "
                                 "(softmax(logits) - one_hot(labels)) / batch, is finite."
                 if not expect.all_finite(grad) else "the gradient is (softmax(logits) - one_hot(labels)) / batch.")


@pytest.mark.exercise("softmax_cross_entropy", points=1, concept=True)
def test_softmax_cross_entropy_is_written_by_hand(ex):
    _by_hand(ex, "softmax_cross_entropy",
             ("softmax_cross_entropy_with_integer_labels", "softmax_cross_entropy"),
             "softmax_cross_entropy(logits, labels) on logits of shape (3, 7)",
             np.zeros((3, 7), np.float32), np.zeros((3,), np.int32))


# ---------------------------------------------------------------- metrics

@pytest.mark.exercise("accuracy", points=1)
def test_accuracy(ex):
    logits = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 0.0, 5.0], [0.5, 0.2, 0.1], [0.0, 0.0, 1.0]],
                      np.float32)
    labels = np.array([0, 1, 0, 2, 2], np.int32)
    square = np.array([[3.0, 0.0, 1.0], [2.0, 1.0, 0.0], [0.0, 0.0, 5.0]], np.float32)
    square_labels = np.array([0, 0, 2], np.int32)  # every row right; argmax over axis 0 gives [0 1 2]
    accuracy = jax.jit(ex.accuracy)
    call = expect.call("accuracy", logits, labels)
    try:
        got = accuracy(logits, labels)
    except Exception as err:
        on_square = _or_none(lambda: accuracy(square, square_labels))
        by_column = on_square is not None and _matches(on_square, 2 / 3)
        raise expect.failure(call, "0.6 (3 of 5 rows right)", _raised(err),
                             "the argmax ran over axis 0, across the batch, giving one entry per class (3) to "
                             "compare with 5 labels: take each row's argmax (the last axis)." if by_column else
                             "one predicted class per row (argmax over the last axis), compared with the labels, "
                             "with jnp only so that it runs under jax.jit.") from None
    expect.close(got, np.float32(0.6), call=call,
                 hint="3 is the number of rows right; the accuracy is the fraction, 3 / 5."
                 if _matches(got, 3.0) else "3 of these 5 rows have their largest logit at the label.")
    got = accuracy(square, square_labels)
    expect.close(got, np.float32(1.0), call=expect.call("accuracy", square, square_labels),
                 hint="every row's largest logit is at its label; 2/3 is what an argmax over axis 0 (across the "
                      "batch) gives: take each row's argmax (the last axis)." if _matches(got, 2 / 3) else
                 "the fraction of rows whose argmax over the last axis equals the label.")


CM_LABELS = np.array([0, 0, 1, 2, 2, 2, 1, 0, 2, 1, 3, 3], np.int32)
CM_PREDICTIONS = np.array([0, 1, 1, 2, 0, 2, 2, 0, 1, 1, 3, 0], np.int32)
CM_CLASSES = 5  # class 4 never appears: its row and column are zeros


def _np_confusion(labels, predictions, n):
    out = np.zeros((n, n), np.int32)
    for t, p in zip(labels, predictions):
        out[t, p] += 1
    return out


@pytest.mark.exercise("confusion_matrix", points=2)
def test_confusion_matrix(ex):
    call = (f"confusion_matrix({expect.show(CM_LABELS)}, {expect.show(CM_PREDICTIONS)}, num_classes={CM_CLASSES}) "
            "under jax.jit with num_classes static")
    try:
        got = jax.jit(ex.confusion_matrix, static_argnums=2)(CM_LABELS, CM_PREDICTIONS, CM_CLASSES)
    except Exception as err:
        raise expect.failure(call, f"an int32 array of shape ({CM_CLASSES}, {CM_CLASSES})", _raised(err),
                             "num_classes is a plain int, so it may give the shape; the labels are traced under "
                             "jit, so count with array operations, not Python on their values.") from None
    want = _np_confusion(CM_LABELS, CM_PREDICTIONS, CM_CLASSES)
    expect.shape(got, want.shape, call=call, hint="one row and one column per class, num_classes of each.")
    if _matches(got, want.T, 0, 0):
        hint = ("this is the transpose: rows must be the TRUE labels and columns the predictions (out[i, j] counts "
                "true i predicted j).")
    elif _matches(got, (want > 0).astype(np.int32), 0, 0):
        hint = ("every nonzero cell is in the right place but holds 1, however many examples land in it: an "
                ".at[...].set(1) marks a cell, where .at[...].add(1) counts every example that lands in it.")
    elif _matches(np.asarray(got) > 0, want > 0, 0, 0):
        hint = ("every nonzero cell is in the right place, but some counts differ: out[i, j] counts every example with "
                "labels == i and predictions == j.")
    else:
        hint = "out[i, j] is the number of examples with labels == i and predictions == j."
    expect.close(got, want, call=call, hint=hint)


@pytest.mark.exercise("confusion_matrix", points=1, concept=True)
def test_confusion_matrix_is_one_scatter_add(ex):
    sizes = {}
    for batch in (6, 40):
        call = f"confusion_matrix(labels, predictions, num_classes=4) with {batch} examples, traced"
        zeros = np.zeros((batch,), np.int32)
        try:
            ops = jaxprs.op_names(jax.make_jaxpr(ex.confusion_matrix, static_argnums=2)(zeros, zeros, 4))
        except Exception as err:
            raise expect.failure(call, "one traced program", _raised(err),
                                 "num_classes is static; labels and predictions are traced arrays.") from None
        sizes[batch] = len(ops)
        scatters = [op for op in ops if op.startswith("scatter") and "add" in op]
        if not scatters:
            products = any(op == "dot_general" for op in ops)
            raise expect.failure(call, "a program with a scatter-add (what .at[...].add lowers to)",
                                 f"a program of {len(ops)} operations with no scatter-add"
                                 + (", counting with a matrix product" if products else ""),
                                 "the counts come from a product of one-hot matrices, which builds a (batch, n) "
                                 "table for each side; the exercise counts with .at[rows, cols].add(1) on a matrix of "
                                 "zeros." if products else
                                 "count with .at[rows, cols].add(1) on a matrix of zeros, one scatter for every example "
                                 "at once.")
    expect.that(sizes[6] == sizes[40], call="confusion_matrix(labels, predictions, 4) with 6 examples, then 40",
                expected="the same program for any batch size",
                returned=f"{sizes[6]} operations for 6 examples but {sizes[40]} for 40: a Python loop over the examples",
                hint="one .at[...].add with the whole arrays of labels and predictions as indices counts every "
                     "example at once.")


def _np_macro(confusion):
    c = np.asarray(confusion, np.float64)
    tp, predicted, actual = np.diag(c), c.sum(axis=0), c.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros_like(tp), where=total > 0)
    return precision, recall, f1


MACRO_CONFUSION = np.array([[5, 1, 0], [2, 3, 1], [0, 4, 6]], np.int32)


def _as_triple(got, call):
    """The learner's (precision, recall, f1) as a tuple of three NumPy scalars, their own dtypes kept."""
    __tracebackhide__ = True
    if np.shape(got) == (3,) and not isinstance(got, (tuple, list)):
        got = tuple(got)  # an array of the three scores holds them as well
    ok = isinstance(got, (tuple, list)) and len(got) == 3 and all(np.shape(v) == () for v in got)
    expect.that(ok, call=call, expected="a tuple (precision, recall, f1) of three float32 scalars",
                returned=expect.show(got), hint="return the three macro averages, each one number.")
    got = tuple(np.asarray(v) for v in got)
    kinds = [number_kind(v) for v in got]
    expect.that(all(k == "floating-point" for k in kinds), call=call,
                expected="a tuple (precision, recall, f1) of three float32 scalars",
                returned=f"{expect.show(got)}: {', '.join(f'{n} {v.dtype}' for n, v in zip(SCORE_NAMES, got))}",
                hint="each score is a fraction between 0 and 1, which only a floating-point number holds (an integer "
                     "one is 0 or 1): keep the scores in float32, from the division to the mean.")
    return got


SCORE_NAMES = ("precision", "recall", "F1")


def _f1_of_means(got, p, r):
    """True when precision and recall are the right macro means and F1 is the harmonic mean of those two."""
    pm, rm = p.mean(), r.mean()
    return _matches(got[:2], (pm, rm)) and _matches(got[2], 2 * pm * rm / (pm + rm) if pm + rm else 0.0)


F1_OF_MEANS_HINT = ("F1 came from the macro precision and recall; macro F1 is the mean of each class's own F1 "
                    "(2 p r / (p + r) per class, then the mean).")


def _nan_where_empty(confusion):
    """The per-class scores as plain division gives them: NaN for 0 / 0 (two ways to write F1)."""
    c = np.asarray(confusion, np.float64)
    tp, predicted, actual = np.diag(c), c.sum(axis=0), c.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision, recall = tp / predicted, tp / actual
        return precision, recall, (2 * precision * recall / (precision + recall), 2 * tp / (predicted + actual))


@pytest.mark.exercise("macro_scores", points=2)
def test_macro_scores(ex):
    call = f"macro_scores({expect.show(MACRO_CONFUSION)}) (rows: true class, columns: predicted)"
    got = _as_triple(jax.jit(ex.macro_scores)(MACRO_CONFUSION), call)
    p, r, f1 = _np_macro(MACRO_CONFUSION)
    want = (np.float32(p.mean()), np.float32(r.mean()), np.float32(f1.mean()))
    accuracy = np.trace(MACRO_CONFUSION) / MACRO_CONFUSION.sum()
    if _matches(got, (r.mean(), p.mean(), f1.mean())):
        hint = ("precision and recall are swapped: precision divides by the number PREDICTED as each class (a "
                "column's sum, axis 0), recall by the number that ARE that class (a row's sum, axis 1).")
    elif _f1_of_means(got, p, r):
        hint = F1_OF_MEANS_HINT
    elif _matches(got, (accuracy,) * 3):
        hint = ("every score equals the accuracy: these are micro averages, pooled over all examples; macro scores "
                "take each class's score first, then their plain mean.")
    else:
        hint = "per class: tp / column sum, tp / row sum, and their harmonic mean; then the plain mean of each."
    expect.close(got, want, call=call, rtol=1e-5, hint=hint)


# Class 2 is never predicted, class 3 neither predicted nor present, and class 4 is predicted once and
# present once but never right: its precision and recall are 0 with denominators of 1, and its F1 is the
# docstring's third case, precision + recall = 0.
ZERO_DIVISION_CONFUSION = np.array([[3, 1, 0, 0, 1], [0, 2, 0, 0, 0], [1, 0, 0, 0, 0], [0, 0, 0, 0, 0],
                                    [0, 1, 0, 0, 0]], np.int32)


@pytest.mark.exercise("macro_scores", points=1)
def test_macro_scores_zero_division(ex):
    call = (f"macro_scores({expect.show(ZERO_DIVISION_CONFUSION)}): class 2 is never predicted, class 3 never "
            "appears at all, class 4 is predicted once and present once but never right")
    got = _as_triple(jax.jit(ex.macro_scores)(ZERO_DIVISION_CONFUSION), call)
    p, r, f1 = _np_macro(ZERO_DIVISION_CONFUSION)
    want = (np.float32(p.mean()), np.float32(r.mean()), np.float32(f1.mean()))
    present = [0, 1, 2, 4]  # classes with an example or a prediction
    nan_p, nan_r, nan_f1s = _nan_where_empty(ZERO_DIVISION_CONFUSION)
    nan_scores = ((nan_p,), (nan_r,), nan_f1s)  # F1 has two ways to be written
    skipped = [name for name, g, right, ways in zip(SCORE_NAMES, got, want, nan_scores)
               if not _matches(g, right) and any(_matches(g, np.nanmean(v)) for v in ways)]
    nan_named = [name for name, g in zip(SCORE_NAMES, got) if not np.isfinite(g)]
    if nan_named == ["F1"] and _matches(got[:2], want[:2]):
        hint = ("F1 came out NaN while precision and recall are right: for class 4, predicted once and present once "
                "but never right, precision and recall are both 0, so 2 * p * r / (p + r) is 0 / 0. The docstring's "
                "third case: where precision + recall = 0, F1 is 0.")
    elif nan_named:
        hint = (f"{' and '.join(nan_named)} came out NaN: 0 / 0 for a class with no predictions (or no examples). The "
                "convention here is that such a score is 0: divide by max(count, 1), or pick 0 with jnp.where.")
    elif skipped:
        named = ", ".join(skipped[:-1]) + " and " + skipped[-1] if len(skipped) > 1 else skipped[0]
        hint = (f"the {named} of this matrix leave{'s' if len(skipped) == 1 else ''} out the classes where the "
                "score is 0 / 0, as jnp.nanmean does with NaN: here such a score is 0 (no prediction of c: precision "
                "0; no example of c: recall 0), and the mean counts every one of the n classes.")
    elif _f1_of_means(got, p, r):
        hint = F1_OF_MEANS_HINT + " Precision and recall are right here, 0 / 0 included."
    elif _matches(got, tuple(v[present].mean() for v in (p, r, f1))):
        hint = ("this averages only the classes that appear; every one of the n classes counts, with 0 where it "
                "has no examples or predictions.")
    else:
        hint = ("a class with no predictions has precision 0, one with no examples recall 0, and one whose "
                "precision + recall is 0 has F1 0.")
    expect.close(got, want, call=call, rtol=1e-5, hint=hint)


# ---------------------------------------------------------------- optimizers by hand

def _tree(seed):
    """A pytree that is not an MLP: a dict holding a matrix, a tuple and a 0-d leaf."""
    rng = np.random.default_rng(seed)
    return {"w": rng.standard_normal((3, 2)).astype(np.float32),
            "more": (rng.standard_normal(4).astype(np.float32), np.float32(rng.standard_normal()))}


def _grads(seed, like, count, scales=None):
    rng = np.random.default_rng(seed)
    scales = scales or [float(10 ** rng.uniform(-2, 0.5)) for _ in range(count)]
    return [jax.tree.map(lambda leaf: (s * rng.standard_normal(np.shape(leaf))).astype(np.float32), like)
            for s in scales]


def _run_pair(pair, params, grads, call, jit=True):
    """The updates that an (init, update) pair gives for each of `grads` in turn, starting from init(params)."""
    __tracebackhide__ = True
    try:
        init, update = pair
    except (TypeError, ValueError):
        raise expect.failure(call, "a pair (init, update)", expect.show(pair),
                             "return the two inner functions, as `return init, update`.") from None
    state = init(params)
    step = jax.jit(update) if jit else update
    out = []
    for g in grads:
        try:
            result = step(g, state, params)
        except TypeError as err:
            takes = _or_none(lambda: inspect.signature(update).bind(g, state, params))
            raise expect.failure(call, "update(grads, state, params) to return (updates, new_state)", _raised(err),
                                 "update takes three arguments, update(grads, state, params=None), as Optax's "
                                 "do; the third may go unused." if takes is None else
                                 "update(grads, state, params) returns (updates, new_state) for any pytree of "
                                 "params, under jax.jit.") from None
        expect.that(isinstance(result, (tuple, list)) and len(result) == 2, call=call,
                    expected="update to return a pair (updates, new_state)", returned=expect.show(result),
                    hint="update(grads, state, params) returns the updates and the state for the next step.")
        updates, state = result
        out.append(updates)
    return out


def _np_momentum(grads, lr, momentum, ema=False):
    velocity, out = None, []
    for g in grads:
        g = jax.tree.map(lambda x: np.asarray(x, np.float64), g)
        if velocity is None:
            velocity = jax.tree.map(np.zeros_like, g)
        if ema:
            velocity = jax.tree.map(lambda g, v: (1 - momentum) * g + momentum * v, g, velocity)
        else:
            velocity = jax.tree.map(lambda g, v: g + momentum * v, g, velocity)
        out.append(jax.tree.map(lambda v: -lr * v, velocity))
    return out


def _first_differing(got, want, rtol, atol):
    for i, (g, w) in enumerate(zip(got, want)):
        if not _matches(g, w, rtol, atol):
            return i
    return None


@pytest.mark.exercise("sgd_momentum", points=1)
def test_sgd_momentum_first_step(ex):
    params = _tree(10)
    grads = _grads(11, params, 1)
    call = "init, update = sgd_momentum(0.1, momentum=0.9); update(grads, init(params), params) on a dict/tuple pytree"
    got = _run_pair(ex.sgd_momentum(0.1, 0.9), params, grads, call)[0]
    want = jax.tree.map(lambda g: np.float32(-0.1) * g, grads[0])
    if _matches(got, jax.tree.map(np.negative, want)):
        hint = "every update points up the gradient: the update is -learning_rate * velocity."
    elif _matches(got, jax.tree.map(lambda w: 0.1 * w, want)):
        hint = ("the first update is 0.1 times too small: the velocity was (1 - momentum) * g, an average; "
                "optax's momentum adds the whole gradient, velocity = g + momentum * velocity.")
    else:
        hint = "the velocity starts at zero, so the first update is -learning_rate * g, leaf by leaf."
    expect.close(got, want, call=call + ": the first updates", rtol=1e-5, atol=1e-7, hint=hint)


@pytest.mark.exercise("sgd_momentum", points=2)
def test_sgd_momentum_steps(ex):
    params = _tree(12)
    grads = _grads(13, params, 5)
    lr, momentum = 0.05, 0.8
    call = (f"init, update = sgd_momentum({lr}, momentum={momentum}); 5 jitted updates with new gradients each step, "
            "compared with optax.sgd")
    got = _run_pair(ex.sgd_momentum(lr, momentum), params, grads, call)
    want = _np_momentum(grads, lr, momentum)
    i = _first_differing(got, want, 1e-4, 1e-7)
    if i is None:
        return
    if all(_matches(g, jax.tree.map(lambda x: -lr * np.asarray(x, np.float64), gr), 1e-4, 1e-7)
           for g, gr in zip(got, grads)):
        hint = ("every update is -learning_rate * g, as if momentum were 0: the velocity carried in the state never "
                "reached the update (read it from the state you were given, and return the new one).")
    elif _matches(got, _np_momentum(grads, lr, momentum, ema=True), 1e-4, 1e-7):
        hint = ("these follow velocity = (1 - momentum) * g + momentum * velocity, an average; optax.sgd's "
                "momentum adds the whole gradient: velocity = g + momentum * velocity.")
    else:
        hint = "velocity = g + momentum * velocity (starting at 0), update = -learning_rate * velocity, each step."
    expect.close(got[i], want[i], call=call + f": the updates of step {i + 1}", rtol=1e-4, atol=1e-7, hint=hint)


def _optimizer_by_hand(ex, name, optax_names, *args):
    __tracebackhide__ = True
    params = _tree(60)
    grads = _grads(61, params, 2)
    call = f"{name}({', '.join(map(str, args))}), then init and two updates"
    try:
        used = _optax_used(ex, name, optax_names, run=lambda make: _run_pair(make(*args), params, grads, call))
    except AssertionError:
        raise
    except Exception as err:
        raise expect.failure(call, "an (init, update) pair written with jax.numpy and jax.tree.map", _raised(err),
                             "init(params) and update(grads, state, params) must work on any pytree.") from None
    expect.that(not used, call=call, expected="an (init, update) pair written with jax.numpy and jax.tree.map",
                returned=f"one built on {', '.join(used)}",
                hint="the tests compare your optimizer with Optax's, so Optax's own can't be the answer: keep "
                     "the state yourself and write the update rule with jax.tree.map.")


OPTAX_SGD = ("sgd", "trace")
OPTAX_ADAM = ("adam", "adamw", "scale_by_adam")


@pytest.mark.exercise("sgd_momentum", points=1, concept=True)
def test_sgd_momentum_is_written_by_hand(ex):
    _optimizer_by_hand(ex, "sgd_momentum", OPTAX_SGD, 0.1, 0.9)


@pytest.mark.exercise("adam", points=1, concept=True)
def test_adam_is_written_by_hand(ex):
    _optimizer_by_hand(ex, "adam", OPTAX_ADAM, 0.01)


def _np_adam(grads, lr, b1, b2, eps, mistake=None):
    mu = nu = None
    out = []
    for count, g in enumerate(grads, start=1):
        g = jax.tree.map(lambda x: np.asarray(x, np.float64), g)
        if mu is None:
            mu, nu = jax.tree.map(np.zeros_like, g), jax.tree.map(np.zeros_like, g)
        mu = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, mu, g)
        nu = jax.tree.map(lambda v, g: b2 * v + (1 - b2) * g * g, nu, g)
        c = {"frozen_count": 1, "count_before_step": count - 1}.get(mistake, count)
        fix1, fix2 = (1.0, 1.0) if mistake == "no_bias_correction" else (1 - b1 ** c, 1 - b2 ** c)
        with np.errstate(all="ignore"):
            if mistake == "eps_inside":
                out.append(jax.tree.map(lambda m, v: -lr * (m / fix1) / np.sqrt(v / fix2 + eps), mu, nu))
            else:
                out.append(jax.tree.map(lambda m, v: -lr * (m / fix1) / (np.sqrt(v / fix2) + eps), mu, nu))
    return out


ADAM_MISTAKES = {
    "no_bias_correction": "these are Adam's updates without the bias correction: mu and nu start at 0, so divide "
                          "them by (1 - b1 ** count) and (1 - b2 ** count).",
    "eps_inside": "eps went inside the square root: the update divides by sqrt(nu_hat) + eps.",
    "frozen_count": "the bias correction used count = 1 on every step: the step count never advanced.",
}


@pytest.mark.exercise("adam", points=1)
def test_adam_first_step(ex):
    params = _tree(20)
    grads = _grads(21, params, 1, scales=[0.5])
    call = "init, update = adam(0.01); update(grads, init(params), params) on a dict/tuple pytree"
    got = _run_pair(ex.adam(0.01), params, grads, call)[0]
    want = _np_adam(grads, 0.01, 0.9, 0.999, 1e-8)[0]
    if _matches(got, jax.tree.map(np.negative, want), 1e-4, 1e-7):
        hint = "every update points up the gradient: the update is -learning_rate * mu_hat / (sqrt(nu_hat) + eps)."
    elif _matches(got, _np_adam(grads, 0.01, 0.9, 0.999, 1e-8, "no_bias_correction")[0], 1e-4, 1e-7):
        hint = ("each update is about 3.16 times the learning rate: without the bias correction the first step "
                "divides 0.1 * g by sqrt(0.001) * |g|. Divide mu and nu by (1 - b1 ** count) and (1 - b2 ** count), "
                "with count = 1 on the first step.")
    elif not expect.all_finite(got) and _matches(got, _np_adam(grads, 0.01, 0.9, 0.999, 1e-8, "count_before_step")[0],
                                                  1e-4, 1e-7):
        hint = ("the update holds NaN or infinity, as the bias correction gives with count = 0: 1 - b1 ** 0 = 0 "
                "divides mu. On the first step the correction divides by 1 - b1 ** 1, so add 1 to the count before "
                "you correct.")
    elif not expect.all_finite(got):
        hint = ("the update holds NaN or infinity, where Adam's first update is finite, about -learning_rate * "
                "sign(g) for every element.")
    else:
        hint = "with the bias correction, the first update is about -learning_rate * sign(g) for every element."
    expect.close(got, want, call=call + ": the first updates", rtol=1e-4, atol=1e-7, hint=hint)


@pytest.mark.exercise("adam", points=2)
def test_adam_steps(ex):
    params = _tree(22)
    grads = _grads(23, params, 6)
    lr, b1, b2, eps = 0.02, 0.8, 0.95, 1e-3
    call = (f"init, update = adam({lr}, b1={b1}, b2={b2}, eps={eps}); 6 jitted updates with new gradients each "
            "step, compared with optax.adam")
    got = _run_pair(ex.adam(lr, b1=b1, b2=b2, eps=eps), params, grads, call)
    want = _np_adam(grads, lr, b1, b2, eps)
    i = _first_differing(got, want, 1e-4, 1e-7)
    if i is None:
        return
    eager = _or_none(lambda: _run_pair(ex.adam(lr, b1=b1, b2=b2, eps=eps), params, grads, call, jit=False))
    if eager is not None and _first_differing(eager, want, 1e-4, 1e-7) is None:
        hint = ("without jax.jit these updates are right, under jax.jit they are not: something that changes from "
                "step to step (the step count?) lives outside the state, in Python, where jit read it once while "
                "tracing. Keep the count in the state as an array and return it updated.")
    else:
        default = ("count, mu and nu all live in the state; each step: count + 1, the two moving averages, the "
                   "bias correction, then -learning_rate * mu_hat / (sqrt(nu_hat) + eps). Use b1, b2 and eps as "
                   "passed.")
        hint = next((text for mistake, text in ADAM_MISTAKES.items()
                     if _first_differing(got, _np_adam(grads, lr, b1, b2, eps, mistake), 1e-4, 1e-7) is None), default)
        if hint is default and _first_differing(got, _np_adam(grads, lr, 0.9, 0.999, 1e-8), 1e-4, 1e-7) is None:
            hint = "these are Adam's updates for b1=0.9, b2=0.999, eps=1e-8: use the b1, b2 and eps passed in."
    expect.close(got[i], want[i], call=call + f": the updates of step {i + 1}", rtol=1e-4, atol=1e-7, hint=hint)


def _step_counters(states):
    """The positions (in the flattened state) of the one-element leaves that go up by exactly 1 from each
    state to the next: the step count, wherever and under whatever name the state keeps it."""
    leaves = [jax.tree.leaves(s) for s in states]
    if len({len(ls) for ls in leaves}) != 1:
        return []
    found = []
    for i in range(len(leaves[0])):
        values = [np.asarray(ls[i]) for ls in leaves]
        if all(v.size == 1 and v.dtype.kind in "iuf" for v in values) and all(
                float(b.reshape(())) - float(a.reshape(())) == 1.0 for a, b in zip(values, values[1:])):
            found.append(i)
    return found


@pytest.mark.exercise("adam", points=1)
def test_adam_counts_steps_with_an_integer(ex):
    params = _tree(24)
    grads = _grads(25, params, 3)
    call = "init, update = adam(0.01); state = init(params), then 3 jitted updates: the step count in each state"
    expected = "a state holding the step count as an integer array (int32): 0 from init, then 1, 2, 3"
    try:
        init, update = ex.adam(0.01)
        states = [init(params)]
        step = jax.jit(update)
        for g in grads:
            states.append(step(g, states[-1], params)[1])
    except Exception as err:
        raise expect.failure(call, expected, _raised(err),
                             "adam returns (init, update); update(grads, state, params) returns (updates, "
                             "new_state).") from None
    counters = _step_counters(states)
    shown = states if counters else states[1:]
    counters = counters or _step_counters(states[1:])  # init's state may be laid out otherwise
    if not counters:
        return  # no count in the state at all: the updates show what that costs (test_adam_steps)
    values = [np.asarray(jax.tree.leaves(s)[counters[0]]) for s in shown]
    floats = [v for v in values if v.dtype.kind not in "iu"]
    expect.that(not floats, call=call, expected=expected,
                returned="a count of " + ", ".join(expect.show(v) for v in values),
                hint="the docstring asks for an int32 count; this one is a float: a float32 count stops going up at "
                     "2 ** 24 = 16777216 (16777216 + 1 rounds back to 16777216), and the bias correction would stop "
                     "with it. Make the count an integer array when init creates it and add 1 (an integer) each "
                     "step; cast it to float32 only where the bias correction needs it.")


# ---------------------------------------------------------------- Optax: chain, clipping, schedule

def _optax_run(tx, params, grads):
    state, out = tx.init(params), []
    update = jax.jit(tx.update)
    for g in grads:
        u, state = update(g, state, params)
        out.append(u)
    return out


def _schedule(peak, warmup, total, decay_steps=None):
    return optax.warmup_cosine_decay_schedule(0.0, peak, warmup, total if decay_steps is None else decay_steps, 0.0)


def _run_optimizer(tx, params, grads, call):
    __tracebackhide__ = True
    ok = callable(getattr(tx, "init", None)) and callable(getattr(tx, "update", None))
    expect.that(ok, call=call, expected="an Optax GradientTransformation (with .init and .update)",
                returned=expect.show(tx), hint="return what optax.chain(...) gives.")
    try:
        return _optax_run(tx, params, grads)
    except Exception as err:
        raise expect.failure(call, "updates for each step", _raised(err),
                             "the optimizer must init and update any pytree of float32 params.") from None


@pytest.mark.exercise("make_optimizer", points=2)
def test_make_optimizer_schedule(ex):
    peak, warmup, total, max_norm = 0.1, 3, 10, 100.0
    params = _tree(30)
    grads = _grads(31, params, total)  # all far below max_norm: the clipping never acts here
    call = (f"make_optimizer(peak_lr={peak}, warmup_steps={warmup}, total_steps={total}, max_norm={max_norm}): "
            f"{total} updates, gradients far below max_norm")
    got = _run_optimizer(ex.make_optimizer(peak, warmup, total, max_norm), params, grads, call)
    want = _optax_run(optax.adam(_schedule(peak, warmup, total)), params, grads)
    i = _first_differing(got, want, 1e-4, 1e-7)
    if i is None:
        return
    variants = {
        "the learning rate stayed at peak_lr: the schedule (warm-up, then cosine decay) never reached Adam.":
            optax.adam(peak),
        "the schedule decays over total_steps AFTER the warm-up: Optax's decay_steps counts the warm-up too, so "
        "pass total_steps.": optax.adam(_schedule(peak, warmup, total, decay_steps=total + warmup)),
        "the schedule ends its decay warmup_steps early: decay_steps is total_steps itself.":
            optax.adam(_schedule(peak, warmup, total, decay_steps=total - warmup)),
        "there is no warm-up: the learning rate starts at peak_lr, where the schedule starts at 0.":
            optax.adam(optax.cosine_decay_schedule(peak, total)),
        "these are SGD's updates, not Adam's: the chain's second part is optax.adam(schedule).":
            optax.sgd(_schedule(peak, warmup, total)),
    }
    hint = next((text for text, tx in variants.items()
                 if _first_differing(got, _optax_run(tx, params, grads), 1e-4, 1e-7) is None),
                "Adam with the learning rate warmup_cosine_decay_schedule(0, peak_lr, warmup_steps, total_steps, 0).")
    expect.close(got[i], want[i], call=call + f": the updates of step {i + 1}", rtol=1e-4, atol=1e-7, hint=hint)


def _clip_by_global_norm(grads, max_norm):
    norm = np.sqrt(sum(np.sum(np.asarray(leaf, np.float64) ** 2) for leaf in jax.tree.leaves(grads)))
    factor = min(1.0, max_norm / norm)
    return jax.tree.map(lambda leaf: (np.asarray(leaf, np.float64) * factor).astype(np.float32), grads)


def _clip_each(grads, max_norm, per_leaf):
    """Common mistakes' clipping: each leaf to norm max_norm on its own (per_leaf), or each value to
    [-max_norm, max_norm]."""
    def clip(leaf):
        leaf = np.asarray(leaf, np.float64)
        if not per_leaf:
            return np.clip(leaf, -max_norm, max_norm).astype(np.float32)
        norm = np.sqrt(np.sum(leaf ** 2))
        return (leaf * min(1.0, max_norm / norm) if norm else leaf).astype(np.float32)
    return jax.tree.map(clip, grads)


@pytest.mark.exercise("make_optimizer", points=2)
def test_make_optimizer_clips_the_global_norm(ex):
    peak, warmup, total, max_norm = 0.1, 2, 8, 1.0
    params = _tree(32)
    scales = [0.05, 30.0, 0.1, 80.0, 3.0, 0.02, 12.0, 0.2]  # some steps far above max_norm, some below
    grads = _grads(33, params, total, scales)
    clipped = [_clip_by_global_norm(g, max_norm) for g in grads]
    call = (f"make_optimizer(peak_lr={peak}, warmup_steps={warmup}, total_steps={total}, max_norm={max_norm}): "
            f"{total} updates with gradients of global norm from about 0.1 to 200")
    tx = ex.make_optimizer(peak, warmup, total, max_norm)
    got = _run_optimizer(tx, params, grads, call)
    fed_clipped = _run_optimizer(ex.make_optimizer(peak, warmup, total, max_norm), params, clipped, call)
    i = _first_differing(got, fed_clipped, 1e-4, 1e-7)
    if i is None:
        return
    sched = _schedule(peak, warmup, total)
    if _first_differing(got, _optax_run(optax.adam(sched), params, grads), 1e-4, 1e-7) is None:
        hint = ("these are Adam's updates on the raw gradients: no clipping reached the gradients (there was none, "
                "or it came after Adam, on its small updates, where it finds nothing to clip). Clip first, on the "
                "gradients, and Adam after.")
    elif _first_differing(got, _optax_run(optax.adam(sched), params, [_clip_each(g, max_norm, per_leaf=False)
                                                                       for g in grads]), 1e-4, 1e-7) is None:
        hint = ("these are Adam's updates on gradients whose every value was clipped to [-max_norm, max_norm] on its "
                "own (optax.clip), which turns the gradient's direction. Scale the whole gradient by one factor, so "
                "that its global norm (over all leaves together) is max_norm.")
    elif _first_differing(got, _optax_run(optax.adam(sched), params, [_clip_each(g, max_norm, per_leaf=True)
                                                                       for g in grads]), 1e-4, 1e-7) is None:
        hint = ("these are Adam's updates on gradients whose every leaf was scaled to norm max_norm on its own: the "
                "global norm is over all leaves together, and one factor scales them all.")
    else:
        hint = ("a gradient whose global norm (over all leaves together) is above max_norm must act exactly as that "
                "gradient scaled down to norm max_norm.")
    expect.close(got[i], fed_clipped[i],
                 call=call + f": the updates of step {i + 1}, against the same optimizer fed the gradients already "
                             "clipped to global norm 1", rtol=1e-4, atol=1e-7, hint=hint)


# ---------------------------------------------------------------- training

def _np_params(sizes, seed):
    """He-initialized MLP params as NumPy float32 arrays, zero biases."""
    rng = np.random.default_rng(seed)
    return [{"w": (rng.standard_normal((m, n)) * np.sqrt(2.0 / m)).astype(np.float32), "b": np.zeros(n, np.float32)}
            for m, n in zip(sizes[:-1], sizes[1:])]


def _forward(params, x):
    *hidden, last = params
    for layer in hidden:
        x = jax.nn.relu(x @ layer["w"] + layer["b"])
    return x @ last["w"] + last["b"]


def _np_forward(params, x):
    x = np.asarray(x, np.float64)
    for i, layer in enumerate(params):
        x = x @ np.asarray(layer["w"], np.float64) + np.asarray(layer["b"], np.float64)
        if i < len(params) - 1:
            x = np.maximum(x, 0.0)
    return x


def _ce(logits, labels):
    """The tests' own loss, so that a training step is judged apart from your softmax_cross_entropy."""
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()


def _kit_step(optimizer, loss_fn=_ce):
    """The tests' own training step, so that fit is judged apart from your make_train_step."""
    def step(params, opt_state, x, y):
        loss, grads = jax.value_and_grad(lambda p: loss_fn(_forward(p, x), y))(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss
    return jax.jit(step)


def _small_batch(seed, n=8, classes=3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 2)).astype(np.float32), rng.integers(0, classes, n).astype(np.int32)


STEP_OPTIMIZER = "optax.adamw(0.05, weight_decay=0.5)"


def _step_optimizer():
    return optax.adamw(0.05, weight_decay=0.5)


def _reference_step(tx, params, state, x, y):
    """The step the test expects, compiled as one program (op by op, its many small programs cost a
    first run seconds of compiling): (loss, updates, new state, new params, the loss after)."""
    @jax.jit
    def step(params, state):
        loss, grads = jax.value_and_grad(lambda p: _ce(_forward(p, x), y))(params)
        updates, new_state = tx.update(grads, state, params)
        new_params = optax.apply_updates(params, updates)
        return loss, updates, new_state, new_params, _ce(_forward(new_params, x), y)
    return step(params, state)


@pytest.mark.exercise("make_train_step", points=2)
def test_train_step(ex):
    params = _np_params((2, 4, 3), seed=40)
    x, y = _small_batch(41)
    tx = _step_optimizer()
    state = tx.init(params)
    call = (f"step = make_train_step({STEP_OPTIMIZER}, loss_fn); step(params, opt_state, x, y) with layers "
            "2 -> 4 -> 3, x of shape (8, 2)")
    step = ex.make_train_step(tx, _ce)
    try:
        result = step(params, state, x, y)
    except ValueError as err:
        if "param" in str(err).lower():
            raise expect.failure(call, "(new_params, new_opt_state, loss)", _raised(err),
                                 "AdamW's weight decay reads the params, and optimizer.update got none: pass the "
                                 "params as update's third argument.") from None
        raise
    expect.that(isinstance(result, (tuple, list)) and len(result) == 3, call=call,
                expected="a triple (new_params, new_opt_state, loss)", returned=expect.show(result),
                hint="return the updated params, the optimizer's new state and the loss, in that order.")
    got_params, got_state, got_loss = result
    want_loss, updates, want_state, want_params, loss_after = _reference_step(tx, params, state, x, y)
    expect.close(got_loss, np.float32(want_loss), call=call + ": the loss", rtol=1e-5,
                 hint="this is the loss of the UPDATED params; return the one value_and_grad computed, at the params "
                      "you were given." if _matches(got_loss, loss_after) else
                 "loss_fn(forward(params, x), y) at the params you were given.")
    if _matches(got_params, jax.tree.map(lambda p, u: p - u, params, updates), 1e-4, 1e-6):
        hint = ("every parameter moved the wrong way: Optax's updates already carry the minus sign, so the new params "
                "are params + updates (optax.apply_updates).")
    elif _matches(got_params, params, 1e-6, 1e-7):
        hint = "the params came back unchanged: return optax.apply_updates(params, updates)."
    else:
        hint = "grads from value_and_grad, then optimizer.update(grads, opt_state, params), then optax.apply_updates."
    expect.close(got_params, want_params, call=call + ": the new params", rtol=1e-4, atol=1e-6, hint=hint)
    expect.close(got_state, want_state, call=call + ": the new opt_state", rtol=1e-4, atol=1e-7,
                 hint="this is the optimizer state you were given: return the NEW state from optimizer.update, or "
                      "Adam's moments and step count never advance." if _matches(got_state, state) else
                 "return the state that optimizer.update returned.")


@pytest.mark.exercise("make_train_step", points=1, concept=True)
def test_train_step_traces_once(ex):
    calls = [0]
    traced = []

    def loss_fn(logits, labels):
        traced.append(calls[0])
        return _ce(logits, labels)

    tx = optax.adam(0.01)
    start = _np_params((2, 4, 3), seed=42)
    params, state = start, tx.init(start)
    step = ex.make_train_step(tx, loss_fn)
    for i in range(1, 4):
        calls[0] = i
        x, y = _small_batch(42 + i)
        params, state, loss = step(params, state, x, y)
        if i == 1:
            first = (params, loss, x, y)
    per_call = [traced.count(i) for i in (1, 2, 3)]
    call = "step = make_train_step(optax.adam(0.01), loss_fn); step(...) 3 times on new batches of the same shapes"
    seen = f"loss_fn evaluated {per_call[0]}, {per_call[1]}, {per_call[2]} times in calls 1, 2, 3"
    times = "twice" if per_call[0] == 2 else f"{per_call[0]} times"
    if per_call[0] > 1 and _loss_of_the_updated_params(start, *first):
        hint = (f"the first call evaluated loss_fn {times} while it was traced, and the loss it returned is the loss "
                "of the UPDATED params: the step evaluates loss_fn again after the update. The loss to return is "
                "the one jax.value_and_grad computed with the gradient, at the params the step was given: one "
                "evaluation per step.")
    elif per_call[0] > 1:
        hint = (f"the first call evaluated loss_fn {times} while it was traced: the step evaluates the loss more "
                "than once, where once is enough. jax.value_and_grad gives the value and the gradient from one "
                "evaluation.")
    elif per_call[1] or per_call[2]:
        hint = ("calls 2 and 3 had the same shapes, yet loss_fn ran again: the step is not one compiled program "
                "made once. Wrap the step in jax.jit once, in make_train_step, and return that.")
    elif not callable(getattr(step, "lower", None)):
        hint = ("loss_fn was traced once, but the function returned is not itself jitted (it has no .lower): return "
                "the jax.jit-wrapped step.")
    else:
        return
    raise expect.failure(call, "loss_fn traced once, on the first call, by one jitted step", seen, hint)


def _loss_of_the_updated_params(start, new_params, loss, x, y) -> bool:
    """Whether a step's loss is the loss after its update (and not also the loss before it)."""
    after = _or_none(lambda: float(_ce(_forward(new_params, x), y)))
    return after is not None and _matches(loss, after) and not _matches(loss, _ce(_forward(start, x), y))


FIT_STEPS = 4


def _loop(step, params, state, x, y, steps, reset_state=False):
    """What fit must return, stepped one call at a time (with `reset_state`, as a run that forgets the state)."""
    first, losses = state, []
    for _ in range(steps):
        params, new_state, loss = step(params, first if reset_state else state, x, y)
        state = new_state
        losses.append(loss)
    return params, state, np.asarray(jnp.stack(losses))


@pytest.mark.exercise("fit", points=2)
def test_fit_follows_the_step(ex):
    params = _np_params((2, 5, 3), seed=50)
    x, y = _small_batch(51, n=10)
    tx = optax.chain(optax.clip_by_global_norm(1.0), optax.adam(_schedule(0.1, 2, 6)))
    step = _kit_step(tx)
    state = tx.init(params)
    call = (f"fit(step, params, opt_state, x, y, steps={FIT_STEPS}), with a jitted step of the tests' own (clipping, "
            "then Adam on a warm-up schedule) and x of shape (10, 2)")
    got = ex.fit(step, params, state, x, y, FIT_STEPS)
    expect.that(isinstance(got, (tuple, list)) and len(got) == 3, call=call,
                expected="a triple: the params, the optimizer state, the losses", returned=expect.show(got),
                hint="return the final params, the final optimizer state and the losses of every step.")
    want = _loop(step, params, state, x, y, FIT_STEPS)
    expect.shape(got[2], (FIT_STEPS,), call=call + ": the losses", hint="one loss per step, stacked.")
    if _matches(got, want, 1e-4, 1e-6):
        return
    if _matches(got[0], _loop(step, params, state, x, y, FIT_STEPS, reset_state=True)[0], 1e-4, 1e-6):
        hint = ("these are the params of a run where every step started from the opt_state you were given: carry "
                "the NEW opt_state from step to step (Adam's moments and the schedule's count live there).")
    elif _matches(got[0], params, 1e-6, 1e-7):
        hint = "the params came back unchanged: return the params after the last step."
    elif not _matches(got[2][0], want[2][0], 1e-4, 1e-6):
        hint = "losses[0] is the loss that the first step returned, at the params you were given."
    else:
        hint = ("each step starts from the params and the opt_state the previous step returned; return both from "
                "the last step, and the losses of all of them.")
    expect.close((got[0], got[2]), (want[0], want[2]), call=call + ": the params and the losses", rtol=1e-4,
                 atol=1e-6, hint=hint)
    expect.close(got[1], want[1], call=call + ": the final opt_state", rtol=1e-4, atol=1e-6,
                 hint="return the optimizer state that the last step returned.")


@pytest.fixture(scope="session")
def toy_run():
    """``toy_run(ex)``: (initial params, ex.fit(...) on the blobs and the ring), once per module under test."""
    done = {}

    def get(ex):
        __tracebackhide__ = True
        if id(ex) not in done:
            d = blobs_ring()
            params = _np_params(TOY_SIZES, TOY_SEED)
            tx = optax.chain(optax.clip_by_global_norm(TOY_MAX_NORM),
                             optax.adam(_schedule(TOY_PEAK_LR, TOY_WARMUP, TOY_STEPS)))
            done[id(ex)] = (ex, params, ex.fit(_kit_step(tx), params, tx.init(params), d["x_train"], d["y_train"],
                                                TOY_STEPS))
        _, params, result = done[id(ex)]
        expect.that(isinstance(result, (tuple, list)) and len(result) == 3, call=TOY_CALL,
                    expected="a triple: the params, the optimizer state, the losses", returned=expect.show(result),
                    hint="return the final params, the final optimizer state and the losses of every step.")
        return params, result

    return get


@pytest.mark.exercise("fit", points=3)
def test_fit_blobs_ring(ex, toy_run):
    _, (params, _, _) = toy_run(ex)
    d = blobs_ring()
    predicted = np.argmax(_np_forward(params, d["x_test"]), axis=-1)
    acc = float(np.mean(predicted == d["y_test"]))
    if acc >= TOY_MIN_ACCURACY:
        return
    raise expect.failure(TOY_CALL + f", layers {' -> '.join(map(str, TOY_SIZES))}",
                         f"test accuracy >= {TOY_MIN_ACCURACY:.0%}",
                         f"test accuracy {acc:.2%} ({int(np.sum(predicted != d['y_test']))} of {len(predicted)} wrong)",
                         "the step is the tests' own, so the run itself is off: each step must start from the params "
                         "and opt_state the last one returned, for all the steps asked.")


@pytest.mark.exercise("fit", points=1)
def test_fit_returns_the_losses(ex, toy_run):
    init, (params, _, losses) = toy_run(ex)
    expect.shape(losses, (TOY_STEPS,), call=TOY_CALL, hint="one loss per step: lax.scan stacks them.")
    expect.dtype(losses, np.float32, call=TOY_CALL, hint="the float32 losses that the steps returned.")
    d = blobs_ring()
    logits = _np_forward(init, d["x_train"])
    first = -np.mean(_np_log_softmax(logits)[np.arange(len(d["y_train"])), d["y_train"]])
    losses = np.asarray(losses)
    expect.close(losses[0], np.float32(first), call=TOY_CALL + ": losses[0]", rtol=1e-4,
                 hint="losses[0] is the loss at the params you were given, before the first update.")
    expect.that(losses[-1] < 0.1 * losses[0], call=TOY_CALL, expected="the loss to fall more than tenfold",
                returned=f"losses[0] = {losses[0]:.4g}, losses[-1] = {losses[-1]:.4g}",
                hint="each step must start from the params and opt_state the previous step returned.")

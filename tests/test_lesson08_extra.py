"""Lesson 08 beyond its own tests: the metrics equal scikit-learn's (where scikit-learn is installed; the
learner's install has none), the blobs-and-ring file is what its seed draws, and other correct spellings
of every exercise get full marks, from the public tests and from the probes alike."""
import numpy as np
import pytest

from grader.learner import runs, targets
from grader.classroom import judge
from grader.learner.datasets import blobs_ring, draw_blobs_ring

# Correct answers written differently from the reference: they must get every point.
OTHER_SPELLINGS = '''

def mse(pred, target):
    return optax.l2_loss(pred, target).mean() * 2.0


def mae(pred, target):
    return jnp.abs(target - pred).sum() / pred.size


def huber(pred, target, delta=1.0):
    e = jnp.abs(pred - target)
    return jnp.mean(jnp.where(e <= delta, 0.5 * e * e, delta * e - 0.5 * delta ** 2))


def binary_cross_entropy(logits, labels):
    return -jnp.mean(labels * jax.nn.log_sigmoid(logits) + (1 - labels) * jax.nn.log_sigmoid(-logits))


def softmax_cross_entropy(logits, labels):
    picked = logits[jnp.arange(logits.shape[0]), labels]
    return jnp.mean(jax.nn.logsumexp(logits, axis=-1) - picked)


def accuracy(logits, labels):
    return jnp.sum(jnp.argmax(logits, -1) == labels) / labels.shape[0]


def confusion_matrix(labels, predictions, num_classes):
    flat = jnp.bincount(labels * num_classes + predictions, length=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes).astype(jnp.int32)


def macro_scores(confusion):
    c = confusion.astype(jnp.float32)
    tp = jnp.diagonal(c)
    predicted, actual = c.sum(0), c.sum(1)
    p = jnp.where(predicted > 0, tp / jnp.where(predicted > 0, predicted, 1.0), 0.0)
    r = jnp.where(actual > 0, tp / jnp.where(actual > 0, actual, 1.0), 0.0)
    f1 = jnp.where(p + r > 0, 2 * p * r / jnp.where(p + r > 0, p + r, 1.0), 0.0)
    return jnp.mean(p), jnp.mean(r), jnp.mean(f1)


def sgd_momentum(learning_rate, momentum):
    # the "velocity" form: v = m * v - lr * g, and the update is v itself
    def init(params):
        return {"v": jax.tree.map(jnp.zeros_like, params)}

    def update(grads, state, params=None):
        v = jax.tree.map(lambda v, g: momentum * v - learning_rate * g, state["v"], grads)
        return v, {"v": v}

    return optax.GradientTransformation(init, update)


def adam(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    def init(params):
        return (jnp.asarray(0), jax.tree.map(jnp.zeros_like, params), jax.tree.map(jnp.zeros_like, params))

    def update(grads, state, params=None):
        t, mu, nu = state
        t = t + 1
        mu = jax.tree.map(lambda m, g: m + (1 - b1) * (g - m), mu, grads)
        nu = jax.tree.map(lambda v, g: v + (1 - b2) * (jnp.square(g) - v), nu, grads)
        step = learning_rate * jnp.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        eps_hat = eps * jnp.sqrt(1 - b2 ** t)
        return jax.tree.map(lambda m, v: -step * m / (jnp.sqrt(v) + eps_hat), mu, nu), (t, mu, nu)

    return init, update


def make_optimizer(peak_lr, warmup_steps, total_steps, max_norm):
    warm = optax.linear_schedule(0.0, peak_lr, warmup_steps)
    cos = optax.cosine_decay_schedule(peak_lr, total_steps - warmup_steps)
    schedule = optax.join_schedules([warm, cos], [warmup_steps])
    return optax.chain(optax.clip_by_global_norm(max_norm), optax.scale_by_adam(),
                       optax.scale_by_learning_rate(schedule))


def make_train_step(optimizer, loss_fn):
    @jax.jit
    def step(params, opt_state, x, y):
        loss, grads = jax.value_and_grad(lambda p, x, y: loss_fn(forward(p, x), y))(params, x, y)
        updates, new_state = optimizer.update(grads, opt_state, params)
        return jax.tree.map(lambda p, u: p + u, params, updates), new_state, loss

    return step


def fit(step, params, opt_state, x, y, steps):
    losses = []
    for _ in range(steps):
        params, opt_state, loss = step(params, opt_state, x, y)
        losses.append(loss)
    return params, opt_state, jnp.array(losses)
'''


def test_the_data_file_is_what_its_seed_draws():
    drawn = draw_blobs_ring()
    d = blobs_ring()
    test = drawn["test_mask"]
    assert np.array_equal(d["x_train"], drawn["x"][~test]) and np.array_equal(d["x_test"], drawn["x"][test])
    assert np.array_equal(d["y_train"], drawn["y"][~test]) and np.array_equal(d["y_test"], drawn["y"][test])
    assert len(d["y_test"]) == 300 and set(np.unique(d["y_test"])) == {0, 1, 2}


def _sklearn_metrics():
    return pytest.importorskip("sklearn.metrics", reason="scikit-learn is not installed (it is no learner dependency)")


def test_the_metrics_equal_scikit_learn():
    metrics = _sklearn_metrics()
    import jax

    lesson = targets.find_lesson("08")
    ex = targets.load(lesson.solution_file)
    confusion = jax.jit(ex.confusion_matrix, static_argnums=2)
    scores = jax.jit(ex.macro_scores)
    rng = np.random.default_rng(0)
    cases = [(np.array([0, 0, 1, 2, 2, 2, 1, 0, 2, 1, 3, 3]), np.array([0, 1, 1, 2, 0, 2, 2, 0, 1, 1, 3, 0]), 5)]
    for _ in range(20):
        n = int(rng.integers(2, 7))
        labels = rng.integers(0, n, size=int(rng.integers(1, 40)))
        predictions = np.where(rng.random(len(labels)) < 0.5, labels, rng.integers(0, n, size=len(labels)))
        predictions[predictions == n - 1] = 0  # one class never predicted: the zero-division convention
        cases.append((labels, predictions, n))
    for labels, predictions, n in cases:
        c = confusion(labels.astype(np.int32), predictions.astype(np.int32), n)
        assert np.array_equal(c, metrics.confusion_matrix(labels, predictions, labels=range(n)))
        want = metrics.precision_recall_fscore_support(labels, predictions, labels=range(n), average="macro",
                                                       zero_division=0)[:3]
        assert np.allclose(scores(c), want, rtol=1e-5, atol=1e-7), (labels, predictions, n)


def test_the_tests_fixed_matrices_agree_with_scikit_learn():
    """The public tests' hand-made expected scores follow scikit-learn's definitions."""
    metrics = _sklearn_metrics()
    import importlib.util

    spec = importlib.util.spec_from_file_location("lesson08_tests", targets.find_lesson("08").test_file)
    tests = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tests)
    for confusion in (tests.MACRO_CONFUSION, tests.ZERO_DIVISION_CONFUSION):
        labels, predictions = [], []
        for (i, j), count in np.ndenumerate(confusion):
            labels += [i] * int(count)
            predictions += [j] * int(count)
        want = metrics.precision_recall_fscore_support(labels, predictions, labels=range(len(confusion)),
                                                       average="macro", zero_division=0)[:3]
        assert np.allclose([v.mean() for v in tests._np_macro(confusion)], want)


def test_other_correct_spellings_get_every_point(tmp_path):
    lesson = targets.find_lesson("08")
    module = lesson.module_in(tmp_path / "other")
    module.parent.mkdir(parents=True)
    module.write_text(lesson.solution_file.read_text() + OTHER_SPELLINGS)
    run = runs.run_many({"other": (["lessons/08"], str(tmp_path / "other"), [])})["other"]
    failed = {t: o for t, o in run.outcomes().items() if o != "passed"}
    assert not failed, f"{failed}\n{run.output[-4000:]}"
    charged = {k: v for k, v in judge.check_here("08", module, "kit-a").items() if v}
    assert not charged, charged

"""Lesson 08: losses, metrics and optimizers, by hand and then with Optax.

Losses and metrics take batches of arrays and return float32 scalars; write them with jax.numpy
(the tests compare them with Optax's and scikit-learn's, so calling Optax's own loss is refused
where it has one). Optimizers are pairs ``(init, update)`` over any pytree of parameters, shaped
like Optax's:

    state = init(params)
    updates, state = update(grads, state, params)
    params = optax.apply_updates(params, updates)      # params + updates, leaf by leaf

The classifier that the last exercises train is given in full: ``init_classifier`` and ``forward``.
"""
import jax
import jax.numpy as jnp
import optax


# ---------------------------------------------------------------- losses

def mse(pred, target):
    """Mean squared error: the mean of ``(pred - target) ** 2`` over every element.

    pred, target: float32 arrays of the same shape. Returns a float32 scalar (shape ()); equal to
    ``optax.squared_error(pred, target).mean()``.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def mae(pred, target):
    """Mean absolute error: the mean of ``|pred - target|`` over every element, a float32 scalar."""
    # YOUR CODE HERE
    raise NotImplementedError()


def huber(pred, target, delta=1.0):
    """The Huber loss, averaged over every element: a float32 scalar.

    For each error ``e = pred - target``: ``0.5 * e ** 2`` where ``|e| <= delta``, and
    ``delta * (|e| - 0.5 * delta)`` beyond, so the two pieces meet with the same value and slope at
    ``|e| = delta``. delta: a positive Python float. Equal to
    ``optax.huber_loss(pred, target, delta).mean()``; write it with jax.numpy (the tests refuse
    optax's own function here).
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def binary_cross_entropy(logits, labels):
    """Binary cross-entropy from logits, averaged over every element: a float32 scalar.

    logits: float32, any shape. labels: float32 of the same shape, each a probability in [0, 1]
    (usually 0 or 1, but soft labels such as 0.3 count too). For one element, with
    ``p = sigmoid(z)``, the loss is ``-(y * log(p) + (1 - y) * log(1 - p))``.

    Written like that it overflows: ``sigmoid(200.)`` is exactly 1.0 in float32, so ``log(1 - p)``
    is ``log(0) = -inf``. Rewrite it so that no exp and no log ever sees a large number: the same
    function is ``softplus(z) - z * y``, where ``softplus(z) = log(1 + exp(z))`` is computed safely as
    ``max(z, 0) + log1p(exp(-|z|))`` (jax.nn.softplus does exactly that). Logits of +-1000 must give
    finite losses and finite gradients. Equal to
    ``optax.sigmoid_binary_cross_entropy(logits, labels).mean()``; the tests refuse optax's own
    function here (jax.nn.softplus and jax.nn.log_sigmoid are fine).
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def softmax_cross_entropy(logits, labels):
    """Softmax cross-entropy with integer labels, averaged over the batch: a float32 scalar.

    logits: float32, shape (batch, n_classes). labels: int32, shape (batch,), each in
    [0, n_classes). The loss of row i is ``logsumexp(logits[i]) - logits[i, labels[i]]``, computed
    stably (logits of 1000 must give finite losses and gradients). jax.nn.logsumexp and
    jax.nn.log_softmax are fine to use. Equal to
    ``optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()``; the tests refuse
    optax's own function here.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


# ---------------------------------------------------------------- metrics

def accuracy(logits, labels):
    """The fraction of rows whose largest logit is at the true label: a float32 scalar in [0, 1].

    logits: float32, shape (batch, n_classes); labels: int32, shape (batch,). Must work under jax.jit.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def confusion_matrix(labels, predictions, num_classes):
    """Counts of (true class, predicted class) pairs: int32 of shape (num_classes, num_classes).

    ``out[i, j]`` is the number of examples whose true label is i and whose prediction is j (rows:
    the truth, columns: the prediction, as scikit-learn's ``confusion_matrix`` lays it out).
    labels, predictions: int32 of shape (batch,), each in [0, num_classes). num_classes: a Python
    int. The tests call it under ``jax.jit`` with num_classes static.

    Build it with one scatter-add, ``.at[rows, cols].add(1)`` on a matrix of zeros: no Python loop
    over the examples (the tests check that the program is the same size for any batch).
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def macro_scores(confusion):
    """Macro-averaged precision, recall and F1 from a confusion matrix: a tuple of three float32 scalars.

    confusion: int32 of shape (n, n), laid out as ``confusion_matrix`` returns it. For each class c:
    ``tp`` is ``confusion[c, c]``; precision is tp over the number of examples PREDICTED as c (the
    column's sum), recall is tp over the number of examples that ARE c (the row's sum), and F1 is
    ``2 * precision * recall / (precision + recall)``. Where a denominator is 0 the score is 0 (no
    prediction of c: precision 0; no example of c: recall 0; precision + recall = 0: F1 0), never NaN.
    Each macro score is the plain mean of the n per-class scores, every class counted. Note that
    macro F1 is the mean of the per-class F1s, not the F1 of the macro precision and recall.
    Must work under jax.jit.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


# ---------------------------------------------------------------- optimizers by hand

def sgd_momentum(learning_rate, momentum):
    """SGD with momentum as a pair ``(init, update)``, step by step equal to
    ``optax.sgd(learning_rate, momentum=momentum)``.

    ``init(params)`` returns the starting state: a velocity of zeros for every leaf. ``update(grads,
    state, params=None)`` returns ``(updates, new_state)``: the velocity becomes
    ``g + momentum * velocity`` leaf by leaf, and the update is ``-learning_rate * velocity``.
    Works on any pytree (use jax.tree.map); the tests run update under jax.jit. Write the rule
    yourself: the tests refuse optax.sgd and optax.trace here.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def adam(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """Adam as a pair ``(init, update)``, step by step equal to ``optax.adam(learning_rate, b1, b2, eps)``.

    The state holds the step count (an int32 array, starting at 0) and two moments shaped like the
    params, starting at zero. On each update, leaf by leaf:

        count = count + 1
        mu = b1 * mu + (1 - b1) * g             nu = b2 * nu + (1 - b2) * g ** 2
        mu_hat = mu / (1 - b1 ** count)         nu_hat = nu / (1 - b2 ** count)
        update = -learning_rate * mu_hat / (sqrt(nu_hat) + eps)

    Everything that changes from step to step lives in the state: the tests run update under
    jax.jit, where a Python counter kept beside it would be read once, when jit traced it. Write the
    rule yourself: the tests refuse optax.adam, optax.adamw and optax.scale_by_adam here.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


# ---------------------------------------------------------------- the real thing: Optax

def make_optimizer(peak_lr, warmup_steps, total_steps, max_norm):
    """An Optax optimizer (a GradientTransformation) that clips, then steps Adam on a schedule.

    ``optax.chain`` of, in this order:
    1. ``optax.clip_by_global_norm(max_norm)``: when the norm of ALL the gradients together (the
       square root of the sum of every leaf's squares) is above max_norm, scale every leaf by the
       same factor so that it is max_norm;
    2. ``optax.adam`` whose learning rate is the schedule
       ``optax.warmup_cosine_decay_schedule(init_value=0.0, peak_value=peak_lr,
       warmup_steps=warmup_steps, decay_steps=total_steps, end_value=0.0)``: a linear warm-up from 0
       to peak_lr over warmup_steps, then a cosine decay to 0 at total_steps. (Optax's decay_steps
       counts the warm-up too.)
    Leave Adam's other arguments at their defaults.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def init_classifier(key, sizes):
    """Given in full. He-initialized MLP parameters: a list of {"w": (n_in, n_out), "b": (n_out,)}."""
    params = []
    keys = jax.random.split(key, len(sizes) - 1)
    for layer_key, n_in, n_out in zip(keys, sizes[:-1], sizes[1:]):
        w = jax.random.normal(layer_key, (n_in, n_out), jnp.float32) * jnp.sqrt(2.0 / n_in)
        params.append({"w": w, "b": jnp.zeros((n_out,), jnp.float32)})
    return params


def forward(params, x):
    """Given in full. The classifier's logits: ReLU after every layer but the last."""
    *hidden, last = params
    for layer in hidden:
        x = jax.nn.relu(x @ layer["w"] + layer["b"])
    return x @ last["w"] + last["b"]


def make_train_step(optimizer, loss_fn):
    """Return a jitted ``step(params, opt_state, x, y) -> (new_params, new_opt_state, loss)``.

    optimizer: an Optax GradientTransformation (``optimizer.init``, ``optimizer.update``).
    loss_fn: ``(logits, labels) -> scalar``, such as your ``softmax_cross_entropy``. In the step:
    the loss of ``forward(params, x)`` and its gradient from one ``jax.value_and_grad``;
    ``optimizer.update(grads, opt_state, params)`` (pass the params: some optimizers, such as
    AdamW's weight decay, need them); then ``optax.apply_updates``. The loss returned is the one at
    the params you were given (before the update).

    Wrap the step in ``jax.jit`` once, here, and return that jitted function: calling it again with
    new batches of the same shapes must not trace ``loss_fn`` again.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def fit(step, params, opt_state, x, y, steps):
    """Run ``step`` (as ``make_train_step`` returns it) ``steps`` times on the full batch ``(x, y)``.

    Returns ``(params, opt_state, losses)``: the params and optimizer state after the last step,
    and the float32 losses of every step, shape (steps,). Each step starts from the params AND the
    optimizer state that the previous one returned: Adam's moments and the schedule's step count
    live in opt_state. steps: a Python int.

    Make the run one compiled program: ``jax.lax.scan`` over the steps, with ``(params, opt_state)``
    as the carry, inside ``jax.jit`` (a Python loop over the jitted step is also accepted).
    """
    # YOUR CODE HERE
    raise NotImplementedError()

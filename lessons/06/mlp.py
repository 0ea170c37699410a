"""Lesson 06: a multilayer perceptron from scratch, in pure JAX.

The network's parameters are a pytree: a list with one dict per layer,

    params = [{"w": w0, "b": b0}, {"w": w1, "b": b1}, ..., {"w": wL, "b": bL}]

where layer i has a weight matrix ``w`` of shape (n_in, n_out) and a bias ``b`` of shape (n_out,),
all float32. ``init_mlp`` below builds one; you write everything after it.
"""
import jax
import jax.numpy as jnp


def init_mlp(key, sizes):
    """Given in full. He-initialized parameters for an MLP with layer widths ``sizes``.

    ``init_mlp(jax.random.key(0), [64, 32, 10])`` gives two layers: w of shape (64, 32) and b of
    shape (32,), then w of shape (32, 10) and b of shape (10,). Weights are normal with variance
    2 / n_in (He initialization, right for ReLU layers); biases start at zero.
    """
    params = []
    keys = jax.random.split(key, len(sizes) - 1)
    for layer_key, n_in, n_out in zip(keys, sizes[:-1], sizes[1:]):
        w = jax.random.normal(layer_key, (n_in, n_out), jnp.float32) * jnp.sqrt(2.0 / n_in)
        params.append({"w": w, "b": jnp.zeros((n_out,), jnp.float32)})
    return params


def forward(params, x):
    """The network's output for inputs ``x``.

    x: float32, shape (batch, n_in), or (n_in,) for a single example.
    Returns float32 of shape (batch, n_out), or (n_out,) for a single example.

    Every layer computes ``x @ w + b``. Hidden layers (all but the last) then apply ReLU; the last
    layer stays linear, so the output can be any real number (a regression value or a logit).
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def mse(pred, target):
    """Mean squared error: the mean of ``(pred - target) ** 2`` over every element.

    pred, target: float32 arrays of the same shape, e.g. (batch, 1). Returns a float32 scalar
    (shape ()).
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def log_softmax(logits):
    """The log of the softmax over the last axis, computed stably, by hand.

    logits: float32, shape (..., n_classes). Returns float32 of the same shape, where
    ``out[..., j] = logits[..., j] - log(sum_k exp(logits[..., k]))``.

    ``exp(1000.)`` overflows float32, so subtract each row's own max before exponentiating (the
    result does not change). Logits of 1000 must give finite results, in a batch whose rows have very
    different scales too: one max over the whole batch leaves rows far below it underflowing to log(0). Write it yourself with jnp.max,
    jnp.exp, jnp.sum and jnp.log: jax.nn.log_softmax, jax.nn.logsumexp and
    jax.scipy.special.logsumexp are what this exercise rebuilds, so the tests refuse them.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def cross_entropy(logits, labels):
    """The mean cross-entropy of integer class labels under the softmax of ``logits``.

    logits: float32, shape (batch, n_classes). labels: int32, shape (batch,), each in
    [0, n_classes). Returns a float32 scalar: the mean over the batch of
    ``-log_softmax(logits)[i, labels[i]]``. Use your ``log_softmax``.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def accuracy(logits, labels):
    """The fraction of examples whose largest logit is at the true label.

    logits: float32, shape (batch, n_classes). labels: int32, shape (batch,). Returns a float32
    scalar in [0, 1].
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def sgd_update(params, grads, lr):
    """One step of plain gradient descent: every leaf ``p`` becomes ``p - lr * g``.

    params, grads: pytrees of the same structure (for the MLP, the list of {"w", "b"} dicts; but
    any pytree must work). lr: a float. Returns a new pytree of that structure. Use jax.tree.map,
    so weights and biases (and any other leaf) all move.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def make_train_step(loss_fn):
    """Return a jitted training step for the loss ``loss_fn(forward(params, x), y)``.

    loss_fn: a function ``(outputs, targets) -> scalar``, such as ``mse`` or ``cross_entropy``.
    The function you return is ``step(params, batch, lr) -> (new_params, loss)``, where batch is
    a pair ``(x, y)``, loss is the loss at ``params`` (before the update) and new_params is
    ``sgd_update(params, grads, lr)``.

    Evaluate ``loss_fn`` once per step: jax.value_and_grad gives the loss and its gradient together.
    Compile it once: wrap the step with jax.jit here and return that jitted function itself (the
    tests check that it has jax.jit's ``.lower``), and keep lr an ordinary argument, so that calling
    the step again, with new batches of the same shapes or a new learning rate, reuses the compiled
    program and never traces ``loss_fn`` again.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def fit(params, x, y, steps, lr, loss_fn):
    """Train on the full batch ``(x, y)`` for ``steps`` SGD steps; return ``(params, losses)``.

    Every call trains on the params, x, y, steps and lr it is given, starting from those params:
    nothing (data, a learning rate, a compiled program closing over them) carries over from an
    earlier call.

    steps: a Python int. lr: a float. loss_fn: as in ``make_train_step``. losses is float32 of
    shape (steps,): the loss each step returned, so losses[0] is the loss of the params you were
    given.

    Make the whole run one compiled program: a jax.jit around jax.lax.scan over the steps (scan
    traces its body once), or a Python loop over the jitted step from ``make_train_step``.
    ``loss_fn`` must be traced at most twice however many steps you take.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def predict_one(params, image):
    """The network's output for ONE example of any shape, e.g. an (8, 8) image.

    Flatten the example to a vector (``image.ravel()``) and run ``forward``. Returns float32 of
    shape (n_out,).
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def predict(params, images):
    """``predict_one`` for a whole batch: images of shape (batch, ...) -> (batch, n_out).

    Don't loop over the examples: jax.vmap ``predict_one`` over the batch axis of ``images``,
    sharing ``params`` (``in_axes=(None, 0)``).
    """
    # YOUR CODE HERE
    raise NotImplementedError()

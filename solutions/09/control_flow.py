"""Lesson 09: control flow, state and scan.

Under `jax.jit` the arguments are traced: while the function is traced they have a shape and a dtype
but no values, so a Python `if` or `while` that asks about a value cannot be answered. The `lax`
primitives put the choice or the loop inside the compiled program instead:

    lax.cond(pred, true_fn, false_fn, *operands)      one of two branches, chosen by a traced bool
    lax.switch(index, [f0, f1, ...], *operands)       one of n branches, chosen by a traced int
    lax.while_loop(cond_fn, body_fn, init)            repeat while a traced condition holds
    lax.fori_loop(lower, upper, body_fn, init)        body_fn(i, carry) for i in [lower, upper)
    lax.scan(f, init, xs)                             f(carry, x) -> (carry, y) over axis 0 of xs

Every exercise is called under `jax.jit` by the tests, with its array and number arguments traced.
"""
import jax
import jax.numpy as jnp
import optax
from jax import lax


# ---------------------------------------------------------------------------------------------
# choosing: lax.cond and lax.switch
# ---------------------------------------------------------------------------------------------

def clip_norm(g, max_norm):
    """``g`` scaled down to Euclidean norm ``max_norm`` when its norm is larger; otherwise ``g`` as given.

    g: float32 array of any shape (its norm is over every element: sqrt(sum(g ** 2))).
    max_norm: a float > 0, traced under jit. Returns float32 of g's shape.

    Make the choice with ``lax.cond`` (the tests look for the cond in the program): one branch
    returns ``g * (max_norm / norm)``, the other ``g`` itself. A Python ``if norm > max_norm`` fails
    under jit, since the norm has no value while the function is traced.
    """
    ### BEGIN SOLUTION
    norm = jnp.sqrt(jnp.sum(g ** 2))
    return lax.cond(norm > max_norm, lambda v: v * (max_norm / norm), lambda v: v, g)
    ### END SOLUTION


def activate(x, kind):
    """An activation chosen by a traced integer: 0 gives ReLU, 1 gives tanh, 2 gives the sigmoid.

    x: float32 array of any shape; kind: an int32 scalar in {0, 1, 2}, traced under jit. Returns
    float32 of x's shape. Choose with ``lax.switch`` (a list of the three functions, in that order),
    so that only the chosen activation is computed: the tests look for the choice (a cond) in the
    program, not three results combined with jnp.where.
    """
    ### BEGIN SOLUTION
    return lax.switch(kind, [jax.nn.relu, jnp.tanh, jax.nn.sigmoid], x)
    ### END SOLUTION


# ---------------------------------------------------------------------------------------------
# looping: lax.while_loop and lax.fori_loop
# ---------------------------------------------------------------------------------------------

MAX_NEWTON_STEPS = 100


def newton_sqrt(a, tol):
    """The square root of ``a`` by Newton's method, to a relative tolerance; returns ``(root, steps)``.

    a: a float32 scalar > 0; tol: a float > 0. Both are traced under jit.
    Start at ``x = max(a, 1.0)`` with ``steps = 0``. While ``|x * x - a| > tol * a`` (and fewer than
    MAX_NEWTON_STEPS updates were made), update ``x = (x + a / x) / 2`` and add one to ``steps``.
    Return the float32 root and the int32 number of updates made. The cap is part of the condition:
    a tol too small for float32 to meet (1e-20, say) still stops, after exactly MAX_NEWTON_STEPS updates.

    The number of updates depends on the values, so loop with ``lax.while_loop``, carrying
    ``(x, steps)``. A Python ``while`` on a traced value fails under jit.
    """
    ### BEGIN SOLUTION
    a = jnp.asarray(a, jnp.float32)

    def keep_going(carry):
        x, steps = carry
        return (jnp.abs(x * x - a) > tol * a) & (steps < MAX_NEWTON_STEPS)

    def update(carry):
        x, steps = carry
        return (x + a / x) / 2, steps + 1

    return lax.while_loop(keep_going, update, (jnp.maximum(a, 1.0), jnp.int32(0)))
    ### END SOLUTION


def power_iteration(m, v, n):
    """``n`` steps of power iteration: each step replaces ``v`` by ``m @ v / norm(m @ v)``.

    m: float32 (d, d); v: float32 (d,), the start; n: an int32 scalar >= 0, traced under jit.
    Returns float32 (d,), the vector after n steps (``v`` itself when n is 0). The trip count is
    traced, so ``range(n)`` cannot work under jit: loop with ``lax.fori_loop(0, n, ...)``.
    """
    ### BEGIN SOLUTION
    def step(i, u):
        w = m @ u
        return w / jnp.sqrt(jnp.sum(w ** 2))

    return lax.fori_loop(0, n, step, v)
    ### END SOLUTION


# ---------------------------------------------------------------------------------------------
# state in, state out: a counter and running statistics
# ---------------------------------------------------------------------------------------------

def init_stats(d):
    """The empty state of running statistics over vectors of length ``d`` (a Python int).

    Returns a dict of arrays: ``{"count": int32 scalar 0, "mean": float32 zeros (d,),
    "m2": float32 zeros (d,)}``. Give arrays of exactly these dtypes: a loop carries the state from
    step to step, and lax.scan (like a jitted function called again) needs it to keep its types.
    """
    ### BEGIN SOLUTION
    return {"count": jnp.zeros((), jnp.int32), "mean": jnp.zeros((d,), jnp.float32),
            "m2": jnp.zeros((d,), jnp.float32)}
    ### END SOLUTION


def mean_and_var(state):
    """Given in full: the (mean, variance) of the observations the state has seen (count >= 1)."""
    return state["mean"], state["m2"] / state["count"]


def update_stats(state, x):
    """The state after one more observation ``x`` (float32 (d,)): Welford's update, returned as a NEW dict.

    The state is everything the statistics remember, passed in and handed back: nothing kept in a
    global or changed in the caller's dict. With ``n = count + 1``:

        delta = x - mean
        mean' = mean + delta / n
        m2'   = m2 + delta * (x - mean')
        count' = n                         (still int32)

    Afterwards the mean of the observations is ``mean`` and their variance is ``m2 / count``.
    """
    ### BEGIN SOLUTION
    n = state["count"] + 1
    delta = x - state["mean"]
    mean = state["mean"] + delta / n
    return {"count": n, "mean": mean, "m2": state["m2"] + delta * (x - mean)}
    ### END SOLUTION


# ---------------------------------------------------------------------------------------------
# lax.scan: a carry through a sequence
# ---------------------------------------------------------------------------------------------

def cumsum(xs):
    """The running totals of ``xs`` along axis 0: ``out[t] = xs[0] + ... + xs[t]``.

    xs: float32 of shape (T, ...); returns float32 of the same shape. Write it with ``lax.scan``,
    carrying the total so far (the tests look for the scan in the program; jnp.cumsum is what you
    rebuild).
    """
    ### BEGIN SOLUTION
    def step(total, x):
        total = total + x
        return total, total

    return lax.scan(step, jnp.zeros_like(xs[0]), xs)[1]
    ### END SOLUTION


def ema(xs, alpha, init):
    """The exponential moving average of ``xs`` along axis 0, from ``init``.

    xs: float32 (T, ...); alpha: a float in [0, 1), traced under jit; init: float32 of shape
    xs.shape[1:]. With ``m = init`` before the first step, each step t does
    ``m = alpha * m + (1 - alpha) * xs[t]``, and ``out[t]`` is m after that step.
    Returns float32 of xs's shape. Write it with ``lax.scan`` (the tests look for the scan).
    """
    ### BEGIN SOLUTION
    def step(m, x):
        m = alpha * m + (1 - alpha) * x
        return m, m

    return lax.scan(step, init, xs)[1]
    ### END SOLUTION


# ---------------------------------------------------------------------------------------------
# recurrent cells, run over a sequence with scan
# ---------------------------------------------------------------------------------------------

def elman_cell(params, h, x):
    """One step of an Elman RNN: ``tanh(x @ wx + h @ wh + b)``.

    params: ``{"wx": (d_in, d_h), "wh": (d_h, d_h), "b": (d_h,)}``; h: (d_h,) or (batch, d_h);
    x: (d_in,) or (batch, d_in). Returns the new hidden state, shaped like h.
    """
    ### BEGIN SOLUTION
    return jnp.tanh(x @ params["wx"] + h @ params["wh"] + params["b"])
    ### END SOLUTION


def gru_cell(params, h, x):
    """One step of a GRU; returns the new hidden state, shaped like h.

    params: ``{"z": gate, "r": gate, "n": gate}``, each gate a dict like the Elman cell's
    ``{"wx": (d_in, d_h), "wh": (d_h, d_h), "b": (d_h,)}``. h: (d_h,) or (batch, d_h); x: (d_in,) or
    (batch, d_in). With sigma the sigmoid:

        z  = sigma(x @ z.wx + h @ z.wh + z.b)         the update gate
        r  = sigma(x @ r.wx + h @ r.wh + r.b)         the reset gate
        n  = tanh(x @ n.wx + r * (h @ n.wh) + n.b)    the candidate (r scales h @ n.wh)
        h' = (1 - z) * n + z * h
    """
    ### BEGIN SOLUTION
    def affine(gate, hidden):
        return x @ params[gate]["wx"] + hidden + params[gate]["b"]

    z = jax.nn.sigmoid(affine("z", h @ params["z"]["wh"]))
    r = jax.nn.sigmoid(affine("r", h @ params["r"]["wh"]))
    n = jnp.tanh(affine("n", r * (h @ params["n"]["wh"])))
    return (1 - z) * n + z * h
    ### END SOLUTION


def run_rnn(cell, params, h0, xs):
    """Run ``cell(params, h, x) -> new h`` over the sequence ``xs``; return ``(h_last, hs)``.

    xs: (T, ...) with time on axis 0 (each xs[t] is what the cell takes as x); h0: the first hidden
    state. hs stacks the hidden state after each step (hs[t] = the state after reading xs[t], so
    hs[-1] is h_last); shape (T,) + h0.shape.

    Use ONE ``lax.scan`` over time with the hidden state as the carry: the tests check that the program
    holds exactly one scan, the same size for any T (a Python loop unrolls into T copies of the cell),
    and that gradients flow back through every step.
    """
    ### BEGIN SOLUTION
    def step(h, x):
        h = cell(params, h, x)
        return h, h

    return lax.scan(step, h0, xs)
    ### END SOLUTION


# ---------------------------------------------------------------------------------------------
# a tiny sequence task: echo the input from DELAY steps back
# ---------------------------------------------------------------------------------------------

DELAY = 2


def echo_loss(params, xs, ys):
    """The mean squared error of an Elman RNN with a linear read-out on a batch of sequences.

    params: ``{"cell": Elman params (d_in -> d_h), "out": {"w": (d_h, 1), "b": (1,)}}``.
    xs: float32 (batch, T, d_in), ys: float32 (batch, T, 1), batch first. Start every sequence
    from a zero hidden state, run ``elman_cell`` over time with your ``run_rnn`` (time goes on
    axis 0 there: swap the axes), predict ``h_t @ out.w + out.b`` at every step, and return the
    mean over every element of ``(prediction - ys) ** 2``, a float32 scalar.
    """
    ### BEGIN SOLUTION
    cell = params["cell"]
    h0 = jnp.zeros((xs.shape[0], cell["wh"].shape[0]), jnp.float32)
    _, hs = run_rnn(elman_cell, cell, h0, jnp.swapaxes(xs, 0, 1))
    pred = hs @ params["out"]["w"] + params["out"]["b"]
    return jnp.mean((pred - jnp.swapaxes(ys, 0, 1)) ** 2)
    ### END SOLUTION


def train(loss_fn, params, xs, ys, steps, lr):
    """Train ``params`` with Adam (``optax.adam(lr)``) for ``steps`` full-batch steps; return ``(params, losses)``.

    loss_fn: ``(params, xs, ys) -> scalar``, such as ``echo_loss``. steps: a Python int; lr: a float.
    losses: float32 (steps,), the loss of each step before its update (losses[0] is the loss of the
    params given). Each call trains on what it is given, starting from Adam's fresh state.

    The optimizer's state is state like any other: carry ``(params, opt_state)`` through a
    ``lax.scan`` over the steps inside one ``jax.jit``. ``loss_fn`` must be traced at most twice,
    however many steps you take.
    """
    ### BEGIN SOLUTION
    optimizer = optax.adam(lr)

    @jax.jit
    def run(params, xs, ys):
        def step(carry, _):
            p, opt_state = carry
            loss, grads = jax.value_and_grad(loss_fn)(p, xs, ys)
            updates, opt_state = optimizer.update(grads, opt_state, p)
            return (optax.apply_updates(p, updates), opt_state), loss

        (params, _), losses = lax.scan(step, (params, optimizer.init(params)), length=steps)
        return params, losses

    return run(params, xs, ys)
    ### END SOLUTION
